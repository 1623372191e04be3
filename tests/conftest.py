"""Shared fixtures. Every test that takes ``database`` runs twice: on SQLite and on PostgreSQL.

PostgreSQL comes from ``QUITA_TEST_POSTGRES_URL`` (default: the local server, database ``test``);
each test run works in its own schema. When ``CI=true`` and PostgreSQL is unreachable, the suite
fails instead of skipping.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from quita.kit.db import Database
from quita.kit.db.migrate import upgrade

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
# Test servers do not plan or send by themselves; the tests that want it turn it on.
os.environ.setdefault("QUITA_EMBEDDED_DISPATCH", "0")
SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def _pg_base_url() -> str:
    return os.environ.get("QUITA_TEST_POSTGRES_URL", DEFAULT_PG)


def _with_schema(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url(worker_id: str) -> Iterator[str]:
    base = _pg_base_url()
    admin = sa.create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT",
                             pool_pre_ping=True)  # a test restarts the server: pooled connections may be dead
    try:
        with admin.connect() as conn:
            conn.execute(sa.text("select 1"))
    except Exception as exc:
        admin.dispose()
        message = f"PostgreSQL unreachable at {base}: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    schema = f"quita_test_{worker_id}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = _with_schema(base, schema)
    upgrade(url)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _truncate_all(database: Database) -> None:
    from quita.kit.db import Base

    with database.engine.begin() as conn:
        present = set(sa.inspect(conn).get_table_names()) - {"alembic_version"}
        names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables if t.name in present)
        conn.execute(sa.text(f"TRUNCATE {names} CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "quita.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    import quita.kit.db.registry  # noqa: F401

    db = Database(database_url)
    if not db.is_sqlite:
        _truncate_all(db)
    try:
        yield db
    finally:
        db.dispose()


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared is absent")
    return SHARED


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class ServerThread:
    """A real uvicorn server on a loopback port, in a thread, for HTTP tests."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("test server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
