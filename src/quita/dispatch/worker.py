"""The dispatcher: an asyncio loop that claims due outbox rows, paces them through the limiters, sends them
over async HTTP and records what happened. The same class runs inside ``quita serve`` (SQLite, one
process, :class:`~quita.dispatch.limits.MemoryLimiter`) and in any number of ``quita worker`` processes
(PostgreSQL with ``SKIP LOCKED``, :class:`~quita.dispatch.limits.RedisLimiter`).

Database calls are short and run on the dispatcher's own thread (two on PostgreSQL) so the event loop keeps
hundreds of HTTP requests in flight; a 50 ms API latency therefore costs concurrency, not throughput. Results are
written in batches every few tens of milliseconds; a worker killed in between leaves its rows ``sending``,
which the reconciler settles from status webhooks — never by sending again.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import random
import socket
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from quita.dispatch import service
from quita.dispatch.domain.policy import Action, RetryPolicy, plan_for
from quita.dispatch.limits import Admission, Limiter, MemoryLimiter
from quita.dispatch.service import ChannelInfo, Claimed, Outcome
from quita.kit.db import Database, utcnow
from quita.kit.heap import settle_heap
from quita.whatsapp.client import WhatsAppClient
from quita.whatsapp.domain.messages import TemplateMessage, TextParam, build_message_payload
from quita.whatsapp.transport import LeanTransport

log = logging.getLogger("quita.dispatch")


@dataclass(frozen=True, slots=True)
class DispatchSettings:
    batch: int = 500
    concurrency: int = 256
    pair_interval: float = 6.0
    lease: float = 30.0
    """A claim not turned into ``sending`` within this time is released (its worker died before HTTP)."""
    doubt_after: float = 90.0
    """A row ``sending`` for this long has lost its worker: look for a status webhook."""
    give_up_after: float = 900.0
    """…and with no webhook after this long it becomes ``unknown`` (+ alert). Never resent."""
    http_timeout: float = 30.0
    idle_sleep: float = 0.2
    flush_every: float = 0.1
    record_at_most: int = 200
    """Outcomes per recording transaction. The database thread runs jobs in order, so the next group's
    ``mark_sending`` waits behind a recording in progress; a smaller one keeps that wait short (a
    400-row recording held it ~300 ms on a busy machine, longer than a group takes to go out)."""
    housekeeping_every: float = 5.0
    record_conversation: bool = True
    retry: RetryPolicy = field(default_factory=RetryPolicy)


def worker_name() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Dispatcher:
    def __init__(
        self,
        database: Database,
        limiter: Limiter | None = None,
        settings: DispatchSettings | None = None,
        *,
        name: str | None = None,
    ) -> None:
        self.database = database
        self.limiter: Limiter = limiter or MemoryLimiter()
        self.settings = settings or DispatchSettings()
        self.name = name or worker_name()
        self._cycle = 0
        self._channels: dict[uuid.UUID, ChannelInfo] = {}
        self._channels_at = 0.0
        self._clients: dict[uuid.UUID, WhatsAppClient] = {}
        self._building = asyncio.Lock()
        self._results: list[Outcome] = []
        self._inflight: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(self.settings.concurrency)
        self._rng = random.Random()
        self._unpaced = 0  # claimed rows not yet marked sending (or released)
        self._db_threads = 1 if database.engine.dialect.name == "sqlite" else 2
        self._db = ThreadPoolExecutor(self._db_threads, thread_name_prefix="dispatch-db")
        self.sent = 0
        self.recorded = 0
        """Outcomes written so far (any status): lets a caller wait for the end without polling the database."""

    # ------------------------------------------------------------------ lifecycle

    async def run(self, stop: asyncio.Event) -> None:
        """Claims the next batch while the previous one is still being paced out (once fewer than half a
        batch of its rows wait for their slot), so the claim's round trip never leaves the number idle."""
        recorder = asyncio.create_task(self._recorder(stop))
        housekeeping = asyncio.create_task(self._housekeeping(stop))
        pacing: set[asyncio.Task[None]] = set()
        try:
            while not stop.is_set():
                if self._unpaced > self.settings.batch // 2:
                    await asyncio.wait(pacing, timeout=0.01, return_when=asyncio.FIRST_COMPLETED)
                    continue
                # From idle, a small claim first: its rows go out while the full-size claim that follows
                # is read (a 1,000-row first claim kept the number silent for 100-350 ms).
                busy = self._unpaced or self._inflight
                limit = self.settings.batch if busy else max(1, self.settings.batch // 5)
                try:
                    claimed, token = await self._claim_next(limit)
                except Exception:
                    log.exception("dispatch cycle failed; retrying")
                    claimed, token = [], ""
                    await asyncio.sleep(1.0)
                if claimed:
                    task = asyncio.create_task(self._pace_all(claimed, token))
                    pacing.add(task)
                    task.add_done_callback(pacing.discard)
                else:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self.settings.idle_sleep)
        finally:
            if pacing:
                await asyncio.gather(*pacing, return_exceptions=True)
            if self._inflight:
                await asyncio.gather(*self._inflight, return_exceptions=True)
            await recorder
            housekeeping.cancel()
            await self.aclose()

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
        self._db.shutdown(wait=False)
        self._db = ThreadPoolExecutor(self._db_threads, thread_name_prefix="dispatch-db")

    # ------------------------------------------------------------------ one cycle

    async def cycle(self) -> int:
        """One claim, paced out completely (tests step the dispatcher with it)."""
        claimed, token = await self._claim_next()
        if claimed:
            await self._pace_all(claimed, token)
        return len(claimed)

    async def _claim_next(self, limit: int | None = None) -> tuple[list[Claimed], str]:
        await self._refresh_channels()
        self._cycle += 1
        token = f"{self.name}#{self._cycle}"[:64]
        return await self._in_db(self._claim, token, limit or self.settings.batch), token

    async def _pace_all(self, claimed: list[Claimed], token: str) -> None:
        self._unpaced += len(claimed)
        groups: dict[uuid.UUID | None, list[Claimed]] = defaultdict(list)
        for row in claimed:
            groups[row.channel_id].append(row)
        results = await asyncio.gather(
            *(self._pace(channel_id, rows, token) for channel_id, rows in groups.items()),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, Exception):
                log.error("pacing claimed rows failed (their claims lapse back to pending): %r", result)

    async def _in_db(self, fn: Any, *args: Any) -> Any:
        """Database work runs on the dispatcher's own thread(s): one on SQLite, so its writes never wait
        on each other's file lock (SQLite's busy handler sleeps in steps of up to 100 ms)."""
        return await asyncio.get_running_loop().run_in_executor(self._db, fn, *args)

    def _claim(self, token: str, limit: int) -> list[Claimed]:
        now = utcnow()
        paused = [c.id for c in self._channels.values() if c.paused]
        lanes = [c.id for c in self._channels.values() if not c.paused]
        with self.database.transaction() as session:
            return service.claim(
                session,
                worker_id=token,
                now=now,
                limit=limit,
                paused=paused,
                admit_all=self._admit_all,
                lanes=lanes,
            )

    def _admit_all(self, rows: list[Claimed]) -> list[float]:
        """Recipient and tier checks of a whole claim in one limiter call; rows without a known channel
        pass (they are failed with a reason when paced)."""
        checks: list[Admission] = []
        where: list[int] = []
        for i, row in enumerate(rows):
            info = self._channels.get(row.channel_id) if row.channel_id else None
            if info is None:
                continue
            where.append(i)
            checks.append(
                Admission(
                    f"{info.phone_number_id}:{row.recipient}",
                    self.settings.pair_interval,
                    info.waba_id,
                    row.recipient,
                    info.tier_limit,
                )
            )
        waits = [0.0] * len(rows)
        for i, wait in zip(where, self.limiter.admit(checks) if checks else [], strict=True):
            waits[i] = wait
        return waits

    def _admit(self, row: Claimed) -> float:
        info = self._channels.get(row.channel_id) if row.channel_id else None
        if info is None:
            return 0.0  # failed later with a reason
        wait = self.limiter.try_recipient(
            f"{info.phone_number_id}:{row.recipient}", self.settings.pair_interval
        )
        if wait > 0:
            return wait
        return self.limiter.try_tier(info.waba_id, row.recipient, info.tier_limit)

    async def _pace(self, channel_id: uuid.UUID | None, rows: list[Claimed], token: str) -> None:
        """Sends ``rows`` in chunks of 50 ms of the number's throughput, each chunk after booking its slots.

        Rows are marked ``sending`` in groups of four chunks, and the next group is marked while the
        current one goes out: the database round trip (tens of ms on a busy machine) overlaps the sending
        instead of stalling it. A row is ``sending`` at most two groups (~400 ms at full rate) before its
        request leaves; a worker killed in between leaves it in doubt, never resent.
        """
        left = len(rows)
        try:
            info = self._channels.get(channel_id) if channel_id else None
            if info is None:
                await self._in_db(self._fail_all, rows, "canal WhatsApp inexistente para esta mensagem")
                return
            client = await self._client(info)
            chunk = max(1, min(50, info.throughput_mps // 20))
            group = chunk * 4
            groups = [rows[i : i + group] for i in range(0, len(rows), group)]
            marking = self._mark_group(groups[0], token)
            for index, part in enumerate(groups):
                go = await marking
                left -= len(part)
                self._unpaced -= len(part)
                if index + 1 < len(groups):
                    marking = self._mark_group(groups[index + 1], token)
                ready = [row for row in part if row.id in go]
                for start in range(0, len(ready), chunk):
                    sending = ready[start : start + chunk]
                    wait = self.limiter.reserve(
                        info.phone_number_id, float(info.throughput_mps), len(sending)
                    )
                    if wait > 0:
                        await asyncio.sleep(wait)
                    for row in sending:
                        await self._slots.acquire()
                        task = asyncio.create_task(self._send(client, row))
                        self._inflight.add(task)
                        task.add_done_callback(self._inflight.discard)
        finally:
            self._unpaced -= left

    def _mark_group(self, rows: list[Claimed], token: str) -> asyncio.Future[set[uuid.UUID]]:
        return asyncio.ensure_future(self._in_db(self._mark_sending, [r.id for r in rows], token))

    def _mark_sending(self, ids: list[uuid.UUID], token: str) -> set[uuid.UUID]:
        with self.database.transaction() as session:
            return service.mark_sending(session, ids, utcnow(), token)

    def _fail_all(self, rows: list[Claimed], reason: str) -> None:
        with self.database.transaction() as session:
            for row in rows:
                service.fail(session, row, None, reason, utcnow())

    async def _send(self, client: WhatsAppClient, row: Claimed) -> None:
        try:
            try:
                message = TemplateMessage(
                    name=row.template_name,
                    language=row.template_language,
                    body=tuple(TextParam(p) for p in row.template_params),
                )
                payload = build_message_payload(row.recipient, message, biz_opaque_callback_data=str(row.id))
                # what the conversation record stores: the template part of the body sent, built once
                body = {
                    "to": row.recipient,
                    "template": {"type": "template", "template": payload["template"]},
                }
                result = await client.send_template_payload(payload)
            except Exception as exc:  # classified below; anything unexpected counts as in doubt
                plan = plan_for(exc, row.attempts + 1, self.settings.retry, self._rng)
                status = {
                    Action.RETRY: "retry",
                    Action.FAIL: "failed",
                    Action.STOP_CHANNEL: "stop",
                    Action.IN_DOUBT: "in_doubt",
                }[plan.action]
                if plan.action == Action.IN_DOUBT:
                    log.warning(
                        "send of %s is in doubt (%s): waiting for a status webhook", row.id, plan.reason
                    )
                self._results.append(
                    Outcome(
                        row,
                        status,
                        delay=plan.delay,
                        code=plan.code,
                        reason=plan.reason,
                        mark_no_whatsapp=plan.mark_no_whatsapp,
                    )
                )
                return
            self.sent += 1
            self._results.append(Outcome(row, "sent", wamid=result.wamid, wa_id=result.wa_id, body=body))
        finally:
            self._slots.release()

    # ------------------------------------------------------------------ recording

    async def _recorder(self, stop: asyncio.Event) -> None:
        while True:
            stopping = stop.is_set() and not self._inflight
            if self._results:
                limit = self.settings.record_at_most
                batch, self._results = self._results[:limit], self._results[limit:]
                try:
                    await self._in_db(self._record, batch)
                except Exception:
                    log.exception("recording %d results failed; keeping them and retrying", len(batch))
                    self._results = batch + self._results
                    await asyncio.sleep(1.0)
                    continue
                if self._results:
                    continue  # more waiting: the next part at once (marks queued meanwhile went first)
            elif stopping:
                return
            await asyncio.sleep(self.settings.flush_every)

    def _record(self, batch: list[Outcome]) -> None:
        with self.database.transaction() as session:
            service.record(session, batch, utcnow(), conversation=self.settings.record_conversation)
        self.recorded += len(batch)
        for outcome in batch:
            if outcome.status == "stop" and outcome.row.channel_id in self._channels:
                self._channels_at = 0.0  # re-read: the number is paused now

    async def flush(self) -> None:
        """Waits for every send in flight and writes every result (tests, shutdown)."""
        while self._inflight:
            await asyncio.gather(*list(self._inflight), return_exceptions=True)
        if self._results:
            batch, self._results = self._results, []
            await self._in_db(self._record, batch)

    # ------------------------------------------------------------------ housekeeping

    async def _housekeeping(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self._in_db(self.housekeeping)
            except Exception:
                log.exception("dispatch housekeeping failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.housekeeping_every)

    def housekeeping(self, now: dt.datetime | None = None) -> tuple[int, int]:
        now = now or utcnow()
        s = self.settings
        with self.database.transaction() as session:
            service.release_lapsed_claims(session, now, dt.timedelta(seconds=s.lease))
            service.expire_stale(session, now)
        with self.database.transaction() as session:
            return service.reconcile(
                session,
                now,
                doubt_after=dt.timedelta(seconds=s.doubt_after),
                give_up_after=dt.timedelta(seconds=s.give_up_after),
                conversation=s.record_conversation,
            )

    # ------------------------------------------------------------------ channels

    async def _refresh_channels(self) -> None:
        loop = asyncio.get_running_loop()
        if loop.time() - self._channels_at < 5.0 and self._channels:
            return
        self._channels = await self._in_db(self._load_channels)
        self._channels_at = loop.time()

    def _load_channels(self) -> dict[uuid.UUID, ChannelInfo]:
        with self.database.transaction() as session:
            return service.channels(session)

    async def _client(self, info: ChannelInfo) -> WhatsAppClient:
        client = self._clients.get(info.id)
        if client is None:
            async with self._building:  # two claims paced at once must not build (and leak) two clients
                client = self._clients.get(info.id)
                if client is None:
                    client = await self._in_db(self._build_client, info.id)
                    self._clients[info.id] = client
        return client

    def _build_client(self, channel_id: uuid.UUID) -> WhatsAppClient:
        from quita.whatsapp import service as wa
        from quita.whatsapp.models import WhatsAppChannel

        with self.database.transaction() as session:
            channel = session.get_one(WhatsAppChannel, channel_id)
            timeout = httpx.Timeout(self.settings.http_timeout, connect=5.0)
            return WhatsAppClient(
                phone_number_id=channel.phone_number_id,
                access_token=wa.access_token(channel),
                graph_url=channel.graph_url,
                api_version=channel.api_version,
                timeout=timeout,
                transport=LeanTransport(max_connections=self.settings.concurrency),
            )


def new_event_loop() -> asyncio.AbstractEventLoop:
    """The dispatcher's loop: uvloop when installed (it comes with ``uvicorn[standard]``). Its callbacks,
    timers and socket transports cost less CPU than asyncio's pure-Python loop (~0.1 ms per message
    measured in ``quita bench dispatch``), and every message passes through the loop several times."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


def seed_tiers(database: Database, limiter: MemoryLimiter) -> None:
    """Embedded start-up: refill the in-memory tier counters from the last 24 h of sends."""
    now = utcnow()
    with database.transaction() as session:
        for info in service.channels(session).values():
            limiter.seed_tier(info.waba_id, service.recent_recipients(session, info.id, now))


def run_forever(
    database: Database, limiter: Limiter, settings: DispatchSettings | None = None, stop: Any = None
) -> None:
    """Blocking entry point for a worker process (``quita worker``)."""

    async def main() -> None:
        event = stop or asyncio.Event()
        await Dispatcher(database, limiter, settings).run(event)

    settle_heap()
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        runner.run(main())
