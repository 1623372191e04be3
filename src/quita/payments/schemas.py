"""API shapes of payments, and the Pix webhook payload (hostile input: validated field by field)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_serializer

from quita.payments.models import ChargeKind, ChargeStatus, ReviewKind, ReviewStatus

MAX_PIX_PER_NOTIFICATION = 1000


class PixItem(BaseModel):
    """One item of ``{"pix": [...]}`` as the API Pix ``Pix`` schema defines it."""

    model_config = ConfigDict(extra="ignore")

    endToEndId: str = Field(pattern=r"^[A-Za-z0-9]{32}$")
    txid: str | None = Field(default=None, pattern=r"^[A-Za-z0-9]{1,35}$")
    valor: str = Field(pattern=r"^\d{1,10}\.\d{2}$")
    horario: AwareDatetime
    chave: str | None = Field(default=None, max_length=77)
    infoPagador: str | None = Field(default=None, max_length=140)
    componentesValor: dict[str, Any] | None = None
    devolucoes: list[dict[str, Any]] | None = Field(default=None, max_length=100)


class PixNotification(BaseModel):
    model_config = ConfigDict(extra="ignore")

    pix: list[PixItem] = Field(min_length=1, max_length=MAX_PIX_PER_NOTIFICATION)


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ChargeCreate(BaseModel):
    debt_id: uuid.UUID | None = None
    external_id: str | None = Field(default=None, max_length=80)
    kind: ChargeKind = ChargeKind.BOLETO
    due_date: dt.date | None = None


class ChargeRead(_Read):
    id: uuid.UUID
    debt_id: uuid.UUID | None
    kind: ChargeKind
    status: ChargeStatus
    amount: Decimal
    amount_paid: Decimal
    itemisation: dict[str, Any]
    due_date: dt.date
    bank: str | None
    nosso_numero: str | None
    barcode: str | None
    linha_digitavel: str | None
    txid: str | None
    brcode: str | None
    paid_at: dt.datetime | None
    created_at: dt.datetime

    @field_serializer("amount", "amount_paid")
    def _money(self, value: Decimal) -> str:
        return str(value)


class ReviewRead(_Read):
    id: uuid.UUID
    kind: ReviewKind
    status: ReviewStatus
    payment_id: uuid.UUID
    charge_id: uuid.UUID | None
    debt_id: uuid.UUID | None
    expected: Decimal | None
    received: Decimal
    message: str
    created_at: dt.datetime

    @field_serializer("expected", "received")
    def _money(self, value: Decimal | None) -> str | None:
        return None if value is None else str(value)
