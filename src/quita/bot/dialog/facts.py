"""What the dialog knows about the debt and the debtor when it decides (read by the service, passed in)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from quita.bot.dialog.policy import NegotiationPolicy
from quita.bot.nlu import Understanding


@dataclass(frozen=True, slots=True)
class DebtFacts:
    agency_name: str
    creditor_name: str
    creditor_cnpj: str  # formatted
    creditor_address: str
    due_date: date
    principal: Decimal
    fine: Decimal
    interest: Decimal
    total: Decimal  # updated amount today, what is still owed
    days_overdue: int
    identity_method: str  # "cpf3" | "birth_date"
    identity_secret: str  # first three CPF digits, or the ISO birth date; compared, never sent
    today: date
    policy: NegotiationPolicy
    already_paid: Decimal = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class TextIn:
    text: str
    understanding: Understanding


@dataclass(frozen=True, slots=True)
class ChoiceIn:
    """A tapped reply button or list row; ``context_wamid`` is the message it belonged to."""

    reply_id: str
    context_wamid: str | None = None
    title: str | None = None


@dataclass(frozen=True, slots=True)
class MediaIn:
    kind: str  # image | document
    media_id: str


@dataclass(frozen=True, slots=True)
class TimerIn:
    kind: str  # "promise_reminder"


Event = TextIn | ChoiceIn | MediaIn | TimerIn
