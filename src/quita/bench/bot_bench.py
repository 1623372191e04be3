"""``quita bench bot``: how long a debtor waits for the bot's answer, under 50 concurrent conversations.

Latency = from the moment Quita's webhook receiver gets the POST carrying the debtor's message to the moment
the bot's reply request arrives at the WhatsApp simulator. Both moments are taken at the outermost ASGI
layer of each server (a middleware wrapped around Quita's app, which itself fronts the webhook intake, and
one wrapped around the simulator), with the wall clock shared by both processes.

Quita runs as ``quita serve`` does (its app under uvicorn in a separate process, a SQLite file or, with
``--db postgresql``, a throw-away PostgreSQL schema, and the in-process job runner); the simulator runs in a process of its own too, as Meta is elsewhere in production (in the driver's
process, next to 50 threads, its clock read late); the conversations are driven from here through the
simulator's control API (``/_sim/inbound``), as the phone page does: each conversation sends its next message
only once the answer to the previous one arrived (a person reads before typing), so exactly ``conversations``
messages are in flight. The path measured is the whole of issue 6's: signed webhook stored (group commit),
processing job (normalise, conversation record, publish), ``bot.reply`` job (NLU, dialog, state
compare-and-set), Graph API send.

Baseline, measured in the same run with the same processes and driver: the simulator's webhook pointed at
``/_bench/echo``, a bare endpoint in Quita's server process that answers 200 and at once posts a text reply to
the simulator (no database, no job, no NLU): the floor that HTTP, the two servers and the clock impose.
"""

from __future__ import annotations

import json
import math
import os
import random
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

from quita.bench.processes import ServerProcess

PHONE_ID, WABA_ID, TOKEN, SECRET = "100000000000088", "200000000000088", "bench-bot-token", "bench-bot-secret"
TARGET_P99_MS = 300.0
# One conversation's turns: they keep it going without ever reaching a terminal step (no agreement, no
# handoff), and every answer is exactly one message, so the first reply request is the answer.
TURNS: tuple[dict[str, Any], ...] = (
    {"type": "button", "payload": "IDENTIDADE_CONFIRMADA", "text": "Sou eu"},
    {"type": "text", "text": "529"},
    {"type": "text", "text": "da pra fazer em 6x?"},
    {"type": "text", "text": "quanto eu devo?"},
    {"type": "text", "text": "consigo pagar 150 por mes"},
    {"type": "text", "text": "qual o valor atualizado da divida?"},
)


# --------------------------------------------------------------------------- Quita's side (server process)


def bench_app() -> Any:
    """Quita's app (uvicorn ``--factory`` target) with the receipt clock and the echo baseline in front."""
    from quita.server.app import create_app

    app = create_app()
    app.add_middleware(ReceiptClock)
    return app



async def _read_body(receive: Any) -> bytes:
    """The whole request body from an ASGI ``receive`` (it may come in several messages)."""
    chunks: list[bytes] = []
    more = True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)

