"""Portfolio routes: ``/api/v1/debtors`` and ``/api/v1/debts``."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from quita.br.documents import InvalidDocument, parse_document
from quita.kit.api import DbSession, decode_cursor, encode_cursor
from quita.kit.errors import InvalidInput
from quita.portfolio import service
from quita.portfolio.models import DebtStatus
from quita.portfolio.schemas import (
    ContactPointRead,
    DebtorDetail,
    DebtorPage,
    DebtorRead,
    DebtPage,
    DebtRead,
)
from quita.tenant.auth import CurrentPrincipal

router = APIRouter(prefix="/api/v1", tags=["portfolio"])
Limit = Annotated[int, Query(ge=1, le=500, description="Itens por página")]
Cursor = Annotated[str | None, Query(description="Cursor devolvido em next_cursor")]


@router.get("/debtors", response_model=DebtorPage)
def list_debtors(
    principal: CurrentPrincipal,
    session: DbSession,
    limit: Limit = 50,
    cursor: Cursor = None,
    uf: Annotated[str | None, Query(min_length=2, max_length=2)] = None,
    document: Annotated[str | None, Query(description="CPF ou CNPJ, com ou sem máscara")] = None,
    name: Annotated[str | None, Query(min_length=2, max_length=100, description="Início do nome")] = None,
) -> DebtorPage:
    normalised_document = None
    if document:
        try:
            normalised_document = parse_document(document).value
        except InvalidDocument as exc:
            raise InvalidInput(f"documento inválido: {exc}", code="invalid_document") from None
    flt = service.DebtorFilter(uf=uf, document=normalised_document, name_prefix=name)
    rows = service.list_debtors(session, principal.tenant_id, flt, after=decode_cursor(cursor), limit=limit + 1)
    items = [DebtorRead.model_validate(r) for r in rows[:limit]]
    return DebtorPage(items=items, next_cursor=encode_cursor(items[-1].id) if len(rows) > limit else None)


@router.get("/debtors/{debtor_id}", response_model=DebtorDetail)
def get_debtor(principal: CurrentPrincipal, session: DbSession, debtor_id: uuid.UUID) -> DebtorDetail:
    debtor = service.get_debtor(session, principal.tenant_id, debtor_id)
    contacts = service.contacts_of(session, principal.tenant_id, debtor_id)
    debts = service.list_debts(
        session, principal.tenant_id, service.DebtFilter(debtor_id=debtor_id), after=None, limit=1000
    )
    return DebtorDetail(
        **DebtorRead.model_validate(debtor).model_dump(),
        contacts=[ContactPointRead.model_validate(c) for c in contacts],
        debts=[DebtRead.model_validate(d) for d in debts],
    )


@router.get("/debts", response_model=DebtPage)
def list_debts(
    principal: CurrentPrincipal,
    session: DbSession,
    limit: Limit = 50,
    cursor: Cursor = None,
    status: DebtStatus | None = None,
    debtor_id: uuid.UUID | None = None,
    external_id: Annotated[str | None, Query(max_length=80)] = None,
    contract: Annotated[str | None, Query(max_length=80)] = None,
    due_from: dt.date | None = None,
    due_to: dt.date | None = None,
) -> DebtPage:
    flt = service.DebtFilter(status=status, debtor_id=debtor_id, external_id=external_id, contract=contract,
                             due_from=due_from, due_to=due_to)
    rows = service.list_debts(session, principal.tenant_id, flt, after=decode_cursor(cursor), limit=limit + 1)
    items = [DebtRead.model_validate(r) for r in rows[:limit]]
    return DebtPage(items=items, next_cursor=encode_cursor(items[-1].id) if len(rows) > limit else None)


@router.get("/debts/{debt_id}", response_model=DebtRead)
def get_debt(principal: CurrentPrincipal, session: DbSession, debt_id: uuid.UUID) -> DebtRead:
    return DebtRead.model_validate(service.get_debt(session, principal.tenant_id, debt_id))
