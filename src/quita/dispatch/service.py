"""Outbox state changes. Each function is one step of a message's life and runs in the caller's transaction.

pending ─claim→ claimed ─mark_sending→ sending ─HTTP→ sent | failed | pending (retry)
                  │ lease lapses → pending             │ crash → reconcile: sent | failed | unknown (+alert)
pending/claimed ─debt paid, agreement, opt-out→ cancelled

``mark_sending`` is the last gate before HTTP: it only moves rows that are still ``claimed`` and whose debt
is still collectable, in one conditional UPDATE, so a payment that lands a millisecond earlier wins.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.orm import Session

from quita.dispatch.models import UNSENT, AlertKind, DispatchAlert, OutboxMessage, OutboxStatus
from quita.kit.db import utcnow
from quita.portfolio.models import ContactPoint, ContactStatus, Debt, DebtStatus

log = logging.getLogger("quita.dispatch")
STOPPED_DEBT = (
    DebtStatus.PAID,
    DebtStatus.IN_AGREEMENT,
    DebtStatus.WRITTEN_OFF,
    DebtStatus.PRESCRIBED,
    DebtStatus.DISPUTED,
)


@dataclass(frozen=True, slots=True)
class Claimed:
    id: uuid.UUID
    tenant_id: uuid.UUID
    channel_id: uuid.UUID | None
    debt_id: uuid.UUID | None
    debtor_id: uuid.UUID
    contact_id: uuid.UUID | None
    recipient: str
    kind: str
    template_name: str
    template_language: str
    template_params: tuple[str, ...]
    attempts: int


@dataclass(frozen=True, slots=True)
class ChannelInfo:
    id: uuid.UUID
    tenant_id: uuid.UUID
    phone_number_id: str
    waba_id: str
    throughput_mps: int
    tier_limit: int | None
    paused: bool


def channels(session: Session) -> dict[uuid.UUID, ChannelInfo]:
    from quita.whatsapp.models import WhatsAppChannel as C

    return {
        r.id: ChannelInfo(
            r.id,
            r.tenant_id,
            r.phone_number_id,
            r.waba_id,
            r.throughput_mps,
            r.messaging_tier_limit,
            r.paused_at is not None,
        )
        for r in session.execute(
            select(
                C.id,
                C.tenant_id,
                C.phone_number_id,
                C.waba_id,
                C.throughput_mps,
                C.messaging_tier_limit,
                C.paused_at,
            )
        )
    }


def _claim_columns() -> tuple[Any, ...]:
    """What a worker needs to send a row (the ``Claimed`` fields), read by claims and by reconciliation."""
    m = OutboxMessage
    return (
        m.id,
        m.tenant_id,
        m.channel_id,
        m.debt_id,
        m.debtor_id,
        m.contact_id,
        m.recipient,
        m.kind,
        m.template_name,
        m.template_language,
        m.template_params,
        m.attempts,
    )


def claim(
    session: Session,
    *,
    worker_id: str,
    now: dt.datetime,
    limit: int,
    paused: Sequence[uuid.UUID],
    admit: Callable[[Claimed], float] | None = None,
    admit_all: Callable[[list[Claimed]], list[float]] | None = None,
    lanes: Sequence[uuid.UUID] = (),
) -> list[Claimed]:
    """Takes up to ``limit`` due rows. ``admit(row)`` returns 0 to keep it or the seconds it must wait
    (recipient pair limit, account tier): such rows go back to pending with a later ``not_before``.
    ``admit_all(rows)`` does the same for every row at once (one limiter round trip per claim).

    ``lanes`` (the sending numbers, when there are two or more) makes the claim fair between them: nine
    tenths of ``limit`` are shared equally, each number's oldest due rows taken through the
    ``(status, channel_id, not_before)`` index, and the rest is filled in ``not_before`` order from
    every row not taken yet (a number with fewer due rows leaves its share to the others; rows of no
    known number still move). Without it a claim followed ``not_before`` alone, and a planner run
    that queued one number's rows before the next one's had the numbers sent one after the other, each
    at its own throughput, instead of all at once."""
    m = OutboxMessage
    postgres = session.get_bind().dialect.name == "postgresql"
    due = (m.status == OutboxStatus.PENDING, m.not_before <= now)
    found: list[Any] = []
    if len(lanes) > 1:
        share = max(1, limit * 9 // 10 // len(lanes))
        for lane in lanes:
            lane_query = (
                select(*_claim_columns())
                .where(*due, m.channel_id == lane)
                .order_by(m.not_before)
                .limit(share)
            )
            if postgres:
                lane_query = lane_query.with_for_update(skip_locked=True)
            found.extend(session.execute(lane_query))
    query = select(*_claim_columns()).where(*due).order_by(m.not_before).limit(limit - len(found))
    if found:
        query = query.where(m.id.not_in([r.id for r in found]))
    if paused:
        query = query.where(or_(m.channel_id.is_(None), m.channel_id.not_in(list(paused))))
    if postgres:
        query = query.with_for_update(skip_locked=True)
    if len(found) < limit:
        found.extend(session.execute(query))
    rows = [
        Claimed(
            r.id,
            r.tenant_id,
            r.channel_id,
            r.debt_id,
            r.debtor_id,
            r.contact_id,
            r.recipient,
            r.kind,
            r.template_name,
            r.template_language,
            tuple(r.template_params or ()),
            r.attempts,
        )
        for r in found
    ]
    taken: list[Claimed] = []
    later: list[dict[str, Any]] = []
    if admit_all is not None:
        waits = admit_all(rows) if rows else []
    else:
        waits = [admit(row) if admit is not None else 0.0 for row in rows]
    for row, wait in zip(rows, waits, strict=True):
        if wait > 0:
            later.append({"b_id": row.id, "b_nb": now + dt.timedelta(seconds=wait)})
        else:
            taken.append(row)
    if later:
        t: Any = m.__table__
        session.execute(
            update(t).where(t.c.id == _b("b_id")).values(not_before=_b("b_nb"), updated_at=now), later
        )
    for part in _parts([r.id for r in taken]):
        session.execute(
            update(m)
            .where(m.id.in_(part))
            .values(status=OutboxStatus.CLAIMED, claimed_by=worker_id, claimed_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    return taken


def _b(name: str) -> Any:
    from sqlalchemy import bindparam

    return bindparam(name)


def _parts(ids: Sequence[uuid.UUID], size: int = 900) -> list[Sequence[uuid.UUID]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def mark_sending(
    session: Session, ids: Sequence[uuid.UUID], now: dt.datetime, claim_token: str
) -> set[uuid.UUID]:
    """The last re-check before HTTP; returns the ids that may be sent. Claimed rows whose debt stopped
    meanwhile are cancelled here."""
    m = OutboxMessage
    stopped = exists().where(Debt.id == m.debt_id, Debt.status.in_(STOPPED_DEBT))
    go: set[uuid.UUID] = set()
    for part in _parts(list(ids)):
        result = session.execute(
            update(m)
            .where(
                m.id.in_(part),
                m.status == OutboxStatus.CLAIMED,
                m.claimed_by == claim_token,
                or_(m.debt_id.is_(None), ~stopped),
            )
            .values(status=OutboxStatus.SENDING, sending_at=now, attempts=m.attempts + 1, updated_at=now)
            .returning(m.id)
            .execution_options(synchronize_session=False)
        )
        go.update(result.scalars())
        leftover = [i for i in part if i not in go]
        if leftover:
            session.execute(
                update(m)
                .where(m.id.in_(leftover), m.status == OutboxStatus.CLAIMED, m.claimed_by == claim_token)
                .values(
                    status=OutboxStatus.CANCELLED,
                    failed_reason="título deixou de ser cobrável antes do envio",
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
    return go


def release_lapsed_claims(session: Session, now: dt.datetime, lease: dt.timedelta) -> int:
    """Rows claimed by a worker that died before marking them ``sending`` never left us: back to pending."""
    m = OutboxMessage
    result: Any = session.execute(
        update(m)
        .where(m.status == OutboxStatus.CLAIMED, m.claimed_at < now - lease)
        .values(status=OutboxStatus.PENDING, claimed_by=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def expire_stale(session: Session, now: dt.datetime) -> int:
    """A planned message not sent in time is dropped (the planner re-plans the step on a later day):
    sending it hours late could land outside the debtor's contact window."""
    m = OutboxMessage
    result: Any = session.execute(
        update(m)
        .where(m.status == OutboxStatus.PENDING, m.expires_at.is_not(None), m.expires_at < now)
        .values(status=OutboxStatus.CANCELLED, failed_reason="expired", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class Outcome:
    row: Claimed
    status: str  # sent | retry | failed | stop | in_doubt
    wamid: str | None = None
    wa_id: str | None = None
    delay: float = 0.0
    code: int | None = None
    reason: str | None = None
    mark_no_whatsapp: bool = False
    body: dict[str, Any] | None = None


def record(
    session: Session, outcomes: Sequence[Outcome], now: dt.datetime, *, conversation: bool = True
) -> None:
    """Stores a batch of send outcomes in one transaction."""
    m = OutboxMessage
    sent = [o for o in outcomes if o.status == "sent"]
    if sent:
        _mark_sent(session, sent, now)
        if conversation:
            _record_conversations(session, sent)
    for o in outcomes:
        if o.status == "retry":
            session.execute(
                update(m)
                .where(m.id == o.row.id, m.status == OutboxStatus.SENDING)
                .values(
                    status=OutboxStatus.PENDING,
                    not_before=now + dt.timedelta(seconds=o.delay),
                    last_error_code=o.code,
                    last_error=(o.reason or "")[:500],
                    claimed_by=None,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
        elif o.status == "stop":
            # Meta refused it (nothing was sent): it waits for the number to be resumed by a human.
            session.execute(
                update(m)
                .where(m.id == o.row.id, m.status == OutboxStatus.SENDING)
                .values(
                    status=OutboxStatus.PENDING,
                    last_error_code=o.code,
                    last_error=(o.reason or "")[:500],
                    claimed_by=None,
                    attempts=m.attempts - 1,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if o.row.channel_id is not None:
                pause_channel(session, o.row.tenant_id, o.row.channel_id, o.code, o.reason or "", now)
        elif o.status == "failed":
            fail(session, o.row, o.code, o.reason or "falha", now, no_whatsapp=o.mark_no_whatsapp)
        elif o.status == "in_doubt":
            session.execute(
                update(m)
                .where(m.id == o.row.id, m.status == OutboxStatus.SENDING)
                .values(last_error_code=o.code, last_error=(o.reason or "")[:500], updated_at=now)
                .execution_options(synchronize_session=False)
            )


def _mark_sent(session: Session, sent: Sequence[Outcome], now: dt.datetime) -> None:
    """``sending``/``unknown`` → ``sent`` with the wamid, one driver-level ``executemany`` for the batch:
    the values go through the columns' own bind processors, without SQLAlchemy building a parameter dict
    per row (the larger part of this statement's cost at hundreds of rows)."""
    connection = session.connection()
    dialect = connection.dialect
    t: Any = OutboxMessage.__table__
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    row_id = t.c.id.type._cached_bind_processor(dialect) or (lambda v: v)
    at = t.c.sent_at.type._cached_bind_processor(dialect)(now)
    status = t.c.status.type._cached_bind_processor(dialect)
    sent_status, sending, unknown = (
        status(s) if status else s.value
        for s in (OutboxStatus.SENT, OutboxStatus.SENDING, OutboxStatus.UNKNOWN)
    )
    connection.exec_driver_sql(
        f"UPDATE {t.name} SET status = {mark}, wamid = {mark}, wa_id = {mark}, sent_at = {mark}, "
        f"updated_at = {mark} WHERE id = {mark} AND status IN ({mark}, {mark})",
        [
            (sent_status, o.wamid, (o.wa_id or "")[:20] or None, at, at, row_id(o.row.id), sending, unknown)
            for o in sent
        ],
    )


def fail(
    session: Session,
    row: Claimed,
    code: int | None,
    reason: str,
    now: dt.datetime,
    *,
    no_whatsapp: bool = False,
) -> None:
    m = OutboxMessage
    session.execute(
        update(m)
        .where(m.id == row.id, m.status.in_((OutboxStatus.SENDING, OutboxStatus.CLAIMED)))
        .values(status=OutboxStatus.FAILED, last_error_code=code, failed_reason=reason[:300], updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if no_whatsapp and row.contact_id is not None:
        session.execute(
            update(ContactPoint)
            .where(
                ContactPoint.tenant_id == row.tenant_id,
                ContactPoint.id == row.contact_id,
                ContactPoint.status == ContactStatus.VALID,
            )
            .values(status=ContactStatus.NO_WHATSAPP, updated_at=now)
            .execution_options(synchronize_session=False)
        )


def _record_conversations(session: Session, sent: Sequence[Outcome]) -> None:
    """The conversation record of a batch of accepted sends, written set-based (see
    :func:`quita.whatsapp.service.record_outbound_batch`)."""
    from quita.whatsapp import service as wa

    wa.record_outbound_batch(
        session,
        [
            wa.OutboundRecord(
                tenant_id=o.row.tenant_id,
                channel_id=o.row.channel_id,
                contact_id=o.row.contact_id,
                debtor_id=o.row.debtor_id,
                message_id=o.row.id,
                wamid=o.wamid,
                kind="template",
                body=o.body or {},
                actor="cadence",
                template_name=o.row.template_name,
                template_params=list(o.row.template_params),
                wa_id=o.wa_id,
            )
            for o in sent
            if o.row.channel_id is not None
        ],
    )


def _record_conversation(
    session: Session, row: Claimed, wamid: str | None, wa_id: str | None, body: dict[str, Any] | None
) -> None:
    from quita.whatsapp import service as wa

    if row.channel_id is None:
        return
    wa.record_outbound(
        session,
        tenant_id=row.tenant_id,
        channel_id=row.channel_id,
        contact_id=row.contact_id,
        debtor_id=row.debtor_id,
        message_id=row.id,
        wamid=wamid,
        kind="template",
        body=body or {},
        actor="cadence",
        template_name=row.template_name,
        template_params=list(row.template_params),
        wa_id=wa_id,
    )


def pause_channel(
    session: Session,
    tenant_id: uuid.UUID,
    channel_id: uuid.UUID,
    code: int | None,
    reason: str,
    now: dt.datetime,
) -> None:
    from quita.whatsapp.models import WhatsAppChannel

    result: Any = session.execute(
        update(WhatsAppChannel)
        .where(
            WhatsAppChannel.tenant_id == tenant_id,
            WhatsAppChannel.id == channel_id,
            WhatsAppChannel.paused_at.is_(None),
        )
        .values(paused_at=now, pause_reason=f"{code}: {reason}"[:300])
        .execution_options(synchronize_session=False)
    )
    if result.rowcount:
        raise_alert(
            session,
            tenant_id,
            AlertKind.CHANNEL_PAUSED,
            f"Número pausado pelo erro {code}: {reason}",
            channel_id=channel_id,
            code=code,
        )


def raise_alert(
    session: Session,
    tenant_id: uuid.UUID,
    kind: AlertKind,
    message: str,
    *,
    channel_id: uuid.UUID | None = None,
    outbox_id: uuid.UUID | None = None,
    code: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    log.warning(
        "ALERT %s tenant=%s channel=%s outbox=%s: %s", kind.value, tenant_id, channel_id, outbox_id, message
    )
    session.add(
        DispatchAlert(
            tenant_id=tenant_id,
            kind=kind,
            channel_id=channel_id,
            outbox_id=outbox_id,
            code=code,
            message=message[:1000],
            detail=detail,
        )
    )
    session.flush()


# --------------------------------------------------------------------------- in-doubt sends


def reconcile(
    session: Session,
    now: dt.datetime,
    *,
    doubt_after: dt.timedelta,
    give_up_after: dt.timedelta,
    limit: int = 500,
    conversation: bool = True,
) -> tuple[int, int]:
    """Rows stuck in ``sending`` (a worker died mid-send, or the answer was lost): a status webhook carrying
    our id proves the send; without proof after ``give_up_after`` the row becomes ``unknown`` with an alert.
    Never resent. Returns (confirmed, unknown)."""
    from quita.whatsapp import service as wa

    m = OutboxMessage
    query = (
        select(*_claim_columns(), m.sending_at)
        .where(m.status == OutboxStatus.SENDING, m.sending_at < now - doubt_after)
        .order_by(m.sending_at)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = session.execute(query).all()
    confirmed = unknown = 0
    for r in rows:
        row = Claimed(
            r.id,
            r.tenant_id,
            r.channel_id,
            r.debt_id,
            r.debtor_id,
            r.contact_id,
            r.recipient,
            r.kind,
            r.template_name,
            r.template_language,
            tuple(r.template_params or ()),
            r.attempts,
        )
        events = wa.status_events_for(session, r.tenant_id, str(r.id))
        if events:
            wamid = events[0].wamid
            done: Any = session.execute(
                update(m)
                .where(m.id == r.id, m.status == OutboxStatus.SENDING)
                .values(
                    status=OutboxStatus.SENT,
                    wamid=wamid,
                    sent_at=events[0].occurred_at or now,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if done.rowcount and conversation:
                _record_conversation(session, row, wamid, events[0].recipient_id, {"reconciled": True})
            confirmed += 1
        elif r.sending_at < now - give_up_after:
            marked: Any = session.execute(
                update(m)
                .where(m.id == r.id, m.status == OutboxStatus.SENDING)
                .values(
                    status=OutboxStatus.UNKNOWN,
                    failed_reason="envio incerto: nenhuma confirmação recebida",
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if not marked.rowcount:
                continue
            raise_alert(
                session,
                r.tenant_id,
                AlertKind.MESSAGE_UNKNOWN,
                f"Mensagem {r.id} para {r.recipient}: envio incerto e não confirmado; não será reenviada "
                "automaticamente.",
                channel_id=r.channel_id,
                outbox_id=r.id,
            )
            unknown += 1
    return confirmed, unknown


# --------------------------------------------------------------------------- cancellation


def cancel_unsent(
    session: Session,
    tenant_id: uuid.UUID,
    *,
    reason: str,
    debt_id: uuid.UUID | None = None,
    debtor_id: uuid.UUID | None = None,
    contact_id: uuid.UUID | None = None,
) -> int:
    m = OutboxMessage
    conditions = [m.tenant_id == tenant_id, m.status.in_(UNSENT)]
    if debt_id is not None:
        conditions.append(m.debt_id == debt_id)
    if debtor_id is not None:
        conditions.append(m.debtor_id == debtor_id)
    if contact_id is not None:
        conditions.append(m.contact_id == contact_id)
    if len(conditions) == 2:
        raise ValueError("cancel_unsent needs a debt, a debtor or a contact")
    result: Any = session.execute(
        update(m)
        .where(and_(*conditions))
        .values(status=OutboxStatus.CANCELLED, failed_reason=reason[:300], updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def counts(session: Session, tenant_id: uuid.UUID | None = None) -> dict[str, int]:
    m = OutboxMessage
    query = select(m.status, func.count()).group_by(m.status)
    if tenant_id is not None:
        query = query.where(m.tenant_id == tenant_id)
    return {str(s.value if hasattr(s, "value") else s): int(n) for s, n in session.execute(query)}


def recent_recipients(session: Session, channel_id: uuid.UUID, now: dt.datetime) -> dict[str, float]:
    """Recipients this number contacted in the last 24 h (seeds the embedded tier limiter at start-up)."""
    m = OutboxMessage
    found: dict[str, float] = {}
    for recipient, at in session.execute(
        select(m.recipient, func.min(m.sending_at))
        .where(
            m.channel_id == channel_id,
            m.sending_at >= now - dt.timedelta(hours=24),
            m.status.in_((OutboxStatus.SENDING, OutboxStatus.SENT, OutboxStatus.UNKNOWN)),
        )
        .group_by(m.recipient)
    ):
        if at is not None:
            moment = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
            found[recipient] = moment.timestamp()
    return found
