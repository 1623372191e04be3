"""API shapes of the portfolio. Amounts travel as strings ("1234.56") so no client parses a float."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from pydantic import BaseModel, ConfigDict

from quita.portfolio.models import ContactKind, ContactStatus, DebtStatus, DocumentKind, Provenance


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ContactPointRead(_Read):
    id: uuid.UUID
    kind: ContactKind
    value: str
    provenance: Provenance
    status: ContactStatus
    opt_in_source: str | None
    opt_in_at: dt.datetime | None
    opted_out_at: dt.datetime | None
    wa_id: str | None
    wa_user_id: str | None


class DebtorRead(_Read):
    id: uuid.UUID
    name: str
    document_kind: DocumentKind
    document: str
    birth_date: dt.date | None
    street: str | None
    number: str | None
    complement: str | None
    district: str | None
    city: str | None
    uf: str | None
    cep: str | None
    ibge_code: str | None
    is_deceased: bool
    is_vulnerable: bool
    in_dispute: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class DebtRead(_Read):
    id: uuid.UUID
    debtor_id: uuid.UUID
    external_id: str
    contract: str | None
    installment_number: int | None
    product: str | None
    creditor_id: uuid.UUID
    original_creditor_name: str | None
    original_creditor_cnpj: str | None
    principal: Decimal
    currency: str
    due_date: dt.date
    status: DebtStatus
    fine_rate: Decimal | None
    interest_rate_monthly: Decimal | None
    tags: list[str] | None
    created_at: dt.datetime
    updated_at: dt.datetime


class DebtorDetail(DebtorRead):
    contacts: list[ContactPointRead]
    debts: list[DebtRead]


class DebtorPage(BaseModel):
    items: list[DebtorRead]
    next_cursor: str | None


class DebtPage(BaseModel):
    items: list[DebtRead]
    next_cursor: str | None
