"""Engines and sessions for SQLite (embedded) and PostgreSQL (scaled), from one URL.

The user writes ``sqlite:///quita.db`` or ``postgresql://user@host/db``; the driver is chosen here
(pysqlite, psycopg 3), so settings never mention drivers.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker


def normalise_url(url: str) -> str:
    """Map a plain database URL to the driver Quita uses."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+pysqlite").render_as_string(hide_password=False)
    if backend in {"postgresql", "postgres"}:
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    raise ValueError(f"unsupported database URL {parsed.drivername!r}: use sqlite:/// or postgresql://")


def libpq_conninfo(url: URL) -> str:
    """A libpq connection string for a PostgreSQL URL, for code that connects with psycopg itself.

    Not ``url.render_as_string()``: SQLAlchemy writes a space in a query value as ``+``, which libpq's URI
    parser keeps as a ``+`` (``options=-c search_path=a -c statement_timeout=5000`` became one broken
    search path). Keywords and values are passed as such, quoted by psycopg."""
    from psycopg.conninfo import make_conninfo

    params: dict[str, Any] = {"host": url.host, "port": url.port, "user": url.username, "password": url.password,
                              "dbname": url.database}
    for key, value in url.query.items():
        params[key] = value if isinstance(value, str) else value[-1]  # a repeated key: the last one, as libpq
    return make_conninfo("", **{k: v for k, v in params.items() if v is not None})


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB: bulk imports touch many index pages
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def _savepoint_in_a_write_transaction(conn: Any, _name: str) -> None:
    """pysqlite starts no transaction for a ``SAVEPOINT``: outside one, the savepoint itself becomes a deferred
    transaction that its ``RELEASE`` commits at once (so an outer rollback cannot undo it), and whose first
    write fails with "database is locked" when another connection committed since its first read. A savepoint
    is only taken around writes, so the outer transaction takes the write lock first (``BEGIN IMMEDIATE``,
    waiting like any writer) and the savepoint nests inside it."""
    dbapi_connection = conn.connection.dbapi_connection
    if dbapi_connection is not None and not dbapi_connection.in_transaction:
        dbapi_connection.execute("BEGIN IMMEDIATE")


class _SqliteWriteGate:
    """One writer at a time among this process's threads, handed over the moment the writer finishes.

    SQLite has a single write lock; a thread that finds it taken sleeps in SQLite's busy handler (backing
    off up to 100 ms a try), so under steady writes from several threads (webhook intake and processing,
    bot replies, the dispatcher) the sleeps, not the work, set the pace. Threads of one process queue here
    instead, from a transaction's first write (or ``BEGIN IMMEDIATE``) to its end; other processes (a CLI
    next to ``quita serve``) still meet SQLite's own lock and busy timeout. Re-entrant per thread; released
    by whoever ends the transaction (a connection may be checked in from another thread)."""

    KEY = "quita.sqlite_write_gate"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner: int | None = None
        self._depth = 0
        # First come, first served: with a condition and ``notify_all`` whoever woke first won, and the webhook
        # pump lost to eight job threads again and again (a person's message sat stored for ~0.5 s).
        self._queue: collections.deque[tuple[int, threading.Event]] = collections.deque()

    def enter(self, info: dict[Any, Any]) -> None:
        if info.get(self.KEY):
            return
        me = threading.get_ident()
        with self._lock:
            if self._owner in (None, me):
                self._owner = me
                self._depth += 1
                info[self.KEY] = True
                return
            turn = threading.Event()
            self._queue.append((me, turn))
        turn.wait()  # leave() made this thread the owner before setting the event
        info[self.KEY] = True

    def leave(self, info: dict[Any, Any]) -> None:
        if not info.pop(self.KEY, False):
            return
        with self._lock:
            self._depth -= 1
            if self._depth > 0:
                return
            if self._queue:
                self._owner, turn = self._queue.popleft()
                self._depth = 1
                turn.set()
            else:
                self._owner, self._depth = None, 0

    def before_execute(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip()[:6].upper().startswith(("SELECT", "PRAGMA")):
            self.enter(conn.info)


class Database:
    """Owns the engine and the session factory of one database."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalise_url(url)
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
        self.engine: Engine = create_engine(self.url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _tune_sqlite)
            gate = _SqliteWriteGate()
            event.listen(self.engine, "before_cursor_execute", gate.before_execute)
            for name in ("commit", "rollback"):
                event.listen(self.engine, name, lambda conn: gate.leave(conn.info))
            event.listen(self.engine, "checkin", lambda _dbapi, record: gate.leave(record.info))
            event.listen(self.engine, "savepoint", lambda conn, _name: gate.enter(conn.info))
            event.listen(self.engine, "savepoint", _savepoint_in_a_write_transaction)
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        # Where jobs go once their transaction commits (set by the process that runs jobs).
        self.job_sink: Callable[[str, dict[str, Any]], Any] | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """The unit of work: one session, committed on success, rolled back on any error."""
        session = self.session_factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            pending = session.info.pop("quita.pending_jobs", [])
            session.close()
        for name, payload in pending:
            if self.job_sink is None:
                raise RuntimeError(f"job {name!r} was enqueued but this process runs no jobs")
            self.job_sink(name, payload)

    def dispose(self) -> None:
        self.engine.dispose()
