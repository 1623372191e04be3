"""agreements lifecycle: the bot's timer ledger (one row per reminder, break or expiry, unique per tenant)

Revision ID: 0007_agreements
Revises: 0006_bot
Create Date: 2026-11-23 22:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import quita.kit.db

revision: str = "0007_agreements"
down_revision: str | None = "0006_bot"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bot_timer_events",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=True),
        sa.Column("outbox_id", sa.Uuid(), nullable=True),
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", quita.kit.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_bot_timer_events_tenant_id_tenants"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_timer_events")),
        sa.UniqueConstraint("tenant_id", "key", name=op.f("uq_bot_timer_events_tenant_id_key")),
    )
    with op.batch_alter_table("agreement_installments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_agreement_installments_tenant_status_due", ["tenant_id", "status", "due_date"]
        )


def downgrade() -> None:
    with op.batch_alter_table("agreement_installments", schema=None) as batch_op:
        batch_op.drop_index("ix_agreement_installments_tenant_status_due")
    op.drop_table("bot_timer_events")
