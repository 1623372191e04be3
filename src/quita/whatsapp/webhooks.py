"""``/webhooks/whatsapp``: Meta's handshake and the signed POST receiver.

A POST is answered 200 only after its raw bytes are committed, so a crash can never lose an
acknowledged webhook (Meta retries anything else). Processing happens later, in a job.

The POST is the hottest path of the server (Meta sizes webhook traffic at about 3× the outbound rate),
so it does not go through FastAPI: :class:`WebhookIntake` is a raw ASGI middleware in front of the app
that reads the body, checks the HMAC over the raw bytes and hands the body to the writer — no routing,
dependency injection or pydantic per request. Every other request passes straight through.

To keep up without one transaction per webhook, concurrent POSTs are *group-committed*: a writer
thread drains whatever arrived meanwhile and stores it in one multi-row ``INSERT``; each request is
answered when the commit holding its body is done. Redeliveries are absorbed by the unique
``dedupe_key`` (the verified HMAC of the body; ``INSERT … ON CONFLICT DO NOTHING``), so a duplicate is
recognised by the database, not by a check-then-set race.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import hmac
import json
import logging
import queue
import struct
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy import Connection, select
from starlette.concurrency import run_in_threadpool

from quita.kit.db import Database, utcnow
from quita.kit.db.engine import libpq_conninfo
from quita.kit.ids import uuid7_batch
from quita.kit.jobs import runs_elsewhere
from quita.whatsapp import jobs
from quita.whatsapp.domain.signature import PREFIX
from quita.whatsapp.models import WebhookDelivery, WhatsAppChannel
from quita.whatsapp.service import app_secret, verify_token

log = logging.getLogger("quita.whatsapp.webhooks")
router = APIRouter(tags=["webhooks"], include_in_schema=True)

PATH = "/webhooks/whatsapp"
MAX_BODY_BYTES = 1 << 20  # 1 MiB: Meta's payloads are a few KiB; anything this big is not Meta
SECRETS_TTL_S = 30.0
MISS_REFRESH_MIN_S = 1.0  # a flood of forged POSTs must not turn into a flood of queries
MAX_BATCH = 500  # rows per transaction (PostgreSQL: × 6 arrays; SQLite: one prepared row statement each)
# PostgreSQL connections of the writer. The second one only starts a batch while another is in flight
# when commits are slow (see AsyncPgWriter), so a request then waits about one commit, not two. Not
# more: each batch costs the event loop a fixed ~0.15-0.2 ms (psycopg's execute, libpq's send system
# call), so more connections taking turns means smaller batches and more CPU per webhook.
WRITERS = 2
# A second PostgreSQL connection starts a batch while one is in flight only once this many rows wait, or
# the one in flight has taken this long (a slow commit: see AsyncPgWriter).
OVERFLOW_ROWS, SLOW_COMMIT_S = 48, 0.002

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


# --------------------------------------------------------------------------- secrets of every channel


@dataclass(frozen=True, slots=True)
class ChannelKeys:
    channel_id: uuid.UUID
    tenant_id: uuid.UUID
    app_secret: str
    verify_token: str


class ChannelKeyring:
    """Decrypted app secrets and verify tokens of all channels, refreshed every ``SECRETS_TTL_S``
    and (at most once a second) when a signature matches none of them (a channel was just added)."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._keys: list[ChannelKeys] = []
        self._secrets: list[tuple[bytes, ChannelKeys]] = []  # one per distinct app secret
        self._loaded_at = -1e9
        self._lock = threading.Lock()

    def _load(self) -> None:
        with self.database.transaction() as session:
            channels = session.scalars(select(WhatsAppChannel)).all()
            keys = [ChannelKeys(c.id, c.tenant_id, app_secret(c), verify_token(c)) for c in channels]
        distinct: dict[str, ChannelKeys] = {}
        for key in keys:
            if key.app_secret:  # a channel without a secret can never verify anything
                distinct.setdefault(key.app_secret, key)
        with self._lock:
            self._keys, self._loaded_at = keys, time.monotonic()
            self._secrets = [(secret.encode("utf-8"), key) for secret, key in distinct.items()]

    def keys(self, *, stale_after: float = SECRETS_TTL_S) -> list[ChannelKeys]:
        if time.monotonic() - self._loaded_at > stale_after:
            self._load()
        return self._keys

    def is_fresh(self) -> bool:
        return time.monotonic() - self._loaded_at <= SECRETS_TTL_S

    def load(self) -> None:
        self._load()

    def may_refresh(self) -> bool:
        """A miss may reload the channels at most once a second (forged floods stay cheap)."""
        return time.monotonic() - self._loaded_at > MISS_REFRESH_MIN_S

    def invalidate(self) -> None:
        self._loaded_at = -1e9

    def match(self, body: bytes, received: bytes) -> tuple[ChannelKeys, str] | None:
        """The channel whose app secret signs ``body`` and the hex HMAC (``received``: the 32 bytes of the
        header's digest, :func:`signature_bytes`). Each secret is compared in constant time; no I/O."""
        for secret, key in self._secrets:
            digest = hmac.digest(secret, body, "sha256")  # one-shot C call: a third of hmac.new's cost
            if hmac.compare_digest(digest, received):
                return key, digest.hex()
        return None

    def match_verify_token(self, token: str, *, refresh: bool) -> bool:
        keys = self.keys(stale_after=MISS_REFRESH_MIN_S if refresh else SECRETS_TTL_S)
        given = token.encode("utf-8")
        found = False
        for key in keys:
            found |= hmac.compare_digest(given, key.verify_token.encode("utf-8"))
        return found


