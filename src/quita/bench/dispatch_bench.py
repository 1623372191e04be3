"""``quita bench dispatch``: sustained end-to-end sends (claim → HTTP → wamid stored) against the simulator,
next to a raw concurrent HTTP client sending the same requests to the same simulator with no database.

The simulator runs in its own process (uvicorn) at 1,000 msg/s per number with 20–50 ms latency; both the
raw client and the dispatcher pace themselves to the number's throughput with the same GCRA limiter, so
the comparison is between "HTTP only" and "the whole outbox path".
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
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

import httpx

NUMBERS = ("100000000000001", "100000000000002")
WABA = "200000000000001"
TOKEN = "bench-token"
REDIS_URL = "redis://127.0.0.1:6379/14"


@dataclass
class DispatchBenchResult:
    name: str
    messages: int
    seconds: float
    accepted: int
    cpu_ms: float = 0.0
    """CPU of this process (every thread) per message; PostgreSQL's own work is not in it."""
    sim_cpu_ms: float = 0.0

    @property
    def rate(self) -> float:
        return self.accepted / self.seconds if self.seconds else 0.0


def _table(model: Any) -> Any:
    return model.__table__


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Simulator:
    def __init__(self, tmp: Path, numbers: int) -> None:
        from quita.whatsapp.templates import starter_definitions

        self.port = _free_port()
        config = {
            "token": TOKEN,
            "waba_id": WABA,
            "throughput_mps": 1000,
            "status_webhooks": "off",
            "latency_ms": 20,
            "latency_jitter_ms": 30,
            "pair_interval_s": 0.001,
            "pair_burst": 100,
            "phone_numbers": [
                {"phone_number_id": n, "display_phone_number": f"551199999000{i}"}
                for i, n in enumerate(NUMBERS[:numbers])
            ],
            "templates": starter_definitions(),
            "max_messages": 200_000,
        }
        path = tmp / "sim.json"
        path.write_text(json.dumps(config), encoding="utf-8")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "quita", "simulator", "--port", str(self.port), "--config", str(path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/_sim/stats", timeout=1).raise_for_status()
                return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("simulator did not start")

    def cpu(self) -> float:
        import psutil

        times = psutil.Process(self.process.pid).cpu_times()
        return float(times.user + times.system)

    def reset(self) -> None:
        httpx.post(f"{self.url}/_sim/reset", timeout=10).raise_for_status()

    def accepted(self) -> int:
        return int(httpx.get(f"{self.url}/_sim/stats", timeout=10).json()["accepted"])

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def _payloads(count: int, number_index: int) -> list[tuple[str, dict[str, Any]]]:
    from quita.whatsapp.domain.messages import TemplateMessage, TextParam, build_message_payload

    out = []
    for n in range(count):
        to = f"+55119{number_index}{n:07d}"
        message = TemplateMessage(
            name="quita_vencimento_hoje",
            body=tuple(
                TextParam(p)
                for p in (
                    "Maria",
                    "março/2026",
                    "Credor S.A., Rua Um, 1, São Paulo/SP",
                    "11.222.333/0001-81",
                    "R$ 150,00",
                )
            ),
        )
        out.append((to, build_message_payload(to, message, biz_opaque_callback_data=str(uuid.uuid4()))))
    return out


async def _raw(sim: Simulator, count: int, numbers: int, concurrency: int) -> DispatchBenchResult:
    """The same requests over the same HTTP code as the dispatcher's client (``LeanTransport.exchange``
    with the prebuilt request head, JSON encoded per request, the answer parsed), paced by the same
    limiter, with no database and no domain objects."""
    from quita.dispatch.limits import MemoryLimiter
    from quita.whatsapp.client import DirectPost
    from quita.whatsapp.transport import LeanTransport

    limiter = MemoryLimiter()
    accepted = 0
    slots = asyncio.Semaphore(concurrency)
    transport = LeanTransport(max_connections=concurrency)

    async def one(post: DirectPost, body: dict[str, Any]) -> None:
        nonlocal accepted
        try:
            data = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
            raw = await transport.exchange(
                post.key, post.head + b"%d\r\n\r\n" % len(data), data, post.timeouts
            )
            if raw.status == 200 and "messages" in json.loads(raw.content):
                accepted += 1
        finally:
            slots.release()

    async def lane(client: httpx.AsyncClient, number: str, index: int) -> None:
        post = DirectPost.build(transport, client, f"{number}/messages", TOKEN)
        assert post is not None
        tasks = []
        payloads = _payloads(count, index)
        for start in range(0, count, 50):
            part = payloads[start : start + 50]
            wait = limiter.reserve(number, 1000.0, len(part))
            if wait > 0:
                await asyncio.sleep(wait)
            for _, body in part:
                await slots.acquire()
                tasks.append(asyncio.create_task(one(post, body)))
        await asyncio.gather(*tasks)

    async with httpx.AsyncClient(base_url=f"{sim.url}/v25.0/", transport=transport, timeout=30) as client:
        started = time.perf_counter()
        await asyncio.gather(*(lane(client, NUMBERS[i], i) for i in range(numbers)))
        seconds = time.perf_counter() - started
    return DispatchBenchResult(
        f"linha de base: HTTP puro, {numbers} número(s)", count * numbers, seconds, accepted
    )


def _prepare(url: str, sim: Simulator, count: int, numbers: int) -> None:
    from quita.dispatch.models import OutboxMessage, OutboxStatus
    from quita.kit.db import Database
    from quita.kit.db.bulk import bulk_insert
    from quita.portfolio.models import ContactKind, ContactPoint, Debtor, DocumentKind, Provenance
    from quita.tenant import service as tenants
    from quita.tenant.models import TenantKind
    from quita.whatsapp import service as wa

    database = Database(url)
    now = dt.datetime.now(dt.UTC)
    with database.transaction() as session:
        tenant = tenants.create_tenant(
            session, slug=f"b{uuid.uuid4().hex[:6]}", name="Bench", kind=TenantKind.CREDITOR, actor="bench"
        )
        tenant_id = tenant.id
        channel_ids = [
            wa.create_channel(
                session,
                tenant_id=tenant_id,
                phone_number_id=n,
                waba_id=WABA,
                access_token=TOKEN,
                app_secret="s",
                verify_token="v",
                actor="bench",
                graph_url=sim.url,
                throughput_mps=1000,
                messaging_tier_limit=None,
            ).id
            for n in NUMBERS[:numbers]
        ]
        for channel_id in channel_ids:  # None must survive the column default
            session.get_one(wa.WhatsAppChannel, channel_id).messaging_tier_limit = None
        debtor = Debtor(
            tenant_id=tenant_id, name="Maria", document_kind=DocumentKind.CPF, document="00000000191"
        )
        session.add(debtor)
        session.flush()
        contact = ContactPoint(
            tenant_id=tenant_id,
            debtor_id=debtor.id,
            kind=ContactKind.PHONE,
            value="+5511900000000",
            provenance=Provenance.CONTRACT,
        )
        session.add(contact)
        session.flush()
        debtor_id, contact_id = debtor.id, contact.id
    rows = []
    for index, channel_id in enumerate(channel_ids):
        for n, (to, _) in enumerate(_payloads(count, index)):
            rows.append(
                (
                    uuid.uuid4(),
                    debtor_id,
                    contact_id,
                    channel_id,
                    to,
                    f"B{index}-{n}",
                    now.date(),
                    "reminder",
                    "quita_vencimento_hoje",
                    "pt_BR",
                    [
                        "Maria",
                        "março/2026",
                        "Credor S.A., Rua Um, 1, São Paulo/SP",
                        "11.222.333/0001-81",
                        "R$ 150,00",
                    ],
                    OutboxStatus.PENDING,
                    now - dt.timedelta(seconds=1),
                    0,
                )
            )
    with database.engine.begin() as conn:
        bulk_insert(
            conn,
            _table(OutboxMessage),
            [
                "id",
                "debtor_id",
                "contact_id",
                "channel_id",
                "recipient",
                "step_key",
                "local_day",
                "kind",
                "template_name",
                "template_language",
                "template_params",
                "status",
                "not_before",
                "attempts",
            ],
            rows,
            {"tenant_id": tenant_id, "created_at": now, "updated_at": now},
        )
    database.dispose()


async def _dispatch(
    url: str, count: int, numbers: int, conversation: bool, label: str, redis_url: str | None = None
) -> DispatchBenchResult:
    from sqlalchemy import func, select

    from quita.dispatch.models import OutboxMessage, OutboxStatus
    from quita.dispatch.worker import Dispatcher
    from quita.kit.db import Database

    database = Database(url)
    total = count * numbers
    limiter = None
    if redis_url is not None:  # the scaled mode keeps its limits in Redis
        from quita.dispatch.limits import RedisLimiter

        limiter = RedisLimiter(redis_url, prefix=f"quita-bench:{uuid.uuid4().hex[:8]}:")
    dispatcher = Dispatcher(database, limiter, settings=_settings(conversation))
    stop = asyncio.Event()

    def sent() -> int:
        with database.transaction() as session:
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.status == OutboxStatus.SENT)
                )
                or 0
            )

    async def watch() -> None:  # the dispatcher's own count: polling the table would cost the run CPU
        while dispatcher.recorded < total:
            await asyncio.sleep(0.02)
        stop.set()

    started = time.perf_counter()
    watcher = asyncio.create_task(watch())
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(dispatcher.run(stop), timeout=max(120, total / 20))
    seconds = time.perf_counter() - started
    watcher.cancel()
    done = await asyncio.to_thread(sent)
    database.dispose()
    if limiter is not None:
        limiter.reset()
    return DispatchBenchResult(label, total, seconds, done)


