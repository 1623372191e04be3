"""The dispatch benchmark's scaled case end to end: two dispatcher processes against PostgreSQL and
Redis send every prepared row exactly once, both numbers served, and the case reports their CPU."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from quita.bench import dispatch_bench as bench
from quita.dispatch.models import OutboxMessage, OutboxStatus
from quita.kit.db import Database


def test_two_worker_processes_send_every_row_once(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """(``postgres_url`` skips the test when PostgreSQL is not there; the case makes its own schema.)"""
    from tests.conftest import _pg_base_url

    monkeypatch.setenv("QUITA_SECRET_KEY", Fernet.generate_key().decode())
    sim = bench.Simulator(tmp_path, 2)
    try:
        url, drop = bench._fresh_db("postgresql", tmp_path, _pg_base_url())
        try:
            bench._prepare(url, sim, 150, 2)
            sim.reset()
            result = bench._two_workers(url, 150, 2, True, "t", bench.REDIS_URL)
            stats = bench.httpx.get(f"{sim.url}/_sim/stats", timeout=10).json()
            database = Database(url)
            with database.transaction() as session:
                sent = session.execute(
                    select(OutboxMessage.channel_id, func.count())
                    .where(OutboxMessage.status == OutboxStatus.SENT)
                    .group_by(OutboxMessage.channel_id)
                ).all()
            database.dispose()
        finally:
            drop()
    finally:
        sim.close()
    assert result.accepted == result.messages == 300 and result.cpu_ms > 0
    assert sorted(n for _, n in sent) == [150, 150]
    assert stats["accepted"] == 300 and stats["duplicate_sends"] == {}
