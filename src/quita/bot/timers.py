"""The bot's periodic tick: instalment reminders and charges, broken agreements, promise reminders and
broken promises, receipt pauses that end. Decisions are pure (``bot.dialog.timers``); this module reads
the facts and carries the answers out.

Idempotent: every effect is keyed in ``bot_timer_events`` (unique per tenant) and inserted in the same
transaction as the effect, so a second run, or two processes, do nothing twice. Reminders are UTILITY
templates written to the dispatcher's outbox (the only way to reach a debtor outside the 24 h window),
after the compliance gate said yes for this debtor at this moment (contact window in the debtor's local
time, identity confirmed, frequency): a deferral is simply retried on a later tick the same day.
Agreement reminders carry no ``debt_id`` in the outbox: the dispatcher stops messages of debts in
agreement, and these are the agreement's own messages; paying the instalment cancels them instead.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session, aliased

from quita.bot import agreements
from quita.bot.dialog import timers as decide
from quita.bot.models import Agreement, AgreementInstallment, BotTimerEvent, PaymentPromise, ReceiptReview
from quita.kit.db import Database, utcnow
from quita.kit.db.bulk import insert_once
from quita.portfolio.models import Debt, DebtStatus

if TYPE_CHECKING:
    from quita.bot.service import DocumentReply

log = logging.getLogger("quita.bot.timers")
ACTOR = "bot"
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
INSTALLMENT_TEMPLATE = "quita_lembrete_parcela_acordo"
PROMISE_TEMPLATE = "quita_lembrete_promessa"
LANGUAGE = "pt_BR"
_WHEN = {
    decide.Moment.BEFORE: "vence amanhã, {titulo.vencimento}",
    decide.Moment.DUE: "vence hoje, {titulo.vencimento}",
    decide.Moment.AFTER: "venceu ontem, {titulo.vencimento}",
}


@dataclass
class TickStats:
    reminders: int = 0
    charges: int = 0
    broken: int = 0
    kept: int = 0
    promise_reminders: int = 0
    promises_broken: int = 0
    pauses_ended: int = 0
    deferred: int = 0
    blocked: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: TickStats) -> None:
        for name in self.counts():
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.extend(other.errors)

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in self.__dict__.items() if isinstance(v, int)}


def run_tick(
    database: Database,
    *,
    now: dt.datetime | None = None,
    today: dt.date | None = None,
    only_tenant: str | None = None,
) -> TickStats:
    """Every tenant (or one). ``today`` replaces each debtor's local date (demos, ``quita bot tick --today``)."""
    from quita.cadence.planner import tenant_ids

    moment = now or utcnow()
    if only_tenant is not None:
        from quita.tenant import service as tenants

        with database.transaction() as session:
            ids = [tenants.get_tenant(session, only_tenant).id]
    else:
        ids = tenant_ids(database)
    total = TickStats()
    for tenant_id in ids:
        try:
            total.add(tick_tenant(database, tenant_id, moment, today))
        except Exception as exc:  # one tenant's bad data must not stop the others' timers
            log.exception("bot tick failed for tenant %s", tenant_id)
            total.errors.append(f"{tenant_id}: {exc}")
    return total


_last_periodic: weakref.WeakKeyDictionary[Database, float] = weakref.WeakKeyDictionary()
PERIODIC_EVERY_S = 300.0


def periodic_tick(database: Database, every: float = PERIODIC_EVERY_S) -> TickStats | None:
    """What the planner loop calls every minute: the timers run at most every ``every`` seconds per
    database (day-granular decisions; a reminder deferred to 08:00 goes out by 08:05). None when skipped."""
    now = time.monotonic()
    last = _last_periodic.get(database)
    if last is not None and now - last < every:
        return None
    _last_periodic[database] = now
    return run_tick(database)


# --------------------------------------------------------------------------- facts


