"""Charges (cobranças), the payments that settle them, what people must review, and imported bank files.

A payment row is written *before* its effects, under a unique key (endToEndId per tenant, or return
file + line), so a webhook retried or a file imported twice fails on the key instead of crediting twice.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from quita.kit.db import Base, Money, TenantScoped, UTCDateTime, str_enum, utcnow


class ChargeKind(enum.StrEnum):
    BOLETO = "boleto"
    PIX = "pix"


class ChargeStatus(enum.StrEnum):
    ISSUED = "issued"
    PAID = "paid"
    PARTIALLY_PAID = "partially_paid"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class PaymentSource(enum.StrEnum):
    CNAB = "cnab"
    PIX_WEBHOOK = "pix_webhook"
    MANUAL = "manual"


class PaymentOutcome(enum.StrEnum):
    """What reconciliation did with a payment; only ``settled`` and ``partial`` credit a charge."""

    SETTLED = "settled"
    PARTIAL = "partial"
    OVERPAID = "overpaid"
    DUPLICATE = "duplicate"
    UNMATCHED = "unmatched"


class ReviewKind(enum.StrEnum):
    UNMATCHED = "unmatched"
    OVERPAYMENT = "overpayment"
    DOUBLE_PAYMENT = "double_payment"
    PARTIAL_PAYMENT = "partial_payment"
    INACTIVE_CHARGE = "inactive_charge"
    REFUND = "refund"


class ReviewStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class PaymentAccount(TenantScoped, Base):
    """Where a tenant (or one of its creditors) receives: boleto agreement, Pix key, PSP credentials.

    ``creditor_id`` NULL is the tenant's default. Secrets are Fernet tokens (``quita.kit.secrets``).
    """

    __tablename__ = "payment_accounts"
    __table_args__ = (Index("ix_payment_accounts_tenant_creditor", "tenant_id", "creditor_id"),)

    creditor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("creditors.id"))
    bank: Mapped[str | None] = mapped_column(String(3))
    # Boleto agreement fields, named as in payments.domain.banks.BoletoSpec (agencia, conta, carteira, …).
    boleto_fields: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    next_nosso_numero: Mapped[int] = mapped_column(BigInteger, default=1, nullable=False)
    pix_key: Mapped[str | None] = mapped_column(String(77))
    merchant_name: Mapped[str | None] = mapped_column(String(25))
    merchant_city: Mapped[str | None] = mapped_column(String(15))
    psp_base_url: Mapped[str | None] = mapped_column(String(300))
    psp_token_url: Mapped[str | None] = mapped_column(String(300))
    psp_client_id: Mapped[str | None] = mapped_column(String(200))
    psp_client_secret: Mapped[str | None] = mapped_column(String(1000))  # encrypted
    psp_cert_path: Mapped[str | None] = mapped_column(String(500))
    psp_key_path: Mapped[str | None] = mapped_column(String(500))
    psp_ca_path: Mapped[str | None] = mapped_column(String(500))
    webhook_secret: Mapped[str | None] = mapped_column(String(1000))  # encrypted
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )


class Charge(TenantScoped, Base):
    """A cobrança: a boleto (possibly hybrid, with a Pix QR) or a Pix charge for a debt's updated amount."""

    __tablename__ = "charges"
    __table_args__ = (
        UniqueConstraint("tenant_id", "txid"),
        Index("ix_charges_tenant_nn_key", "tenant_id", "nn_key"),
        Index("ix_charges_tenant_debt", "tenant_id", "debt_id"),
        Index("ix_charges_tenant_installment", "tenant_id", "agreement_installment_id"),
    )

    debt_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("debts.id", ondelete="RESTRICT"))
    # For the bot's agreements (issue 6); no FK: that table belongs to another capability.
    agreement_installment_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    kind: Mapped[ChargeKind] = mapped_column(str_enum(ChargeKind, 8), nullable=False)
    status: Mapped[ChargeStatus] = mapped_column(
        str_enum(ChargeStatus), default=ChargeStatus.ISSUED, nullable=False
    )
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    amount_paid: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"), nullable=False)
    itemisation: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    due_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    bank: Mapped[str | None] = mapped_column(String(3))
    nosso_numero: Mapped[str | None] = mapped_column(String(40))
    nosso_numero_dv: Mapped[str | None] = mapped_column(String(2))
    nn_key: Mapped[str | None] = mapped_column(String(40))  # payments.domain.matching.charge_key
    barcode: Mapped[str | None] = mapped_column(String(44))
    linha_digitavel: Mapped[str | None] = mapped_column(String(60))
    txid: Mapped[str | None] = mapped_column(String(35))
    brcode: Mapped[str | None] = mapped_column(String(512))
    pix_location: Mapped[str | None] = mapped_column(String(300))
    psp_status: Mapped[str | None] = mapped_column(String(40))
    pdf_path: Mapped[str | None] = mapped_column(String(500))
    paid_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(100), nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )


