"""``/webhooks/whatsapp``: Meta's handshake and the signed POST receiver.

A POST is answered 200 only after its raw bytes are committed, so a crash can never lose an
acknowledged webhook (Meta retries anything else). Processing happens later, in a job. To keep up with
Meta's bursts without one transaction per webhook, concurrent POSTs are *group-committed*: a writer
thread drains whatever arrived meanwhile and stores it in one transaction; each request is answered
when the commit holding its body is done. Redeliveries are absorbed by the unique ``dedupe_key`` (the
verified HMAC of the body; ``INSERT … ON CONFLICT DO NOTHING``), so a duplicate is recognised by the
database, not by a check-then-set race.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import queue
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from quita.kit.db import Database, utcnow
from quita.whatsapp import jobs
from quita.whatsapp.domain.signature import (
    PREFIX,
    BadSignature,
    MissingSignature,
    compute_signature,
    verify_signature,
)
from quita.whatsapp.models import WebhookDelivery, WhatsAppChannel
from quita.whatsapp.service import app_secret, verify_token

log = logging.getLogger("quita.whatsapp.webhooks")
router = APIRouter(tags=["webhooks"], include_in_schema=True)

MAX_BODY_BYTES = 1 << 20  # 1 MiB: Meta's payloads are a few KiB; anything this big is not Meta
SECRETS_TTL_S = 30.0
MISS_REFRESH_MIN_S = 1.0  # a flood of forged POSTs must not turn into a flood of queries
MAX_BATCH = 500  # × 10 columns stays under SQLite's 32,766 bound parameters


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
        self._loaded_at = -1e9
        self._lock = threading.Lock()

    def _load(self) -> None:
        with self.database.transaction() as session:
            channels = session.scalars(select(WhatsAppChannel)).all()
            keys = [ChannelKeys(c.id, c.tenant_id, app_secret(c), verify_token(c)) for c in channels]
        with self._lock:
            self._keys, self._loaded_at = keys, time.monotonic()

    def keys(self, *, stale_after: float = SECRETS_TTL_S) -> list[ChannelKeys]:
        if time.monotonic() - self._loaded_at > stale_after:
            self._load()
        return self._keys

    def is_fresh(self) -> bool:
        return time.monotonic() - self._loaded_at <= SECRETS_TTL_S

    def load(self) -> None:
        self._load()

    def invalidate(self) -> None:
        self._loaded_at = -1e9

    def match_signature(self, body: bytes, header: str, *, refresh: bool) -> ChannelKeys | None:
        """The channel whose app secret signs ``body`` (each compared in constant time)."""
        keys = self.keys(stale_after=MISS_REFRESH_MIN_S if refresh else SECRETS_TTL_S)
        seen: set[str] = set()
        for key in keys:
            if key.app_secret in seen:
                continue
            seen.add(key.app_secret)
            try:
                verify_signature(body, header, key.app_secret)
            except BadSignature:
                continue
            return key
        return None

    def match_verify_token(self, token: str, *, refresh: bool) -> bool:
        keys = self.keys(stale_after=MISS_REFRESH_MIN_S if refresh else SECRETS_TTL_S)
        given = token.encode("utf-8")
        found = False
        for key in keys:
            found |= hmac.compare_digest(given, key.verify_token.encode("utf-8"))
        return found


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
    ran goes into the next transaction. Each request's future resolves after *its* commit."""

    def __init__(self, database: Database, max_batch: int = MAX_BATCH) -> None:
        self.database = database
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="quita-webhook-writer", daemon=True)
        self._thread.start()

    async def store(self, body: bytes, channel: ChannelKeys, *, state: str, problem: str | None) -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        key = compute_signature(body, channel.app_secret)[len(PREFIX):]
        self._queue.put(_Pending(body, key, channel.channel_id, channel.tenant_id, state, problem, loop, future))
        await future

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            try:
                inserted = self._write(batch)
            except Exception as exc:  # the requests answer 503 and Meta retries them
                log.exception("could not store %d webhook(s)", len(batch))
                for pending in batch:
                    pending.loop.call_soon_threadsafe(_fail, pending.future, exc)
            else:
                for pending in batch:
                    pending.loop.call_soon_threadsafe(_done, pending.future)
                jobs.note_intake()
                if inserted:
                    jobs.nudge(self.database)
            if stop:
                return

    def _write(self, batch: Sequence[_Pending]) -> int:
        """One multi-row ``INSERT … ON CONFLICT DO NOTHING RETURNING id`` through the driver (SQLAlchemy's
        per-row work would cost more than the database's), values passed through the column types."""
        now = utcnow()
        rows: dict[str, tuple[Any, ...]] = {}
        for p in batch:
            if p.dedupe_key not in rows:
                rows[p.dedupe_key] = (
                    uuid.uuid4(), now, p.dedupe_key, hashlib.sha256(p.body).hexdigest(), p.body, p.tenant_id,
                    p.channel_id, p.state, p.problem, now if p.state != "received" else None,
                )
        with self.database.transaction() as session:
            connection = session.connection()
            dialect = connection.dialect
            table: Any = WebhookDelivery.__table__
            processors = [table.c[name].type._cached_bind_processor(dialect) for name in _COLUMNS]
            values: list[Any] = []
            for row in rows.values():
                values.extend(v if proc is None or v is None else proc(v) for proc, v in zip(processors, row, strict=True))
            mark = "%s" if dialect.name == "postgresql" else "?"
            one = "(" + ", ".join([mark] * len(_COLUMNS)) + ")"
            sql = (f"INSERT INTO whatsapp_webhook_deliveries ({', '.join(_COLUMNS)}) VALUES "
                   f"{', '.join([one] * len(rows))} ON CONFLICT (dedupe_key) DO NOTHING RETURNING id")
            raw: Any = connection.connection.dbapi_connection
            cursor = raw.cursor()
            try:
                cursor.execute(sql, values)
                inserted = len(cursor.fetchall())
            finally:
                cursor.close()
        return inserted