def signature_bytes(header: bytes | None) -> bytes | None:
    """The 32 bytes of ``sha256=<64 hex digits>`` (any letter case), or ``None`` when malformed."""
    value = (header or b"").strip()
    if value[:7].lower() != PREFIX.encode() or len(value) != 71:
        return None
    try:
        digest = bytes.fromhex(value[7:].decode("ascii"))
    except ValueError:  # not hex, or not ASCII (UnicodeDecodeError is a ValueError)
        return None
    return digest if len(digest) == 32 else None  # fromhex skips spaces between digit pairs


# --------------------------------------------------------------------------- group-commit writer


@dataclass(slots=True)
class _Pending:
    body: bytes
    dedupe_key: str
    channel_id: uuid.UUID
    tenant_id: uuid.UUID
    state: str
    problem: str | None
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[None]


class DeliveryWriter:
    """One thread that stores raw webhooks in batches: everything queued while the previous commit
    ran goes into the next transaction. Each request's future resolves after *its* commit; the
    futures of one batch are resolved by a single callback per event loop (one wake-up, not one per
    request).

    The event loop hands requests over once per loop iteration, not one by one: every body read in that
    iteration goes in one list (:meth:`_hand_over`). Handing each over at once woke the writer for each
    (median batch: 1 row at 64 connections), and every wake-up, transaction and commit was paid per row
    along with a GIL hand-off between the loop and the writer."""

    def __init__(self, database: Database, max_batch: int = MAX_BATCH, writers: int | None = None) -> None:
        self.database = database
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[list[_Pending] | None] = queue.SimpleQueue()
        self._outbox: dict[asyncio.AbstractEventLoop, list[_Pending]] = {}
        self._bind: list[Any] | None = None  # the columns' bind processors for this dialect
        self.open = True
        count = writers or (1 if database.is_sqlite else WRITERS)
        self._threads = [threading.Thread(target=self._run, name=f"quita-webhook-writer-{n}", daemon=True)
                         for n in range(count)]
        for thread in self._threads:
            thread.start()

    async def store(self, body: bytes, channel: ChannelKeys, dedupe_key: str, *, state: str,
                    problem: str | None) -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        pending = _Pending(body, dedupe_key, channel.channel_id, channel.tenant_id, state, problem, loop, future)
        outbox = self._outbox.get(loop)
        if outbox is None:
            self._outbox[loop] = [pending]
            loop.call_soon(self._hand_over, loop)  # runs after the I/O callbacks of this iteration
        else:
            outbox.append(pending)
        await future

    def _hand_over(self, loop: asyncio.AbstractEventLoop) -> None:
        self._queue.put(self._outbox.pop(loop))

    def close(self) -> None:
        self.open = False
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=10)

    def _run(self) -> None:
        connection: Connection | None = None
        try:
            while True:
                first = self._queue.get()
                if first is None:
                    return
                batch = first
                stop = False
                while len(batch) < self.max_batch:
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is None:
                        stop = True
                        break
                    batch += more
                error: BaseException | None = None
                inserted, people = 0, list[uuid.UUID]()
                try:
                    if connection is None:
                        connection = self.connect()
                    inserted, people = self._write(connection, batch)
                except Exception as exc:  # the requests answer 503 and Meta retries them
                    log.exception("could not store %d webhook(s)", len(batch))
                    error = exc
                    if connection is not None:
                        with contextlib.suppress(Exception):
                            self.release(connection)
                    connection = None
                by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
                for pending in batch:
                    by_loop.setdefault(pending.loop, []).append(pending.future)
                for loop, futures in by_loop.items():
                    with contextlib.suppress(RuntimeError):  # that loop is closed: its requests are gone
                        loop.call_soon_threadsafe(_settle, futures, error)
                if error is None:
                    jobs.note_intake(person_waiting=bool(people), person_rows=people)
                    if inserted:
                        jobs.nudge(self.database)
                if stop:
                    return
        finally:
            if connection is not None:
                self.release(connection)

    def connect(self) -> Connection:
        """The writer's own connection. On SQLite its commits are synced to disk before the 200 goes out
        (``synchronous=FULL``, this connection only): the engine's WAL default, NORMAL, is safe from a crash of
        the process but may lose the last commits to a power cut, and Meta does not resend a webhook it got
        a 200 for. One sync per batch (group commit), not per webhook."""
        connection = self.database.engine.connect()
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA synchronous=FULL")
            connection.commit()
        return connection

    @staticmethod
    def release(connection: Connection) -> None:
        """Back to the pool as the engine made it (the pool's other users keep NORMAL)."""
        try:
            if connection.dialect.name == "sqlite":
                connection.rollback()
                connection.exec_driver_sql("PRAGMA synchronous=NORMAL")
                connection.commit()
        finally:
            connection.close()

    def _write(self, connection: Connection, batch: Sequence[_Pending]) -> tuple[int, list[uuid.UUID]]:
        """One transaction of a few multi-row ``INSERT … ON CONFLICT DO NOTHING`` statements (row counts in
        powers of two, :func:`_chunks`: a handful of texts SQLite keeps prepared in its statement cache), on a
        connection the writer keeps, with no ORM session. Values go through the column types' bind
        processors, as SQLAlchemy would send them.
        Returns the rows inserted (duplicates are not counted) and the ids of those carrying people's
        messages, which the pump claims first."""
        bind = self._processors(connection)

        def convert(column: int, value: Any) -> Any:
            processor = bind[column]
            return value if processor is None or value is None else processor(value)

        # What is the same for the whole batch is converted once: the time, the tenants and channels.
        now = utcnow()
        stamp, done = convert(1, now), convert(9, now)
        owners: dict[tuple[uuid.UUID, uuid.UUID], tuple[Any, Any]] = {}
        ids = uuid7_batch(len(batch))  # time-ordered: each insert lands at the edge of the primary key's index
        rows: dict[str, tuple[Any, ...]] = {}
        people: list[uuid.UUID] = []
        for n, p in enumerate(batch):
            if p.dedupe_key in rows:
                continue
            delivery_id = ids[n]
            owner = owners.get((p.tenant_id, p.channel_id))
            if owner is None:
                owner = owners[(p.tenant_id, p.channel_id)] = (convert(5, p.tenant_id), convert(6, p.channel_id))
            rows[p.dedupe_key] = (convert(0, delivery_id), stamp, p.dedupe_key, hashlib.sha256(p.body).hexdigest(),
                                  convert(4, p.body), owner[0], owner[1], p.state, p.problem,
                                  done if p.state != "received" else None)
            if p.state == "received" and jobs.carries_messages(p.body):
                people.append(delivery_id)
        mark = "%s" if connection.dialect.name == "postgresql" else "?"
        values = list(rows.values())
        inserted = 0
        # through the connection (not its raw cursor) so SQLite's in-process write gate is taken
        with connection.begin():
            for start, size in _chunks(len(values)):
                flat = [value for row in values[start:start + size] for value in row]
                inserted += max(connection.exec_driver_sql(_insert_sql(mark, size), tuple(flat)).rowcount, 0)
        return inserted, people

    def _processors(self, connection: Connection) -> list[Any]:
        if self._bind is None:
            table: Any = WebhookDelivery.__table__
            self._bind = [table.c[name].type._cached_bind_processor(connection.dialect) for name in _COLUMNS]
        return self._bind