class ReturnFile(TenantScoped, Base):
    """A CNAB return file applied once: the content hash is unique per tenant."""

    __tablename__ = "payment_return_files"
    __table_args__ = (UniqueConstraint("tenant_id", "content_hash"),)

    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    filename: Mapped[str] = mapped_column(String(300), nullable=False)
    layout: Mapped[int] = mapped_column(Integer, nullable=False)
    bank: Mapped[str] = mapped_column(String(3), nullable=False)
    file_date: Mapped[dt.date | None] = mapped_column(Date)
    titles: Mapped[int] = mapped_column(Integer, nullable=False)
    settlements: Mapped[int] = mapped_column(Integer, nullable=False)
    credited: Mapped[Decimal] = mapped_column(Money, nullable=False)
    imported_by: Mapped[str] = mapped_column(String(100), nullable=False)


class Payment(TenantScoped, Base):
    """Money received (a settlement), whatever reconciliation decided about it."""

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("tenant_id", "end_to_end_id"),
        UniqueConstraint("return_file_id", "file_line"),
        Index("ix_payments_tenant_charge", "tenant_id", "charge_id"),
    )

    source: Mapped[PaymentSource] = mapped_column(str_enum(PaymentSource, 12), nullable=False)
    outcome: Mapped[PaymentOutcome] = mapped_column(str_enum(PaymentOutcome, 12), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    credited: Mapped[Decimal] = mapped_column(Money, nullable=False)  # what went to the charge
    paid_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    credited_on: Mapped[dt.date | None] = mapped_column(Date)
    reference: Mapped[str | None] = mapped_column(String(40))  # nosso número or txid as reported
    end_to_end_id: Mapped[str | None] = mapped_column(String(35))
    return_file_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("payment_return_files.id"))
    file_line: Mapped[int | None] = mapped_column(Integer)
    charge_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("charges.id"))
    debt_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("debts.id"))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ReviewItem(TenantScoped, Base):
    """Something reconciliation could not decide alone; people resolve it (refund, reallocate, accept)."""

    __tablename__ = "payment_reviews"
    __table_args__ = (Index("ix_payment_reviews_tenant_status", "tenant_id", "status"),)

    kind: Mapped[ReviewKind] = mapped_column(str_enum(ReviewKind), nullable=False)
    status: Mapped[ReviewStatus] = mapped_column(
        str_enum(ReviewStatus, 10), default=ReviewStatus.OPEN, nullable=False
    )
    payment_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("payments.id"), nullable=False)
    charge_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("charges.id"))
    debt_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("debts.id"))
    expected: Mapped[Decimal | None] = mapped_column(Money)
    received: Mapped[Decimal] = mapped_column(Money, nullable=False)
    message: Mapped[str] = mapped_column(String(500), nullable=False)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    resolution: Mapped[str | None] = mapped_column(String(500))


class PixWebhookDelivery(TenantScoped, Base):
    """A raw Pix webhook body, stored before processing so nothing a PSP sent is ever lost."""

    __tablename__ = "pix_webhook_deliveries"
    __table_args__ = (Index("ix_pix_webhook_deliveries_tenant_created", "tenant_id", "created_at"),)

    body: Mapped[str] = mapped_column(Text, nullable=False)
    processed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    payments: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
