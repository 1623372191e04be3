"""Running the dispatcher and the planner: inside ``quita serve`` (embedded) or as ``quita worker`` (scaled).

Embedded: one process, SQLite, an in-memory limiter seeded from the database's last 24 h of sends; the
dispatcher's event loop lives on its own thread so request handling never waits on it.
Scaled: PostgreSQL (``SKIP LOCKED`` claims) and the Redis limiter; every worker runs the planner loop too,
and ``pg_try_advisory_lock`` lets exactly one of them plan each minute.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from quita.cadence.tasks import PlannerLoop
from quita.dispatch.limits import Limiter, MemoryLimiter, RedisLimiter
from quita.dispatch.worker import Dispatcher, DispatchSettings, new_event_loop, seed_tiers
from quita.kit.db import Database
from quita.kit.heap import settle_heap

log = logging.getLogger("quita.dispatch")


class BackgroundDispatch:
    """The dispatcher on a private event loop thread, plus the planner loop; ``start()`` / ``stop()``."""

    def __init__(
        self,
        database: Database,
        limiter: Limiter | None = None,
        settings: DispatchSettings | None = None,
        *,
        plan_every: float | None = 60.0,
    ) -> None:
        self.database = database
        if limiter is None:
            memory = MemoryLimiter()
            seed_tiers(database, memory)
            limiter = memory
        self.dispatcher = Dispatcher(database, limiter, settings)
        self.planner = PlannerLoop(database, plan_every) if plan_every else None
        self._loop = new_event_loop()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="quita-dispatch", daemon=True)
        self._ready = threading.Event()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def main() -> None:
            self._stop = asyncio.Event()
            self._ready.set()
            await self.dispatcher.run(self._stop)

        try:
            self._loop.run_until_complete(main())
        finally:
            self._loop.close()

    def start(self) -> BackgroundDispatch:
        settle_heap()
        self._thread.start()
        self._ready.wait(10)
        if self.planner is not None:
            self.planner.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        if self.planner is not None:
            self.planner.stop(timeout)
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout)


def limiter_for(redis_url: str | None) -> Limiter | None:
    """Redis when configured (scaled: limits shared by every worker); None → in-memory (embedded only)."""
    return RedisLimiter(redis_url) if redis_url else None


EMBEDDED_ENV = "QUITA_EMBEDDED_DISPATCH"


def start_embedded(database: Database, enabled: bool) -> BackgroundDispatch | None:
    """Called by ``quita serve``'s lifespan: on SQLite (the embedded mode), unless the setting
    ``QUITA_EMBEDDED_DISPATCH`` turns it off, the planner and the dispatcher run inside the server
    process. With PostgreSQL the ``quita worker`` processes do this work."""
    if not database.is_sqlite or not enabled:
        return None
    log.info("embedded mode: planner and dispatcher running inside this process")
    return BackgroundDispatch(database).start()
