"""Background jobs, enqueued only after the transaction that asked for them commits.

The database is the source of truth (a job's state lives in its own table, e.g. ``import_jobs``);
the runner only moves work, so every job must be safe to run again. Two runners, one interface
(``submit(name, payload)``):

* embedded (default): :class:`InProcessRunner`, a thread pool inside ``quita serve``;
* scaled (``QUITA_BROKER_URL`` set): :class:`quita.kit.broker.BrokerRunner`, Dramatiq on RabbitMQ (or
  Redis); ``quita serve`` and ``quita worker`` send, ``quita worker`` processes consume.

Payloads are small JSON objects (ids as strings): they cross process boundaries in the scaled mode.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

from sqlalchemy.orm import Session

log = logging.getLogger("quita.jobs")

JobHandler = Callable[[Any, dict[str, Any]], None]
_HANDLERS: dict[str, JobHandler] = {}
_LANES: dict[str, str] = {}
PENDING_KEY = "quita.pending_jobs"
#: Most jobs wait on I/O (the Graph API answers in 100–300 ms from Brazil; a bot reply is one such send), so
#: the pool is sized for waiting, not for the two cores.
DEFAULT_THREADS = 8


def job(name: str, *, lane: str | None = None) -> Callable[[JobHandler], JobHandler]:
    """Registers a job handler ``handler(database, payload)`` under a stable name.

    ``lane``: the in-process runner gives the named lane a thread of its own instead of a place in the shared
    pool. For long-running drains (one at a time anyway) that would otherwise hold a pool thread for seconds
    while short, latency-sensitive jobs (a bot reply a person is waiting for) queue behind them."""

    def register(handler: JobHandler) -> JobHandler:
        _HANDLERS[name] = handler
        if lane:
            _LANES[name] = lane
        return handler

    return register


def handler_for(name: str) -> JobHandler:
    handler = _HANDLERS.get(name)
    if handler is None:
        raise LookupError(f"no job handler registered as {name!r}")
    return handler


def registered() -> list[str]:
    return sorted(_HANDLERS)


def load_all_jobs() -> list[str]:
    """Imports every ``quita.<capability>.jobs`` module, so a worker process knows every handler a
    server process may send it (discovery: a new capability does not edit this file)."""
    import quita

    for module in pkgutil.iter_modules(quita.__path__):
        if not module.ispkg:
            continue
        name = f"quita.{module.name}.jobs"
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return registered()


def enqueue_after_commit(session: Session, name: str, payload: dict[str, Any]) -> None:
    """Buffers a job on the unit of work; ``Database.transaction`` hands it over after commit."""
    session.info.setdefault(PENDING_KEY, []).append((name, payload))


class JobRunner(Protocol):
    def submit(self, name: str, payload: dict[str, Any]) -> Any: ...

    def shutdown(self) -> None: ...


class InProcessRunner:
    """Runs jobs on a small thread pool inside the current process (embedded mode)."""

    #: Jobs submitted here run in this process (a sender may coalesce nudges on that basis).
    remote = False

    def __init__(self, database: Any, threads: int = DEFAULT_THREADS) -> None:
        self.database = database
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="quita-job")
        self._lanes: dict[str, ThreadPoolExecutor] = {}
        self._lock = threading.Lock()
        self._futures: set[Future[None]] = set()

    def _executor(self, name: str) -> ThreadPoolExecutor:
        lane = _LANES.get(name)
        if lane is None:
            return self._pool
        with self._lock:
            executor = self._lanes.get(lane)
            if executor is None:
                executor = self._lanes[lane] = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"quita-{lane}")
            return executor

    def submit(self, name: str, payload: dict[str, Any]) -> Future[None]:
        handler = handler_for(name)
        future = self._executor(name).submit(self._run, name, handler, payload)
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
        with self._lock:
            lanes = list(self._lanes.values())
        for executor in lanes:
            executor.shutdown(wait=True, cancel_futures=False)


def runs_elsewhere(database: Any) -> bool:
    """True when the jobs this process submits run in other processes (a broker): a sender must not
    expect to see them run, e.g. to clear a per-process "already nudged" mark."""
    sink = getattr(database, "job_sink", None)
    return bool(getattr(getattr(sink, "__self__", None), "remote", False))


def runner_for(
    database: Any, *, broker_url: str | None, queue: str = "quita-jobs", threads: int = DEFAULT_THREADS
) -> JobRunner:
    """The process's job runner: the broker when one is configured (scaled), else threads (embedded).

    A broker runner only *sends* here; consuming is ``quita worker``'s business (see
    :meth:`quita.kit.broker.BrokerRunner.consume`)."""
    if broker_url:
        from quita.kit.broker import BrokerRunner

        return BrokerRunner(database, broker_url, queue=queue)
    return InProcessRunner(database, threads=threads)
