"""Reliability with real processes and the real simulator: workers killed with SIGKILL mid-campaign,
simulator faults, and (opt-in) a PostgreSQL restart. The campaign size is a parameter:
``QUITA_RELIABILITY_MESSAGES`` (default 400 here; the issue's figure is 10,000 — run it so by hand).

SQLite runs one worker at a time (the embedded mode has a single process); PostgreSQL runs two at once,
sharing the Redis limiter. Status webhooks flow simulator → Quita's real webhook receiver → status events,
which is what reconciles sends left in doubt by a killed worker.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from quita.cadence.planner import plan_tenant
from quita.config import Settings
from quita.dispatch.models import AlertKind, DispatchAlert, OutboxMessage, OutboxStatus
from quita.kit.db import Database
from quita.server.app import create_app
from tests.cadence.portfolio import SECRET_KEY, add_debts, confirm_all, setup_tenant
from tests.conftest import ServerThread
from tests.dispatch.conftest import Sim, statuses
from tests.kit.brokers import check_rabbitmq, delete_queue

MESSAGES = int(os.environ.get("QUITA_RELIABILITY_MESSAGES", "400"))
REDIS_URL = "redis://127.0.0.1:6379/14"
JOB_QUEUE = f"quita-test-reliability-{os.getpid()}"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def quita_server(
    database: Database, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """Quita's own HTTP server (the webhook receiver) for the simulator's status webhooks. Scaled, it
    sends webhook processing to RabbitMQ and the worker processes run it; embedded, its own threads do."""
    monkeypatch.setenv("QUITA_SECRET_KEY", SECRET_KEY)
    scaled = not database_url.startswith("sqlite")
    settings = Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        broker_url=check_rabbitmq() if scaled else None,
        job_queue=JOB_QUEUE,
    )
    try:
        with ServerThread(create_app(settings, Database(database_url))) as server:
            yield server.url
    finally:
        if not database_url.startswith("sqlite"):
            delete_queue(check_rabbitmq(), JOB_QUEUE)


def _campaign(database: Database, sim: Sim, count: int, throughput: int) -> uuid.UUID:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()  # limiter state of an earlier test
    tenant_id, _ = setup_tenant(database, graph_url=sim.url, throughput=throughput, tier=None)
    add_debts(database, tenant_id, count, due=dt.date(2026, 3, 17))
    confirm_all(database, tenant_id)
    assert plan_tenant(database, tenant_id, dt.datetime(2026, 3, 17, 14, 0, tzinfo=dt.UTC)).allowed == count
    with database.transaction() as session:
        session.execute(update(OutboxMessage).values(not_before=dt.datetime.now(dt.UTC), expires_at=None))
    return tenant_id


def _start_worker(database_url: str, *extra: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "QUITA_DATABASE_URL": database_url,
        "QUITA_SECRET_KEY": SECRET_KEY,
        "PYTHONPATH": str(ROOT / "src"),
    }
    args = [
        sys.executable,
        "-m",
        "quita.dispatch.cli",
        "--plan-every",
        "0",
        "--doubt-after",
        "3",
        "--give-up-after",
        "3600",
        "--http-timeout",
        "5",
        "--concurrency",
        "64",
        "--batch",
        "100",
        *extra,
    ]
    if not database_url.startswith("sqlite"):  # scaled: global limits in Redis, jobs through RabbitMQ
        args += ["--redis-url", REDIS_URL, "--broker-url", check_rabbitmq(), "--job-queue", JOB_QUEUE]
    return subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)


def _open(database: Database) -> int:
    with database.transaction() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.CLAIMED)))
            )
            or 0
        )


def _done(database: Database) -> int:
    """Rows with a recorded outcome (sent or failed): the campaign's progress."""
    with database.transaction() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status.in_((OutboxStatus.SENT, OutboxStatus.FAILED)))
            )
            or 0
        )


def _webhook_backlog(database: Database) -> int:
    from quita.whatsapp.models import WebhookDelivery

    with database.transaction() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.state == "received")
            )
            or 0
        )