def _settings(conversation: bool) -> Any:
    from quita.dispatch.worker import DispatchSettings

    return DispatchSettings(
        batch=1000,
        concurrency=256,
        pair_interval=0.001,
        record_conversation=conversation,
        housekeeping_every=3600,
    )


def _worker_process(url: str, redis_url: str, prefix: str, conversation: bool) -> None:
    """One ``quita worker``-style dispatcher process of the scaled case (``python -m
    quita.bench.dispatch_bench worker …``): the same start-up as ``dispatch.worker.run_forever``
    (``settle_heap``, the dispatcher's loop, limits in Redis shared by every process), then "ready", the
    run from "go" on stdin until SIGTERM, and this process's CPU seconds at both moments."""
    import signal

    from quita.dispatch.limits import RedisLimiter
    from quita.dispatch.worker import Dispatcher, new_event_loop
    from quita.kit.db import Database
    from quita.kit.heap import settle_heap

    settle_heap()
    database = Database(url)
    dispatcher = Dispatcher(
        database, RedisLimiter(redis_url, prefix=prefix), settings=_settings(conversation)
    )

    async def main() -> None:
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await dispatcher.run(stop)

    print(f"ready {time.process_time()}", flush=True)
    sys.stdin.readline()
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        runner.run(main())
    database.dispose()
    print(f"done {time.process_time()} {dispatcher.recorded}", flush=True)


