"""dispatch: index due outbox rows by sending number (claims share a batch fairly between numbers)

Revision ID: 0010_outbox_lane
Revises: 0009_charge_installment
Create Date: 2026-11-24 01:35:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010_outbox_lane"
down_revision: str | None = "0009_charge_installment"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_outbox_messages_lane", "outbox_messages", ["status", "channel_id", "not_before"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_messages_lane", table_name="outbox_messages")
