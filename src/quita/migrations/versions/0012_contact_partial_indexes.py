"""portfolio: contact look-up indexes hold only the contacts that have the key

``ix_contact_points_match_key`` and ``ix_contact_points_wa_user_id`` serve look-ups by a known key
(``match_key = :key``, ``wa_user_id = :id``, never by NULL), so they become partial, ``WHERE … IS NOT
NULL``: e-mails have no match key, and no imported contact has a WhatsApp user id yet (only
WhatsApp's messages give one), so an import writes into one of the two indexes per phone instead of two
per contact.

Revision ID: 0012_contact_partial_indexes
Revises: 0011_debtor_tenant_fk
Create Date: 2026-11-24 03:25:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_contact_partial_indexes"
down_revision: str | None = "0011_debtor_tenant_fk"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = (("ix_contact_points_match_key", "match_key"), ("ix_contact_points_wa_user_id", "wa_user_id"))


def upgrade() -> None:
    for name, column in _INDEXES:
        op.drop_index(name, table_name="contact_points")
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(name, "contact_points", ["tenant_id", column], unique=False, postgresql_where=where,
                        sqlite_where=where)


def downgrade() -> None:
    for name, column in _INDEXES:
        op.drop_index(name, table_name="contact_points")
        op.create_index(name, "contact_points", ["tenant_id", column], unique=False)
