"""Side effects the dialog asks for; the service carries them out. Plain data, so tests can compare them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from quita.bot.dialog.policy import Plan


@dataclass(frozen=True, slots=True)
class ConfirmIdentity:
    method: str  # "cpf3" | "birth_date"


@dataclass(frozen=True, slots=True)
class FlagIdentityFailed:
    attempts: int


@dataclass(frozen=True, slots=True)
class FlagWrongNumber:
    """LGPD art. 18 III correction: this phone is not the debtor's (ID-05)."""


@dataclass(frozen=True, slots=True)
class OptOut:
    """Stop every proactive WhatsApp contact with the debtor."""


@dataclass(frozen=True, slots=True)
class PauseDebt:
    reason: str  # dispute | hardship | over_indebted | complaint | deceased | already_paid
    business_days: int | None = None  # None: until a person resumes it


@dataclass(frozen=True, slots=True)
class TagDebt:
    tag: str


@dataclass(frozen=True, slots=True)
class Handoff:
    queue: str  # general | care | legal | identity
    reason: str


@dataclass(frozen=True, slots=True)
class CreateAgreement:
    """Explicit acceptance: schedule the instalments, issue and send the first charge, debt in agreement."""

    plan: Plan
    offer_id: str
    first_due: date


@dataclass(frozen=True, slots=True)
class IssueCharge:
    kind: str  # "boleto" | "pix"
    amount: str  # Decimal as text: the amount the debtor was shown


@dataclass(frozen=True, slots=True)
class RecordPromise:
    due: date
    text: str


@dataclass(frozen=True, slots=True)
class OpenReview:
    receipt: str | None  # media id of the receipt, None when the debtor only said so


Command = (
    ConfirmIdentity
    | FlagIdentityFailed
    | FlagWrongNumber
    | OptOut
    | PauseDebt
    | TagDebt
    | Handoff
    | CreateAgreement
    | IssueCharge
    | RecordPromise
    | OpenReview
)
