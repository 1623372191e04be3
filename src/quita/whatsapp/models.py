"""WhatsApp channel tables: numbers, templates, raw webhooks, messages, statuses and the evidence chain.

Three tables are append-only (database triggers refuse UPDATE and DELETE, see migration 0002):
``whatsapp_status_events`` (every status ever received), ``conversation_entries`` (the hash-chained
record) and nothing else; ``whatsapp_messages`` keeps the mutable *current* state of each message,
which can always be recomputed from the append-only rows.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from quita.kit.db import Base, TenantScoped, UTCDateTime, utcnow

DEFAULT_GRAPH_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v25.0"


class WhatsAppChannel(TenantScoped, Base):
    """One business phone number. Secrets are Fernet tokens (``quita.kit.secrets``), never plaintext."""

    __tablename__ = "whatsapp_channels"
    __table_args__ = (Index("ix_whatsapp_channels_tenant", "tenant_id"),)

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    phone_number_id: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    waba_id: Mapped[str] = mapped_column(String(32), nullable=False)
    display_phone_number: Mapped[str | None] = mapped_column(String(20))
    graph_url: Mapped[str] = mapped_column(String(300), default=DEFAULT_GRAPH_URL, nullable=False)
    api_version: Mapped[str] = mapped_column(String(10), default=DEFAULT_API_VERSION, nullable=False)
    access_token_enc: Mapped[str] = mapped_column(Text, nullable=False)
    app_secret_enc: Mapped[str] = mapped_column(Text, nullable=False)
    verify_token_enc: Mapped[str] = mapped_column(Text, nullable=False)
    throughput_mps: Mapped[int] = mapped_column(Integer, default=80, nullable=False)
    # Business-initiated conversations per 24 h Meta allows this number; None = unlimited.
    # No column default: an ORM default would turn an explicit None (unlimited) into 250 on insert;
    # `whatsapp.service.create_channel` defaults to 250 instead.
    messaging_tier_limit: Mapped[int | None] = mapped_column(Integer)
    paused_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    pause_reason: Mapped[str | None] = mapped_column(String(300))


class WhatsAppTemplate(TenantScoped, Base):
    """The tenant's mirror of one Meta message template (one name × language)."""

    __tablename__ = "whatsapp_templates"
    __table_args__ = (UniqueConstraint("tenant_id", "waba_id", "name", "language"),)

    waba_id: Mapped[str] = mapped_column(String(32), nullable=False)
    meta_id: Mapped[str | None] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(512), nullable=False)
    language: Mapped[str] = mapped_column(String(10), nullable=False)
    category: Mapped[str] = mapped_column(String(20), nullable=False)  # UTILITY | MARKETING | AUTHENTICATION
    status: Mapped[str] = mapped_column(String(30), nullable=False)  # APPROVED | PENDING | REJECTED | PAUSED …
    components: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)
    parameter_names: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    # Approved, still UTILITY and neither paused nor disabled, and (after a reclassification) reviewed.
    usable: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    status_reason: Mapped[str | None] = mapped_column(String(300))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)


class WebhookDelivery(Base):
    """One POST to ``/webhooks/whatsapp``, stored raw before it is acknowledged.

    Not tenant-scoped: one body may carry entries of several numbers (and tenants) sharing a Meta app;
    ``tenant_id``/``channel_id`` name the channel whose app secret verified the signature.
    """

    __tablename__ = "whatsapp_webhook_deliveries"
    __table_args__ = (Index("ix_whatsapp_webhook_deliveries_pending", "state", "created_at"),)

    # The verified HMAC of the body: identical bytes under one app secret are one delivery, while a
    # body signed by another tenant's app is a different one (it must not shadow the real delivery).
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    body_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    body: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    channel_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # received → processed | unparseable | failed
    state: Mapped[str] = mapped_column(String(12), default="received", nullable=False)
    events: Mapped[int | None] = mapped_column(Integer)
    problem: Mapped[str | None] = mapped_column(Text)
    processed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Conversation(TenantScoped, Base):
    """One chain of the conversation record: a business number talking to one person.

    ``peer`` is ``contact:<uuid>`` once the person is matched to a contact point, otherwise the
    WhatsApp identity (``wa:<digits>`` or ``user:<bsuid>``). The row is the chain's lock and head.
    """

    __tablename__ = "whatsapp_conversations"
    __table_args__ = (
        UniqueConstraint("tenant_id", "channel_id", "peer"),
        Index("ix_whatsapp_conversations_debtor", "tenant_id", "debtor_id"),
        Index("ix_whatsapp_conversations_contact", "tenant_id", "contact_id"),
    )

    channel_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("whatsapp_channels.id", ondelete="RESTRICT"), nullable=False
    )
    peer: Mapped[str] = mapped_column(String(100), nullable=False)
    debtor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    contact_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    wa_id: Mapped[str | None] = mapped_column(String(20))
    wa_user_id: Mapped[str | None] = mapped_column(String(64))
    entry_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    head_hash: Mapped[str | None] = mapped_column(String(64))
    last_inbound_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)


