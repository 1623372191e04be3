"""The planner: which cadence step is due for every open debt, what the compliance gate says about it, and
— in one transaction per batch — outbox rows for the allowed contacts plus recorded deferrals and blocks.

It works on batches of debts found by SQL (status and a due-date window derived from the cadences' steps),
loads the facts of a batch in a handful of queries (:mod:`quita.cadence.facts`), and writes with multi-row
statements. Re-running it is harmless: an outbox row is unique per debt, step and local day, an existing
step is never planned twice, and today's blocks and not-yet-ripe deferrals are skipped.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, func, insert, or_, select, tuple_
from sqlalchemy.orm import Session

from quita.cadence import service as cadences
from quita.cadence.domain.definition import Cadence, MessageSpec, Step
from quita.cadence.domain.params import ParamContext, names_creditor, render_params, shows_debt
from quita.cadence.domain.selection import (
    STOP_MESSAGES_PT,
    DebtView,
    PersonView,
    active_step,
    first_match,
    stop_reasons,
)
from quita.cadence.facts import BatchFacts, ContactRow, CreditorRow, DebtorRow, creditors_of, load_batch_facts
from quita.cadence.models import PlanDecision
from quita.compliance.domain import (
    AccountFacts,
    Attempt,
    Channel,
    ContactFacts,
    ContactKind,
    ContactStatus,
    CreditorKind,
    DebtFacts,
    DebtorFacts,
    DebtStatus,
    Decision,
    History,
    Outcome,
    ProposedContact,
    Provenance,
    RuleSet,
    Scenario,
    TemplateCategory,
    TemplateInfo,
    TemplateStatus,
    evaluate,
)
from quita.compliance.domain.location import LocationError, resolve_location
from quita.compliance.rulesets import load_ruleset
from quita.dispatch.models import OutboxMessage, OutboxStatus
from quita.kit.db import Database
from quita.kit.db.bulk import insert_ignoring_duplicates
from quita.kit.db.sets import member_of
from quita.portfolio import models as pm

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
DEFAULT_BATCH = 5000
_STATUS = {
    "open": DebtStatus.OPEN,
    "in_agreement": DebtStatus.AGREEMENT,
    "paid": DebtStatus.PAID,
    "written_off": DebtStatus.CANCELLED,
    "disputed": DebtStatus.OPEN,
    "prescribed": DebtStatus.OPEN,
}
_CONTACT_STATUS = {
    pm.ContactStatus.VALID: ContactStatus.ACTIVE,
    pm.ContactStatus.WRONG_NUMBER: ContactStatus.WRONG_NUMBER,
    pm.ContactStatus.NO_WHATSAPP: ContactStatus.UNREACHABLE,
    pm.ContactStatus.BLOCKED: ContactStatus.OPTED_OUT,
}


@dataclass(frozen=True, slots=True)
class PlanItem:
    """One planned contact and the gate's answer (written, or shown by ``quita cadence preview``)."""

    debt_id: uuid.UUID
    debtor_id: uuid.UUID
    debtor_name: str
    contact_id: uuid.UUID | None
    recipient: str | None
    cadence: str
    step_key: str
    kind: str
    template: str
    language: str
    params: tuple[str, ...]
    outcome: str
    earliest_at: dt.datetime | None
    reasons: tuple[dict[str, str], ...]
    ruleset_version: str
    ruleset_hash: str
    local_day: dt.date