class AsyncPgWriter:
    """PostgreSQL: the same group commit, but on the event loop itself, over up to ``WRITERS`` psycopg
    async connections. No thread means no GIL hand-offs between the loop and a writer (each one can cost
    a switch interval, 5 ms, while the loop is busy). A batch is one ``INSERT`` in autocommit mode, i.e.
    one transaction; its futures resolve after the server confirmed the commit (``synchronous_commit``
    as configured on the server: on by default, durable).

    A connection takes whatever is waiting when no batch is in flight. While one is, the others start a
    batch only once ``overflow`` rows are waiting or the batch in flight has taken more than ``slow``
    seconds, i.e. when commits are slow (a loaded database) and the requests would otherwise wait for
    two of them. When commits are fast the event loop's CPU is the limit, and each batch costs the loop a
    fixed ~0.1 ms (psycopg's execute, libpq's send system call) whatever its size: two connections
    taking turns split the same requests into batches half as large (mean 20 rows, many of 1–3, against
    26–28), 0.066–0.067 against 0.058–0.060 ms of server CPU per webhook (A/B, two pairs)."""

    def __init__(self, database: Database, connections: int = WRITERS, max_batch: int = MAX_BATCH,
                 overflow: int = OVERFLOW_ROWS, slow: float = SLOW_COMMIT_S) -> None:
        self.database = database
        self.max_batch = max_batch
        self.overflow, self.slow = overflow, slow
        self.loop = asyncio.get_running_loop()
        self._conninfo = libpq_conninfo(database.engine.url)
        self._rows: list[tuple[tuple[Any, ...], asyncio.Future[None]]] = []
        self._busy = 0  # batches in flight
        self._since = 0.0  # when the last batch started (loop time)
        self.open = True
        self._idle: asyncio.Future[None] | None = None  # what idle writers wait on
        self._tasks = [self.loop.create_task(self._run()) for _ in range(connections)]

    async def store(self, body: bytes, channel: ChannelKeys, dedupe_key: str, *, state: str,
                    problem: str | None) -> None:
        future: asyncio.Future[None] = self.loop.create_future()
        rows = self._rows
        rows.append(((dedupe_key, body, channel.tenant_id, channel.channel_id, state, problem), future))
        idle = self._idle
        if idle is not None and (not self._busy or len(rows) >= self.overflow
                                 or self.loop.time() - self._since >= self.slow):
            self._idle = None
            idle.set_result(None)
        await future

    async def aclose(self) -> None:
        self.open = False
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _take(self) -> list[tuple[tuple[Any, ...], asyncio.Future[None]]]:
        """The next batch: at once when no batch is in flight, else once ``overflow`` rows wait or the batch
        in flight is slow (:meth:`_late` wakes this up)."""
        while True:
            rows = self._rows
            if rows and (not self._busy or len(rows) >= self.overflow
                         or self.loop.time() - self._since >= self.slow):
                break
            if self._idle is None:
                self._idle = self.loop.create_future()
            await self._idle
        batch = rows[:self.max_batch]
        del rows[:self.max_batch]
        return batch

    def _late(self) -> None:
        idle = self._idle
        if idle is not None and self._rows:
            self._idle = None
            idle.set_result(None)

    async def _run(self) -> None:
        import psycopg

        connection: psycopg.AsyncConnection[Any] | None = None
        cursor: psycopg.AsyncCursor[Any] | None = None
        try:
            while True:
                batch = await self._take()
                self._busy += 1
                self._since = self.loop.time()
                timer = self.loop.call_later(self.slow, self._late) if len(self._tasks) > 1 else None
                try:
                    if connection is None or connection.closed:
                        # autocommit: the one INSERT is its own transaction, committed (and flushed,
                        # under synchronous_commit) before execute() returns — no BEGIN/COMMIT trips
                        connection = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
                        _register_array_dumpers(connection)
                    if cursor is None or cursor.connection is not connection:
                        cursor = connection.cursor()
                    await cursor.execute(_UNNEST_SQL, _unnest_columns([row for row, _f in batch]), prepare=True)
                    inserted = cursor.rowcount  # rows actually inserted (duplicates are not counted)
                except Exception as exc:  # the requests answer 503 and Meta retries them
                    log.exception("could not store %d webhook(s)", len(batch))
                    if connection is not None:
                        await connection.close()
                    connection = None
                    _settle([future for _row, future in batch], exc)
                    continue
                finally:
                    self._busy -= 1
                    if timer is not None:
                        timer.cancel()
                _settle([future for _row, future in batch], None)
                if not runs_elsewhere(self.database):  # the pump runs here: tell it whether people wait
                    jobs.note_intake(person_waiting=any(jobs.carries_messages(row[1]) for row, _f in batch))
                if inserted:
                    jobs.nudge(self.database)
        finally:
            if connection is not None:
                await connection.close()