@dataclass
class _Gate:
    """The cadence planner's context and facts for the debts this tick may write to (read once)."""

    ctx: Any
    facts: Any
    planner: Any
    now: dt.datetime
    debts: dict[uuid.UUID, Any]

    def local_today(self, debt_id: uuid.UUID, override: dt.date | None) -> dt.date:
        if override is not None:
            return override
        from quita.cadence.planner import local_tz

        debt = self.debts[debt_id]
        contact = self.facts.contacts.get(debt.debtor_id)
        tz = local_tz(self.facts.debtors.get(debt.debtor_id), contact.value if contact else None)
        return self.now.astimezone(tz).date()


def _load_gate(
    session: Session, tenant_id: uuid.UUID, debt_ids: Sequence[uuid.UUID], now: dt.datetime
) -> _Gate:
    from quita.cadence.facts import load_batch_facts
    from quita.cadence.planner import SAO_PAULO, BatchPlanner, tenant_context

    ctx = tenant_context(session, tenant_id, now)
    rows = {
        r.id: r
        for r in session.execute(
            select(Debt.id, Debt.debtor_id, Debt.creditor_id, Debt.due_date, Debt.status, Debt.principal).where(
                Debt.tenant_id == tenant_id, Debt.id.in_(list(debt_ids))
            )
        )
    } if debt_ids else {}  # fmt: skip
    facts = load_batch_facts(
        session, tenant_id, list(rows), [r.debtor_id for r in rows.values()], now=now,
        today=now.astimezone(SAO_PAULO).date(),
    )  # fmt: skip
    return _Gate(ctx, facts, BatchPlanner(ctx, facts, now), now, rows)


# --------------------------------------------------------------------------- the tick


def tick_tenant(
    database: Database, tenant_id: uuid.UUID, now: dt.datetime, today: dt.date | None = None
) -> TickStats:
    stats = TickStats()
    with database.transaction() as session:
        day = today or now.astimezone(SAO_PAULO).date()  # candidates only; each debtor's own day decides
        active = _agreements_with_work(session, tenant_id, day)
        promises = list(
            session.scalars(
                select(PaymentPromise).where(
                    PaymentPromise.tenant_id == tenant_id,
                    PaymentPromise.status == "open",
                    PaymentPromise.due_date
                    <= day + dt.timedelta(days=2),  # reminder the day before, then broken
                )
            )
        )
        reviews = list(
            session.scalars(
                select(ReceiptReview).where(
                    ReceiptReview.tenant_id == tenant_id,
                    ReceiptReview.status == "open",
                    ReceiptReview.paused_until.is_not(None),
                    ReceiptReview.paused_until <= day + dt.timedelta(days=1),
                )
            )
        )
        agreement_ids = [a.id for a in active]
        promise_ids = [p.id for p in promises]
        review_ids = [r.id for r in reviews]
        debt_ids = {a.debt_id for a in active} | {p.debt_id for p in promises} | {r.debt_id for r in reviews}
        if not debt_ids:
            return stats
        gate = _load_gate(session, tenant_id, sorted(debt_ids), now)
    for agreement_id in agreement_ids:
        _guarded(
            stats,
            f"acordo {agreement_id}",
            lambda i=agreement_id: _agreement(database, gate, i, today, stats),
        )
    for promise_id in promise_ids:
        _guarded(
            stats, f"promessa {promise_id}", lambda i=promise_id: _promise(database, gate, i, today, stats)
        )
    for review_id in review_ids:
        _guarded(
            stats, f"comprovante {review_id}", lambda i=review_id: _review(database, gate, i, today, stats)
        )
    return stats


