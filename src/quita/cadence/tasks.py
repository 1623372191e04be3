"""The planner's periodic tick: every minute, one leader at a time.

On PostgreSQL leadership is ``pg_try_advisory_lock`` held on a dedicated connection for the length of the
tick, so any number of ``quita worker`` processes may run the loop and only one plans; a crashed leader's
lock dies with its connection. On SQLite there is one embedded process and a process-wide lock suffices.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid

from sqlalchemy import text

from quita.cadence.planner import PlanStats, plan_tenant, tenant_ids
from quita.kit.db import Database

log = logging.getLogger("quita.cadence")
PLANNER_LOCK_KEY = 0x51_55_49_54_41_01  # "QUITA" + 1: the advisory lock id of the planner
_local_lock = threading.Lock()


def run_tick(
    database: Database, *, now: dt.datetime | None = None, only_tenant: str | None = None
) -> PlanStats | None:
    """Plans every tenant (or one); ``None`` when another process holds the leadership."""
    if database.is_sqlite:
        if not _local_lock.acquire(blocking=False):
            return None
        try:
            return _plan_all(database, now, only_tenant)
        finally:
            _local_lock.release()
    with database.engine.connect() as conn:
        got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": PLANNER_LOCK_KEY}).scalar()
        conn.commit()
        if not got:
            return None
        try:
            return _plan_all(database, now, only_tenant)
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PLANNER_LOCK_KEY})
            conn.commit()


def _plan_all(database: Database, now: dt.datetime | None, only_tenant: str | None) -> PlanStats:
    moment = now or dt.datetime.now(dt.UTC)
    total = PlanStats()
    if only_tenant is not None:
        from quita.tenant import service as tenants

        with database.transaction() as session:
            ids: list[uuid.UUID] = [tenants.get_tenant(session, only_tenant).id]
    else:
        ids = tenant_ids(database)
    for tenant_id in ids:
        try:
            total.add(plan_tenant(database, tenant_id, moment))
        except Exception:  # one tenant's bad data must not stop the others' cadences
            log.exception("planning tenant %s failed", tenant_id)
    return total


class PlannerLoop:
    """Runs :func:`run_tick` every ``interval`` seconds on a daemon thread until stopped."""

    def __init__(self, database: Database, interval: float = 60.0) -> None:
        self.database = database
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="quita-planner", daemon=True)

    def start(self) -> PlannerLoop:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                stats = run_tick(self.database)
                if stats is not None:  # this minute's leader also runs the bot's timers (issue 6)
                    from quita.bot.timers import periodic_tick as bot_tick

                    bot_tick(self.database)
                if stats is not None and stats.candidates:
                    log.info(
                        "planner: %s allowed, %s deferred, %s blocked in %.1f s",
                        stats.allowed,
                        stats.deferred,
                        stats.blocked,
                        stats.seconds,
                    )
            except Exception:
                log.exception("planner tick failed; retrying next minute")
            self._stop.wait(self.interval)

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
