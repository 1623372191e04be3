"""Tables of the bot: the persisted dialog state, processed inbound ids, and what conversations produce
(agreements with their instalments, promises to pay, handoff queue items, receipt reviews)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from quita.kit.db import Money, UTCDateTime
from quita.kit.db.base import Base, TenantScoped, utcnow


class BotConversation(TenantScoped, Base):
    """One dialog per WhatsApp conversation; ``version`` guards concurrent updates (optimistic locking)."""

    __tablename__ = "bot_conversations"
    __table_args__ = (UniqueConstraint("tenant_id", "wa_conversation_id"),)

    wa_conversation_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    debtor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    contact_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    debt_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    step: Mapped[str] = mapped_column(String(40), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )


class BotInbound(TenantScoped, Base):
    """An inbound message the bot already answered: the unique wamid makes duplicate webhooks harmless."""

    __tablename__ = "bot_inbound"

    wamid: Mapped[str] = mapped_column(String(128), unique=True, nullable=False)
    bot_conversation_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)


class Agreement(TenantScoped, Base):
    __tablename__ = "agreements"
    __table_args__ = (Index("ix_agreements_tenant_debt", "tenant_id", "debt_id"),)

    debt_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    debtor_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    bot_conversation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    offer_id: Mapped[str] = mapped_column(String(20), nullable=False)
    plan: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    total: Mapped[Decimal] = mapped_column(Money, nullable=False)
    installments: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="active")  # active|kept|broken
    accepted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)


class AgreementInstallment(TenantScoped, Base):
    __tablename__ = "agreement_installments"
    __table_args__ = (
        UniqueConstraint("agreement_id", "number"),
        Index("ix_agreement_installments_tenant_status_due", "tenant_id", "status", "due_date"),
    )

    agreement_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("agreements.id", ondelete="CASCADE"), nullable=False
    )
    number: Mapped[int] = mapped_column(Integer, nullable=False)  # 0 = down payment
    due_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="open")  # open|paid|late
    charge_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class PaymentPromise(TenantScoped, Base):
    __tablename__ = "payment_promises"
    __table_args__ = (Index("ix_payment_promises_tenant_due", "tenant_id", "due_date"),)

    debt_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    debtor_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    due_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    said: Mapped[str] = mapped_column(String(200), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="open")  # open|kept|broken


class HandoffItem(TenantScoped, Base):
    """A conversation waiting for (or owned by) a person; the bot stays silent while it is not closed."""

    __tablename__ = "handoff_items"
    __table_args__ = (Index("ix_handoff_items_tenant_status", "tenant_id", "status"),)

    bot_conversation_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    debtor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    debt_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    queue: Mapped[str] = mapped_column(String(20), nullable=False)
    reason: Mapped[str] = mapped_column(String(40), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="open")  # open|assigned|closed
    assigned_to: Mapped[str | None] = mapped_column(String(100))
    assigned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ReceiptReview(TenantScoped, Base):
    __tablename__ = "receipt_reviews"
    __table_args__ = (Index("ix_receipt_reviews_tenant_status", "tenant_id", "status"),)

    debt_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    debtor_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    media_id: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="open")  # open|confirmed|rejected
    paused_until: Mapped[dt.date | None] = mapped_column(Date)


class NegotiationPolicyRow(TenantScoped, Base):
    """A creditor's negotiation policy (``bot.dialog.policy.NegotiationPolicy`` as JSON) and identity method."""

    __tablename__ = "bot_policies"
    __table_args__ = (UniqueConstraint("tenant_id", "creditor_id"),)

    creditor_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    policy: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    identity_method: Mapped[str] = mapped_column(String(12), nullable=False, default="cpf3")
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )


class BotTimerEvent(TenantScoped, Base):
    """One thing a timer did, under a unique key per tenant (``inst:<id>:before``, ``agr:<id>:broken``…):
    the tick inserts the key first and acts only when the insert won, so running it twice does nothing twice.
    ``outbox_id`` is the template message it queued, cancelled if the instalment is paid before it goes."""

    __tablename__ = "bot_timer_events"
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)

    key: Mapped[str] = mapped_column(String(80), nullable=False)
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    subject_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    outbox_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    local_day: Mapped[dt.date] = mapped_column(Date, nullable=False)
