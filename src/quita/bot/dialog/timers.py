"""What the clock asks of agreements, promises and receipt pauses on a given local day (pure; no I/O).

The tick (``bot.timers``) gathers the facts, asks these functions, and carries the answers out under a
unique key each, so the decisions themselves can be simple: a reminder belongs to one exact day (the day
before, the due date, the day after), a missed day is not made up later (a stale reminder would be wrong),
and an instalment unpaid ``break_after_days`` after its due date breaks the agreement.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class Moment(StrEnum):
    BEFORE = "before"  # the day before the due date
    DUE = "due"  # the due date
    AFTER = "after"  # the day after


OFFSETS = {Moment.BEFORE: -1, Moment.DUE: 0, Moment.AFTER: 1}


@dataclass(frozen=True, slots=True)
class InstallmentView:
    id: uuid.UUID
    number: int  # 0 = down payment
    due_date: date
    paid: bool
    charged: bool  # a charge (boleto/Pix) exists for it


@dataclass(frozen=True, slots=True)
class Remind:
    installment_id: uuid.UUID
    moment: Moment


@dataclass(frozen=True, slots=True)
class Charge:
    """Issue the instalment's boleto and Pix: the previous one is paid, or its first reminder goes out."""

    installment_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class Break:
    installment_id: uuid.UUID  # the instalment that broke it


@dataclass(frozen=True, slots=True)
class Keep:
    """Every instalment paid (normally done when the last payment arrives; here as a safety net)."""


AgreementAction = Remind | Charge | Break | Keep


def current(installments: tuple[InstallmentView, ...]) -> InstallmentView | None:
    """The first unpaid instalment in order; the others wait for it."""
    pending = sorted((i for i in installments if not i.paid), key=lambda i: i.number)
    return pending[0] if pending else None


def agreement_actions(
    installments: tuple[InstallmentView, ...], today: date, break_after_days: int
) -> list[AgreementAction]:
    item = current(installments)
    if item is None:
        return [Keep()] if installments else []
    if today >= item.due_date + timedelta(days=break_after_days):
        return [Break(item.id)]
    actions: list[AgreementAction] = []
    earlier = [i for i in installments if i.number < item.number]
    previous_paid = all(i.paid for i in earlier)
    moment = next((m for m, off in OFFSETS.items() if today == item.due_date + timedelta(days=off)), None)
    if not item.charged and (previous_paid or moment is not None):
        actions.append(Charge(item.id))
    if moment is not None:
        actions.append(Remind(item.id, moment))
    return actions


class PromiseAction(StrEnum):
    REMIND = "remind"  # the day before
    BROKEN = "broken"  # the day after, still unpaid


def promise_action(due: date, today: date) -> PromiseAction | None:
    """For an open promise (a payment on or before the date marks it kept elsewhere)."""
    if today == due - timedelta(days=1):
        return PromiseAction.REMIND
    if today > due:
        return PromiseAction.BROKEN
    return None


def pause_expired(paused_until: date | None, today: date) -> bool:
    """A receipt pause lasts until ``paused_until`` (inclusive of the day before): collection resumes on it."""
    return paused_until is not None and today >= paused_until
