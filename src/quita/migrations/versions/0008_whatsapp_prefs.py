"""whatsapp: marketing opt-out on the contact (user_preferences webhooks) and inbound media files

Revision ID: 0008_whatsapp_prefs
Revises: 0007_agreements
Create Date: 2026-11-23 22:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import quita.kit.db

revision: str = "0008_whatsapp_prefs"
down_revision: str | None = "0007_agreements"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contact_points") as batch:
        batch.add_column(sa.Column("marketing_opted_out_at", quita.kit.db.UTCDateTime(timezone=True), nullable=True))
    op.create_table(
        "whatsapp_inbound_media",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("conversation_id", sa.Uuid(), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=True),
        sa.Column("media_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=True),
        sa.Column("mime_type", sa.String(length=100), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("path", sa.String(length=300), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", quita.kit.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["whatsapp_conversations.id"],
                                name=op.f("fk_whatsapp_inbound_media_conversation_id_whatsapp_conversations"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["message_id"], ["whatsapp_messages.id"],
                                name=op.f("fk_whatsapp_inbound_media_message_id_whatsapp_messages"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_whatsapp_inbound_media_tenant_id_tenants"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_whatsapp_inbound_media")),
        sa.UniqueConstraint("message_id", name=op.f("uq_whatsapp_inbound_media_message_id")),
    )
    op.create_index("ix_whatsapp_inbound_media_conversation", "whatsapp_inbound_media",
                    ["tenant_id", "conversation_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_whatsapp_inbound_media_conversation", table_name="whatsapp_inbound_media")
    op.drop_table("whatsapp_inbound_media")
    with op.batch_alter_table("contact_points") as batch:
        batch.drop_column("marketing_opted_out_at")
