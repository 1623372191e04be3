"""The facts a compliance decision is made from.

Plain frozen dataclasses so the planner can build millions of them cheaply and the engine can stay free of
validation frameworks: whoever builds these from outside data (CLI, API, ORM rows) validates first. All
datetimes must be timezone-aware; the engine converts them to the debtor's local time itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType


class Channel(StrEnum):
    WHATSAPP = "whatsapp"
    SMS = "sms"
    EMAIL = "email"
    VOICE = "voice"


class ContactKind(StrEnum):
    IDENTITY_CHECK = "identity_check"
    REMINDER = "reminder"
    COLLECTION = "collection"
    AGREEMENT_REMINDER = "agreement_reminder"
    REPLY = "reply"


class Provenance(StrEnum):
    """Where the phone/e-mail came from (ID-03): only the debtor's own or the contract's are fully usable."""

    DEBTOR_PROVIDED = "debtor_provided"
    CONTRACT = "contract"
    ENRICHED = "enriched"
    THIRD_PARTY = "third_party"


class ContactStatus(StrEnum):
    ACTIVE = "active"
    WRONG_NUMBER = "wrong_number"
    OPTED_OUT = "opted_out"
    UNREACHABLE = "unreachable"


class DebtStatus(StrEnum):
    OPEN = "open"
    AGREEMENT = "agreement"
    PAID = "paid"
    CANCELLED = "cancelled"


class CreditorKind(StrEnum):
    BANK = "bank"
    OTHER = "other"


class TemplateCategory(StrEnum):
    UTILITY = "UTILITY"
    MARKETING = "MARKETING"
    AUTHENTICATION = "AUTHENTICATION"


class TemplateStatus(StrEnum):
    APPROVED = "APPROVED"
    PENDING = "PENDING"
    REJECTED = "REJECTED"
    PAUSED = "PAUSED"
    DISABLED = "DISABLED"


@dataclass(frozen=True, slots=True)
class TemplateInfo:
    name: str
    category: TemplateCategory
    status: TemplateStatus
    body: str | None = None


@dataclass(frozen=True, slots=True)
class ProposedContact:
    now: datetime
    channel: Channel
    kind: ContactKind
    discloses_amount: bool = False
    template: TemplateInfo | None = None
    free_text: str | None = None
    is_reply_to_debtor_message: bool = False


@dataclass(frozen=True, slots=True)
class DebtorFacts:
    uf: str | None = None
    ibge_code: int | None = None
    ddd: int | None = None
    deceased: bool = False
    vulnerable: bool = False
    in_dispute: bool = False
    identity_confirmed: bool = False
    opted_out_channels: frozenset[Channel] = frozenset()
    already_paid_claim_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ContactFacts:
    provenance: Provenance = Provenance.CONTRACT
    status: ContactStatus = ContactStatus.ACTIVE
    last_inbound_at: datetime | None = None
    whatsapp_opt_in: bool | None = None
    marketing_opted_out: bool = False
    """The user stopped marketing messages from this business in WhatsApp (``user_preferences``)."""


@dataclass(frozen=True, slots=True)
class DebtFacts:
    due_date: date
    status: DebtStatus = DebtStatus.OPEN
    creditor_kind: CreditorKind = CreditorKind.OTHER
    creditor_identification_present: bool = False
    acknowledged_on: date | None = None
    """Last acknowledgment by the debtor (CC art. 202 VI): the limitation period restarts from it."""
    prescription_years: int | None = None
    """Per-portfolio override of the limitation period; None means the rule set's default."""


@dataclass(frozen=True, slots=True)
class Attempt:
    at: datetime
    answered: bool = False
    creditor: str | None = None
    """Informational only: caps count every attempt to the person, whoever the creditor was."""
    channel: Channel | None = None


@dataclass(frozen=True, slots=True)
class History:
    """Previous PROACTIVE attempts to this person, across all debts, creditors and channels."""

    attempts: tuple[Attempt, ...] = ()


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """The WhatsApp business portfolio's messaging limit (META-LIMITS): unique recipients per rolling 24 h."""

    tier_limit: int | None = None
    """250, 2000, 10000 or 100000; None means unlimited."""
    unique_recipients_24h: int = 0
    recipient_already_counted: bool = False
    next_slot_at: datetime | None = None
    """When the oldest counted recipient leaves the rolling window, if the caller knows it."""


@dataclass(frozen=True, slots=True)
class TenantCalendar:
    municipal_holidays: Mapping[int, frozenset[date]] = field(default_factory=lambda: MappingProxyType({}))
    """IBGE municipality code -> extra closed dates (municipal holidays the tenant maintains)."""
    closed_dates: frozenset[date] = frozenset()
    """Dates the tenant closes for everybody (e.g. a company-wide pause)."""


@dataclass(frozen=True, slots=True)
class Scenario:
    """Everything one decision needs, bundled so callers pass a single value."""

    contact: ProposedContact
    debtor: DebtorFacts
    contact_facts: ContactFacts
    debt: DebtFacts
    history: History = History()
    account: AccountFacts = AccountFacts()
    calendar: TenantCalendar = TenantCalendar()
