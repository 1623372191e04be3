"""Which cadence a debt follows and which of its steps is due today: the planner's pure core.

Kept free of I/O so the same rules answer the planner, the preview and the tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from quita.cadence.domain.definition import Cadence, Step, StopCondition


@dataclass(frozen=True, slots=True)
class DebtView:
    status: str
    amount: Decimal
    due_date: date
    tags: frozenset[str]
    uf: str | None
    creditor_cnpj: str


@dataclass(frozen=True, slots=True)
class PersonView:
    deceased: bool
    in_dispute: bool
    contact_opted_out: bool
    contact_wrong_number: bool


def matches(cadence: Cadence, debt: DebtView, today: date) -> bool:
    m = cadence.match
    overdue = (today - debt.due_date).days
    if debt.status not in m.statuses:
        return False
    if m.amount_min is not None and debt.amount < m.amount_min:
        return False
    if m.amount_max is not None and debt.amount > m.amount_max:
        return False
    if m.days_overdue_min is not None and overdue < m.days_overdue_min:
        return False
    if m.days_overdue_max is not None and overdue > m.days_overdue_max:
        return False
    if m.tags_any and not (m.tags_any & debt.tags):
        return False
    if m.tags_all and not m.tags_all <= debt.tags:
        return False
    if m.ufs and (debt.uf or "") not in m.ufs:
        return False
    return not (m.creditor_cnpjs and debt.creditor_cnpj not in m.creditor_cnpjs)


def first_match(cadences: Sequence[Cadence], debt: DebtView, today: date) -> Cadence | None:
    """Cadences must already be in priority order; the first that matches wins."""
    for cadence in cadences:
        if matches(cadence, debt, today):
            return cadence
    return None


def active_step(cadence: Cadence, due_date: date, today: date) -> Step | None:
    """The latest step whose day has come, if it is at most ``grace_days`` old (a later step replaces it)."""
    overdue = (today - due_date).days
    current: Step | None = None
    for step in cadence.steps:
        if step.offset <= overdue:
            current = step
        else:
            break
    if current is None or overdue - current.offset > cadence.grace_days:
        return None
    return current


_STATUS_STOPS = {
    "paid": StopCondition.PAID,
    "in_agreement": StopCondition.IN_AGREEMENT,
    "disputed": StopCondition.DISPUTED,
    "prescribed": StopCondition.PRESCRIBED,
}

STOP_MESSAGES_PT = {
    StopCondition.PAID: "Título pago: a régua para.",
    StopCondition.IN_AGREEMENT: "Título em acordo: a régua de cobrança para.",
    StopCondition.OPTED_OUT: "O devedor pediu para não receber mensagens neste canal.",
    StopCondition.DISPUTED: "Dívida contestada: a régua fica suspensa.",
    StopCondition.DECEASED: "Devedor falecido: a régua para.",
    StopCondition.PRESCRIBED: "Dívida prescrita: sem cobrança ativa.",
    StopCondition.WRONG_NUMBER: "Número errado: não enviar.",
}


def stop_reasons(cadence: Cadence, debt: DebtView, person: PersonView) -> list[StopCondition]:
    found: list[StopCondition] = []
    if (stop := _STATUS_STOPS.get(debt.status)) is not None:
        found.append(stop)
    if person.deceased:
        found.append(StopCondition.DECEASED)
    if person.in_dispute and StopCondition.DISPUTED not in found:
        found.append(StopCondition.DISPUTED)
    if person.contact_opted_out:
        found.append(StopCondition.OPTED_OUT)
    if person.contact_wrong_number:
        found.append(StopCondition.WRONG_NUMBER)
    return [s for s in found if s in cadence.stop_on]
