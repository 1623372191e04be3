"""The real RabbitMQ and Redis of the machine for job-engine tests: each test gets its own queue (and
deletes it afterwards). When ``CI=true`` an unreachable service fails the test instead of skipping it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

RABBITMQ_URL = os.environ.get("QUITA_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
REDIS_BROKER_URL = os.environ.get("QUITA_TEST_REDIS_BROKER_URL", "redis://127.0.0.1:6379/12")


def unreachable(what: str, exc: Exception) -> None:
    message = f"{what} unreachable: {exc}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def check_rabbitmq(url: str = RABBITMQ_URL) -> str:
    import pika

    try:
        pika.BlockingConnection(pika.URLParameters(url)).close()
    except Exception as exc:
        unreachable(f"RabbitMQ at {url}", exc)
    return url


def check_redis(url: str) -> str:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as exc:
        unreachable(f"Redis at {url}", exc)
    return url


def delete_queue(url: str, queue: str) -> None:
    """Dramatiq declares ``queue``, its delay queue ``.DQ`` and dead letters ``.XQ``: remove all three."""
    if url.startswith("amqp"):
        import pika

        connection = pika.BlockingConnection(pika.URLParameters(url))
        channel = connection.channel()
        for name in (queue, f"{queue}.DQ", f"{queue}.XQ"):
            channel.queue_delete(name)
        connection.close()
    else:
        import redis

        client = redis.Redis.from_url(url)
        for key in client.scan_iter(f"dramatiq:{queue}*"):
            client.delete(key)


@pytest.fixture(params=["rabbitmq", "redis"])
def broker_url(request: pytest.FixtureRequest) -> str:
    return check_rabbitmq() if request.param == "rabbitmq" else check_redis(REDIS_BROKER_URL)


@pytest.fixture
def job_queue(broker_url: str) -> Iterator[str]:
    name = f"quita-test-{uuid.uuid4().hex[:10]}"
    yield name
    delete_queue(broker_url, name)
