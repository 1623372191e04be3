"""Jobs: handed over only after commit, under both runners (in-process threads; Dramatiq on the real
RabbitMQ and Redis), and a job sent to the broker is run by a real ``quita worker`` process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from quita.kit.broker import BrokerRunner
from quita.kit.db import Database
from quita.kit.jobs import (
    InProcessRunner,
    enqueue_after_commit,
    handler_for,
    job,
    load_all_jobs,
    registered,
    runner_for,
)
from quita.tenant.models import Tenant
from tests.conftest import _truncate_all
from tests.factories import good_row, make_tenant, write_csv
from tests.kit.brokers import RABBITMQ_URL, broker_url, check_rabbitmq, delete_queue, job_queue

__all__ = ["broker_url", "job_queue"]  # fixtures
ROOT = Path(__file__).resolve().parents[2]
PROBE = "tests.probe"
_seen: list[tuple[str, bool]] = []
_seen_lock = threading.Lock()


@job(PROBE)
def _probe(database: Database, payload: dict[str, Any]) -> None:
    """Records the payload and whether the tenant its transaction created is visible (committed)."""
    with database.transaction() as session:
        found = session.scalar(select(Tenant.id).where(Tenant.slug == payload["slug"])) is not None
    with _seen_lock:
        _seen.append((payload["slug"], found))


@pytest.fixture
def seen() -> Iterator[list[tuple[str, bool]]]:
    _seen.clear()
    yield _seen
    _seen.clear()


@pytest.fixture
def scaled_database(postgres_url: str) -> Iterator[Database]:
    import quita.kit.db.registry  # noqa: F401

    database = Database(postgres_url)
    _truncate_all(database)
    yield database
    database.dispose()


def _create_and_enqueue(database: Database, slug: str, *, fail: bool) -> None:
    from quita.tenant import service as tenants
    from quita.tenant.models import TenantKind

    with database.transaction() as session:
        tenants.create_tenant(session, slug=slug, name=slug, kind=TenantKind.CREDITOR, actor="test")
        enqueue_after_commit(session, PROBE, {"slug": slug})
        if fail:
            raise RuntimeError("rolled back")


def _round_trip(database: Database) -> None:
    with pytest.raises(RuntimeError):
        _create_and_enqueue(database, "desfeito", fail=True)
    _create_and_enqueue(database, "gravado", fail=False)


def test_in_process_runner_runs_jobs_after_commit_only(database: Database, seen: list[Any]) -> None:
    runner = InProcessRunner(database)
    database.job_sink = runner.submit
    _round_trip(database)
    runner.wait_idle(10)
    runner.shutdown()
    assert seen == [("gravado", True)]


_LANE_RELEASE = threading.Event()
_lane_started = threading.Event()
_pool_ran = threading.Event()


@job("tests.lane_drain", lane="tests-lane")
def _long_drain(_database: Any, _payload: dict[str, Any]) -> None:
    _lane_started.set()
    _LANE_RELEASE.wait(10)


@job("tests.short")
def _short(_database: Any, _payload: dict[str, Any]) -> None:
    _pool_ran.set()


def test_a_lane_job_runs_on_its_own_thread_and_does_not_hold_back_the_pool() -> None:
    """A one-thread pool would run the short job only after the drain: with the drain on its lane it runs at once."""
    runner = InProcessRunner(database=None, threads=1)
    try:
        drains = [runner.submit("tests.lane_drain", {}) for _ in range(2)]
        assert _lane_started.wait(5)
        runner.submit("tests.short", {})
        assert _pool_ran.wait(5)
        assert not drains[1].done()  # the lane runs its jobs one at a time
    finally:
        _LANE_RELEASE.set()
        runner.wait_idle(10)
        runner.shutdown()


def test_broker_gets_jobs_after_commit_only(
    scaled_database: Database, broker_url: str, job_queue: str, seen: list[Any]
) -> None:
    runner = runner_for(scaled_database, broker_url=broker_url, queue=job_queue)
    assert isinstance(runner, BrokerRunner)
    scaled_database.job_sink = runner.submit
    _round_trip(scaled_database)
    runner.consume(threads=2)  # a Dramatiq worker on the real broker, started after both transactions
    runner.join()  # the queue is empty: a rolled-back job would have been consumed by now
    runner.shutdown()
    assert seen == [("gravado", True)]


def test_unknown_jobs_are_refused_by_the_sender(scaled_database: Database) -> None:
    runner = BrokerRunner(scaled_database, check_rabbitmq(), queue="quita-test-never-declared")
    with pytest.raises(LookupError):
        runner.submit("no.such.job", {})
    runner.shutdown()


def _harmless_payloads(database: Database, tmp_path: Path) -> dict[str, dict[str, Any]]:
    """One payload per registered job that runs the real handler end to end and changes nothing."""
    tenant_id = make_tenant(database, "jobs")
    (tmp_path / "cnab").mkdir()
    return {
        PROBE: {"slug": "jobs"},
        "importing.run": {"job_id": str(uuid.uuid4())},  # unknown import: returns
        "whatsapp.process_webhooks": {},  # nothing stored: drains nothing
        "whatsapp.download_media": {"message_id": str(uuid.uuid4())},  # no such inbound message
        "whatsapp.resume_media_downloads": {},  # no inbound media: queues nothing
        "bot.resume": {},  # no unanswered message: queues nothing
        "payments.import_returns": {"tenant_id": str(tenant_id), "folder": str(tmp_path / "cnab")},
        "bot.reply": {  # a debtor that does not exist: nothing to answer
            "tenant_id": str(tenant_id),
            "channel_id": str(uuid.uuid4()),
            "conversation_id": str(uuid.uuid4()),
            "debtor_id": str(uuid.uuid4()),
            "wamid": "wamid.jobs-test",
        },
    }


def test_every_registered_job_runs_under_both_runners(
    scaled_database: Database, tmp_path: Path, seen: list[Any]
) -> None:
    names = load_all_jobs()
    assert {"importing.run", "whatsapp.process_webhooks", "bot.reply", "payments.import_returns"} <= set(
        names
    )
    payloads = _harmless_payloads(scaled_database, tmp_path)
    missing = {n for n in registered() if handler_for(n).__module__.startswith("quita.")} - set(payloads)
    assert not missing, f"add a harmless payload for the new job(s) {missing} to this test"
    errors: list[str] = []
    queue = f"quita-test-{uuid.uuid4().hex[:10]}"
    local = InProcessRunner(scaled_database)
    remote = BrokerRunner(scaled_database, check_rabbitmq(), queue=queue)
    try:
        for name, payload in payloads.items():
            try:  # the in-process runner logs failures; run the handler the same way, but see them
                local.submit(name, payload).result(30)
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(f"{name} in-process: {exc!r}")
            remote.submit(name, payload)
        remote.consume(threads=2)
        remote.join()
        failed = (
            remote.broker.get_queue_message_counts(queue)[2]
            if hasattr(remote.broker, "get_queue_message_counts")
            else 0
        )
    finally:
        local.shutdown()
        remote.shutdown()
        delete_queue(RABBITMQ_URL, queue)
    assert not errors and not failed
    assert seen == [("jobs", True), ("jobs", True)]


def test_a_job_sent_to_the_broker_is_run_by_a_real_worker_process(
    scaled_database: Database, postgres_url: str, tmp_path: Path
) -> None:
    from quita.importing import jobs as importing_jobs
    from quita.importing.models import ImportJob, ImportStatus

    url = check_rabbitmq()
    queue = f"quita-test-{uuid.uuid4().hex[:10]}"
    tenant_id = make_tenant(scaled_database, "worker")
    upload = write_csv(tmp_path / "carteira.csv", [good_row(i) for i in range(1, 6)])
    env = {**os.environ, "QUITA_DATABASE_URL": postgres_url, "PYTHONPATH": str(ROOT / "src")}
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "quita.dispatch.cli",
            "--no-dispatch",
            "--broker-url",
            url,
            "--job-queue",
            queue,
            "--job-threads",
            "2",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    sender = BrokerRunner(scaled_database, url, queue=queue)  # this process only sends
    scaled_database.job_sink = sender.submit
    try:
        with scaled_database.transaction() as session, upload.open("rb") as content:
            record = importing_jobs.create_job(
                session,
                tenant_id=tenant_id,
                filename="carteira.csv",
                content=content,
                data_dir=tmp_path / "d",
            )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with scaled_database.transaction() as session:
                stored = session.get_one(ImportJob, record.id)
            if stored.status in (ImportStatus.DONE, ImportStatus.FAILED):
                break
            assert worker.poll() is None, worker.stderr.read().decode() if worker.stderr else "worker died"
            time.sleep(0.3)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
        sender.shutdown()
        delete_queue(url, queue)
    assert stored.status == ImportStatus.DONE, stored.error
    assert stored.rows_imported == 5


def test_a_sender_can_tell_whether_its_jobs_run_here(scaled_database: Database) -> None:
    from quita.kit.jobs import runs_elsewhere

    local = InProcessRunner(scaled_database)
    scaled_database.job_sink = local.submit
    assert not runs_elsewhere(scaled_database)
    remote = BrokerRunner(scaled_database, check_rabbitmq(), queue="quita-test-never-declared")
    scaled_database.job_sink = remote.submit
    assert runs_elsewhere(scaled_database)
    local.shutdown()
    remote.shutdown()


def test_serve_with_a_broker_queues_an_upload_for_the_workers(
    scaled_database: Database, postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scaled ``quita serve``: the import an API upload creates goes to RabbitMQ after the commit (the
    server runs no jobs itself) and a worker consuming the queue runs it."""
    import httpx

    from quita.config import Settings
    from quita.importing.models import ImportJob, ImportStatus
    from quita.server.app import create_app
    from tests.conftest import ServerThread
    from tests.factories import make_api_key

    url = check_rabbitmq()
    queue = f"quita-test-{uuid.uuid4().hex[:10]}"
    make_tenant(scaled_database, "serve")
    key = make_api_key(scaled_database, "serve")
    upload = write_csv(tmp_path / "carteira.csv", [good_row(i) for i in range(1, 4)])
    settings = Settings(database_url=postgres_url, data_dir=tmp_path / "d", broker_url=url, job_queue=queue)
    app = create_app(settings, Database(postgres_url))
    try:
        with ServerThread(app) as server, upload.open("rb") as content:
            assert isinstance(app.state.runner, BrokerRunner)
            response = httpx.post(
                f"{server.url}/api/v1/imports",
                headers={"Authorization": f"Bearer {key}"},
                files={"file": ("carteira.csv", content, "text/csv")},
                timeout=30,
            )
            assert response.status_code == 202, response.text
            job_id = uuid.UUID(response.json()["id"])
            time.sleep(0.5)
            with scaled_database.transaction() as session:
                assert session.get_one(ImportJob, job_id).status == ImportStatus.QUEUED  # not run here
            # the import, and the start-up catch-ups every server sends (unanswered messages, missing media)
            assert app.state.runner.broker.get_queue_message_counts(queue)[0] == 3
        worker = BrokerRunner(scaled_database, url, queue=queue).consume(threads=1)
        worker.join()
        worker.shutdown()
        with scaled_database.transaction() as session:
            stored = session.get_one(ImportJob, job_id)
        assert stored.status == ImportStatus.DONE and stored.rows_imported == 3, stored.error
    finally:
        delete_queue(url, queue)