def _settle(database: Database, database_url: str, timeout: float = 240) -> None:
    """One clean worker finishes the campaign and reconciles what killed workers left in doubt; the
    in-doubt rows no webhook confirms are given up on (unknown + alert) with a short give-up time.

    First the status webhooks already received are applied (Quita's webhook pump may lag behind the
    simulator in a big campaign): giving up on a send whose proof is waiting in the raw store would
    count as ``unknown`` a message that was in fact sent."""
    deadline = time.monotonic() + timeout
    # scaled: webhook processing is a job in RabbitMQ; a jobs-only worker runs it meanwhile
    pump = None if database_url.startswith("sqlite") else _start_worker(database_url, "--no-dispatch")
    try:
        while _webhook_backlog(database) and time.monotonic() < deadline:
            time.sleep(1)
    finally:
        if pump is not None:
            pump.send_signal(signal.SIGTERM)
            pump.wait(30)
    worker = _start_worker(database_url, "--give-up-after", "8")
    try:
        while time.monotonic() < deadline:
            counts = statuses(database)
            if not counts.get("pending") and not counts.get("claimed") and not counts.get("sending"):
                return
            time.sleep(1)
        pytest.fail(f"campaign did not settle: {statuses(database)}")
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)


def _check_outcome(database: Database, sim: Sim, count: int) -> dict[str, int]:
    with database.transaction() as session:
        rows = list(session.scalars(select(OutboxMessage)))
        alerted = {
            a.outbox_id
            for a in session.scalars(
                select(DispatchAlert).where(DispatchAlert.kind == AlertKind.MESSAGE_UNKNOWN)
            )
        }
    assert len(rows) == count
    for row in rows:
        assert row.status in (OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.UNKNOWN), row.status
        if row.status == OutboxStatus.SENT:
            assert row.wamid
        if row.status == OutboxStatus.FAILED:
            assert row.failed_reason
        if row.status == OutboxStatus.UNKNOWN:
            assert row.id in alerted
    stats = sim.stats()
    assert stats["duplicate_sends"] == {}, "an id was accepted twice"
    sent = sum(r.status == OutboxStatus.SENT for r in rows)
    assert sent <= stats["accepted"] <= sent + sum(r.status == OutboxStatus.UNKNOWN for r in rows)
    return statuses(database)


def test_kill_9_five_times_never_sends_twice(
    database: Database, database_url: str, sim: Sim, quita_server: str
) -> None:
    sim.configure(
        webhook_url=f"{quita_server}/webhooks/whatsapp",
        status_webhooks="all",
        sent_delay_s=0.05,
        # Reconciliation needs the "sent" status; delivered/read webhooks (two more per message) would
        # only load this process's webhook pump. Statuses come in batches, as Meta sends them.
        delivered_delay_s=3600,
        read_rate=0,
        webhook_batch_size=20,
    )
    started = time.monotonic()
    _campaign(database, sim, MESSAGES, throughput=500)
    planned = time.monotonic()
    rng = random.Random(int(os.environ.get("QUITA_RELIABILITY_SEED", "4")))
    parallel = 1 if database_url.startswith("sqlite") else 2
    workers = [_start_worker(database_url) for _ in range(parallel)]
    # Five kills at random points of the campaign (by progress, so they spread over any campaign size).
    marks = sorted(rng.uniform(0.05, 0.85) for _ in range(5))
    try:
        for mark in marks:
            deadline = time.monotonic() + 600
            while _done(database) < mark * MESSAGES and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(rng.uniform(0, 0.5))
            victim = workers.pop(rng.randrange(len(workers)))
            victim.send_signal(signal.SIGKILL)
            victim.wait(10)
            workers.append(_start_worker(database_url))
    finally:
        for w in workers:
            w.send_signal(signal.SIGKILL)
            w.wait(10)
    _settle(database, database_url, timeout=max(240, MESSAGES / 10))
    final = _check_outcome(database, sim, MESSAGES)
    print(
        f"kill -9 ×5, {MESSAGES} messages: {final}; simulator accepted {sim.stats()['accepted']}; "
        f"planning {planned - started:.0f} s, dispatch + kills + settle {time.monotonic() - planned:.0f} s"
    )
    # Rows a killed worker had marked ``sending`` are in doubt; the ones Meta never accepted end ``unknown``
    # (never resent), so "sent" depends on where the kills land: only the invariants above are asserted.
    assert final.get("sent", 0) > 0, final