@dataclass
class PlanStats:
    scanned: int = 0
    candidates: int = 0
    allowed: int = 0
    deferred: int = 0
    blocked: int = 0
    skipped: int = 0
    batches: int = 0
    seconds: float = 0.0

    def add(self, other: PlanStats) -> None:
        for name in ("scanned", "candidates", "allowed", "deferred", "blocked", "skipped", "batches"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.seconds += other.seconds


@dataclass
class TenantContext:
    tenant_id: uuid.UUID
    cadences: list[Cadence]
    rules: RuleSet
    creditors: dict[uuid.UUID, CreditorRow]
    channel_id: uuid.UUID | None
    tier_limit: int | None
    templates: dict[tuple[str, str], TemplateInfo]
    counted_recipients: set[str] = field(default_factory=set)


def local_tz(debtor: DebtorRow | None, phone: str | None) -> ZoneInfo:
    ddd = _ddd(phone)
    try:
        ibge = int(debtor.ibge_code) if debtor and debtor.ibge_code else None
        zones = resolve_location(debtor.uf if debtor else None, ibge, ddd).zones
    except (LocationError, ValueError):
        return SAO_PAULO
    return zones[0] if zones else SAO_PAULO


def _ddd(phone: str | None) -> int | None:
    if phone and phone.startswith("+55") and len(phone) >= 5 and phone[3:5].isdigit():
        return int(phone[3:5])
    return None


def _templates(
    session: Session, tenant_id: uuid.UUID, waba_id: str | None
) -> dict[tuple[str, str], TemplateInfo]:
    try:
        from quita.whatsapp.models import WhatsAppTemplate
    except ImportError:
        return {}
    query = select(
        WhatsAppTemplate.name,
        WhatsAppTemplate.language,
        WhatsAppTemplate.category,
        WhatsAppTemplate.status,
        WhatsAppTemplate.usable,
    ).where(WhatsAppTemplate.tenant_id == tenant_id)
    if waba_id is not None:
        query = query.where(WhatsAppTemplate.waba_id == waba_id)
    found: dict[tuple[str, str], TemplateInfo] = {}
    for r in session.execute(query):
        category = r.category if r.category in TemplateCategory._value2member_map_ else "MARKETING"
        status = r.status if r.status in TemplateStatus._value2member_map_ else "PENDING"
        if not r.usable and status == "APPROVED":
            status = "PAUSED"  # approved but flagged (reclassified, needs review): the gate must refuse it
        found[(r.name, r.language)] = TemplateInfo(r.name, TemplateCategory(category), TemplateStatus(status))
    return found


def tenant_context(session: Session, tenant_id: uuid.UUID, now: dt.datetime) -> TenantContext:
    channel_id: uuid.UUID | None = None
    tier_limit: int | None = None
    waba_id: str | None = None
    try:
        from quita.whatsapp.models import WhatsAppChannel

        channel = session.execute(
            select(WhatsAppChannel.id, WhatsAppChannel.waba_id, WhatsAppChannel.messaging_tier_limit)
            .where(WhatsAppChannel.tenant_id == tenant_id, WhatsAppChannel.paused_at.is_(None))
            .order_by(WhatsAppChannel.created_at)
        ).first()
        if channel is not None:
            channel_id, waba_id, tier_limit = channel.id, channel.waba_id, channel.messaging_tier_limit
    except ImportError:
        pass
    counted = set(
        session.scalars(
            select(OutboxMessage.recipient)
            .distinct()
            .where(
                OutboxMessage.tenant_id == tenant_id,
                OutboxMessage.created_at >= now - dt.timedelta(hours=24),
                OutboxMessage.status.in_(
                    (
                        OutboxStatus.PENDING,
                        OutboxStatus.CLAIMED,
                        OutboxStatus.SENDING,
                        OutboxStatus.SENT,
                        OutboxStatus.UNKNOWN,
                    )
                ),
            )
        )
    )
    return TenantContext(
        tenant_id=tenant_id,
        cadences=cadences.active_cadences(session, tenant_id),
        rules=load_ruleset(None),
        creditors=creditors_of(session, tenant_id),
        channel_id=channel_id,
        tier_limit=tier_limit,
        templates=_templates(session, tenant_id, waba_id),
        counted_recipients=counted,
    )


def _blocked(rule_id: str, message: str) -> dict[str, str]:
    return {"rule_id": rule_id, "legal_basis": "régua do credor", "message_pt": message}


PAUSE_TAG = "pausa:"
"""Tag the bot puts on a debt whose collection it paused (``bot.service`` ``PauseDebt``); the bot's timers
or a person remove it."""
_PAUSE_MESSAGES_PT = {
    "already_paid": "Devedor informou que já pagou: régua pausada até a conferência do comprovante.",
    "dispute": "Dívida contestada pelo devedor: régua pausada até análise.",
    "hardship": "Devedor relatou dificuldade financeira: régua pausada, atendimento humano.",
    "over_indebted": "Devedor relatou superendividamento (CDC art. 54-A): régua pausada, atendimento humano.",
    "complaint": "Reclamação ou menção a Procon/advogado/processo: régua pausada, atendimento humano.",
    "deceased": "Informado falecimento do devedor: régua pausada até verificação.",
}


def _paused(reason: str) -> dict[str, str]:
    return {
        "rule_id": "BOT-PAUSE",
        "legal_basis": "CDC art. 42 (sem constrangimento); boa prática",
        "message_pt": _PAUSE_MESSAGES_PT.get(
            reason, f"Cobrança pausada na conversa com o devedor ({reason})."
        ),
    }


class BatchPlanner:
    """Decides one batch; pure apart from the facts handed in."""

    def __init__(self, ctx: TenantContext, facts: BatchFacts, now: dt.datetime) -> None:
        self.ctx, self.facts, self.now = ctx, facts, now
        self.decided: list[tuple[uuid.UUID, str]] = []  # (debt, step) skipped as already decided

    def decide(self, row: Any) -> PlanItem | None:
        ctx, facts = self.ctx, self.facts
        debtor = facts.debtors.get(row.debtor_id)
        contact = facts.contacts.get(row.debtor_id)
        creditor = ctx.creditors.get(row.creditor_id)
        if debtor is None or creditor is None:
            return None
        tz = local_tz(debtor, contact.value if contact else None)
        today = self.now.astimezone(tz).date()
        view = DebtView(
            row.status, row.principal, row.due_date, frozenset(row.tags or ()), debtor.uf, creditor.cnpj
        )
        cadence = first_match(ctx.cadences, view, today)
        if cadence is None:
            return None
        step = active_step(cadence, row.due_date, today)
        if step is None:
            return None
        confirmed = contact is not None and (row.debtor_id, contact.id) in facts.confirmed
        if confirmed:
            spec, kind, key = step.message_for(cadence.early_payment_discount_pct), step.kind.value, step.key
            discloses = step.discloses_amount or shows_debt(spec.params)
        else:
            spec, kind, key = (
                cadence.identity_check.message,
                ContactKind.IDENTITY_CHECK.value,
                f"{step.key}/identity",
            )
            discloses = False
        if (row.id, key) in facts.existing_steps:
            self.decided.append((row.id, key))
            return None
        previous = facts.decisions_today.get((row.id, key))
        if previous is not None and (
            previous[0] == "blocked" or (previous[1] is not None and previous[1] > self.now)
        ):
            self.decided.append((row.id, key))
            return None
        item = _Item(row, debtor, contact, cadence, step, spec, kind, key, today)
        stops = stop_reasons(
            cadence,
            view,
            PersonView(
                debtor.deceased,
                debtor.in_dispute,
                bool(contact and contact.opted_out),
                bool(contact and contact.status == pm.ContactStatus.WRONG_NUMBER),
            ),
        )
        if stops:
            return item.done(
                ctx, "blocked", None, [_blocked("CADENCE-STOP", STOP_MESSAGES_PT[s]) for s in stops]
            )
        paused = [t.removeprefix(PAUSE_TAG) for t in (row.tags or ()) if t.startswith(PAUSE_TAG)]
        if paused:
            return item.done(ctx, "blocked", None, [_paused(reason) for reason in paused])
        if contact is None:
            return item.done(
                ctx, "blocked", None, [_blocked("CADENCE-CONTACT", "Devedor sem telefone cadastrado.")]
            )
        if not confirmed and facts.identity_sent[row.id] >= cadence.identity_check.max_attempts:
            return item.done(
                ctx,
                "blocked",
                None,
                [
                    {
                        "rule_id": "ID-02",
                        "legal_basis": "boa prática (LGPD art. 6 III)",
                        "message_pt": f"Identidade não confirmada após {cadence.identity_check.max_attempts} tentativas.",
                    }
                ],
            )
        if ctx.channel_id is None:
            return item.done(
                ctx, "blocked", None, [_blocked("CADENCE-CHANNEL", "Tenant sem número WhatsApp ativo.")]
            )
        template = ctx.templates.get((spec.template, spec.language))
        if template is None:
            return item.done(
                ctx,
                "blocked",
                None,
                [
                    _blocked(
                        "CADENCE-TEMPLATE",
                        f"Modelo {spec.template} ({spec.language}) não cadastrado neste número.",
                    )
                ],
            )
        decision = self.gate(row, debtor, contact, creditor, template, spec, kind, discloses, confirmed)
        if decision.outcome == Outcome.ALLOWED:
            facts.attempts[row.debtor_id].append(self.now)
            ctx.counted_recipients.add(contact.value)
        return item.done(
            ctx,
            decision.outcome.value,
            decision.earliest_at,
            [r.to_dict() for r in decision.reasons],
            decision,
        )

    def gate(
        self,
        row: Any,
        debtor: DebtorRow,
        contact: ContactRow,
        creditor: CreditorRow,
        template: TemplateInfo,
        spec: MessageSpec,
        kind: str,
        discloses: bool,
        confirmed: bool,
    ) -> Decision:
        ctx = self.ctx
        try:
            ibge = int(debtor.ibge_code) if debtor.ibge_code else None
        except ValueError:
            ibge = None
        attempts = tuple(Attempt(at=a) for a in self.facts.attempts.get(row.debtor_id, ()))
        last_inbound = self.facts.last_inbound.get(contact.id)
        if last_inbound is not None:
            attempts = tuple(Attempt(at=a.at, answered=a.at <= last_inbound) for a in attempts)
        scenario = Scenario(
            contact=ProposedContact(
                now=self.now,
                channel=Channel.WHATSAPP,
                kind=ContactKind(kind),
                discloses_amount=discloses,
                template=template,
            ),
            debtor=DebtorFacts(
                uf=debtor.uf,
                ibge_code=ibge,
                ddd=_ddd(contact.value),
                deceased=debtor.deceased,
                vulnerable=debtor.vulnerable,
                in_dispute=debtor.in_dispute or row.status == "disputed",
                identity_confirmed=confirmed,
                opted_out_channels=frozenset({Channel.WHATSAPP}) if contact.opted_out else frozenset(),
            ),
            contact_facts=ContactFacts(
                provenance=Provenance(contact.provenance.value),
                status=_CONTACT_STATUS[contact.status],
                last_inbound_at=last_inbound,
                whatsapp_opt_in=contact.opt_in,
                marketing_opted_out=contact.marketing_opted_out,
            ),
            debt=DebtFacts(
                due_date=row.due_date,
                status=_STATUS.get(row.status, DebtStatus.OPEN),
                creditor_kind=CreditorKind.BANK if creditor.is_bank else CreditorKind.OTHER,
                creditor_identification_present=names_creditor(spec.params),
            ),
            history=History(attempts),
            account=AccountFacts(
                tier_limit=ctx.tier_limit,
                unique_recipients_24h=len(ctx.counted_recipients),
                recipient_already_counted=contact.value in ctx.counted_recipients,
            ),
        )
        return evaluate(scenario, ctx.rules)


@dataclass
class _Item:
    row: Any
    debtor: DebtorRow
    contact: ContactRow | None
    cadence: Cadence
    step: Step
    spec: MessageSpec
    kind: str
    key: str
    today: dt.date

    def done(
        self,
        ctx: TenantContext,
        outcome: str,
        earliest: dt.datetime | None,
        reasons: list[dict[str, str]],
        decision: Decision | None = None,
    ) -> PlanItem:
        params: tuple[str, ...] = ()
        if outcome == "allowed":
            creditor = ctx.creditors[self.row.creditor_id]
            params = tuple(
                render_params(
                    self.spec.params,
                    ParamContext(
                        debtor_name=self.debtor.name,
                        creditor_legal_name=creditor.legal_name,
                        creditor_trade_name=creditor.trade_name,
                        creditor_cnpj=creditor.cnpj,
                        creditor_address=creditor.address,
                        amount=self.row.principal,
                        due_date=self.row.due_date,
                        today=self.today,
                        contract=self.row.contract,
                        installment=self.row.installment_number,
                        discount_pct=self.cadence.early_payment_discount_pct,
                    ),
                )
            )
        return PlanItem(
            debt_id=self.row.id,
            debtor_id=self.row.debtor_id,
            debtor_name=self.debtor.name,
            contact_id=self.contact.id if self.contact else None,
            recipient=self.contact.value if self.contact else None,
            cadence=self.cadence.name,
            step_key=self.key,
            kind=self.kind,
            template=self.spec.template,
            language=self.spec.language,
            params=params,
            outcome=outcome,
            earliest_at=earliest,
            reasons=tuple(reasons),
            ruleset_version=decision.ruleset_version if decision else ctx.rules.version,
            ruleset_hash=decision.ruleset_hash if decision else ctx.rules.content_hash,
            local_day=self.today,
        )


def _debt_batches(
    database: Database,
    tenant_id: uuid.UUID,
    cadence_list: list[Cadence],
    today: dt.date,
    batch_size: int,
) -> Iterator[list[Any]]:
    """The candidate debts in batches, from one streamed query (a server-side cursor on PostgreSQL).

    A keyset loop (``ORDER BY id LIMIT n``) re-reads and re-sorts every candidate for each batch; one
    stream reads them once. The reading connection only reads, so batch writes on other connections
    proceed (PostgreSQL MVCC, SQLite WAL)."""
    statuses = sorted({s for c in cadence_list for s in c.match.statuses})
    lo = min(c.offset_range[0] for c in cadence_list) - 1  # ±1 day: a debtor's local day may differ from SP's
    hi = max(c.offset_range[1] for c in cadence_list) + 1
    due_dates = sorted(
        {
            today - dt.timedelta(days=n + shift)
            for c in cadence_list
            for n in c.active_days()
            for shift in (-1, 0, 1)
        }
    )
    d = pm.Debt
    query = select(
        d.id,
        d.debtor_id,
        d.creditor_id,
        d.principal,
        d.due_date,
        d.status,
        d.tags,
        d.contract,
        d.installment_number,
    ).where(
        d.tenant_id == tenant_id,
        d.status.in_(statuses),
        d.due_date >= today - dt.timedelta(days=hi),
        d.due_date <= today - dt.timedelta(days=lo),
        member_of(d.due_date, due_dates, database.engine.dialect.name),
    )
    with database.engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=batch_size).execute(query)
        for part in result.partitions():
            yield list(part)


