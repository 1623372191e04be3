"""The scaled mode's job engine: ``quita.kit.jobs`` on Dramatiq, over RabbitMQ (``amqp://``) or Redis
(``redis://``), chosen by ``QUITA_BROKER_URL``.

One Dramatiq actor, ``quita_job(name, payload)``, carries every registered job: the registry in
``kit.jobs`` stays the single list of jobs, so a job written for the embedded runner runs unchanged here
and a worker never lacks an actor a server sends. Delivery is at least once (RabbitMQ redelivers the
message of a worker killed mid-job; Dramatiq acknowledges after the handler returns), which is fine
because every job's state lives in the database and a job is safe to run again. Publishing waits for
RabbitMQ's confirm, so once ``Database.transaction`` returns the job is durable in the broker too.

Failures are retried a few times with exponential backoff (a database restart, a lost connection); a job
that keeps failing lands in Dramatiq's dead-letter queue, and its own table says what went wrong.
"""

from __future__ import annotations

import logging
from typing import Any

import dramatiq
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker

from quita.kit.jobs import handler_for

log = logging.getLogger("quita.jobs")

ACTOR = "quita_job"
MAX_RETRIES = 5
MIN_BACKOFF_MS, MAX_BACKOFF_MS = 1_000, 60_000
TIME_LIMIT_MS = 6 * 3600 * 1000  # an import of millions of rows is one job; Dramatiq's default is 10 min


def make_broker(url: str) -> dramatiq.Broker:
    if url.startswith(("amqp://", "amqps://")):
        return RabbitmqBroker(url=url, confirm_delivery=True)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisBroker(url=url)
    raise ValueError(f"QUITA_BROKER_URL must be amqp://… (RabbitMQ) or redis://… (Redis), not {url!r}")


class BrokerRunner:
    """Sends jobs to the broker (``submit``) and, in a worker process, consumes them (``consume``)."""

    #: Jobs submitted here run in some worker process, maybe on another machine.
    remote = True

    def __init__(self, database: Any, url: str, *, queue: str = "quita-jobs") -> None:
        self.database = database
        self.url = url
        self.queue = queue
        self.broker = make_broker(url)
        self.actor: dramatiq.Actor[[str, dict[str, Any]], None] = dramatiq.Actor(
            self._perform,
            broker=self.broker,
            actor_name=ACTOR,
            queue_name=queue,
            priority=0,
            options={
                "max_retries": MAX_RETRIES,
                "min_backoff": MIN_BACKOFF_MS,
                "max_backoff": MAX_BACKOFF_MS,
                "time_limit": TIME_LIMIT_MS,
            },
        )
        self._worker: dramatiq.Worker | None = None

    def submit(self, name: str, payload: dict[str, Any]) -> dramatiq.Message[None]:
        handler_for(name)  # an unknown job fails here, in the sender, not later in a worker's log
        return self.actor.send(name, payload)

    def _perform(self, name: str, payload: dict[str, Any]) -> None:
        handler_for(name)(self.database, payload)

    def consume(self, threads: int = 4) -> BrokerRunner:
        """Starts a Dramatiq worker in this process (its own consumer and worker threads)."""
        self._worker = dramatiq.Worker(self.broker, queues={self.queue}, worker_threads=threads)
        self._worker.start()
        log.info("consuming jobs from %s (queue %s, %d threads)", _safe(self.url), self.queue, threads)
        return self

    def join(self) -> None:
        """Tests: waits until the queue is empty and every consumed job has finished."""
        self.broker.join(self.queue)
        if self._worker is not None:
            self._worker.join()

    def shutdown(self, timeout: float = 30.0) -> None:
        if self._worker is not None:
            self._worker.stop(timeout=int(timeout * 1000))
            self._worker = None
        self.broker.close()


def _safe(url: str) -> str:
    """The URL without its password, for logs."""
    scheme, _, rest = url.partition("://")
    if "@" in rest:
        credentials, _, host = rest.rpartition("@")
        return f"{scheme}://{credentials.split(':')[0]}:***@{host}"
    return url
