"""The embedded mode: ``quita serve``'s lifespan runs the dispatcher (and planner) in-process on SQLite."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from sqlalchemy import update

from quita.cadence.planner import plan_tenant
from quita.config import Settings
from quita.dispatch.models import OutboxMessage
from quita.dispatch.tasks import EMBEDDED_ENV
from quita.kit.db import Database
from quita.server.app import create_app
from tests.cadence.portfolio import add_debts, confirm_all, setup_tenant
from tests.conftest import ServerThread
from tests.dispatch.conftest import Sim, statuses


def test_serve_lifespan_runs_the_dispatcher_on_sqlite(
    database: Database, database_url: str, sim: Sim, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant_id, _ = setup_tenant(database, graph_url=sim.url, throughput=200, tier=None)
    add_debts(database, tenant_id, 5, due=dt.date(2026, 3, 17))
    confirm_all(database, tenant_id)
    plan_tenant(database, tenant_id, dt.datetime(2026, 3, 17, 14, 0, tzinfo=dt.UTC))
    with database.transaction() as session:
        session.execute(update(OutboxMessage).values(not_before=dt.datetime.now(dt.UTC), expires_at=None))
    monkeypatch.setenv(EMBEDDED_ENV, "1")
    app = create_app(Settings(database_url=database_url, data_dir=tmp_path / "d"), Database(database_url))
    with ServerThread(app):
        deadline = time.monotonic() + (30 if database.is_sqlite else 2)
        while statuses(database).get("sent", 0) < 5 and time.monotonic() < deadline:
            time.sleep(0.2)
    counts = statuses(database)
    if database.is_sqlite:
        assert counts == {"sent": 5}
        assert sim.stats()["accepted"] == 5
    else:  # scaled mode: the server leaves sending to `quita worker`
        assert counts == {"pending": 5}


def test_dispatcher_tests_run_in_both_deployment_modes(
    database: Database, deployment_mode: str | None
) -> None:
    """Guards the wiring of ``tests/dispatch/conftest.py``: the parametrized tests really run scaled."""
    from quita.dispatch.limits import MemoryLimiter, RedisLimiter
    from quita.dispatch.worker import Dispatcher

    limiter = Dispatcher(database).limiter
    if deployment_mode == "scaled":
        assert not database.is_sqlite and isinstance(limiter, RedisLimiter)
        assert limiter.reserve("mode-check", 1.0, 1) == 0.0  # a live Redis answered
        sink = database.job_sink
        assert sink is not None and getattr(sink, "__self__", None).__class__.__name__ == "BrokerRunner"
    else:
        assert deployment_mode == "embedded" and database.is_sqlite and isinstance(limiter, MemoryLimiter)
