"""The portfolio (carteira): debtors, their contact points and their debts (títulos)."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from quita.kit.db import Base, Money, Rate, TenantScoped, UTCDateTime, str_enum, utcnow


class DocumentKind(enum.StrEnum):
    CPF = "cpf"
    CNPJ = "cnpj"


class ContactKind(enum.StrEnum):
    PHONE = "phone"
    EMAIL = "email"


class Provenance(enum.StrEnum):
    """Where a contact came from; ``enriched`` numbers (bought or looked up) may only get the identity check."""

    DEBTOR_PROVIDED = "debtor_provided"
    CONTRACT = "contract"
    ENRICHED = "enriched"


class ContactStatus(enum.StrEnum):
    VALID = "valid"
    WRONG_NUMBER = "wrong_number"
    NO_WHATSAPP = "no_whatsapp"
    BLOCKED = "blocked"


class DebtStatus(enum.StrEnum):
    OPEN = "open"
    IN_AGREEMENT = "in_agreement"
    PAID = "paid"
    WRITTEN_OFF = "written_off"
    DISPUTED = "disputed"
    PRESCRIBED = "prescribed"


def _debtor_of_the_same_tenant(table: str, ondelete: str) -> ForeignKeyConstraint:
    """``(tenant_id, debtor_id) → debtors (tenant_id, id)``: a row can only point at a debtor of its own
    tenant, and the tenant is enforced through the debtor's ``tenant_id → tenants``. One reference checked
    per inserted row instead of two (``tenant_id → tenants`` and ``debtor_id → debtors``)."""
    return ForeignKeyConstraint(["tenant_id", "debtor_id"], ["debtors.tenant_id", "debtors.id"], ondelete=ondelete,
                                name=f"fk_{table}_tenant_id_debtors")


class Debtor(TenantScoped, Base):
    """The devedor. Unique per tenant by document (CPF or CNPJ).

    ``(tenant_id, id)`` is unique too (it is the key debts and contact points reference: migration 0011)."""

    __tablename__ = "debtors"
    __table_args__ = (
        UniqueConstraint("tenant_id", "document"),
        Index("uq_debtors_tenant_id_id", "tenant_id", "id", unique=True),
    )

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    document_kind: Mapped[DocumentKind] = mapped_column(str_enum(DocumentKind, 4), nullable=False)
    document: Mapped[str] = mapped_column(String(14), nullable=False)
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    street: Mapped[str | None] = mapped_column(String(200))
    number: Mapped[str | None] = mapped_column(String(20))
    complement: Mapped[str | None] = mapped_column(String(100))
    district: Mapped[str | None] = mapped_column(String(100))
    city: Mapped[str | None] = mapped_column(String(120))
    uf: Mapped[str | None] = mapped_column(String(2), index=True)
    cep: Mapped[str | None] = mapped_column(String(8))
    ibge_code: Mapped[str | None] = mapped_column(String(7))
    is_deceased: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    is_vulnerable: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    in_dispute: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)


class ContactPoint(TenantScoped, Base):
    """A phone or e-mail of a debtor.

    ``value`` is what the creditor gave us (normalised); ``wa_id`` and ``wa_user_id`` are what WhatsApp
    says the account is, kept apart because Brazilian accounts often report the legacy 12-digit form.
    """

    __tablename__ = "contact_points"
    __table_args__ = (
        UniqueConstraint("tenant_id", "debtor_id", "kind", "value"),
        # Partial (migration 0012): looked up by a known key only; e-mails have no match key, and an imported
        # contact has no WhatsApp user id yet, so an import writes one index entry per phone instead of two per contact.
        Index("ix_contact_points_match_key", "tenant_id", "match_key", postgresql_where=text("match_key IS NOT NULL"),
              sqlite_where=text("match_key IS NOT NULL")),
        Index("ix_contact_points_wa_user_id", "tenant_id", "wa_user_id",
              postgresql_where=text("wa_user_id IS NOT NULL"), sqlite_where=text("wa_user_id IS NOT NULL")),
        _debtor_of_the_same_tenant("contact_points", "CASCADE"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)  # checked through the debtor's
    debtor_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    kind: Mapped[ContactKind] = mapped_column(str_enum(ContactKind, 8), nullable=False)
    value: Mapped[str] = mapped_column(String(254), nullable=False)
    match_key: Mapped[str | None] = mapped_column(String(16))
    provenance: Mapped[Provenance] = mapped_column(str_enum(Provenance), nullable=False)
    status: Mapped[ContactStatus] = mapped_column(str_enum(ContactStatus), default=ContactStatus.VALID, nullable=False)
    opt_in_source: Mapped[str | None] = mapped_column(String(100))
    opt_in_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    opt_in_wording: Mapped[str | None] = mapped_column(String(1000))
    opted_out_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    opt_out_reason: Mapped[str | None] = mapped_column(String(200))
    # WhatsApp user_preferences "stop" for marketing messages (cleared by "resume"); migration 0008.
    marketing_opted_out_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    wa_id: Mapped[str | None] = mapped_column(String(20))
    wa_user_id: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)


class Debt(TenantScoped, Base):
    """A título: one amount owed, with its due date. Unique per tenant by ``external_id``."""

    __tablename__ = "debts"
    __table_args__ = (
        UniqueConstraint("tenant_id", "external_id"),
        Index("ix_debts_tenant_status_due", "tenant_id", "status", "due_date"),
        _debtor_of_the_same_tenant("debts", "RESTRICT"),
    )

    tenant_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)  # checked through the debtor's
    debtor_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, index=True)
    external_id: Mapped[str] = mapped_column(String(80), nullable=False)
    contract: Mapped[str | None] = mapped_column(String(80))
    installment_number: Mapped[int | None] = mapped_column(Integer)
    product: Mapped[str | None] = mapped_column(String(100))
    # Current creditor (the one collecting now); the original one matters when portfolios are sold.
    creditor_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("creditors.id"), nullable=False)
    original_creditor_name: Mapped[str | None] = mapped_column(String(200))
    original_creditor_cnpj: Mapped[str | None] = mapped_column(String(14))
    principal: Mapped[Decimal] = mapped_column(Money, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), default="BRL", nullable=False)
    due_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    status: Mapped[DebtStatus] = mapped_column(str_enum(DebtStatus), default=DebtStatus.OPEN, nullable=False)
    fine_rate: Mapped[Decimal | None] = mapped_column(Rate)  # percent, once (CDC art. 52 §1 caps it at 2)
    interest_rate_monthly: Mapped[Decimal | None] = mapped_column(Rate)  # percent per month
    tags: Mapped[list[str] | None] = mapped_column(JSON)
    # Fingerprint of the imported row: re-importing the same row is recognised without a field diff.
    source_hash: Mapped[str | None] = mapped_column(String(32))
    import_job_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)
