"""Dispatcher fixtures. Every dispatcher test that takes ``database`` runs in both deployment modes:

* ``embedded``: SQLite, the in-memory limiter, jobs on in-process threads;
* ``scaled``: PostgreSQL, the Redis limiter (a ``Dispatcher`` built without an explicit limiter gets a
  :class:`RedisLimiter` on its own key prefix instead of the in-memory one), and jobs sent to Dramatiq on
  the real RabbitMQ and consumed by a Dramatiq worker. With ``CI=true`` an unreachable Redis or RabbitMQ
  fails the test instead of skipping it.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from quita.dispatch.models import OutboxMessage, OutboxStatus
from quita.dispatch.worker import Dispatcher
from quita.kit.db import Database
from quita.simulator.app import create_app
from quita.simulator.whatsapp.schemas import SimConfig
from quita.whatsapp.templates import starter_definitions
from tests.cadence.portfolio import SECRET_KEY
from tests.conftest import ServerThread
from tests.kit.brokers import check_rabbitmq, check_redis, delete_queue

LIMITER_REDIS_URL = "redis://127.0.0.1:6379/13"


@pytest.fixture(params=["embedded", "scaled"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "embedded":
        path = tmp_path / "quita.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture(autouse=True)
def deployment_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str | None]:
    """Wires the scaled mode's shared services around a PostgreSQL ``database`` (see the module doc)."""
    if "database" not in request.fixturenames:
        yield None
        return
    url: str = request.getfixturevalue("database_url")
    if url.startswith("sqlite"):
        yield "embedded"
        return
    from quita.dispatch import worker
    from quita.dispatch.limits import RedisLimiter
    from quita.kit.broker import BrokerRunner

    database: Database = request.getfixturevalue("database")
    prefix = f"quita:test:{uuid.uuid4().hex[:8]}:"
    limiters: list[RedisLimiter] = []

    def shared_limiter() -> RedisLimiter:
        limiter = RedisLimiter(check_redis(LIMITER_REDIS_URL), prefix=prefix)
        limiters.append(limiter)
        return limiter

    monkeypatch.setattr(worker, "MemoryLimiter", shared_limiter)
    broker_url = check_rabbitmq()
    queue = f"quita-test-{uuid.uuid4().hex[:10]}"
    jobs = BrokerRunner(database, broker_url, queue=queue).consume(threads=2)
    database.job_sink = jobs.submit
    try:
        yield "scaled"
    finally:
        database.job_sink = None
        jobs.shutdown()
        delete_queue(broker_url, queue)
        for limiter in limiters[:1]:
            limiter.reset()


@pytest.fixture(autouse=True)
def _secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUITA_SECRET_KEY", SECRET_KEY)


class Sim:
    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=10)

    def configure(self, **settings: Any) -> None:
        self.http.post("/_sim/config", json=settings).raise_for_status()

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self.http.get("/_sim/stats", params={"include": "callback_data"}).json()
        return result


@pytest.fixture(scope="session")
def simulator_server() -> Iterator[str]:
    config = SimConfig(throughput_mps=1000, status_webhooks="off", templates=starter_definitions(), seed=7)
    with ServerThread(create_app(config)) as server:
        yield server.url


@pytest.fixture
def sim(simulator_server: str) -> Iterator[Sim]:
    sim = Sim(simulator_server)
    sim.http.post("/_sim/reset").raise_for_status()
    yield sim
    sim.http.close()


def pending(database: Database) -> int:
    with database.transaction() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.CLAIMED)))
            )
            or 0
        )


def statuses(database: Database) -> dict[str, int]:
    from quita.dispatch.service import counts

    with database.transaction() as session:
        return counts(session)


async def drain(dispatcher: Dispatcher, database: Database, rounds: int = 400) -> None:
    """Runs cycles until nothing due is left and every send is recorded."""
    for _ in range(rounds):
        handled = await dispatcher.cycle()
        if not handled:
            await dispatcher.flush()
            if not dispatcher._inflight and pending(database) == 0:
                return
            await asyncio.sleep(0.05)
    await dispatcher.flush()
