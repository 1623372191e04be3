"""payments: index charges by agreement instalment (the bot's agreement lifecycle looks them up)

Revision ID: 0009_charge_installment
Revises: 0008_whatsapp_prefs
Create Date: 2026-11-23 23:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009_charge_installment"
down_revision: str | None = "0008_whatsapp_prefs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_charges_tenant_installment", "charges", ["tenant_id", "agreement_installment_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_charges_tenant_installment", table_name="charges")