_COLUMNS = ("id", "created_at", "dedupe_key", "body_sha256", "body", "tenant_id", "channel_id", "state", "problem",
            "processed_at")


def _done(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _fail(future: asyncio.Future[None], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


# --------------------------------------------------------------------------- plumbing per app


_STATE_LOCK = threading.Lock()


def _keyring(request: Request) -> ChannelKeyring:
    state = request.app.state
    keyring: ChannelKeyring | None = getattr(state, "whatsapp_keyring", None)
    if keyring is None:
        with _STATE_LOCK:
            keyring = getattr(state, "whatsapp_keyring", None)
            if keyring is None:
                keyring = state.whatsapp_keyring = ChannelKeyring(state.database)
    return keyring


def _writer(request: Request) -> DeliveryWriter:
    state = request.app.state
    writer: DeliveryWriter | None = getattr(state, "whatsapp_writer", None)
    if writer is None:
        with _STATE_LOCK:
            writer = getattr(state, "whatsapp_writer", None)
            if writer is None:
                writer = state.whatsapp_writer = DeliveryWriter(state.database)
    return writer


def shutdown(app: Any) -> None:
    """Stops the writer thread (called from the server's lifespan)."""
    writer: DeliveryWriter | None = getattr(app.state, "whatsapp_writer", None)
    if writer is not None:
        writer.close()
        app.state.whatsapp_writer = None


def _reject(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": f"webhook_{status}", "message": message}}, status_code=status)


# --------------------------------------------------------------------------- routes


@router.get("/webhooks/whatsapp", response_class=PlainTextResponse)
async def handshake(request: Request) -> Response:
    """Meta's subscription check: echo ``hub.challenge`` when ``hub.verify_token`` is one of ours."""
    params = request.query_params
    mode, token, challenge = params.get("hub.mode"), params.get("hub.verify_token"), params.get("hub.challenge")
    if mode != "subscribe" or not token or challenge is None:
        return PlainTextResponse("forbidden", status_code=403)
    keyring = _keyring(request)
    matched = await run_in_threadpool(keyring.match_verify_token, token, refresh=False)
    if not matched:
        matched = await run_in_threadpool(keyring.match_verify_token, token, refresh=True)
    if not matched:
        return PlainTextResponse("forbidden", status_code=403)
    return PlainTextResponse(challenge)


async def _read_limited(request: Request) -> bytes | None:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.strip().isdigit() or int(declared) > MAX_BODY_BYTES):
        return None
    chunks = bytearray()
    async for chunk in request.stream():
        chunks += chunk
        if len(chunks) > MAX_BODY_BYTES:
            return None
    return bytes(chunks)


@router.post("/webhooks/whatsapp")
async def receive(request: Request) -> Response:
    body = await _read_limited(request)
    if body is None:
        return _reject(413, "corpo maior que 1 MiB")
    header = request.headers.get("x-hub-signature-256")  # Starlette headers are case-insensitive
    if header is None or not header.strip():
        return _reject(401, "assinatura X-Hub-Signature-256 ausente")
    keyring = _keyring(request)
    if not keyring.is_fresh():
        await run_in_threadpool(keyring.load)
    try:
        channel = keyring.match_signature(body, header, refresh=False)
        if channel is None:
            channel = await run_in_threadpool(keyring.match_signature, body, header, refresh=True)
    except MissingSignature:
        return _reject(401, "assinatura X-Hub-Signature-256 ausente")
    if channel is None:
        return _reject(403, "assinatura inválida")
    state, problem = "received", None
    try:
        json.loads(body)
    except ValueError as exc:  # signed but not JSON: keep it for a human, stop Meta's retries
        state, problem = "unparseable", f"corpo assinado não é JSON: {exc}"
        log.warning("signed webhook body is not JSON (stored as unparseable): %s", exc)
    try:
        await _writer(request).store(body, channel, state=state, problem=problem)
    except Exception:
        return _reject(503, "não foi possível gravar o webhook; tente de novo")
    return PlainTextResponse("OK")
