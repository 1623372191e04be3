"""Processing stored webhooks: normalise each raw body and apply every event it carries.

One *pump* at a time drains ``whatsapp_webhook_deliveries`` rows still ``received``, a chunk per
transaction; job submissions are only nudges, coalesced so a burst of webhooks queues one pump, not
thousands. A chunk that fails is retried one delivery per transaction so a single poisoned body
cannot hold the others back; it is marked ``failed`` with the error for a human.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import math
import queue
import re
import threading
import time
import traceback
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from quita.kit.db import Database, utcnow
from quita.kit.jobs import enqueue_after_commit, job
from quita.portfolio.models import ContactPoint
from quita.whatsapp import media, service, templates
from quita.whatsapp.domain.events import (
    ErrorEvent,
    InboundMessage,
    StatusUpdate,
    SystemEvent,
    TemplateCategoryUpdate,
    TemplateStatusUpdate,
    UnknownEvent,
    UserPreferenceUpdate,
    WebhookEvent,
    to_record,
)
from quita.whatsapp.domain.webhook import NotAWebhook, parse_webhook
from quita.whatsapp.models import Message, WebhookDelivery, WebhookNotice, WhatsAppChannel

log = logging.getLogger("quita.whatsapp.jobs")

PROCESS_WEBHOOKS = "whatsapp.process_webhooks"
CHUNK = 100
SQLITE_CHUNK = 50  # ~15 ms of work set-wise; during bursts and for people the chunks are smaller (see _drain)

_pump_lock = threading.Lock()
_last_intake = 0.0
_last_person = 0.0
BUSY_WINDOW_S, BUSY_PAUSE_S, BUSY_CHUNK = 0.2, 0.25, 10
# During a status-only burst the pauses between chunks double up to BUSY_MAX_PAUSE_S (a floor of
# BUSY_CHUNK statuses per 2 s), until the statuses being claimed have waited DEFER_LIMIT_S: from then on
# the pump works without pauses, so a sustained burst delays a status by about that much, never forever.
BUSY_MAX_PAUSE_S, DEFER_LIMIT_S = 2.0, 10.0
PERSON_WINDOW_S, PERSON_CHUNK = 2.0, 2
PERSON_ROWS_MAX = 10_000  # ids remembered for the priority claim (beyond that: plain FIFO)
_stopping = threading.Event()
_wake = threading.Event()  # cuts a burst pause short: a person's message arrived, or the server stops
_person_lock = threading.Lock()
_person_rows: dict[uuid.UUID, None] = {}  # deliveries with people's messages, oldest first


def stop_pumps() -> None:
    """Server shutdown: a pump returns after its current chunk; what is left stays ``received`` and
    is processed at the next start (:func:`resume`), so stopping never waits for a whole backlog."""
    _stopping.set()
    _wake.set()


def note_intake(*, person_waiting: bool = False, person_rows: Sequence[uuid.UUID] = ()) -> None:
    """Called by the receiver after each commit; the pump yields to it during bursts (see below), except
    while the stored bodies carry messages from people (``person_waiting``): someone waits for the bot's
    answer, and a status can wait a moment instead. ``person_rows``: the ids of those deliveries, when the
    receiver knows them (SQLite's writer does), so the pump claims them ahead of a backlog of statuses."""
    global _last_intake, _last_person
    _last_intake = time.monotonic()
    if person_rows:
        with _person_lock:
            if len(_person_rows) < PERSON_ROWS_MAX:
                _person_rows.update(dict.fromkeys(person_rows))
    if person_waiting:
        _last_person = _last_intake
        _wake.set()


def burst_pause(pauses: int) -> float:
    """The pause before the next chunk after ``pauses`` pauses in a row of one status-only burst:
    0.25, 0.5, 1, 2, 2, … s. Each chunk costs the pump ~3 ms a status on SQLite (ORM work), CPU and GIL
    time the receiver needs while Meta is waiting for its 200s."""
    return min(BUSY_MAX_PAUSE_S, BUSY_PAUSE_S * 2 ** min(pauses, 16))


def _pause(seconds: float) -> None:
    """Sleeps up to ``seconds``, less if a person's message arrives, the server stops or the burst ends
    (looked at every ``BUSY_WINDOW_S``)."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if _wake.wait(min(left, BUSY_WINDOW_S)) or not yielding_to_intake():
            break
    _wake.clear()


def _person_ids(size: int) -> list[uuid.UUID]:
    with _person_lock:
        ids = list(itertools.islice(_person_rows, size))
        for delivery_id in ids:
            del _person_rows[delivery_id]
    return ids


def _forget_person_rows(ids: Sequence[uuid.UUID]) -> None:
    """Rows claimed in order need no priority any more."""
    if _person_rows:
        with _person_lock:
            for delivery_id in ids:
                _person_rows.pop(delivery_id, None)


def yielding_to_intake() -> bool:
    """Webhooks are arriving now and none of the last ones carried a person's message."""
    now = time.monotonic()
    return now - _last_intake < BUSY_WINDOW_S and now - _last_person >= PERSON_WINDOW_S


def person_waiting() -> bool:
    """A person's message arrived in the last moments: the bot's answer to it is released only when the
    transaction that applied it commits, so chunks stay small (the first message of a chunk of 100 would
    otherwise wait for the other 99)."""
    return time.monotonic() - _last_person < PERSON_WINDOW_S


_MESSAGES_KEY = re.compile(rb'"messages"\s*:')


def carries_messages(body: bytes) -> bool:
    """Cheap test on the raw bytes: status-only bodies have no ``"messages"`` *key*. Every body Meta sends
    for a number has ``"field": "messages"``, so the bare word told nothing apart (a burst of statuses
    counted as people waiting, and the pump never yielded); inside a JSON string the quotes are escaped."""
    return _MESSAGES_KEY.search(body) is not None
_nudge_lock = threading.Lock()
_nudged: set[int] = set()
_again = threading.Event()
REMOTE_NUDGE_S = 0.2


def nudge(database: Database) -> None:
    """Asks for a pump unless one is already queued (no job runner: the next start-up drains them).

    In-process runner: one queued pump at a time. Broker runner (scaled mode): sending is a blocking
    publish and the pump runs in some worker, so nudges are sent from a timer thread, at most one per
    ``REMOTE_NUDGE_S`` and always after the last batch (trailing edge): never from the event loop."""
    sink = database.job_sink
    if sink is None:
        return
    remote = bool(getattr(getattr(sink, "__self__", None), "remote", False))
    with _nudge_lock:
        if id(database) in _nudged:
            return
        _nudged.add(id(database))
    if remote:
        global _nudger
        with _nudge_lock:  # started on the first remote nudge (a process forked after import has none)
            if _nudger is None or not _nudger.is_alive():
                _nudger = threading.Thread(target=_remote_nudger, name="quita-webhook-nudger", daemon=True)
                _nudger.start()
        _remote_nudges.put(database)
        return
    try:
        sink(PROCESS_WEBHOOKS, {})
    except Exception:
        with _nudge_lock:
            _nudged.discard(id(database))
        raise


def _remote_nudger() -> None:
    """The one thread that sends this process's remote nudges, each ``REMOTE_NUDGE_S`` after it was asked
    for. The broker keeps a connection per thread: a new thread per nudge (``threading.Timer``) opened a
    new AMQP connection for each and never closed it — five a second while webhooks kept arriving."""
    while True:
        database = _remote_nudges.get()
        time.sleep(REMOTE_NUDGE_S)
        _send_remote(database)


_remote_nudges: queue.SimpleQueue[Database] = queue.SimpleQueue()  # one entry per database at most (_nudged)
_nudger: threading.Thread | None = None


def _send_remote(database: Database) -> None:
    with _nudge_lock:
        _nudged.discard(id(database))  # cleared before sending: a later batch schedules another
    sink = database.job_sink
    try:
        if sink is not None:
            sink(PROCESS_WEBHOOKS, {})
    except Exception:  # the broker is down: the stored rows wait for the next nudge or start-up
        log.exception("could not ask a worker to process stored webhooks")


@job(PROCESS_WEBHOOKS, lane="webhooks")
def process_webhooks_job(database: Database, _payload: dict[str, Any]) -> None:
    """Several pump jobs may arrive at once (a broker worker has many threads): one drains, the others
    only flag that there may be more, and the draining one goes round again."""
    with _nudge_lock:
        _nudged.discard(id(database))  # cleared before draining: a later webhook queues a new pump
    _again.set()
    while _again.is_set():
        if not _pump_lock.acquire(blocking=False):
            return  # the pump that holds the lock sees the flag when it finishes
        try:
            _again.clear()
            _drain(database, None, stoppable=True)
        finally:
            _pump_lock.release()


def process_pending(database: Database, *, chunk: int | None = None) -> int:
    """Drains every delivery still ``received``; returns how many were handled.

    On PostgreSQL each chunk is claimed with ``FOR UPDATE SKIP LOCKED`` inside its own processing
    transaction, so the pumps of several server processes (``quita serve --workers N``) share the backlog
    instead of queueing behind each other's row locks."""
    # SQLite has one writer: short transactions let the receiver's commits in between.
    with _pump_lock:
        return _drain(database, chunk)


def _drain(database: Database, chunk: int | None, *, stoppable: bool = False) -> int:
    chunk = chunk or (SQLITE_CHUNK if database.is_sqlite else CHUNK)
    handled = pauses = 0
    waited = 0.0  # how long the oldest delivery of the last chunk had been waiting
    while not (stoppable and _stopping.is_set()):
        # In one process the receiver and the pump share the CPU and the GIL (and, on SQLite, the
        # write lock). Acknowledging Meta quickly matters more than applying a status a moment sooner,
        # so while status webhooks keep arriving the pump works in small chunks with growing pauses in
        # between (a thread holding the GIL while the OS runs something else stalls the event loop with
        # it: on a busy machine that, not the CPU time, is what the receiver pays); the stored backlog is
        # drained at full speed right after, or as soon as statuses have waited DEFER_LIMIT_S. A person's
        # message ends a pause at once, and is claimed ahead of the statuses (:func:`_person_ids`).
        busy = yielding_to_intake() and waited < DEFER_LIMIT_S
        person = person_waiting()
        size = min(chunk, PERSON_CHUNK if person else BUSY_CHUNK if busy else chunk)
        if busy and handled:  # between the chunks of a burst; never before the first (a reply waits on it)
            _pause(burst_pause(pauses))
            pauses += 1
            if stoppable and _stopping.is_set():
                break
            if person_waiting():
                size = min(chunk, PERSON_CHUNK)
        else:
            pauses = 0
        ids: list[uuid.UUID] = []
        queued = True
        try:
            with database.transaction() as session:
                deliveries = _claim_people(session, size) if person or person_waiting() else []
                queued = not deliveries  # claimed in order from the table: a short chunk means it is empty
                if queued:
                    deliveries = _claim(session, size, lock=not database.is_sqlite)
                    _forget_person_rows([d.id for d in deliveries])
                if not deliveries:
                    return handled
                ids = [d.id for d in deliveries]
                waited = (utcnow() - deliveries[0].created_at).total_seconds()
                _process(session, deliveries)
        except Exception:
            if not ids:
                raise
            log.exception("webhook chunk failed; retrying one by one")
            for delivery_id in ids:
                _process_one_isolated(database, delivery_id)
        handled += len(ids)
        if queued and len(ids) < size:  # the backlog was empty at the claim; what arrived since nudged a pump of its own
            return handled
    return handled


def _claim(session: Session, size: int, *, lock: bool) -> list[WebhookDelivery]:
    """The oldest ``size`` deliveries still ``received`` (the usual queue idiom: ``UPDATE … WHERE id IN
    (SELECT … LIMIT n [FOR UPDATE SKIP LOCKED]) RETURNING``)."""
    oldest = (select(WebhookDelivery.id).where(WebhookDelivery.state == "received")
              .order_by(WebhookDelivery.created_at).limit(size))
    if lock:
        oldest = oldest.with_for_update(skip_locked=True)
    return _take(session, WebhookDelivery.id.in_(oldest.scalar_subquery()), ("received",))


def _claim_people(session: Session, size: int) -> list[WebhookDelivery]:
    """Deliveries known to carry people's messages (:func:`note_intake`), claimed ahead of older statuses:
    a status can wait, a person waits for the bot's reply. Ids already processed claim nothing."""
    while ids := _person_ids(size):  # ids processed meanwhile (or of another database) claim nothing
        if claimed := _take(session, WebhookDelivery.id.in_(ids), ("received",)):
            return claimed
    return []


def _take(session: Session, which: Any, states: tuple[str, ...]) -> list[WebhookDelivery]:
    """Marks the deliveries ``which`` still in ``states`` as ``processing`` and loads them, oldest first, in one
    statement. Writing first also takes SQLite's write lock before any read of this transaction."""
    taken = session.scalars(
        update(WebhookDelivery).where(which, WebhookDelivery.state.in_(states))
        .values(state="processing").returning(WebhookDelivery),
        execution_options={"synchronize_session": False},
    ).all()
    return sorted(taken, key=lambda d: (d.created_at, str(d.id)))


def _process_one_isolated(database: Database, delivery_id: uuid.UUID) -> None:
    try:
        with database.transaction() as session:
            _process_ids(session, [delivery_id])
    except Exception:
        problem = traceback.format_exc(limit=4)
        log.error("webhook delivery %s failed: %s", delivery_id, problem)
        with database.transaction() as session:
            session.execute(
                update(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
                .values(state="failed", problem=problem[-4000:], processed_at=utcnow())
            )


def _process_ids(session: Session, ids: list[uuid.UUID]) -> None:
    """The given deliveries, also those a stopped pump left ``processing``."""
    _process(session, _take(session, WebhookDelivery.id.in_(ids), ("received", "processing")))


def _process(session: Session, deliveries: list[WebhookDelivery]) -> None:
    router = _Router(session)
    for delivery in deliveries:
        process_delivery(session, delivery, router)
    service.store_statuses(session, router.statuses)  # the chunk's statuses together, in order


@dataclass
class _Router:
    """Maps ``phone_number_id`` / ``waba_id`` to channels, only among the channels that share the app
    secret which signed the body: a body signed by tenant A's app cannot write into tenant B."""

    session: Session
    statuses: list[service.StatusItem] = field(default_factory=list)  # stored set-wise at the chunk's end
    _by_number: dict[str, WhatsAppChannel | None] = field(default_factory=dict)
    _secrets: dict[uuid.UUID, str] = field(default_factory=dict)

    def secret(self, channel: WhatsAppChannel) -> str:
        if channel.id not in self._secrets:
            self._secrets[channel.id] = service.app_secret(channel)
        return self._secrets[channel.id]

    def signer(self, delivery: WebhookDelivery) -> str | None:
        if delivery.channel_id is None:
            return None
        channel = self.session.get(WhatsAppChannel, delivery.channel_id)
        return self.secret(channel) if channel is not None else None

    def by_number(self, phone_number_id: str | None, signer: str | None) -> WhatsAppChannel | None:
        if not phone_number_id:
            return None
        if phone_number_id not in self._by_number:
            self._by_number[phone_number_id] = service.channel_by_phone_number_id(self.session, phone_number_id)
        channel = self._by_number[phone_number_id]
        if channel is None or signer is None or self.secret(channel) != signer:
            return None
        return channel

    def by_waba(self, waba_id: str | None, signer: str | None) -> list[WhatsAppChannel]:
        if not waba_id:
            return []
        return [c for c in service.channels_by_waba(self.session, waba_id) if signer and self.secret(c) == signer]


def process_delivery(session: Session, delivery: WebhookDelivery, router: _Router) -> None:
    try:
        events = parse_webhook(delivery.body)
    except NotAWebhook as exc:
        delivery.state, delivery.problem, delivery.processed_at = "unparseable", str(exc)[:4000], utcnow()
        log.warning("webhook %s is not a WhatsApp Business webhook: %s", delivery.id, exc)
        return
    signer = router.signer(delivery)
    for event in events:
        _handle(session, delivery, router, signer, event)
    delivery.state, delivery.events, delivery.processed_at = "processed", len(events), utcnow()


def _notice(session: Session, delivery: WebhookDelivery, kind: str, detail: dict[str, Any],
            channel: WhatsAppChannel | None = None, tenant_id: uuid.UUID | None = None) -> None:
    session.add(WebhookNotice(
        tenant_id=channel.tenant_id if channel is not None else tenant_id,
        channel_id=channel.id if channel is not None else None, delivery_id=delivery.id, kind=kind,
        detail=plain(detail),
    ))


def plain(value: Any) -> Any:
    """JSON-safe and float-free (floats become exact strings), so evidence hashes are stable."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)


_ENVELOPE_KEYS = {"kind", "waba_id", "phone_number_id", "timestamp", "match_key", "wamid"}


def _content(event: WebhookEvent) -> dict[str, Any]:
    record = to_record(event)
    return {k: plain(v) for k, v in record.items() if k not in _ENVELOPE_KEYS and v not in (None, [], {})}


def _handle(session: Session, delivery: WebhookDelivery, router: _Router, signer: str | None,
            event: WebhookEvent) -> None:
    match event:
        case StatusUpdate():
            _status(session, delivery, router, router.by_number(event.phone_number_id, signer), event)
        case InboundMessage():
            _inbound(session, delivery, router.by_number(event.phone_number_id, signer), event)
        case SystemEvent():
            _system(session, delivery, router.by_number(event.phone_number_id, signer), event)
        case UserPreferenceUpdate():
            _preference(session, delivery, router.by_number(event.phone_number_id, signer), event)
        case TemplateStatusUpdate() | TemplateCategoryUpdate():
            channels = router.by_waba(event.waba_id, signer)
            if not channels:
                _notice(session, delivery, "unrouted", to_record(event), tenant_id=delivery.tenant_id)
            for tenant_id in {c.tenant_id for c in channels}:
                change = templates.apply_webhook(session, tenant_id, event)
                _notice(session, delivery, event.kind, {**to_record(event), "registry": change},
                        tenant_id=tenant_id)
        case ErrorEvent():
            channel = router.by_number(event.phone_number_id, signer)
            log.warning("WhatsApp reported errors in a webhook: %s", to_record(event)["errors"])
            _notice(session, delivery, "error", to_record(event), channel, delivery.tenant_id)
        case UnknownEvent():
            channel = router.by_number(event.phone_number_id, signer)
            _notice(session, delivery, "unknown", to_record(event), channel, delivery.tenant_id)


def _unrouted(session: Session, delivery: WebhookDelivery, event: WebhookEvent) -> None:
    log.warning("webhook event for unknown number %s (or signed by another app)", event.phone_number_id)
    _notice(session, delivery, "unrouted", to_record(event), tenant_id=delivery.tenant_id)


def _status(session: Session, delivery: WebhookDelivery, router: _Router, channel: WhatsAppChannel | None,
            event: StatusUpdate) -> None:
    if channel is None:
        _unrouted(session, delivery, event)
        return
    if not event.wamid or not event.status:
        _notice(session, delivery, "invalid_status", to_record(event), channel)
        return
    record = to_record(event)
    router.statuses.append(service.StatusItem.of(
        tenant_id=channel.tenant_id, channel_id=channel.id, delivery_id=delivery.id, wamid=event.wamid,
        status=event.status, callback_data=event.biz_opaque_callback_data,
        recipient_id=event.recipient_id or event.recipient_user_id, occurred_at=event.timestamp,
        errors=plain(record["errors"]) or None, pricing=plain(record["pricing"]),
        conversation=plain(record["conversation"]),
    ))


def _inbound(session: Session, delivery: WebhookDelivery, channel: WhatsAppChannel | None,
             event: InboundMessage) -> None:
    if channel is None:
        _unrouted(session, delivery, event)
        return
    tenant_id = channel.tenant_id
    wa_id = event.from_ or event.contact_wa_id
    matched = service.match_contact(session, tenant_id, wa_id=wa_id, user_id=event.user_id)
    conversation = service.conversation_for(
        session, tenant_id=tenant_id, channel_id=channel.id,
        contact_id=matched.contact_id if matched else None, debtor_id=matched.debtor_id if matched else None,
        wa_id=wa_id, user_id=event.user_id,
    )
    occurred = event.timestamp or utcnow()
    content = _content(event)
    message_id = uuid.uuid4()
    values = {
        "id": message_id, "created_at": utcnow(), "tenant_id": tenant_id, "channel_id": channel.id,
        "conversation_id": conversation.id, "contact_id": matched.contact_id if matched else None,
        "debtor_id": matched.debtor_id if matched else None, "direction": "inbound",
        "wamid": event.wamid[:128] if event.wamid else None, "kind": event.type[:30], "body": content,
        "actor": "debtor", "status": "received", "status_at": occurred, "occurred_at": occurred,
    }
    statement = service._insert_ignore(session, Message, values, ("wamid",)).returning(Message.id)
    if session.execute(statement).first() is None:
        return  # the same inbound message delivered again
    service.append_entry(
        session, conversation, direction="inbound", actor="debtor", kind=event.type[:30], content=content,
        occurred_at=occurred, message_id=message_id, wamid=event.wamid,
    )
    if conversation.last_inbound_at is None or occurred > conversation.last_inbound_at:
        conversation.last_inbound_at = occurred
    if event.type in media.MEDIA_KINDS and media.media_of(content) is not None:
        # Meta's URL expires in minutes: fetch the file right after this commit (quita.whatsapp.media)
        enqueue_after_commit(session, media.DOWNLOAD_MEDIA, {"message_id": str(message_id)})
    from quita.kit import events  # the bot answers in its own job (issue 6): quita.bot.hooks
    events.publish(session, events.INBOUND_MESSAGE, service.inbound_event(values, wa_id))
    if matched is None:
        _notice(session, delivery, "unmatched_sender", {"from": wa_id, "user_id": event.user_id}, channel)


def _system(session: Session, delivery: WebhookDelivery, channel: WhatsAppChannel | None,
            event: SystemEvent) -> None:
    if channel is None:
        _unrouted(session, delivery, event)
        return
    tenant_id = channel.tenant_id
    matched = service.match_contact(
        session, tenant_id, wa_id=event.old_wa_id, user_id=event.previous_user_id or event.user_id
    )
    if matched is not None:
        contact = session.get_one(ContactPoint, matched.contact_id)
        if event.new_wa_id:
            contact.wa_id = event.new_wa_id[:20]
        if event.new_user_id:
            contact.wa_user_id = event.new_user_id[:64]
        conversation = service.conversation_for(
            session, tenant_id=tenant_id, channel_id=channel.id, contact_id=matched.contact_id,
            debtor_id=matched.debtor_id,
        )
        service.append_entry(
            session, conversation, direction="event", actor="system", kind=f"system:{event.system_type}"[:30],
            content=_content(event), occurred_at=event.timestamp or utcnow(), wamid=event.wamid,
        )
    _notice(session, delivery, "system", {**to_record(event), "matched": matched is not None}, channel)


def _preference(session: Session, delivery: WebhookDelivery, channel: WhatsAppChannel | None,
                event: UserPreferenceUpdate) -> None:
    """Marketing "stop" is applied to the matched contact (``marketing_opted_out_at``), "resume" clears
    it; the gate must not send MARKETING templates to an opted-out contact (collection notices are
    UTILITY and are not affected). Recorded in the conversation and as a notice either way."""
    if channel is None:
        _unrouted(session, delivery, event)
        return
    matched = service.match_contact(session, channel.tenant_id, wa_id=event.wa_id, user_id=event.user_id)
    applied = None
    if matched is not None:
        contact = session.get_one(ContactPoint, matched.contact_id)
        applied = apply_marketing_preference(contact, event)
        conversation = service.conversation_for(
            session, tenant_id=channel.tenant_id, channel_id=channel.id, contact_id=matched.contact_id,
            debtor_id=matched.debtor_id,
        )
        service.append_entry(
            session, conversation, direction="event", actor="debtor", kind="user_preferences",
            content=_content(event), occurred_at=event.timestamp or utcnow(),
        )
    _notice(session, delivery, "user_preferences",
            {**to_record(event), "matched": matched is not None, "applied": applied}, channel)


def apply_marketing_preference(contact: ContactPoint, event: UserPreferenceUpdate) -> str | None:
    """``stop`` → opted out since the event's time; ``resume`` → cleared. A stale event (older than the
    state it would replace) changes nothing: webhooks arrive out of order. Returns what was done."""
    if (event.category or "marketing_messages") != "marketing_messages":
        return None
    at = event.timestamp or utcnow()
    current = contact.marketing_opted_out_at
    if event.value == "stop":
        if current is None or at < current:
            contact.marketing_opted_out_at = at
            return "marketing_opted_out"
        return None
    if event.value == "resume" and current is not None and at >= current:
        contact.marketing_opted_out_at = None
        return "marketing_resumed"
    return None


def pending_count(session: Session) -> int:
    return len(session.scalars(select(WebhookDelivery.id).where(WebhookDelivery.state == "received").limit(1)).all())


def resume(database: Database) -> None:
    """At start-up: re-run deliveries a previous process stored but did not finish."""
    _stopping.clear()
    with database.transaction() as session:
        session.execute(
            update(WebhookDelivery).where(WebhookDelivery.state == "processing").values(state="received")
        )
        waiting = pending_count(session)
    if waiting:
        nudge(database)
    if database.job_sink is not None:  # files a stopped process never fetched (Meta keeps them for 30 days)
        database.job_sink(media.RESUME_DOWNLOADS, {})