def _agreements_with_work(session: Session, tenant_id: uuid.UUID, today: dt.date) -> list[Agreement]:
    """Active agreements the clock may concern today, found in SQL so idle agreements cost nothing: an
    unpaid instalment due by tomorrow (reminders, breaks; a day of slack for the debtor's time zone), one
    whose predecessor is paid but which has no charge yet, no unpaid instalment at all, or a debt paid outside the agreement (kept)."""
    i, prev = aliased(AgreementInstallment), aliased(AgreementInstallment)
    unpaid = (i.agreement_id == Agreement.id) & (i.status != "paid")
    due_soon = exists().where(unpaid, i.due_date <= today + dt.timedelta(days=2))
    next_uncharged = exists().where(
        unpaid,
        i.charge_id.is_(None),
        exists().where(
            prev.agreement_id == i.agreement_id, prev.number == i.number - 1, prev.status == "paid"
        ),
    )
    nothing_left = ~exists().where(unpaid)
    paid_elsewhere = exists().where(Debt.id == Agreement.debt_id, Debt.status == DebtStatus.PAID)
    query = select(Agreement).where(
        Agreement.tenant_id == tenant_id,
        Agreement.status == "active",
        or_(due_soon, next_uncharged, nothing_left, paid_elsewhere),
    )
    return list(session.scalars(query.order_by(Agreement.id)))


def _guarded(stats: TickStats, what: str, action: Any) -> None:
    try:
        action()
    except Exception as exc:  # one broken row must not stop the others
        log.exception("bot tick: %s failed", what)
        stats.errors.append(f"{what}: {exc}")


def _claim(
    session: Session, tenant_id: uuid.UUID, key: str, kind: str, subject: uuid.UUID, day: dt.date
) -> bool:
    """Inserts the timer key; True when this run owns the effect (nobody did it before)."""
    table: Any = BotTimerEvent.__table__
    values = {
        "id": uuid.uuid4(), "tenant_id": tenant_id, "created_at": utcnow(), "key": key, "kind": kind,
        "subject_id": subject, "local_day": day,
    }  # fmt: skip
    return insert_once(session, table, values, ("tenant_id", "key"))


def _agreement(
    database: Database, gate: _Gate, agreement_id: uuid.UUID, override: dt.date | None, stats: TickStats
) -> None:
    from quita.bot.service import boleto_documents, policy_for

    send: tuple[dict[str, Any], str, list[DocumentReply]] | None = None  # target, text, the boletos' PDFs
    with database.transaction() as session:
        agreement = session.get(Agreement, agreement_id)
        if agreement is None or agreement.status != "active":
            return
        tenant_id = agreement.tenant_id
        day = gate.local_today(agreement.debt_id, override)
        debt = session.get(Debt, agreement.debt_id)
        if debt is None:
            return
        if debt.status == DebtStatus.PAID:  # paid outside the agreement (an older charge): nothing left to do
            if _claim(session, tenant_id, f"agr:{agreement.id}:kept", "agreement_kept", agreement.id, day):
                agreements.keep(session, agreement)
                stats.kept += 1
            return
        policy, _ = policy_for(session, tenant_id, debt.creditor_id)
        items = agreements.installments_of(session, agreement)
        views = tuple(
            decide.InstallmentView(i.id, i.number, i.due_date, i.status == "paid", i.charge_id is not None)
            for i in items
        )
        by_id = {i.id: i for i in items}
        count = sum(1 for i in items if i.number > 0)
        for action in decide.agreement_actions(views, day, policy.break_after_days):
            match action:
                case decide.Keep():
                    if _claim(
                        session, tenant_id, f"agr:{agreement.id}:kept", "agreement_kept", agreement.id, day
                    ):
                        agreements.keep(session, agreement)
                        stats.kept += 1
                case decide.Break(installment_id=iid):
                    if _claim(
                        session,
                        tenant_id,
                        f"agr:{agreement.id}:broken",
                        "agreement_broken",
                        agreement.id,
                        day,
                    ):
                        agreements.break_agreement(session, agreement, by_id[iid], day)
                        stats.broken += 1
                case decide.Charge(installment_id=iid):
                    item = by_id[iid]
                    if not _claim(
                        session,
                        tenant_id,
                        f"inst:{iid}:charge:{day.isoformat()}",
                        "installment_charge",
                        iid,
                        day,
                    ):
                        continue  # another run issues it (a failed issue is retried the next day)
                    charges = agreements.issue_installment(session, agreement, item, today=day)
                    if charges:
                        stats.charges += 1
                        target = agreements.conversation_target(session, agreement)
                        if target is not None and _claim(
                            session, tenant_id, f"inst:{iid}:sent", "installment_sent", iid, day
                        ):
                            line = agreements.creditor_line_of(session, agreement)
                            text = agreements.charge_text(item, count, charges, line)
                            if any(i.status == "paid" for i in items):
                                text = f"Recebemos o pagamento da parcela anterior, obrigado.\n{text}"
                            send = (target, text, boleto_documents(charges))
                case decide.Remind(installment_id=iid, moment=moment):
                    item = by_id[iid]
                    params = (
                        "{devedor.primeiro_nome}", "{credor.nome}", "{credor.cnpj}", "{credor.endereco}",
                        agreements.label(item, count).lower().replace(" do acordo", ""), "{titulo.valor}", _WHEN[moment],
                    )  # fmt: skip
                    _remind(
                        session, gate, stats, key=f"inst:{iid}:{moment.value}", kind="agreement_reminder", subject=iid,
                        debt=debt, template=INSTALLMENT_TEMPLATE, params=params, amount=item.amount, due=item.due_date,
                        day=day, step_key=f"acordo/{item.number}/{moment.value}", outbox_debt=None,
                    )  # fmt: skip
    if send is not None:
        agreements.send_text(database, *send)


