"""Tenants, the creditors they collect for, and their API keys."""

from __future__ import annotations

import datetime as dt
import enum
import uuid

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from quita.kit.db import Base, TenantScoped, UTCDateTime, str_enum


class TenantKind(enum.StrEnum):
    CREDITOR = "creditor"
    AGENCY = "agency"


class Tenant(Base):
    """A creditor collecting its own debts, or an agency (assessoria) collecting for creditors."""

    __tablename__ = "tenants"

    slug: Mapped[str] = mapped_column(String(63), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[TenantKind] = mapped_column(str_enum(TenantKind), nullable=False)


class Creditor(TenantScoped, Base):
    """The credor: consumer law (CDC art. 42-A) requires its legal name, CNPJ and address on every
    collection message that shows an amount, so those fields are mandatory here."""

    __tablename__ = "creditors"
    __table_args__ = (UniqueConstraint("tenant_id", "cnpj"),)

    legal_name: Mapped[str] = mapped_column(String(200), nullable=False)
    trade_name: Mapped[str | None] = mapped_column(String(200))
    cnpj: Mapped[str] = mapped_column(String(14), nullable=False)
    address: Mapped[str] = mapped_column(String(300), nullable=False)
    city: Mapped[str] = mapped_column(String(120), nullable=False)
    uf: Mapped[str] = mapped_column(String(2), nullable=False)
    cep: Mapped[str | None] = mapped_column(String(8))
    # Banks fall under the 1,825-day negative-record rule (compliance), so the kind is recorded.
    is_financial_institution: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)


class ApiKey(TenantScoped, Base):
    """An API key; only a SHA-256 of the secret is kept, so a database leak does not leak keys."""

    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_tenant", "tenant_id"),)

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    prefix: Mapped[str] = mapped_column(String(16), unique=True, nullable=False)
    secret_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(100), default="cli", nullable=False)
    creditor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("creditors.id"))