# One statement text for every batch size (arrays, not N value tuples): psycopg parses it once and the
# server keeps it prepared. Splitting a 500-row VALUES list cost more CPU than the whole request.
# What the server can compute costs the event loop nothing: the id (``gen_random_uuid()``), the body's
# SHA-256, ``processed_at``. The arrays are sent in PostgreSQL's binary format, encoded here in one pass
# (:func:`_binary_array`): psycopg's text dumping cost ~37 µs of event-loop CPU per row (bytea as hex
# escapes, which the server then decoded), its binary list dumper ~10 µs. No ``RETURNING``: the row
# count says how many were new.
_UNNEST_SQL = (
    "INSERT INTO whatsapp_webhook_deliveries (id, created_at, dedupe_key, body_sha256, body, tenant_id, channel_id,"
    " state, problem, processed_at) SELECT gen_random_uuid(), %b::timestamptz, u.dedupe_key,"
    " encode(sha256(u.body), 'hex'), u.body, u.tenant_id, u.channel_id, u.state, u.problem,"
    " CASE WHEN u.state <> 'received' THEN %b::timestamptz END"
    " FROM unnest(%b::text[], %b::bytea[], %b::uuid[], %b::uuid[], %b::text[], %b::text[])"
    " AS u(dedupe_key, body, tenant_id, channel_id, state, problem)"
    " ON CONFLICT (dedupe_key) DO NOTHING"
)
_TEXT_OID, _BYTEA_OID, _UUID_OID = 25, 17, 2950
_ARRAY_HEAD = struct.Struct("!iiIii")  # dimensions, has nulls, element type, length, lower bound
_LENGTH = struct.Struct("!i")
_NULL = _LENGTH.pack(-1)