def _promise(
    database: Database, gate: _Gate, promise_id: uuid.UUID, override: dt.date | None, stats: TickStats
) -> None:
    with database.transaction() as session:
        promise = session.get(PaymentPromise, promise_id)
        if promise is None or promise.status != "open":
            return
        day = gate.local_today(promise.debt_id, override)
        action = decide.promise_action(promise.due_date, day)
        if action is decide.PromiseAction.BROKEN:
            if _claim(
                session, promise.tenant_id, f"promise:{promise.id}:broken", "promise_broken", promise.id, day
            ):
                promise.status = "broken"
                from quita.bot.service import _audit

                _audit(session, promise.tenant_id, "promise.broken", promise.id,
                       {"due_date": promise.due_date.isoformat(), "debt_id": str(promise.debt_id)})  # fmt: skip
                stats.promises_broken += 1
        elif action is decide.PromiseAction.REMIND:
            debt = session.get(Debt, promise.debt_id)
            if debt is None:
                return
            before = stats.reminders
            _remind(
                session, gate, stats, key=f"promise:{promise.id}:remind", kind="reminder", subject=promise.id,
                debt=debt, template=PROMISE_TEMPLATE, params=("{devedor.primeiro_nome}", "{credor.nome}",
                "{credor.cnpj}", "{credor.endereco}", promise.due_date.strftime("%d/%m/%Y")), amount=None, due=promise.due_date, day=day,
                step_key="promessa/lembrete", outbox_debt=debt.id,
            )  # fmt: skip
            stats.promise_reminders += stats.reminders - before
            stats.reminders = before


def _review(
    database: Database, gate: _Gate, review_id: uuid.UUID, override: dt.date | None, stats: TickStats
) -> None:
    with database.transaction() as session:
        review = session.get(ReceiptReview, review_id)
        if review is None or review.status != "open":
            return
        day = gate.local_today(review.debt_id, override)
        if not decide.pause_expired(review.paused_until, day):
            return
        if _claim(
            session, review.tenant_id, f"receipt:{review.id}:expired", "receipt_pause_ended", review.id, day
        ):
            debt = session.get(Debt, review.debt_id)
            if debt is not None:
                agreements.end_pause(debt, "already_paid")
            from quita.bot.service import _audit

            _audit(session, review.tenant_id, "receipt.pause_ended", review.id,
                   {"paused_until": review.paused_until.isoformat() if review.paused_until else None})  # fmt: skip
            review.paused_until = None  # the review stays open for a person; only the pause ends
            stats.pauses_ended += 1