class ConversationEntry(TenantScoped, Base):
    """An append-only link of the evidence chain (triggers refuse UPDATE and DELETE)."""

    __tablename__ = "conversation_entries"
    __table_args__ = (UniqueConstraint("conversation_id", "seq"),)

    conversation_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("whatsapp_conversations.id", ondelete="RESTRICT"), nullable=False
    )
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    direction: Mapped[str] = mapped_column(String(8), nullable=False)  # inbound | outbound | event
    actor: Mapped[str] = mapped_column(String(100), nullable=False)  # bot | agent:<id> | system | debtor
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    content: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    message_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    wamid: Mapped[str | None] = mapped_column(String(128))
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    entry_hash: Mapped[str] = mapped_column(String(64), nullable=False)


class WhatsAppMessage(TenantScoped, Base):
    """The current state of one message, in or out. Our id is the ``biz_opaque_callback_data``."""

    __tablename__ = "whatsapp_messages"
    __table_args__ = (
        Index("ix_whatsapp_messages_conversation", "tenant_id", "conversation_id", "created_at"),
        Index("ix_whatsapp_messages_debtor", "tenant_id", "debtor_id"),
    )

    channel_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("whatsapp_channels.id", ondelete="RESTRICT"), nullable=False
    )
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("whatsapp_conversations.id", ondelete="RESTRICT"), nullable=False
    )
    contact_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    debtor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    direction: Mapped[str] = mapped_column(String(8), nullable=False)  # inbound | outbound
    wamid: Mapped[str | None] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    body: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    template_name: Mapped[str | None] = mapped_column(String(512))
    template_params: Mapped[Any] = mapped_column(JSON, nullable=True)
    actor: Mapped[str] = mapped_column(String(100), nullable=False)
    status: Mapped[str | None] = mapped_column(String(12))
    status_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    error_codes: Mapped[list[int] | None] = mapped_column(JSON)
    pricing: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


Message = WhatsAppMessage


class StatusEvent(Base):
    """Every status webhook item, append-only. Unique per (wamid, status): redeliveries are no-ops.

    Linked to messages by ``wamid`` and ``callback_data`` (our message id), never by a foreign key: a
    status may arrive before the message row exists (it is then *parked* and applied by
    :func:`quita.whatsapp.service.record_outbound`).
    """

    __tablename__ = "whatsapp_status_events"
    __table_args__ = (
        UniqueConstraint("wamid", "status"),
        Index("ix_whatsapp_status_events_callback", "callback_data"),
    )

    tenant_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    channel_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    delivery_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    wamid: Mapped[str] = mapped_column(String(128), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    callback_data: Mapped[str | None] = mapped_column(String(512))
    recipient_id: Mapped[str | None] = mapped_column(String(64))
    occurred_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    error_codes: Mapped[list[int] | None] = mapped_column(JSON)
    errors: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    pricing: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    conversation: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class WebhookNotice(Base):
    """Things a webhook told us that a human may need to see: value-level errors, opt-outs, unknown
    fields, template changes, unmatched senders. Append-only in spirit; read by monitoring."""

    __tablename__ = "whatsapp_webhook_notices"
    __table_args__ = (Index("ix_whatsapp_webhook_notices_tenant", "tenant_id", "created_at"),)

    tenant_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    channel_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    delivery_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)


class InboundMedia(TenantScoped, Base):
    """A file a debtor sent (document, image, audio…), downloaded as soon as the webhook is processed
    (Meta's download URLs expire within minutes) and kept under the data dir, named by its SHA-256.

    One row per inbound message (unique ``message_id``: a redelivered webhook or a retried job cannot
    store it twice). The conversation record gets an ``event`` entry with the same hash, size and type,
    so the file is covered by the evidence chain; ``path`` is relative to the data dir. ``error`` says why
    a download failed for good (too big, gone); such a row has no ``sha256``.
    """

    __tablename__ = "whatsapp_inbound_media"
    __table_args__ = (
        UniqueConstraint("message_id"),
        Index("ix_whatsapp_inbound_media_conversation", "tenant_id", "conversation_id"),
    )

    message_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("whatsapp_messages.id", ondelete="RESTRICT"), nullable=False
    )
    conversation_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("whatsapp_conversations.id", ondelete="RESTRICT"), nullable=False
    )
    entry_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)  # the conversation entry that records it
    media_id: Mapped[str] = mapped_column(String(128), nullable=False)  # Meta's id (valid 30 days)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)  # document | image | audio | video | sticker
    filename: Mapped[str | None] = mapped_column(String(255))
    mime_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))
    path: Mapped[str | None] = mapped_column(String(300))
    error: Mapped[str | None] = mapped_column(String(500))
