"""payments: accounts, charges, payments, review items, return files, Pix webhook deliveries

Revision ID: 0003_payments
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import quita.kit.db

revision: str = "0003_payments"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payment_accounts",
        sa.Column("creditor_id", sa.Uuid(), nullable=True),
        sa.Column("bank", sa.String(length=3), nullable=True),
        sa.Column("boleto_fields", sa.JSON(), nullable=True),
        sa.Column("next_nosso_numero", sa.BigInteger(), nullable=False),
        sa.Column("pix_key", sa.String(length=77), nullable=True),
        sa.Column("merchant_name", sa.String(length=25), nullable=True),
        sa.Column("merchant_city", sa.String(length=15), nullable=True),
        sa.Column("psp_base_url", sa.String(length=300), nullable=True),
        sa.Column("psp_token_url", sa.String(length=300), nullable=True),
        sa.Column("psp_client_id", sa.String(length=200), nullable=True),
        sa.Column("psp_client_secret", sa.String(length=1000), nullable=True),
        sa.Column("psp_cert_path", sa.String(length=500), nullable=True),
        sa.Column("psp_key_path", sa.String(length=500), nullable=True),
        sa.Column("psp_ca_path", sa.String(length=500), nullable=True),
        sa.Column("webhook_secret", sa.String(length=1000), nullable=True),
        sa.Column("updated_at", quita.kit.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", quita.kit.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["creditor_id"], ["creditors.id"], name=op.f("fk_payment_accounts_creditor_id_creditors")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_payment_accounts_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_accounts")),
    )
    with op.batch_alter_table("payment_accounts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_payment_accounts_tenant_creditor", ["tenant_id", "creditor_id"], unique=False
        )
    op.create_table(
        "payment_return_files",
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=False),
        sa.Column("layout", sa.Integer(), nullable=False),
        sa.Column("bank", sa.String(length=3), nullable=False),
        sa.Column("file_date", sa.Date(), nullable=True),
        sa.Column("titles", sa.Integer(), nullable=False),
        sa.Column("settlements", sa.Integer(), nullable=False),
        sa.Column("credited", quita.kit.db.types.Money(precision=14, scale=2), nullable=False),
        sa.Column("imported_by", sa.String(length=100), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", quita.kit.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_payment_return_files_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_return_files")),
        sa.UniqueConstraint(
            "tenant_id", "content_hash", name=op.f("uq_payment_return_files_tenant_id_content_hash")
        ),
    )
    op.create_table(
        "pix_webhook_deliveries",
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("processed_at", quita.kit.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("payments", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", quita.kit.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_pix_webhook_deliveries_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pix_webhook_deliveries")),
    )
    with op.batch_alter_table("pix_webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_pix_webhook_deliveries_tenant_created", ["tenant_id", "created_at"], unique=False
        )
    op.create_table(
        "charges",
        sa.Column("debt_id", sa.Uuid(), nullable=True),
        sa.Column("agreement_installment_id", sa.Uuid(), nullable=True),
        sa.Column(
            "kind", sa.Enum("boleto", "pix", name="chargekind", native_enum=False, length=8), nullable=False
        ),
        sa.Column(
            "status",
            sa.Enum(
                "issued",
                "paid",
                "partially_paid",
                "cancelled",
                "expired",
                name="chargestatus",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("amount", quita.kit.db.types.Money(precision=14, scale=2), nullable=False),
        sa.Column("amount_paid", quita.kit.db.types.Money(precision=14, scale=2), nullable=False),
        sa.Column("itemisation", sa.JSON(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("bank", sa.String(length=3), nullable=True),
        sa.Column("nosso_numero", sa.String(length=40), nullable=True),
        sa.Column("nosso_numero_dv", sa.String(length=2), nullable=True),
        sa.Column("nn_key", sa.String(length=40), nullable=True),
        sa.Column("barcode", sa.String(length=44), nullable=True),
        sa.Column("linha_digitavel", sa.String(length=60), nullable=True),
        sa.Column("txid", sa.String(length=35), nullable=True),
        sa.Column("brcode", sa.String(length=512), nullable=True),
        sa.Column("pix_location", sa.String(length=300), nullable=True),
        sa.Column("psp_status", sa.String(length=40), nullable=True),
        sa.Column("pdf_path", sa.String(length=500), nullable=True),
        sa.Column("paid_at", quita.kit.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", quita.kit.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", quita.kit.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["debt_id"], ["debts.id"], name=op.f("fk_charges_debt_id_debts"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_charges_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charges")),
        sa.UniqueConstraint("tenant_id", "txid", name=op.f("uq_charges_tenant_id_txid")),
    )
    with op.batch_alter_table("charges", schema=None) as batch_op:
        batch_op.create_index("ix_charges_tenant_debt", ["tenant_id", "debt_id"], unique=False)
        batch_op.create_index("ix_charges_tenant_nn_key", ["tenant_id", "nn_key"], unique=False)
    op.create_table(
        "payments",
        sa.Column(
            "source",
            sa.Enum("cnab", "pix_webhook", "manual", name="paymentsource", native_enum=False, length=12),
            nullable=False,
        ),
        sa.Column(
            "outcome",
            sa.Enum(
                "settled",
                "partial",
                "overpaid",
                "duplicate",
                "unmatched",
                name="paymentoutcome",
                native_enum=False,
                length=12,
            ),
            nullable=False,
        ),
        sa.Column("amount", quita.kit.db.types.Money(precision=14, scale=2), nullable=False),
        sa.Column("credited", quita.kit.db.types.Money(precision=14, scale=2), nullable=False),
        sa.Column("paid_at", quita.kit.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("credited_on", sa.Date(), nullable=True),
        sa.Column("reference", sa.String(length=40), nullable=True),
        sa.Column("end_to_end_id", sa.String(length=35), nullable=True),
        sa.Column("return_file_id", sa.Uuid(), nullable=True),
        sa.Column("file_line", sa.Integer(), nullable=True),
        sa.Column("charge_id", sa.Uuid(), nullable=True),
        sa.Column("debt_id", sa.Uuid(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", quita.kit.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["charge_id"], ["charges.id"], name=op.f("fk_payments_charge_id_charges")),
        sa.ForeignKeyConstraint(["debt_id"], ["debts.id"], name=op.f("fk_payments_debt_id_debts")),
        sa.ForeignKeyConstraint(
            ["return_file_id"],
            ["payment_return_files.id"],
            name=op.f("fk_payments_return_file_id_payment_return_files"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_payments_tenant_id_tenants"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("return_file_id", "file_line", name=op.f("uq_payments_return_file_id_file_line")),
        sa.UniqueConstraint("tenant_id", "end_to_end_id", name=op.f("uq_payments_tenant_id_end_to_end_id")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index("ix_payments_tenant_charge", ["tenant_id", "charge_id"], unique=False)
    op.create_table(
        "payment_reviews",
        sa.Column(
            "kind",
            sa.Enum(
                "unmatched",
                "overpayment",
                "double_payment",
                "partial_payment",
                "inactive_charge",
                name="reviewkind",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum("open", "resolved", name="reviewstatus", native_enum=False, length=10),
            nullable=False,
        ),
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("charge_id", sa.Uuid(), nullable=True),
        sa.Column("debt_id", sa.Uuid(), nullable=True),
        sa.Column("expected", quita.kit.db.types.Money(precision=14, scale=2), nullable=True),
        sa.Column("received", quita.kit.db.types.Money(precision=14, scale=2), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("resolved_at", quita.kit.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=100), nullable=True),
        sa.Column("resolution", sa.String(length=500), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", quita.kit.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["charge_id"], ["charges.id"], name=op.f("fk_payment_reviews_charge_id_charges")
        ),
        sa.ForeignKeyConstraint(["debt_id"], ["debts.id"], name=op.f("fk_payment_reviews_debt_id_debts")),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_payment_reviews_payment_id_payments")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_payment_reviews_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_reviews")),
    )
    with op.batch_alter_table("payment_reviews", schema=None) as batch_op:
        batch_op.create_index("ix_payment_reviews_tenant_status", ["tenant_id", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("payment_reviews", schema=None) as batch_op:
        batch_op.drop_index("ix_payment_reviews_tenant_status")
    op.drop_table("payment_reviews")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index("ix_payments_tenant_charge")
    op.drop_table("payments")
    with op.batch_alter_table("charges", schema=None) as batch_op:
        batch_op.drop_index("ix_charges_tenant_nn_key")
        batch_op.drop_index("ix_charges_tenant_debt")
    op.drop_table("charges")
    with op.batch_alter_table("pix_webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_pix_webhook_deliveries_tenant_created")
    op.drop_table("pix_webhook_deliveries")
    op.drop_table("payment_return_files")
    with op.batch_alter_table("payment_accounts", schema=None) as batch_op:
        batch_op.drop_index("ix_payment_accounts_tenant_creditor")
    op.drop_table("payment_accounts")
