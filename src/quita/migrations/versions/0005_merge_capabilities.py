"""merge the capability heads (whatsapp, payments, cadence/dispatch) into one line

Revision ID: 0005_merge
Revises: 0002_whatsapp, 0003_payments, 0004_cadence_dispatch
Create Date: 2026-11-23
"""

from collections.abc import Sequence

revision: str = "0005_merge"
down_revision: str | Sequence[str] | None = ("0002_whatsapp", "0003_payments", "0004_cadence_dispatch")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