class _BinaryArray(bytes):
    """A one-dimensional array already in PostgreSQL's binary wire format."""


class _TextArray(_BinaryArray):
    pass


class _ByteaArray(_BinaryArray):
    pass


class _UuidArray(_BinaryArray):
    pass


def _binary_array(kind: type[_BinaryArray], element_oid: int, items: Sequence[bytes | None]) -> _BinaryArray:
    parts: list[bytes] = [b""]
    has_null = 0
    for item in items:
        if item is None:
            parts.append(_NULL)
            has_null = 1
        else:
            parts.append(_LENGTH.pack(len(item)))
            parts.append(item)
    parts[0] = _ARRAY_HEAD.pack(1, has_null, element_oid, len(items), 1)
    return kind(b"".join(parts))


def _register_array_dumpers(connection: Any) -> None:
    """Teaches ``connection`` to send the pre-encoded arrays as they are (binary, with their type)."""
    from psycopg.adapt import Dumper
    from psycopg.pq import Format

    for kind, oid in ((_TextArray, 1009), (_ByteaArray, 1001), (_UuidArray, 2951)):
        dumper = type(f"{kind.__name__}Dumper", (Dumper,), {"format": Format.BINARY, "oid": oid,
                                                            "dump": lambda self, obj: obj})
        connection.adapters.register_dumper(kind, dumper)


def _unnest_columns(batch: Sequence[tuple[Any, ...]]) -> list[Any]:
    """Parameters of ``_UNNEST_SQL`` from ``(dedupe_key, body, tenant, channel, state, problem)`` rows;
    a key twice in one batch is kept once (``ON CONFLICT`` cannot see rows of its own statement)."""
    now = utcnow()
    unique = list({row[0]: row for row in batch}.values())
    return [
        now, now,
        _binary_array(_TextArray, _TEXT_OID, [r[0].encode() for r in unique]),
        _binary_array(_ByteaArray, _BYTEA_OID, [r[1] for r in unique]),
        _binary_array(_UuidArray, _UUID_OID, [r[2].bytes for r in unique]),
        _binary_array(_UuidArray, _UUID_OID, [r[3].bytes for r in unique]),
        _binary_array(_TextArray, _TEXT_OID, [r[4].encode() for r in unique]),
        _binary_array(_TextArray, _TEXT_OID, [None if r[5] is None else r[5].encode() for r in unique]),
    ]


