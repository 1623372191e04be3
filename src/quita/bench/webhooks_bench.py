"""``quita bench webhooks``: signed status webhooks per second acknowledged by a real server process.

The server is Quita's own app (``create_app``) under uvicorn in a separate process, exactly as
``quita serve`` runs it, plus one extra route, ``POST /_bench/bare``, which reads the body and answers
200 — the baseline: same process, stack and request size, no signature check and no database. Every
webhook body is distinct (a new wamid), so each one costs a durable write; only 200 answers count,
and afterwards the stored rows are counted to check that every acknowledged webhook is in the database.

The load generator is a small keep-alive HTTP/1.1 client on raw asyncio streams (httpx would be the
bottleneck on this machine), run in the benchmark process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import sqlalchemy as sa

from quita.bench.processes import ServerProcess
from quita.whatsapp.domain.signature import compute_signature

PHONE_ID, WABA_ID, SECRET = "100000000000077", "200000000000077", "bench-app-secret"
ROUNDS = 2
# Requests prepared per second of measurement (above what this machine reaches: 35,000 bare, 16,000 webhooks)
MAX_WEBHOOKS_PER_S, MAX_BARE_PER_S = 25_000, 60_000


def bench_app() -> Any:
    """The served app: Quita's, plus the bare baseline (uvicorn ``--factory`` target).

    The baseline is mounted exactly like the webhook intake (a raw ASGI middleware in front of the
    FastAPI app), so both go through the same server, event loop, HTTP parser and app object; the bare
    one only reads the body and answers 200."""
    from quita.server.app import create_app

    app = create_app()
    app.add_middleware(BareEndpoint)
    return app


class BareEndpoint:
    """``POST /_bench/bare``: read the whole body, answer ``200 OK``; anything else goes on."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != "/_bench/bare":
            await self.app(scope, receive, send)
            return
        more = True
        while more:
            message = await receive()
            more = message.get("more_body", False)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"OK"})


@dataclass(frozen=True)
class Result:
    name: str
    requests: int
    seconds: float
    errors: int
    stored: int | None = None
    cpu: float = 0.0  # CPU seconds of the server process(es) during these rounds

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        """Server CPU per answered request: unlike the rate, barely moved by other jobs on the machine."""
        return 1000 * self.cpu / self.requests if self.requests else 0.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _bodies(count: int) -> list[bytes]:
    base = int(time.time())
    bodies = []
    for n in range(count):
        value = {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "5511999990077", "phone_number_id": PHONE_ID},
            "statuses": [{
                "id": f"wamid.BENCH{uuid.uuid4().hex}", "status": ("sent", "delivered", "read")[n % 3],
                "timestamp": str(base + n // 1000), "recipient_id": "5511987654321",
                "biz_opaque_callback_data": str(uuid.uuid4()),
                "pricing": {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "utility"},
            }],
        }
        body = {"object": "whatsapp_business_account",
                "entry": [{"id": WABA_ID, "changes": [{"field": "messages", "value": value}]}]}
        bodies.append(json.dumps(body, separators=(",", ":")).encode())
    return bodies


def _request(path: str, body: bytes, port: int, secret: str = SECRET) -> bytes:
    """The whole request, signed in advance: the client spends no CPU on HMACs while measuring."""
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nX-Hub-Signature-256: {compute_signature(body, secret)}\r\n\r\n")
    return head.encode() + body


class _Connection(asyncio.Protocol):
    """One keep-alive connection sending one request at a time (as Meta does), parsing only the status
    line and ``Content-Length`` of each answer: a protocol, not streams, so the client stays cheap."""

    def __init__(self, requests: list[bytes], start: int, step: int, deadline: float, counts: dict[str, int],
                 done: asyncio.Future[None]) -> None:
        self.requests, self.index, self.step, self.deadline = requests, start, step, deadline
        self.counts, self.done = counts, done
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self._next()

    def _next(self) -> None:
        assert self.transport is not None
        if self.index >= len(self.requests) or time.monotonic() >= self.deadline:
            self.transport.close()
            return
        self.transport.write(self.requests[self.index])
        self.index += self.step

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end]
            length = _content_length(head)
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length:]
            self.counts["ok" if head[9:12] == b"200" else "errors"] += 1
            self._next()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        if line[:15].lower() == b"content-length:":
            return int(line[15:])
    return 0


async def _load(port: int, requests: list[bytes], connections: int, seconds: float) -> tuple[int, int, float]:
    loop = asyncio.get_running_loop()
    counts = {"ok": 0, "errors": 0}
    started = time.monotonic()
    deadline = started + seconds
    finished: list[asyncio.Future[None]] = []
    for i in range(connections):
        done: asyncio.Future[None] = loop.create_future()
        finished.append(done)
        await loop.create_connection(
            lambda i=i, done=done: _Connection(requests, i, connections, deadline, counts, done),  # type: ignore[misc]
            "127.0.0.1", port,
        )
    await asyncio.gather(*finished)
    return counts["ok"], counts["errors"], time.monotonic() - started


