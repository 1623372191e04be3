"""Background jobs, enqueued only after the transaction that asked for them commits.

The database is the source of truth (a job's state lives in its own table, e.g. ``import_jobs``);
the runner only moves work. In the embedded mode jobs run on threads inside ``quita serve``; the
scaled mode plugs a broker-backed engine into the same ``enqueue`` (see docs/architecture.md).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from sqlalchemy.orm import Session

log = logging.getLogger("quita.jobs")

JobHandler = Callable[[Any, dict[str, Any]], None]
_HANDLERS: dict[str, JobHandler] = {}
PENDING_KEY = "quita.pending_jobs"


def job(name: str) -> Callable[[JobHandler], JobHandler]:
    """Registers a job handler ``handler(database, payload)`` under a stable name."""

    def register(handler: JobHandler) -> JobHandler:
        _HANDLERS[name] = handler
        return handler

    return register


def enqueue_after_commit(session: Session, name: str, payload: dict[str, Any]) -> None:
    """Buffers a job on the unit of work; ``Database.transaction`` hands it over after commit."""
    session.info.setdefault(PENDING_KEY, []).append((name, payload))


class InProcessRunner:
    """Runs jobs on a small thread pool inside the current process (embedded mode)."""

    def __init__(self, database: Any, threads: int = 2) -> None:
        self.database = database
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="quita-job")
        self._lock = threading.Lock()
        self._futures: set[Future[None]] = set()

    def submit(self, name: str, payload: dict[str, Any]) -> Future[None]:
        handler = _HANDLERS.get(name)
        if handler is None:
            raise LookupError(f"no job handler registered as {name!r}")
        future = self._pool.submit(self._run, name, handler, payload)
        with self._lock:
            self._futures.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: Future[None]) -> None:
        with self._lock:
            self._futures.discard(future)

    def _run(self, name: str, handler: JobHandler, payload: dict[str, Any]) -> None:
        try:
            handler(self.database, payload)
        except Exception:  # a job records its own failure; this is the last line of defence
            log.exception("job %s failed", name)

    def wait_idle(self, timeout: float | None = None) -> None:
        with self._lock:
            futures = list(self._futures)
        for future in futures:
            future.result(timeout=timeout)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)
