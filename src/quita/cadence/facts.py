"""Set-based loading of everything the compliance gate needs about a batch of debts.

One query per kind of fact for the whole batch (debtors, phones, identity confirmations, attempts to each
person, last inbound message, earlier outbox rows and decisions): a million-debt portfolio is planned in
a few hundred round trips, never one ORM object at a time.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from quita.cadence.models import IdentityConfirmation, PlanDecision
from quita.dispatch.models import OutboxMessage, OutboxStatus
from quita.kit.db.sets import chunk_size, chunks, custom_plans, member_of
from quita.portfolio.models import ContactKind, ContactPoint, ContactStatus, Debtor, Provenance
from quita.tenant.models import Creditor

ATTEMPT_STATUSES = (
    OutboxStatus.PENDING,
    OutboxStatus.CLAIMED,
    OutboxStatus.SENDING,
    OutboxStatus.SENT,
    OutboxStatus.UNKNOWN,
)
_PROVENANCE_RANK = {Provenance.DEBTOR_PROVIDED: 0, Provenance.CONTRACT: 1, Provenance.ENRICHED: 2}


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:  # aggregates bypass the column type on SQLite
        return value.replace(tzinfo=dt.UTC)
    return value


@dataclass(frozen=True, slots=True)
class DebtorRow:
    name: str
    uf: str | None
    ibge_code: str | None
    deceased: bool
    vulnerable: bool
    in_dispute: bool


@dataclass(frozen=True, slots=True)
class ContactRow:
    id: uuid.UUID
    value: str
    provenance: Provenance
    status: ContactStatus
    opt_in: bool
    opted_out: bool
    marketing_opted_out: bool = False


@dataclass(frozen=True, slots=True)
class CreditorRow:
    legal_name: str
    trade_name: str | None
    cnpj: str
    address: str
    is_bank: bool


@dataclass(frozen=True, slots=True)
class PastAttempt:
    at: dt.datetime
    channel: str


@dataclass
class BatchFacts:
    debtors: dict[uuid.UUID, DebtorRow] = field(default_factory=dict)
    contacts: dict[uuid.UUID, ContactRow] = field(default_factory=dict)
    """The one phone per debtor the cadence uses (best provenance, usable status first)."""
    confirmed: set[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=set)
    attempts: dict[uuid.UUID, list[dt.datetime]] = field(default_factory=lambda: defaultdict(list))
    last_inbound: dict[uuid.UUID, dt.datetime] = field(default_factory=dict)
    existing_steps: set[tuple[uuid.UUID, str]] = field(default_factory=set)
    identity_sent: dict[uuid.UUID, int] = field(default_factory=lambda: defaultdict(int))
    decisions_today: dict[tuple[uuid.UUID, str], tuple[str, dt.datetime | None]] = field(default_factory=dict)


def creditors_of(session: Session, tenant_id: uuid.UUID) -> dict[uuid.UUID, CreditorRow]:
    rows = session.execute(
        select(
            Creditor.id,
            Creditor.legal_name,
            Creditor.trade_name,
            Creditor.cnpj,
            Creditor.address,
            Creditor.city,
            Creditor.uf,
            Creditor.is_financial_institution,
        ).where(Creditor.tenant_id == tenant_id)
    )
    return {
        r.id: CreditorRow(
            r.legal_name, r.trade_name, r.cnpj, f"{r.address}, {r.city}/{r.uf}", r.is_financial_institution
        )
        for r in rows
    }


def _best_contact(rows: list[ContactRow]) -> ContactRow:
    def rank(c: ContactRow) -> tuple[int, int, int]:
        usable = 0 if (c.status == ContactStatus.VALID and not c.opted_out) else 1
        return (usable, _PROVENANCE_RANK.get(c.provenance, 3), 0 if c.opt_in else 1)

    return min(rows, key=rank)


def load_batch_facts(
    session: Session,
    tenant_id: uuid.UUID,
    debt_ids: Sequence[uuid.UUID],
    debtor_ids: Sequence[uuid.UUID],
    *,
    now: dt.datetime,
    today: dt.date,
    history_days: int = 30,
) -> BatchFacts:
    facts = BatchFacts()
    custom_plans(session)
    dialect = session.get_bind().dialect.name
    size = chunk_size(dialect)
    unique_debtors = list(dict.fromkeys(debtor_ids))
    since = now - dt.timedelta(days=history_days)
    by_debtor: dict[uuid.UUID, list[ContactRow]] = defaultdict(list)
    for part in chunks(unique_debtors, size):
        for r in session.execute(
            select(
                Debtor.id,
                Debtor.name,
                Debtor.uf,
                Debtor.ibge_code,
                Debtor.is_deceased,
                Debtor.is_vulnerable,
                Debtor.in_dispute,
            ).where(Debtor.tenant_id == tenant_id, member_of(Debtor.id, part, dialect))
        ):
            facts.debtors[r.id] = DebtorRow(
                r.name, r.uf, r.ibge_code, r.is_deceased, r.is_vulnerable, r.in_dispute
            )
        for c in session.execute(
            select(
                ContactPoint.id,
                ContactPoint.debtor_id,
                ContactPoint.value,
                ContactPoint.provenance,
                ContactPoint.status,
                ContactPoint.opt_in_at,
                ContactPoint.opted_out_at,
                ContactPoint.marketing_opted_out_at,
            ).where(
                ContactPoint.tenant_id == tenant_id,
                member_of(ContactPoint.debtor_id, part, dialect),
                ContactPoint.kind == ContactKind.PHONE,
            )
        ):
            by_debtor[c.debtor_id].append(
                ContactRow(
                    c.id,
                    c.value,
                    Provenance(c.provenance),
                    ContactStatus(c.status),
                    c.opt_in_at is not None,
                    c.opted_out_at is not None,
                    c.marketing_opted_out_at is not None,
                )
            )
        for i in session.execute(
            select(IdentityConfirmation.debtor_id, IdentityConfirmation.contact_id).where(
                IdentityConfirmation.tenant_id == tenant_id,
                member_of(IdentityConfirmation.debtor_id, part, dialect),
            )
        ):
            facts.confirmed.add((i.debtor_id, i.contact_id))
        for a in session.execute(
            select(OutboxMessage.debtor_id, OutboxMessage.sent_at, OutboxMessage.not_before).where(
                OutboxMessage.tenant_id == tenant_id,
                member_of(OutboxMessage.debtor_id, part, dialect),
                OutboxMessage.status.in_(ATTEMPT_STATUSES),
                OutboxMessage.created_at >= since,
            )
        ):
            facts.attempts[a.debtor_id].append(a.sent_at or a.not_before)
    for debtor_id, rows in by_debtor.items():
        facts.contacts[debtor_id] = _best_contact(rows)
    facts.last_inbound = last_inbound_by_contact(session, tenant_id, [c.id for c in facts.contacts.values()])
    for part in chunks(list(debt_ids), size):
        for o in session.execute(
            select(OutboxMessage.debt_id, OutboxMessage.step_key).where(
                OutboxMessage.tenant_id == tenant_id, member_of(OutboxMessage.debt_id, part, dialect)
            )
        ):
            if o.debt_id is None:
                continue
            facts.existing_steps.add((o.debt_id, o.step_key))
            if o.step_key.endswith("/identity"):
                facts.identity_sent[o.debt_id] += 1
        for p in session.execute(
            select(
                PlanDecision.debt_id, PlanDecision.step_key, PlanDecision.outcome, PlanDecision.earliest_at
            ).where(
                PlanDecision.tenant_id == tenant_id,
                member_of(PlanDecision.debt_id, part, dialect),
                PlanDecision.local_day == today,
            )
        ):
            facts.decisions_today[(p.debt_id, p.step_key)] = (p.outcome, p.earliest_at)
    return facts


def last_inbound_by_contact(
    session: Session, tenant_id: uuid.UUID, contact_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, dt.datetime]:
    """The WhatsApp capability's record of when each contact last wrote (opens the 24 h window)."""
    try:
        from quita.whatsapp.models import Conversation
    except ImportError:  # the channel capability is optional for planning
        return {}
    found: dict[uuid.UUID, dt.datetime] = {}
    dialect = session.get_bind().dialect.name
    size = chunk_size(dialect)
    for part in chunks(list(contact_ids), size):
        for contact_id, at in session.execute(
            select(Conversation.contact_id, func.max(Conversation.last_inbound_at))
            .where(
                Conversation.tenant_id == tenant_id,
                member_of(Conversation.contact_id, part, dialect),
                Conversation.last_inbound_at.is_not(None),
            )
            .group_by(Conversation.contact_id)
        ):
            value = _aware(at)
            if contact_id is not None and value is not None:
                found[contact_id] = value
    return found