def _drive(port: int, requests: list[bytes], connections: int, seconds: float) -> tuple[int, int, float]:
    """Runs the load on uvloop when it is installed (it is, with ``uvicorn[standard]``): less client CPU."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover
        return asyncio.run(_load(port, requests, connections, seconds))
    return uvloop.run(_load(port, requests, connections, seconds))


def _prepare_database(url: str, data_dir: Path) -> None:
    from quita.kit.db import Database
    from quita.kit.db.migrate import upgrade
    from quita.tenant import service as tenants
    from quita.tenant.models import TenantKind
    from quita.whatsapp import service

    upgrade(url)
    database = Database(url)
    with database.transaction() as session:
        tenant = tenants.create_tenant(session, slug="bench", name="Bench", kind=TenantKind.CREDITOR, actor="bench")
        service.create_channel(session, tenant_id=tenant.id, phone_number_id=PHONE_ID, waba_id=WABA_ID,
                               access_token="bench", app_secret=SECRET, verify_token="bench", actor="bench")
    database.dispose()


def _stored(url: str) -> int:
    from quita.kit.db import Database

    database = Database(url)
    with database.engine.connect() as conn:
        count = int(conn.execute(sa.text("SELECT count(*) FROM whatsapp_webhook_deliveries")).scalar_one())
    database.dispose()
    return count


def _serve(url: str, port: int, env: dict[str, str], workers: int) -> ServerProcess:
    """The same uvicorn invocation as ``quita serve [--workers N]`` (uvloop + httptools when installed)."""
    process = ServerProcess.uvicorn(
        ["--factory", "quita.bench.webhooks_bench:bench_app", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning", "--no-access-log", "--workers", str(workers)],
        {**env, "QUITA_DATABASE_URL": url},
    )
    deadline = time.monotonic() + 120  # several processes importing the app on a busy machine
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {process.log_tail()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                wait_until_quiet(process)
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("server did not start")


def server_cpu(process: subprocess.Popen[bytes]) -> float:
    """CPU seconds (user + system) used so far by the server and its worker processes."""
    root = psutil.Process(process.pid)
    total = 0.0
    for proc in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            times = proc.cpu_times()
            total += times.user + times.system
    return total


def wait_until_quiet(process: subprocess.Popen[bytes], limit: float = 180.0) -> None:
    """Accepting connections is not the end of start-up: a process that runs jobs loads the bot's NLU
    model on a background thread (importing scikit-learn, training it when the cache is cold), which
    took the GIL and a core from the first seconds of measurement (bare and webhooks alike, 2–4× slower).
    Measure the server as it runs for hours: after that work, once it uses under 10% of a core."""
    deadline = time.monotonic() + limit
    before = server_cpu(process)
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = server_cpu(process)
        if now - before < 0.05:
            return
        before = now


def _wait_processed(url: str, limit: float = 180.0) -> None:
    """Embedded mode: the pump defers statuses during a burst and processes them once it ends (at ~300/s on
    SQLite). Left to run during the next bare round, that catching-up took the server's CPU and GIL from the
    baseline (bare's CPU per request up by half, its rate down), flattering the ratio: each bare round
    starts once the previous webhooks are processed."""
    from quita.kit.db import Database

    database = Database(url)
    deadline = time.monotonic() + limit
    try:
        while time.monotonic() < deadline:
            with database.engine.connect() as conn:
                left = conn.execute(sa.text("SELECT count(*) FROM whatsapp_webhook_deliveries"
                                            " WHERE state IN ('received', 'processing')")).scalar_one()
            if not left:
                return
            time.sleep(0.5)
    finally:
        database.dispose()
    raise RuntimeError(f"stored webhooks still unprocessed after {limit:.0f} s: the next bare round would share the CPU")


def _case(label: str, url: str, seconds: float, connections: int, env: dict[str, str],
          workers: int) -> list[Result]:
    embedded = "QUITA_BROKER_URL" not in env  # without a broker the server's own threads process the webhooks
    port = _free_port()
    # Bodies signed before the server starts (no client-side HMAC), enough that no round runs out before
    # its time: every webhook is distinct (each one a durable write); the bare requests are reused.
    bodies = _bodies(int(seconds * MAX_WEBHOOKS_PER_S) + 2000)
    webhooks = [_request("/webhooks/whatsapp", b, port) for b in bodies]
    distinct_bare = [_request("/_bench/bare", b, port) for b in bodies[:20_000]]
    bare = distinct_bare * (int(seconds * MAX_BARE_PER_S) // len(distinct_bare) + 1)
    server = _serve(url, port, env, workers)
    ok_bare = err_bare = ok_wh = err_wh = 0
    t_bare = t_wh = cpu_bare = cpu_wh = 0.0
    try:
        _drive(port, bare[-600:], connections, 1.0)  # warm-up: every worker accepts a few connections
        # Alternating halves: a change in the machine's load (other jobs) hits both cases alike.
        half, half_bare = len(webhooks) // ROUNDS, len(bare) // ROUNDS
        for n in range(ROUNDS):
            if embedded:
                _wait_processed(url)
            before = server_cpu(server)
            ok, err, spent = _drive(port, bare[n * half_bare:(n + 1) * half_bare], connections, seconds / ROUNDS)
            ok_bare, err_bare, t_bare = ok_bare + ok, err_bare + err, t_bare + spent
            middle = server_cpu(server)
            ok, err, spent = _drive(port, webhooks[n * half:(n + 1) * half], connections, seconds / ROUNDS)
            ok_wh, err_wh, t_wh = ok_wh + ok, err_wh + err, t_wh + spent
            cpu_bare, cpu_wh = cpu_bare + middle - before, cpu_wh + server_cpu(server) - middle
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:  # still draining its backlog of stored webhooks
            server.kill()
            server.wait()
    if err_bare or err_wh:  # the table counts them; the server's log says why
        print(f"{label}: {err_bare + err_wh} error answers; the server's log ends with:\n{server.log_tail()}",
              file=sys.stderr)
    stored = _stored(url)
    return [
        Result(f"bare endpoint ({label})", ok_bare, t_bare, err_bare, cpu=cpu_bare),
        Result(f"webhooks: {label}", ok_wh, t_wh, err_wh, stored, cpu=cpu_wh),
    ]


def _empty_queue(broker_url: str, queue: str) -> None:
    """The nudges the benchmark's server sent have no worker to go to: drop them with the queue's keys (on
    RabbitMQ, the queue itself and Dramatiq's delay and dead-letter queues, which every run left behind)."""
    from dramatiq.brokers.rabbitmq import RabbitmqBroker

    from quita.kit.broker import make_broker

    broker = make_broker(broker_url)
    try:
        broker.declare_queue(queue)
        broker.flush(queue)
        if isinstance(broker, RabbitmqBroker):
            for name in (queue, f"{queue}.DQ", f"{queue}.XQ"):
                broker.channel.queue_delete(name)
    finally:
        broker.close()


def run(databases: list[str], postgres_url: str, seconds: float, connections: int,
        workers: int = 1, broker_url: str | None = None) -> list[Result]:
    """Without ``broker_url`` the server is ``quita serve`` in embedded mode: the webhook pump runs in its
    threads, in the same process as the receiver. With it, the scaled mode: the server only stores and
    sends a nudge to the job queue (a queue of its own, emptied afterwards); processing is ``quita worker``'s
    work on other hosts, and none runs during the measurement."""
    from cryptography.fernet import Fernet

    from quita.bot.nlu.classifier import cache_dir as nlu_cache_dir

    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="quita-bench-webhooks-") as tmp:
        # The embedded dispatcher (SQLite) has nothing to send in this database; left on, its polling
        # competes with the receiver for SQLite's write lock (measured: 48/s instead of 704/s).
        # The NLU model's cache stays where the user's is (a deployment keeps it across restarts): a
        # fresh data directory would retrain it at every run, minutes of CPU on a shared machine.
        env = {**os.environ, "QUITA_SECRET_KEY": Fernet.generate_key().decode(), "QUITA_DATA_DIR": tmp,
               "QUITA_LOG_LEVEL": "warning", "QUITA_EMBEDDED_DISPATCH": "0",
               "QUITA_NLU_CACHE_DIR": str(nlu_cache_dir())}
        os.environ["QUITA_SECRET_KEY"] = env["QUITA_SECRET_KEY"]
        for name in databases:
            if name == "sqlite":
                url = f"sqlite:///{tmp}/bench.db"
                _prepare_database(url, Path(tmp))
                results += _case("SQLite, embutido (jobs no servidor)", url, seconds, connections, env, 1)  # one writer: one process
            else:
                schema = f"quita_bench_{uuid.uuid4().hex[:8]}"
                admin = sa.create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://", 1),
                                         isolation_level="AUTOCOMMIT")
                with admin.connect() as conn:
                    conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
                separator = "&" if "?" in postgres_url else "?"
                url = f"{postgres_url}{separator}options=-csearch_path%3D{schema}"
                try:
                    _prepare_database(url, Path(tmp))
                    label = "PostgreSQL" if workers == 1 else f"PostgreSQL, {workers} processos"
                    if broker_url:
                        queue = f"quita-bench-{uuid.uuid4().hex[:8]}"
                        label += ", escalado (jobs na fila)"
                        try:
                            results += _case(label, url, seconds, connections,
                                             {**env, "QUITA_BROKER_URL": broker_url, "QUITA_JOB_QUEUE": queue},
                                             workers)
                        finally:
                            _empty_queue(broker_url, queue)
                    else:
                        label += ", embutido (jobs no servidor)"
                        results += _case(label, url, seconds, connections, env, workers)
                finally:
                    with admin.connect() as conn:
                        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
                    admin.dispose()
    return results