class ReceiptClock:
    """Outermost ASGI layer: notes when each inbound wamid's webhook POST arrived, then passes the request
    on untouched; ``GET /_bench/receipts`` returns the notes; ``POST /_bench/echo`` is the baseline."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.receipts: dict[str, float] = {}
        self.client: httpx.AsyncClient | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path == "/_bench/receipts":
            await _answer(send, json.dumps(self.receipts).encode())
            return
        if scope["method"] != "POST" or path not in ("/webhooks/whatsapp", "/_bench/echo"):
            await self.app(scope, receive, send)
            return
        arrived = time.time()
        body = await _read_body(receive)
        inbound = _inbound_messages(body)
        for wamid, _ in inbound:
            self.receipts.setdefault(wamid, arrived)
        if path == "/_bench/echo":
            await _answer(send, b"OK")
            for _, sender in inbound:
                await self._echo(sender)
            return
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _echo(self, to: str) -> None:
        if self.client is None:
            self.client = httpx.AsyncClient(timeout=10)
        await self.client.post(
            f"{os.environ['QUITA_BENCH_SIM_URL']}/v25.0/{PHONE_ID}/messages",
            headers={"Authorization": f"Bearer {TOKEN}"},
            json={"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": "eco"}},
        )


def _inbound_messages(body: bytes) -> list[tuple[str, str]]:
    try:
        payload = json.loads(body)
        return [
            (str(m["id"]), str(m["from"]))
            for entry in payload.get("entry", ())
            for change in entry.get("changes", ())
            for m in change.get("value", {}).get("messages", ())
        ]
    except (ValueError, KeyError, TypeError, AttributeError):
        return []


async def _answer(send: Any, body: bytes) -> None:
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})


# --------------------------------------------------------------------------- the simulator's side (this process)


class ArrivalClock:
    """Outermost ASGI layer of the simulator: notes when each reply request to a number arrived."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.arrivals: dict[str, list[float]] = defaultdict(list)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/_bench/arrivals":
            with self.lock:
                notes = json.dumps(self.arrivals).encode()
            await _answer(send, notes)
            return
        if scope["type"] != "http" or scope["method"] != "POST" or not scope["path"].endswith("/messages"):
            await self.app(scope, receive, send)
            return
        arrived = time.time()
        body = await _read_body(receive)
        try:
            to = str(json.loads(body).get("to", ""))
        except ValueError:
            to = ""
        if to:
            with self.lock:
                self.arrivals[to[-8:]].append(arrived)
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)



def sim_app() -> Any:
    """The simulator (uvicorn ``--factory`` target, its own process, as in production) with the arrival clock
    in front; its configuration comes from ``QUITA_BENCH_SIM_CONFIG`` (JSON)."""
    from quita.simulator.app import create_app as create_simulator
    from quita.simulator.whatsapp.schemas import SimConfig

    return ArrivalClock(create_simulator(SimConfig.model_validate_json(os.environ["QUITA_BENCH_SIM_CONFIG"])))


class ArrivalMirror:
    """The driver's copy of the simulator's arrival notes, refreshed by one polling thread. The polling only
    decides when a simulated person reads an answer (they then think for seconds); the latency itself is
    taken from the simulator's own clock."""

    POLL_S = 0.02

    def __init__(self, sim_url: str) -> None:
        self.sim_url = sim_url
        self.arrivals: dict[str, list[float]] = defaultdict(list)
        self.changed = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name="bench-arrivals", daemon=True)

    def __enter__(self) -> ArrivalMirror:
        self.refresh()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def refresh(self, client: httpx.Client | None = None) -> None:
        notes = (client or httpx).get(f"{self.sim_url}/_bench/arrivals", timeout=10).json()
        with self.changed:
            self.arrivals.update(notes)
            self.changed.notify_all()

    def _poll(self) -> None:
        with httpx.Client() as client:
            while not self._stop.wait(self.POLL_S):
                try:
                    self.refresh(client)
                except httpx.HTTPError:
                    continue

    def wait_for(self, number: str, count: int, timeout: float) -> float | None:
        """The arrival time of the ``count``-th reply to ``number`` (1-based), or None after ``timeout``."""
        key = number[-8:]
        deadline = time.monotonic() + timeout
        with self.changed:
            while len(self.arrivals[key]) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.changed.wait(left)
            return self.arrivals[key][count - 1]


# --------------------------------------------------------------------------- the run


@dataclass
class Case:
    name: str
    latencies_ms: list[float] = field(default_factory=list)
    lost: int = 0
    unmeasured: int = 0
    seconds: float = 0.0
    server_cpu_s: float = float("nan")  # CPU time (user + system) Quita's server process spent during the case

    @property
    def cpu_ms_per_reply(self) -> float:
        """Load-independent cost: on a shared machine latency mostly measures the neighbours, CPU does not."""
        return self.server_cpu_s * 1000 / len(self.latencies_ms) if self.latencies_ms else float("nan")

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]  # nearest rank

    @property
    def mean(self) -> float:
        return statistics.fmean(self.latencies_ms) if self.latencies_ms else float("nan")