def _write(
    session: Session, tenant_id: uuid.UUID, items: list[PlanItem], ctx: TenantContext, now: dt.datetime
) -> None:
    allowed = [i for i in items if i.outcome == "allowed"]
    held = [i for i in items if i.outcome != "allowed"]
    if allowed:
        values = [
            {
                "id": uuid.uuid4(),
                "created_at": now,
                "updated_at": now,
                "tenant_id": tenant_id,
                "debt_id": i.debt_id,
                "debtor_id": i.debtor_id,
                "contact_id": i.contact_id,
                "channel_id": ctx.channel_id,
                "recipient": i.recipient,
                "cadence": i.cadence,
                "step_key": i.step_key,
                "local_day": i.local_day,
                "kind": i.kind,
                "template_name": i.template,
                "template_language": i.language,
                "template_params": list(i.params),
                "status": OutboxStatus.PENDING,
                "not_before": now,
                "attempts": 0,
                "expires_at": now + dt.timedelta(hours=12),
                "ruleset_version": i.ruleset_version,
                "ruleset_hash": i.ruleset_hash,
            }
            for i in allowed
        ]
        session.execute(
            _insert_ignore(session, OutboxMessage, ("tenant_id", "debt_id", "step_key", "local_day")), values
        )
    if held:
        keys = [(i.debt_id, i.step_key, i.local_day) for i in held]
        for start in range(0, len(keys), 300):
            part = keys[start : start + 300]
            session.execute(
                delete(PlanDecision).where(
                    PlanDecision.tenant_id == tenant_id,
                    or_(
                        *[
                            and_(
                                PlanDecision.debt_id == a,
                                PlanDecision.step_key == b,
                                PlanDecision.local_day == c,
                            )
                            for a, b, c in part
                        ]
                    )
                    if session.get_bind().dialect.name == "sqlite"
                    else tuple_(PlanDecision.debt_id, PlanDecision.step_key, PlanDecision.local_day).in_(
                        part
                    ),
                )
            )
        session.execute(
            insert(PlanDecision),
            [
                {
                    "id": uuid.uuid4(),
                    "created_at": now,
                    "tenant_id": tenant_id,
                    "debt_id": i.debt_id,
                    "debtor_id": i.debtor_id,
                    "contact_id": i.contact_id,
                    "cadence": i.cadence,
                    "step_key": i.step_key,
                    "local_day": i.local_day,
                    "outcome": i.outcome,
                    "earliest_at": i.earliest_at,
                    "reasons": list(i.reasons),
                    "ruleset_version": i.ruleset_version,
                    "ruleset_hash": i.ruleset_hash,
                    "decided_at": now,
                }
                for i in held
            ],
        )