# Rows per statement: powers of two, so a handful of statement texts serve every batch size (SQLite parses
# each once and keeps it in its statement cache). One statement of many rows, not ``executemany`` of
# one-row statements: each statement releases and retakes the GIL once, and each retake waits for the
# event loop to let go of it (up to the 5 ms switch interval), so a 30-row executemany spent most of
# its time waiting for the GIL, not writing.
_CHUNK_SIZES = (64, 32, 16, 8, 4, 2, 1)


def _chunks(count: int) -> list[tuple[int, int]]:
    """``(start, size)`` of the statements that insert ``count`` rows, largest first."""
    chunks, start = [], 0
    for size in _CHUNK_SIZES:
        while count - start >= size:
            chunks.append((start, size))
            start += size
    return chunks


@functools.cache
def _insert_sql(mark: str, rows: int) -> str:
    row = f"({', '.join([mark] * len(_COLUMNS))})"
    return (f"INSERT INTO whatsapp_webhook_deliveries ({', '.join(_COLUMNS)}) VALUES "
            f"{', '.join([row] * rows)} ON CONFLICT (dedupe_key) DO NOTHING")


_COLUMNS = ("id", "created_at", "dedupe_key", "body_sha256", "body", "tenant_id", "channel_id", "state", "problem",
            "processed_at")


def _settle(futures: list[asyncio.Future[None]], error: BaseException | None) -> None:
    for future in futures:
        if future.done():
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)


# --------------------------------------------------------------------------- plumbing per app


_STATE_LOCK = threading.Lock()


def keyring_of(state: Any) -> ChannelKeyring:
    keyring: ChannelKeyring | None = getattr(state, "whatsapp_keyring", None)
    if keyring is None:
        with _STATE_LOCK:
            keyring = getattr(state, "whatsapp_keyring", None)
            if keyring is None:
                keyring = state.whatsapp_keyring = ChannelKeyring(state.database)
    return keyring


Writer = DeliveryWriter | AsyncPgWriter


def writer_of(state: Any) -> Writer:
    """The app's writer: threaded on SQLite, on the running event loop on PostgreSQL."""
    writer: Writer | None = getattr(state, "whatsapp_writer", None)
    if isinstance(writer, AsyncPgWriter) and writer.loop is not asyncio.get_running_loop():
        writer = None  # the app is served by another loop now (a new test client): start afresh
    if writer is None:
        with _STATE_LOCK:
            writer = getattr(state, "whatsapp_writer", None)
            if writer is None or (isinstance(writer, AsyncPgWriter)
                                  and writer.loop is not asyncio.get_running_loop()):
                database: Database = state.database
                writer = state.whatsapp_writer = (
                    DeliveryWriter(database) if database.is_sqlite else AsyncPgWriter(database)
                )
    return writer


async def shutdown(app: Any) -> None:
    """Stops the writer (called from the server's lifespan)."""
    writer: Writer | None = getattr(app.state, "whatsapp_writer", None)
    app.state.whatsapp_writer = None
    if isinstance(writer, AsyncPgWriter):
        await writer.aclose()
    elif writer is not None:
        await asyncio.to_thread(writer.close)


# --------------------------------------------------------------------------- GET: the handshake


@router.get(PATH, response_class=PlainTextResponse)
async def handshake(request: Request) -> Response:
    """Meta's subscription check: echo ``hub.challenge`` when ``hub.verify_token`` is one of ours."""
    params = request.query_params
    mode, token, challenge = params.get("hub.mode"), params.get("hub.verify_token"), params.get("hub.challenge")
    if mode != "subscribe" or not token or challenge is None:
        return PlainTextResponse("forbidden", status_code=403)
    keyring = keyring_of(request.app.state)
    matched = await run_in_threadpool(keyring.match_verify_token, token, refresh=False)
    if not matched:
        matched = await run_in_threadpool(keyring.match_verify_token, token, refresh=True)
    if not matched:
        return PlainTextResponse("forbidden", status_code=403)
    return PlainTextResponse(challenge)