def _remind(
    session: Session,
    gate: _Gate,
    stats: TickStats,
    *,
    key: str,
    kind: str,
    subject: uuid.UUID,
    debt: Debt,
    template: str,
    params: tuple[str, ...],
    amount: Decimal | None,
    due: dt.date,
    day: dt.date,
    step_key: str,
    outbox_debt: uuid.UUID | None,
) -> None:
    """Asks the compliance gate, then writes one outbox row under the timer key (or records the block)."""
    from quita.cadence.domain.definition import MessageSpec
    from quita.cadence.domain.params import ParamContext, render_params, shows_debt
    from quita.compliance.domain import Outcome
    from quita.dispatch.models import OutboxMessage, OutboxStatus

    exists = session.scalar(
        select(BotTimerEvent.id).where(BotTimerEvent.tenant_id == debt.tenant_id, BotTimerEvent.key == key)
    )
    if exists is not None:
        return
    ctx, facts = gate.ctx, gate.facts
    contact = facts.contacts.get(debt.debtor_id)
    debtor = facts.debtors.get(debt.debtor_id)
    creditor = ctx.creditors.get(debt.creditor_id)
    info = ctx.templates.get((template, LANGUAGE))
    if contact is None or debtor is None or creditor is None or ctx.channel_id is None or info is None:
        stats.skipped += 1  # no phone, no number or the template is not registered yet: retried next tick
        return
    spec = MessageSpec(template, LANGUAGE, params)
    confirmed = (debt.debtor_id, contact.id) in facts.confirmed
    row = gate.debts[debt.id]
    decision = gate.planner.gate(
        row, debtor, contact, creditor, info, spec, kind, shows_debt(params), confirmed
    )
    if decision.outcome == Outcome.DEFERRED:
        stats.deferred += 1
        return
    if decision.outcome != Outcome.ALLOWED:
        _claim(session, debt.tenant_id, key, "blocked", subject, day)
        log.warning("bot reminder %s blocked: %s", key, [r.to_dict() for r in decision.reasons])
        stats.blocked += 1
        return
    if not _claim(session, debt.tenant_id, key, kind, subject, day):
        return
    rendered = render_params(params, ParamContext(
        debtor_name=debtor.name, creditor_legal_name=creditor.legal_name, creditor_trade_name=creditor.trade_name,
        creditor_cnpj=creditor.cnpj, creditor_address=creditor.address, amount=amount if amount is not None else Decimal(0),
        due_date=due, today=day,
    ))  # fmt: skip
    sent_at = utcnow()
    outbox = OutboxMessage(
        tenant_id=debt.tenant_id, debt_id=outbox_debt, debtor_id=debt.debtor_id, contact_id=contact.id,
        channel_id=ctx.channel_id, recipient=contact.value, cadence="bot", step_key=step_key[:32], local_day=day,
        kind=kind, template_name=template, template_language=LANGUAGE, template_params=rendered,
        status=OutboxStatus.PENDING, not_before=sent_at, attempts=0, expires_at=sent_at + dt.timedelta(hours=12),
        ruleset_version=decision.ruleset_version, ruleset_hash=decision.ruleset_hash,
    )  # fmt: skip
    session.add(outbox)
    session.flush()
    event = session.scalar(
        select(BotTimerEvent).where(BotTimerEvent.tenant_id == debt.tenant_id, BotTimerEvent.key == key)
    )
    if event is not None:
        event.outbox_id = outbox.id
    facts.attempts[debt.debtor_id].append(gate.now)
    ctx.counted_recipients.add(contact.value)
    stats.reminders += 1