def _insert_ignore(session: Session, model: Any, keys: tuple[str, ...]) -> Any:
    return insert_ignoring_duplicates(session, model.__table__, keys)


def plan_tenant(
    database: Database,
    tenant_id: uuid.UUID,
    now: dt.datetime,
    *,
    write: bool = True,
    batch_size: int = DEFAULT_BATCH,
    on_item: Callable[[PlanItem], None] | None = None,
    on_decided: Callable[[list[tuple[uuid.UUID, str]]], None] | None = None,
) -> PlanStats:
    """Plans one tenant at ``now``; with ``write=False`` (preview) nothing is stored. ``on_decided``
    receives, per batch, the (debt, step) pairs skipped because they were already decided (in the
    outbox, blocked today, or deferred to later): the preview shows their stored decisions."""
    started = time.perf_counter()
    stats = PlanStats()
    with database.transaction() as session:
        ctx = tenant_context(session, tenant_id, now)
    today = now.astimezone(SAO_PAULO).date()
    for rows in _debt_batches(database, tenant_id, ctx.cadences, today, batch_size):
        stats.batches += 1
        stats.scanned += len(rows)
        with database.transaction() as session:
            facts = load_batch_facts(
                session, tenant_id, [r.id for r in rows], [r.debtor_id for r in rows], now=now, today=today
            )
            planner = BatchPlanner(ctx, facts, now)
            items: list[PlanItem] = []
            for row in rows:
                item = planner.decide(row)
                if item is None:
                    stats.skipped += 1
                    continue
                items.append(item)
                if on_item is not None:
                    on_item(item)
            if on_decided is not None and planner.decided:
                on_decided(planner.decided)
            stats.candidates += len(items)
            stats.allowed += sum(1 for i in items if i.outcome == "allowed")
            stats.deferred += sum(1 for i in items if i.outcome == "deferred")
            stats.blocked += sum(1 for i in items if i.outcome == "blocked")
            if write:
                _write(session, tenant_id, items, ctx, now)
            else:
                session.rollback()
    stats.seconds = time.perf_counter() - started
    return stats


def tenant_ids(database: Database) -> list[uuid.UUID]:
    from quita.tenant.models import Tenant

    with database.transaction() as session:
        return list(session.scalars(select(Tenant.id).order_by(Tenant.created_at)))


def count_open(session: Session, tenant_id: uuid.UUID) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(pm.Debt)
            .where(pm.Debt.tenant_id == tenant_id, pm.Debt.status == pm.DebtStatus.OPEN)
        )
        or 0
    )
