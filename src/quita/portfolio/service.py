"""Reading the portfolio. Every query is filtered by tenant: no function here can cross tenants."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from quita.audit import service as audit
from quita.kit import events
from quita.kit.errors import NotFound
from quita.portfolio.models import ContactPoint, Debt, Debtor, DebtStatus


@dataclass(frozen=True)
class DebtorFilter:
    uf: str | None = None
    document: str | None = None
    name_prefix: str | None = None


@dataclass(frozen=True)
class DebtFilter:
    status: DebtStatus | None = None
    debtor_id: uuid.UUID | None = None
    external_id: str | None = None
    contract: str | None = None
    due_from: dt.date | None = None
    due_to: dt.date | None = None


def list_debtors(
    session: Session, tenant_id: uuid.UUID, flt: DebtorFilter, *, after: uuid.UUID | None, limit: int
) -> Sequence[Debtor]:
    query = select(Debtor).where(Debtor.tenant_id == tenant_id)
    if flt.uf:
        query = query.where(Debtor.uf == flt.uf.upper())
    if flt.document:
        query = query.where(Debtor.document == flt.document)
    if flt.name_prefix:
        query = query.where(Debtor.name.startswith(flt.name_prefix, autoescape=True))
    if after is not None:
        query = query.where(Debtor.id > after)
    return session.scalars(query.order_by(Debtor.id).limit(limit)).all()


def get_debtor(session: Session, tenant_id: uuid.UUID, debtor_id: uuid.UUID) -> Debtor:
    debtor = session.scalar(select(Debtor).where(Debtor.tenant_id == tenant_id, Debtor.id == debtor_id))
    if debtor is None:
        raise NotFound("devedor não encontrado", code="debtor_not_found")
    return debtor


def contacts_of(session: Session, tenant_id: uuid.UUID, debtor_id: uuid.UUID) -> Sequence[ContactPoint]:
    return session.scalars(
        select(ContactPoint)
        .where(ContactPoint.tenant_id == tenant_id, ContactPoint.debtor_id == debtor_id)
        .order_by(ContactPoint.kind, ContactPoint.value)
    ).all()


def list_debts(
    session: Session, tenant_id: uuid.UUID, flt: DebtFilter, *, after: uuid.UUID | None, limit: int
) -> Sequence[Debt]:
    query = select(Debt).where(Debt.tenant_id == tenant_id)
    if flt.status is not None:
        query = query.where(Debt.status == flt.status)
    if flt.debtor_id is not None:
        query = query.where(Debt.debtor_id == flt.debtor_id)
    if flt.external_id:
        query = query.where(Debt.external_id == flt.external_id)
    if flt.contract:
        query = query.where(Debt.contract == flt.contract)
    if flt.due_from is not None:
        query = query.where(Debt.due_date >= flt.due_from)
    if flt.due_to is not None:
        query = query.where(Debt.due_date <= flt.due_to)
    if after is not None:
        query = query.where(Debt.id > after)
    return session.scalars(query.order_by(Debt.id).limit(limit)).all()


def get_debt(session: Session, tenant_id: uuid.UUID, debt_id: uuid.UUID) -> Debt:
    debt = session.scalar(select(Debt).where(Debt.tenant_id == tenant_id, Debt.id == debt_id))
    if debt is None:
        raise NotFound("título não encontrado", code="debt_not_found")
    return debt


def change_debt_status(
    session: Session, tenant_id: uuid.UUID, debt_id: uuid.UUID, new_status: DebtStatus, *, actor: str, reason: str
) -> Debt:
    """The one way a debt changes status: audited, and announced so cadences and dispatch react
    (e.g. pending messages of a debt that became paid are cancelled before they go out)."""
    debt = get_debt(session, tenant_id, debt_id)
    old = debt.status
    if old == new_status:
        return debt
    debt.status = new_status
    session.flush()
    audit.record(
        session, tenant_id=tenant_id, actor=actor, action="debt.status_changed", entity_type="debt",
        entity_id=debt_id, before={"status": old}, after={"status": new_status, "reason": reason},
    )
    events.publish(session, events.DEBT_STATUS_CHANGED, {
        "tenant_id": tenant_id, "debt_id": debt_id, "old_status": old, "new_status": new_status, "actor": actor,
    })
    return debt
