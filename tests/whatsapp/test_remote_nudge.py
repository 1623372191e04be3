"""Scaled mode: the server asks the workers to process stored webhooks through the broker (a *nudge*),
at most one per ``REMOTE_NUDGE_S``, from one long-lived thread — so one broker connection, however long
webhooks keep arriving (a thread per nudge opened an AMQP connection each time and never closed it)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pika

from quita.kit.broker import BrokerRunner
from quita.kit.db import Database
from quita.whatsapp import jobs
from tests.kit.brokers import check_rabbitmq, delete_queue


def _waiting(url: str, queue: str) -> int:
    """Messages in ``queue``; 0 while the first nudge has not declared it yet."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        return int(connection.channel().queue_declare(queue, durable=True, passive=True).method.message_count)
    except pika.exceptions.ChannelClosedByBroker:
        return 0
    finally:
        connection.close()


def test_remote_nudges_share_one_broker_connection(tmp_path: Path) -> None:
    url = check_rabbitmq()
    queue = f"quita-test-{uuid.uuid4().hex[:10]}"
    database = Database(f"sqlite:///{tmp_path}/nudge.db")
    runner = BrokerRunner(database, url, queue=queue)
    database.job_sink = runner.submit
    try:
        for burst in range(1, 5):  # four bursts, each after the previous one's nudge went out: four nudges
            for _ in range(20):  # within a burst, one nudge
                jobs.nudge(database)
            deadline = time.monotonic() + 10
            while _waiting(url, queue) < burst:  # sent REMOTE_NUDGE_S after the burst (later on a busy machine)
                assert time.monotonic() < deadline, "the burst's nudge never reached the broker"
                time.sleep(0.05)
        assert _waiting(url, queue) == 4
        assert len(runner.broker.connections) == 1  # type: ignore[attr-defined]
    finally:
        database.job_sink = None
        runner.shutdown()
        database.dispose()
        delete_queue(url, queue)