def test_campaign_completes_under_simulator_faults(
    database: Database, database_url: str, sim: Sim, quita_server: str
) -> None:
    # Meta stricter than our configuration: bursts of 130429 (the simulator allows 120/s, the number is
    # configured for 160/s), 131056 (a few people receive several messages), 5 % HTTP 500, 2 % timeouts.
    sim.configure(
        webhook_url=f"{quita_server}/webhooks/whatsapp",
        status_webhooks="all",
        sent_delay_s=0.05,
        throughput_mps=120,
        fault_5xx_rate=0.05,
        fault_timeout_rate=0.02,
        fault_timeout_s=6,
        pair_interval_s=6,
        pair_burst=1,
        seed=11,
    )
    count = max(100, MESSAGES // 2)
    _campaign(database, sim, count, throughput=160)
    with database.transaction() as session:
        ids = list(session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id).limit(12)))
        session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(ids[:6])).values(recipient="+5511988880001")
        )
        session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(ids[6:])).values(recipient="+5511988880002")
        )
        session.execute(update(OutboxMessage).values(not_before=dt.datetime.now(dt.UTC)))
    worker = _start_worker(database_url, "--http-timeout", "2")
    try:
        deadline = time.monotonic() + 240
        while _open(database) and time.monotonic() < deadline:
            with database.transaction() as session:  # 131000/131016 ask for 30–60 s: let that time pass
                session.execute(
                    update(OutboxMessage)
                    .where(
                        OutboxMessage.status == OutboxStatus.PENDING,
                        OutboxMessage.not_before > dt.datetime.now(dt.UTC) + dt.timedelta(seconds=8),
                        OutboxMessage.last_error_code.in_((131000, 131016)),
                    )
                    .values(not_before=dt.datetime.now(dt.UTC))
                )
            time.sleep(1)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
    _settle(database, database_url)
    final = _check_outcome(database, sim, count)
    stats = sim.stats()
    print(
        f"faults, {count} messages: {final}; simulator faults {stats['faults']}, "
        f"rejected {stats['rejected_by_code']}"
    )
    assert stats["faults"], stats  # the faults really happened
    assert final.get("sent", 0) >= count * 0.9, final


@pytest.mark.pg_restart  # run alone: restarting the server would break every other test using it
@pytest.mark.skipif(
    os.environ.get("QUITA_TEST_PG_RESTART") != "1" and os.environ.get("CI") != "true",
    reason="restarts the shared PostgreSQL: set QUITA_TEST_PG_RESTART=1 (CI runs it)",
)
def test_postgresql_restart_mid_campaign(
    database: Database, database_url: str, sim: Sim, quita_server: str
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL only")
    sim.configure(webhook_url=f"{quita_server}/webhooks/whatsapp", status_webhooks="all", sent_delay_s=0.05)
    _campaign(database, sim, MESSAGES, throughput=100)
    workers = [_start_worker(database_url) for _ in range(2)]
    try:
        time.sleep(2.0)
        version = sorted(os.listdir("/etc/postgresql"))[-1]
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
            check=True,
            timeout=120,
        )
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            try:
                if not _open(database):
                    break
            except Exception:  # the test's own connection may need a moment too
                pass
            time.sleep(1)
        assert all(w.poll() is None for w in workers), "a worker died instead of recovering"
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
            w.wait(30)
    _settle(database, database_url)
    _check_outcome(database, sim, MESSAGES)
