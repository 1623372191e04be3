from __future__ import annotations

import asyncio
from collections.abc import Iterator
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