def _two_workers(url: str, count: int, numbers: int, conversation: bool, label: str, redis_url: str) -> Any:
    """The scaled deployment as it runs in production: two dispatcher processes (PostgreSQL with ``SKIP
    LOCKED`` claims, the numbers' throughput and the recipients' limits in Redis), started and ready
    before the clock starts. The run ends when every row is ``sent`` (polled from this process, whose
    CPU is not counted); CPU per message is both workers' own."""
    from sqlalchemy import func, select

    from quita.dispatch.models import OutboxMessage, OutboxStatus
    from quita.kit.db import Database

    prefix = f"quita-bench:{uuid.uuid4().hex[:8]}:"
    total = count * numbers
    command = [sys.executable, "-m", "quita.bench.dispatch_bench", "worker", url, redis_url, prefix]
    workers = [
        subprocess.Popen(
            [*command, "1" if conversation else "0"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    database = Database(url)
    try:
        cpu_at_start = 0.0
        for worker in workers:
            assert worker.stdout is not None
            line = worker.stdout.readline().split()
            if not line or line[0] != "ready":
                raise RuntimeError("dispatcher process did not start")
            cpu_at_start += float(line[1])
        query = (
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == OutboxStatus.SENT)
        )
        started = time.perf_counter()
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        done = 0
        deadline = started + max(120, total / 20)
        while done < total and time.perf_counter() < deadline:
            time.sleep(0.05)  # a count over the outbox on PostgreSQL; often enough for ~1% of a 4 s run
            with database.transaction() as session:
                done = int(session.scalar(query) or 0)
        seconds = time.perf_counter() - started
        cpu_at_end = 0.0
        for worker in workers:
            worker.terminate()
            out, _ = worker.communicate(timeout=60)
            cpu_at_end += float(out.split()[1])
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
        database.dispose()
    from quita.dispatch.limits import RedisLimiter

    RedisLimiter(redis_url, prefix=prefix).reset()
    result = DispatchBenchResult(label, total, seconds, done)
    result.cpu_ms = (cpu_at_end - cpu_at_start) * 1000 / max(1, total)
    return result


def _fresh_db(kind: str, tmp: Path, postgres_url: str) -> tuple[str, Any]:
    from quita.kit.db.migrate import upgrade

    if kind == "sqlite":
        url = f"sqlite:///{tmp}/dispatch-{uuid.uuid4().hex[:6]}.db"
        upgrade(url)
        return url, lambda: None
    from quita.bench.import_bench import fresh_postgres_schema

    return fresh_postgres_schema(postgres_url)


def _measured(sim: Simulator, work: Any) -> DispatchBenchResult:
    """Runs one case and adds the CPU it cost per message, here and in the simulator: CPU time holds
    when the wall-clock rate swings with the load other work puts on the machine. Both the raw client
    and the dispatcher run on the loop ``quita serve`` and ``quita worker`` give the dispatcher, after the
    same ``settle_heap`` those processes do at start-up."""
    from quita.dispatch.worker import new_event_loop
    from quita.kit.heap import settle_heap

    settle_heap()  # as the dispatcher's processes do at start-up; the raw client gets the same
    cpu, sim_cpu = time.process_time(), sim.cpu()
    with asyncio.Runner(loop_factory=new_event_loop) as runner:  # the dispatcher's own kind of loop
        result: DispatchBenchResult = runner.run(work)
    result.cpu_ms = (time.process_time() - cpu) * 1000 / max(1, result.messages)
    result.sim_cpu_ms = (sim.cpu() - sim_cpu) * 1000 / max(1, result.messages)
    return result


def _scaled_case(
    sim: Simulator,
    tmp: Path,
    postgres_url: str,
    redis_url: str,
    messages: int,
    numbers: int,
    conversation: bool,
    what: str,
) -> list[DispatchBenchResult]:
    """The same rows and the same single raw client as the one-process cases, then two dispatcher
    processes (``_two_workers``)."""
    url, drop = _fresh_db("postgresql", tmp, postgres_url)
    try:
        _prepare(url, sim, messages, numbers)
        sim.reset()
        raw = _measured(sim, _raw(sim, messages, numbers, 256))
        sim.reset()
        sim_cpu = sim.cpu()
        label = f"dispatch (postgresql, 2 processos worker, {what}), {numbers} número(s)"
        scaled: DispatchBenchResult = _two_workers(url, messages, numbers, conversation, label, redis_url)
        scaled.sim_cpu_ms = (sim.cpu() - sim_cpu) * 1000 / max(1, scaled.messages)
        return [raw, scaled]
    finally:
        drop()


def run(
    messages: int,
    db: str,
    postgres_url: str,
    concurrency: int = 256,
    with_conversation: bool = True,
    redis_url: str = REDIS_URL,
    number_counts: tuple[int, ...] = (1, 2),
    two_workers: bool = True,
) -> list[DispatchBenchResult]:
    """``db``: ``sqlite`` (embedded: in-memory limits), ``postgresql`` (scaled: limits in Redis) or ``both``.
    Every dispatcher case runs right after its own raw baseline, so each ratio compares two runs a few
    seconds apart: on a machine shared with other work the load changes from one minute to the next."""
    os.environ.setdefault("QUITA_SECRET_KEY", "bench-only-key-0000000000000000000000000000=")
    from cryptography.fernet import Fernet

    if os.environ["QUITA_SECRET_KEY"].startswith("bench-only"):
        os.environ["QUITA_SECRET_KEY"] = Fernet.generate_key().decode()
    results: list[DispatchBenchResult] = []
    with tempfile.TemporaryDirectory(prefix="quita-bench-") as name:
        tmp = Path(name)
        sim = Simulator(tmp, 2)
        try:
            for numbers in number_counts:
                variants = [(True, "registro de conversa")] if with_conversation else []
                variants.append((False, "só a fila"))
                for kind in ("sqlite", "postgresql") if db == "both" else (db,):
                    for conversation, what in variants:
                        url, drop = _fresh_db(kind, tmp, postgres_url)
                        try:
                            _prepare(url, sim, messages, numbers)
                            sim.reset()
                            results.append(_measured(sim, _raw(sim, messages, numbers, concurrency)))
                            sim.reset()
                            label = f"dispatch ({kind}, {what}), {numbers} número(s)"
                            redis = redis_url if kind == "postgresql" else None
                            results.append(
                                _measured(sim, _dispatch(url, messages, numbers, conversation, label, redis))
                            )
                        finally:
                            drop()
                        if kind == "postgresql" and numbers > 1 and two_workers:
                            results.extend(
                                _scaled_case(
                                    sim, tmp, postgres_url, redis_url, messages, numbers, conversation, what
                                )
                            )
        finally:
            sim.close()
    return results


def print_table(results: list[DispatchBenchResult]) -> None:
    from rich.table import Table

    from quita.kit.cli import console

    table = Table(title="quita bench dispatch — simulador a 1.000 msg/s por número, latência 20–50 ms")
    columns = (
        "caso", "mensagens", "aceitas", "segundos", "msg/s", "÷ HTTP puro", "CPU ms/msg", "simulador ms/msg",
        "meta", "ok?",
    )  # fmt: skip
    for column in columns:
        table.add_column(column, justify="left" if column == "caso" else "right")
    baseline = 0.0
    for r in results:
        if r.name.startswith("linha de base"):
            baseline = r.rate
            table.add_row(
                r.name,
                f"{r.messages:,}",
                f"{r.accepted:,}",
                f"{r.seconds:.1f}",
                f"{r.rate:,.0f}",
                "1.000",
                f"{r.cpu_ms:.3f}",
                f"{r.sim_cpu_ms:.3f}",
                "",
                "",
            )
            continue
        ratio = r.rate / baseline if baseline else 0.0
        one_number = "1 número" in r.name
        target = "≥ 900/s e ≥ 0,8×" if one_number else "≥ 0,8×"
        ok = ratio >= 0.8 and (r.rate >= 900 or not one_number) and r.accepted == r.messages
        table.add_row(
            r.name,
            f"{r.messages:,}",
            f"{r.accepted:,}",
            f"{r.seconds:.1f}",
            f"{r.rate:,.0f}",
            f"{ratio:.3f}",
            f"{r.cpu_ms:.3f}",
            f"{r.sim_cpu_ms:.3f}",
            target,
            "sim" if ok else "NÃO",
        )
    table.caption = "carga da máquina (1/5/15 min) ao final: " + " / ".join(
        f"{x:.1f}" for x in os.getloadavg()
    )
    console.print(table)


if __name__ == "__main__":  # a dispatcher process of the two-worker case
    if sys.argv[1:2] == ["worker"]:
        _worker_process(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] == "1")
