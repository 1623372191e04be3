"""``quita cadence preview``: what the planner would do now, and what was already decided, with reasons.

The planner skips a debt whose step is already in the outbox, blocked today, or deferred to a later
moment (re-deciding it would be wasted work and could plan it twice). A preview that only showed fresh
decisions would leave those contacts unexplained, so for them it shows the stored decision instead: the
outbox row's state (planned, sent, failed, unknown, cancelled, with its reason) or the ``plan_decisions``
row (deferred until when, or blocked, with every rule). Nothing is written.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from quita.cadence.models import PlanDecision
from quita.cadence.planner import SAO_PAULO, PlanItem, PlanStats, plan_tenant
from quita.dispatch.models import OutboxMessage, OutboxStatus
from quita.kit.db import Database
from quita.kit.db.sets import chunk_size, chunks, member_of
from quita.portfolio.models import ContactPoint, Debtor

#: outbox state → the preview's outcome (the CLI translates it)
OUTBOX_OUTCOME = {
    OutboxStatus.PENDING: "planned",
    OutboxStatus.CLAIMED: "planned",
    OutboxStatus.SENDING: "sending",
    OutboxStatus.SENT: "sent",
    OutboxStatus.FAILED: "failed",
    OutboxStatus.UNKNOWN: "unknown",
    OutboxStatus.CANCELLED: "cancelled",
}


@dataclass
class Preview:
    items: list[PlanItem] = field(default_factory=list)  # decided now (nothing stored)
    stored: list[PlanItem] = field(default_factory=list)  # decided earlier: the stored decision
    stats: PlanStats = field(default_factory=PlanStats)


def preview(database: Database, tenant_ids: list[uuid.UUID], now: dt.datetime) -> Preview:
    result = Preview()
    today = now.astimezone(SAO_PAULO).date()
    for tenant_id in tenant_ids:

        def decided(pairs: list[tuple[uuid.UUID, str]], tenant_id: uuid.UUID = tenant_id) -> None:
            with database.transaction() as session:
                result.stored.extend(stored_decisions(session, tenant_id, pairs, today))

        result.stats.add(
            plan_tenant(
                database, tenant_id, now, write=False, on_item=result.items.append, on_decided=decided
            )
        )
    return result


def stored_decisions(
    session: Session, tenant_id: uuid.UUID, pairs: list[tuple[uuid.UUID, str]], today: dt.date
) -> list[PlanItem]:
    """The stored decision of each (debt, step): its latest outbox row, else today's plan decision."""
    wanted = set(pairs)
    debt_ids = sorted({debt_id for debt_id, _ in wanted})
    dialect = session.get_bind().dialect.name
    outbox: dict[tuple[uuid.UUID, str], OutboxMessage] = {}
    decisions: dict[tuple[uuid.UUID, str], PlanDecision] = {}
    for part in chunks(debt_ids, chunk_size(dialect)):
        for row in session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.tenant_id == tenant_id, member_of(OutboxMessage.debt_id, part, dialect))
            .order_by(OutboxMessage.created_at)
        ):
            if row.debt_id is not None and (row.debt_id, row.step_key) in wanted:
                outbox[(row.debt_id, row.step_key)] = row  # ordered by creation: the latest wins
        for decision in session.scalars(
            select(PlanDecision).where(
                PlanDecision.tenant_id == tenant_id,
                member_of(PlanDecision.debt_id, part, dialect),
                PlanDecision.local_day == today,
            )
        ):
            key = (decision.debt_id, decision.step_key)
            if key in wanted:
                decisions[key] = decision
    debtor_ids = {r.debtor_id for r in outbox.values()} | {d.debtor_id for d in decisions.values()}
    names: dict[uuid.UUID, str] = {}
    for part in chunks(sorted(debtor_ids), chunk_size(dialect)):
        names.update(
            (i, n) for i, n in session.execute(select(Debtor.id, Debtor.name).where(member_of(Debtor.id, part, dialect)))
        )
    contact_ids = sorted({d.contact_id for d in decisions.values() if d.contact_id is not None})
    phones: dict[uuid.UUID, str] = {}
    for part in chunks(contact_ids, chunk_size(dialect)):
        phones.update(
            (i, v)
            for i, v in session.execute(
                select(ContactPoint.id, ContactPoint.value).where(member_of(ContactPoint.id, part, dialect))
            )
        )
    items = []
    for key in pairs:
        if key in outbox:
            items.append(_from_outbox(outbox[key], names))
        elif key in decisions:
            items.append(_from_decision(decisions[key], names, phones))
    return items


def _from_outbox(row: OutboxMessage, names: dict[uuid.UUID, str]) -> PlanItem:
    outcome = OUTBOX_OUTCOME[row.status]
    return PlanItem(
        debt_id=row.debt_id or uuid.UUID(int=0),
        debtor_id=row.debtor_id,
        debtor_name=names.get(row.debtor_id, "?"),
        contact_id=row.contact_id,
        recipient=row.recipient,
        cadence=row.cadence or "",
        step_key=row.step_key,
        kind=row.kind,
        template=row.template_name,
        language=row.template_language,
        params=tuple(row.template_params or ()),
        outcome=outcome,
        earliest_at=row.sent_at if row.status == OutboxStatus.SENT else row.not_before,
        reasons=(_outbox_reason(row),),
        ruleset_version=row.ruleset_version or "",
        ruleset_hash=row.ruleset_hash or "",
        local_day=row.local_day,
    )


def _outbox_reason(row: OutboxMessage) -> dict[str, str]:
    day = f"{row.local_day:%d/%m/%Y}"
    match row.status:
        case OutboxStatus.PENDING | OutboxStatus.CLAIMED:
            text = f"Já planejada em {day}; aguarda o envio (não é planejada de novo)."
        case OutboxStatus.SENDING:
            text = f"Planejada em {day}; envio em andamento."
        case OutboxStatus.SENT:
            text = f"Já enviada (planejada em {day}; wamid {row.wamid or '?'})."
        case OutboxStatus.FAILED:
            text = f"Planejada em {day}, falhou: {row.failed_reason or row.last_error or 'sem motivo'}."
        case OutboxStatus.UNKNOWN:
            text = f"Planejada em {day}; envio incerto, não será reenviada (alerta aberto)."
        case _:
            text = f"Planejada em {day}, cancelada: {row.failed_reason or 'sem motivo'}."
    return {"rule_id": "OUTBOX", "legal_basis": "", "message_pt": text}


def _from_decision(row: PlanDecision, names: dict[uuid.UUID, str], phones: dict[uuid.UUID, str]) -> PlanItem:
    return PlanItem(
        debt_id=row.debt_id,
        debtor_id=row.debtor_id,
        debtor_name=names.get(row.debtor_id, "?"),
        contact_id=row.contact_id,
        recipient=phones.get(row.contact_id) if row.contact_id else None,
        cadence=row.cadence,
        step_key=row.step_key,
        kind="",
        template="",
        language="",
        params=(),
        outcome=row.outcome,
        earliest_at=row.earliest_at,
        reasons=tuple(row.reasons),
        ruleset_version=row.ruleset_version,
        ruleset_hash=row.ruleset_hash,
        local_day=row.local_day,
    )