def _process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (Linux ``/proc``; NaN elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _prepare(url: str, sim_url: str, phones: list[str]) -> None:
    """Tenant, creditor, channel (pointing at the simulator) and one debtor with an overdue debt per phone.
    Every CPF starts with 529, the identity answer the conversations give."""
    import datetime as dt

    from quita.br.phones import match_key
    from quita.kit.db import Database
    from quita.kit.db.migrate import upgrade
    from quita.portfolio.models import (
        ContactKind,
        ContactPoint,
        Debt,
        Debtor,
        DebtStatus,
        DocumentKind,
        Provenance,
    )
    from quita.tenant import service as tenants
    from quita.tenant.models import TenantKind
    from quita.whatsapp import service as whatsapp

    upgrade(url)
    database = Database(url)
    with database.transaction() as session:
        tenant = tenants.create_tenant(session, slug="bench-bot", name="Bench bot", kind=TenantKind.CREDITOR,
                                       actor="bench")  # fmt: skip
        creditor = tenants.add_creditor(
            session, tenant, legal_name="Credor Bench S.A.", cnpj="11222333000181", address="Rua Um, 1, Centro",
            city="São Paulo", uf="SP", actor="bench",
        )  # fmt: skip
        whatsapp.create_channel(session, tenant_id=tenant.id, phone_number_id=PHONE_ID, waba_id=WABA_ID,
                                access_token=TOKEN, app_secret=SECRET, verify_token="bench", actor="bench",
                                graph_url=sim_url)  # fmt: skip
        for n, phone in enumerate(phones):
            debtor = Debtor(tenant_id=tenant.id, name=f"Devedor {n}", document_kind=DocumentKind.CPF,
                            document=_cpf_529(n))  # fmt: skip
            session.add(debtor)
            session.flush()
            session.add(ContactPoint(tenant_id=tenant.id, debtor_id=debtor.id, kind=ContactKind.PHONE,
                                     value=f"+{phone}", match_key=match_key(phone), provenance=Provenance.CONTRACT))  # fmt: skip
            session.add(Debt(tenant_id=tenant.id, debtor_id=debtor.id, external_id=f"BENCH-{n}",
                             creditor_id=creditor.id, principal=Decimal("1100.00"),
                             due_date=dt.date.today() - dt.timedelta(days=95), status=DebtStatus.OPEN))  # fmt: skip
    database.dispose()


def _phone(group: int, n: int) -> str:
    """A São Paulo mobile (13 digits, modern wa_id) whose last 8 digits are unique per group and ``n``."""
    return f"55119{group}{n:07d}"


def _cpf_529(n: int) -> str:
    digits = [int(c) for c in f"529{n:06d}"]
    for size in (9, 10):
        total = sum(d * w for d, w in zip(digits, range(size + 1, 1, -1), strict=True))
        digits.append(0 if total % 11 < 2 else 11 - total % 11)
    return "".join(map(str, digits))


def _serve(factory: str, port: int, env: dict[str, str], ready_path: str) -> ServerProcess:
    """``factory`` under uvicorn in a process of its own; returns once ``ready_path`` answers 200."""
    process = ServerProcess.uvicorn(
        ["--factory", factory, "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
         "--no-access-log"], env,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{factory} exited: {process.log_tail()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}{ready_path}", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{factory} did not start")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def _conversations(
    case: Case,
    sim_url: str,
    quita_url: str,
    clock: ArrivalMirror,
    phones: list[str],
    turns: int,
    timeout: float,
    think: float = 0.0,
    server_pid: int | None = None,
    together: bool = False,
) -> None:
    """Every phone walks ``turns`` turns concurrently; one message in flight per phone. ``think``: mean
    seconds a person takes to read the answer and type the next message (uniform 0.5×–1.5×; 0 = at once).

    With ``think`` the conversations are already under way when measurement starts, as 50 concurrent
    conversations are in production: each one's first message comes after a pause drawn like the others
    (uniform 0–``think``), not all 50 in the same instant. (That synchronised start was a burst the driver and
    the simulator made themselves: 50 HTTP clients built and 50 webhooks signed in the first second, on the
    same two cores.) The HTTP clients are built before the clock starts for the same reason. ``together``: that
    burst on purpose (``--burst``), every first message at once."""
    rng = random.Random(len(phones) * 7919 + turns)
    sent: list[tuple[str, str, int]] = []  # (wamid, phone, reply number expected)
    lock = threading.Lock()
    already = {p: len(clock.arrivals[p[-8:]]) for p in phones}
    clients = {p: httpx.Client(timeout=10) for p in phones}
    starts = {p: 0.0 if together else think * rng.uniform(0.0, 1.0) for p in phones}

    def walk(phone: str) -> None:
        time.sleep(starts[phone])
        with clients[phone] as client:
            for turn in range(turns):
                body = {"from": phone, "name": "Devedor", **TURNS[turn % len(TURNS)]}
                response = client.post(f"{sim_url}/_sim/inbound", json=body)
                response.raise_for_status()
                expected = already[phone] + turn + 1
                with lock:
                    sent.append((str(response.json()["id"]), phone, expected))
                if clock.wait_for(phone, expected, timeout) is None:
                    with lock:
                        case.lost += turns - turn
                    return
                if think:
                    with lock:
                        pause = think * rng.uniform(0.5, 1.5)
                    time.sleep(pause)

    started, cpu_before = time.monotonic(), _process_cpu_s(server_pid) if server_pid else float("nan")
    threads = [threading.Thread(target=walk, args=(p,), daemon=True) for p in phones]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    case.seconds = time.monotonic() - started
    if server_pid:
        case.server_cpu_s = _process_cpu_s(server_pid) - cpu_before
    receipts: dict[str, float] = httpx.get(f"{quita_url}/_bench/receipts", timeout=10).json()
    for wamid, phone, expected in sent:
        received = receipts.get(wamid)
        arrivals = clock.arrivals[phone[-8:]]
        if received is None or len(arrivals) < expected:
            case.unmeasured += 1  # answered, but one of the two clocks has no note of it: shown, not hidden
            continue
        case.latencies_ms.append((arrivals[expected - 1] - received) * 1000)


def run(conversations: int = 50, turns: int = 6, think: float = 0.0, timeout: float = 30.0,
        burst: bool = False, postgres_url: str | None = None) -> list[Case]:
    """The echo baseline and the bot; with ``burst`` also the bot with every conversation's first message sent
    in the same instant (shown, not held to the target: a synchronised start is a test of the queue, not of
    concurrent conversations). On the embedded default (a SQLite file), or with ``postgres_url`` in a throw-away
    schema of that PostgreSQL server (still the in-process job runner)."""
    from cryptography.fernet import Fernet

    from quita.bench.webhooks_bench import wait_until_quiet
    from quita.bot.nlu.classifier import cache_dir
    from quita.simulator.whatsapp.schemas import PhoneNumberConfig, SimConfig

    cases: list[Case] = []
    with tempfile.TemporaryDirectory(prefix="quita-bench-bot-") as tmp:
        sim_port, quita_port = _free_port(), _free_port()
        sim_url, quita_url = f"http://127.0.0.1:{sim_port}", f"http://127.0.0.1:{quita_port}"
        warm = [_phone(9, n) for n in range(2)]
        echo_phones = [_phone(8, n) for n in range(conversations)]
        bot_phones = [_phone(7, n) for n in range(conversations)]
        burst_phones = [_phone(6, n) for n in range(conversations)] if burst else []
        url, drop = f"sqlite:///{tmp}/bench.db", None
        if postgres_url:
            from quita.bench.import_bench import fresh_postgres_schema

            url, drop = fresh_postgres_schema(postgres_url)
        key = Fernet.generate_key().decode()
        os.environ["QUITA_SECRET_KEY"] = key
        _prepare(url, sim_url, warm + bot_phones + burst_phones)
        env = {**os.environ, "QUITA_SECRET_KEY": key, "QUITA_DATA_DIR": tmp, "QUITA_NLU_CACHE_DIR": str(cache_dir()),
               "QUITA_EMBEDDED_DISPATCH": "0", "QUITA_BENCH_SIM_URL": sim_url, "QUITA_LOG_LEVEL": "warning",
               "QUITA_DATABASE_URL": url}  # fmt: skip
        config = SimConfig(
            token=TOKEN, app_secret=SECRET, waba_id=WABA_ID,
            phone_numbers=[PhoneNumberConfig(phone_number_id=PHONE_ID, display_phone_number="5511999990088")],
            webhook_url=f"{quita_url}/_bench/echo", throughput_mps=1000, pair_interval_s=0.001, pair_burst=100,
            status_webhooks="off", legacy_wa_id_min_ddd=None,
        )  # fmt: skip
        simulator = _serve("quita.bench.bot_bench:sim_app", sim_port,
                           {**env, "QUITA_BENCH_SIM_CONFIG": config.model_dump_json()}, "/_bench/arrivals")  # fmt: skip
        try:
            server = _serve("quita.bench.bot_bench:bench_app", quita_port, env, "/health")
            try:
                wait_until_quiet(server)  # the NLU preload thread: measured as the server runs, not as it starts
                with ArrivalMirror(sim_url) as clock:
                    echo = Case("linha de base: webhook → eco imediato (sem banco, sem job)")
                    _conversations(echo, sim_url, quita_url, clock, echo_phones, turns, timeout, think, server.pid)
                    httpx.post(f"{sim_url}/_sim/config", json={"webhook_url": f"{quita_url}/webhooks/whatsapp"},
                               timeout=10).raise_for_status()  # fmt: skip
                    _conversations(Case("aquecimento"), sim_url, quita_url, clock, warm, len(TURNS), 120.0)
                    bot = Case(f"bot: webhook → resposta ({conversations} conversas simultâneas)")
                    _conversations(bot, sim_url, quita_url, clock, bot_phones, turns, timeout, think, server.pid)
                    if burst:
                        together = Case(f"rajada: as {conversations} conversas começam no mesmo instante")
                        wait_until_quiet(server)
                        _conversations(together, sim_url, quita_url, clock, burst_phones, turns, timeout, think,
                                       server.pid, together=True)  # fmt: skip
                        cases.append(together)
            finally:
                _stop(server)
        finally:
            _stop(simulator)
            if drop is not None:
                drop()
    return [echo, bot, *cases]


def print_table(cases: list[Case], conversations: int, turns: int, think: float = 0.0, database: str = "SQLite") -> None:
    from rich.console import Console
    from rich.table import Table

    pause = f", pausa média de {think:g} s entre mensagens" if think else ", sem pausa entre mensagens"
    table = Table(
        title=f"quita bench bot ({database}) — {conversations} conversas × {turns} mensagens{pause}; latência em ms; CPU/resp. = CPU do servidor Quita por resposta (ms)"
    )
    columns = ("caso", "respostas", "perdidas", "sem medida", "p50", "p95", "p99", "média", "máx", "CPU/resp.", "meta p99", "ok?")
    for column in columns:
        table.add_column(column, justify="left" if column == "caso" else "right")
    for case in cases:
        is_bot = case.name.startswith("bot")
        p99 = case.percentile(99)
        ok = "" if not is_bot else ("sim" if p99 <= TARGET_P99_MS and case.lost == 0 and case.unmeasured == 0 else "NÃO")
        table.add_row(
            case.name, str(len(case.latencies_ms)), str(case.lost), str(case.unmeasured), f"{case.percentile(50):.1f}",
            f"{case.percentile(95):.1f}", f"{p99:.1f}", f"{case.mean:.1f}",
            f"{max(case.latencies_ms, default=float('nan')):.1f}", f"{case.cpu_ms_per_reply:.1f}",
            f"≤ {TARGET_P99_MS:.0f}" if is_bot else "", ok,
        )  # fmt: skip
    Console(width=160).print(table)