# --------------------------------------------------------------------------- POST: raw ASGI intake


def _response(status: int, body: bytes, content_type: bytes) -> tuple[Message, Message]:
    start = {"type": "http.response.start", "status": status,
             "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]}
    return start, {"type": "http.response.body", "body": body}


def _error(status: int, message: str) -> tuple[Message, Message]:
    body = json.dumps({"error": {"code": f"webhook_{status}", "message": message}}, ensure_ascii=False).encode()
    return _response(status, body, b"application/json")


_OK = _response(200, b"OK", b"text/plain; charset=utf-8")
_TOO_LARGE = _error(413, "corpo maior que 1 MiB")
_UNSIGNED = _error(401, "assinatura X-Hub-Signature-256 ausente")
_FORGED = _error(403, "assinatura inválida")
_UNAVAILABLE = _error(503, "não foi possível gravar o webhook; tente de novo")


async def _answer(send: Send, response: tuple[Message, Message]) -> None:
    await send(response[0])
    await send(response[1])


class WebhookIntake:
    """Raw ASGI middleware: ``POST /webhooks/whatsapp`` is answered here; everything else goes on to
    ``app``. The app's ``state`` (database, keyring, writer) is found through ``scope["app"]``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._cached: tuple[Any, asyncio.AbstractEventLoop, ChannelKeyring, Writer] | None = None

    def _plumbing(self, state: Any) -> tuple[ChannelKeyring, Writer]:
        """The app's keyring and writer, looked up once per app and event loop (each lookup through
        Starlette's ``State`` costs ~0.5 µs; the hot path has ~30 µs in all)."""
        loop = asyncio.get_running_loop()
        cached = self._cached
        if cached is not None and cached[0] is state and cached[1] is loop and cached[3].open:
            return cached[2], cached[3]
        keyring, writer = keyring_of(state), writer_of(state)
        self._cached = (state, loop, keyring, writer)
        return keyring, writer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        await _answer(send, await self._post(scope, receive))

    async def _post(self, scope: Scope, receive: Receive) -> tuple[Message, Message]:
        declared: bytes | None = None
        header: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = value
            elif name.lower() == b"x-hub-signature-256":  # servers lower-case names; be sure anyway
                header = value
        if declared is not None and (not declared.strip().isdigit() or int(declared) > MAX_BODY_BYTES):
            return _TOO_LARGE
        body = await _read_limited(receive)
        if body is None:
            return _TOO_LARGE
        if header is None or not header.strip():
            return _UNSIGNED
        digits = signature_bytes(header)
        if digits is None:
            return _FORGED
        state = scope["app"].state
        keyring, writer = self._plumbing(state)
        if not keyring.is_fresh():
            await run_in_threadpool(keyring.load)
        matched = keyring.match(body, digits)
        if matched is None:  # maybe a channel added since the last load (refreshed at most once a second)
            if keyring.may_refresh():
                await run_in_threadpool(keyring.load)
                matched = keyring.match(body, digits)
            if matched is None:
                return _FORGED
        channel, digest = matched
        # Not parsed here: a signed body that is not JSON is stored as it came and answered 200 like any
        # other (Meta stops retrying); the pump, which parses every body anyway, marks it ``unparseable``
        # with the parser's error and logs it. Parsing it here as well cost the event loop ~5 µs a webhook.
        try:
            await writer.store(body, channel, digest, state="received", problem=None)
        except Exception:
            return _UNAVAILABLE
        return _OK


async def _read_limited(receive: Receive) -> bytes | None:
    """The whole body, or ``None`` once it grows past ``MAX_BODY_BYTES`` (chunked bodies are counted)."""
    message = await receive()
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        return body if len(body) <= MAX_BODY_BYTES else None
    chunks = bytearray(body)
    while True:
        if message["type"] == "http.disconnect":
            return None
        if len(chunks) > MAX_BODY_BYTES:
            return None
        if not message.get("more_body", False):
            return bytes(chunks)
        message = await receive()
        chunks += message.get("body", b"")


def install(app: Any) -> None:
    """Puts :class:`WebhookIntake` in front of ``app``'s routes (a FastAPI/Starlette app)."""
    app.add_middleware(WebhookIntake)
