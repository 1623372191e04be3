"""The transactional outbox and the alerts the dispatcher raises.

A message exists as an ``outbox_messages`` row, committed, before any HTTP call; its id is the
``biz_opaque_callback_data`` Meta echoes in status webhooks, which is how a send left in doubt by a
crash is reconciled instead of repeated.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import JSON, Date, Index, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from quita.kit.db import Base, TenantScoped, UTCDateTime, str_enum, utcnow


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"  # waits for not_before
    CLAIMED = "claimed"  # taken by a worker; no HTTP yet (a lapsed claim goes back to pending)
    SENDING = "sending"  # the HTTP call may have started: after a crash this row is IN DOUBT
    SENT = "sent"  # Meta answered with a wamid
    FAILED = "failed"  # will not be sent; failed_reason says why
    UNKNOWN = "unknown"  # in doubt and never confirmed: NOT resent, an alert was raised
    CANCELLED = "cancelled"  # the debt was paid / went into agreement / the debtor opted out first


UNSENT = (OutboxStatus.PENDING, OutboxStatus.CLAIMED)
FINAL = (OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.UNKNOWN, OutboxStatus.CANCELLED)


class OutboxMessage(TenantScoped, Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        # Idempotency of the planner: one message per debt, cadence step and the debtor's local day.
        UniqueConstraint("tenant_id", "debt_id", "step_key", "local_day"),
        Index("ix_outbox_messages_due", "status", "not_before"),
        # A fair claim takes each number's oldest due rows without walking the other numbers' backlog.
        Index("ix_outbox_messages_lane", "status", "channel_id", "not_before"),
        Index("ix_outbox_messages_debtor", "tenant_id", "debtor_id", "created_at"),
        Index("ix_outbox_messages_debt", "tenant_id", "debt_id", "step_key"),
    )

    debt_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    debtor_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    contact_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    channel_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    recipient: Mapped[str] = mapped_column(String(32), nullable=False)
    cadence: Mapped[str | None] = mapped_column(String(63))
    step_key: Mapped[str] = mapped_column(String(32), nullable=False)
    local_day: Mapped[dt.date] = mapped_column(Date, nullable=False)
    kind: Mapped[str] = mapped_column(String(24), nullable=False)  # identity_check | reminder | collection
    template_name: Mapped[str] = mapped_column(String(512), nullable=False)
    template_language: Mapped[str] = mapped_column(String(10), default="pt_BR", nullable=False)
    template_params: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    status: Mapped[OutboxStatus] = mapped_column(
        str_enum(OutboxStatus, 12), default=OutboxStatus.PENDING, nullable=False
    )
    not_before: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    sending_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    wamid: Mapped[str | None] = mapped_column(String(128))
    wa_id: Mapped[str | None] = mapped_column(String(20))
    last_error_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    failed_reason: Mapped[str | None] = mapped_column(String(300))
    ruleset_version: Mapped[str | None] = mapped_column(String(80))
    ruleset_hash: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )


class AlertKind(enum.StrEnum):
    CHANNEL_PAUSED = "channel_paused"
    MESSAGE_UNKNOWN = "message_unknown"
    DISPATCH_ERROR = "dispatch_error"


class DispatchAlert(TenantScoped, Base):
    """Something a human must look at: a paused number, a message whose fate is unknown."""

    __tablename__ = "dispatch_alerts"
    __table_args__ = (Index("ix_dispatch_alerts_open", "tenant_id", "resolved_at", "created_at"),)

    kind: Mapped[AlertKind] = mapped_column(str_enum(AlertKind), nullable=False)
    channel_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    outbox_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    code: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(String(1000), nullable=False)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
