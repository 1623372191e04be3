from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from quita.dispatch.limits import Limiter, MemoryLimiter, RedisLimiter

REDIS_URL = "redis://127.0.0.1:6379/15"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "redis"])
def limiter(request: pytest.FixtureRequest) -> Iterator[Limiter]:
    if request.param == "memory":
        yield MemoryLimiter()
        return
    try:
        redis_limiter = RedisLimiter(REDIS_URL, prefix=f"quita-test:{uuid.uuid4().hex[:8]}:")
        redis_limiter.reserve("ping", 1000, 1)
    except Exception as exc:  # pragma: no cover - depends on the machine
        import os

        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis unreachable: {exc}")
        pytest.skip(f"Redis unreachable: {exc}")
    yield redis_limiter
    redis_limiter.reset()


def test_reservations_pace_the_sender(limiter: Limiter) -> None:
    waits = [limiter.reserve("n1", 100.0, 10) for _ in range(5)]
    # 10 messages at 100/s take 0.1 s; each later booking starts where the previous one ended.
    for index, wait in enumerate(waits):
        assert index * 0.1 - 0.05 <= wait <= index * 0.1 + 0.01
    assert limiter.reserve("other-number", 100.0, 10) <= 0.01


def test_recipient_pair_limit(limiter: Limiter) -> None:
    assert limiter.try_recipient("n1:+5511999990001", 6.0) == 0.0
    wait = limiter.try_recipient("n1:+5511999990001", 6.0)
    assert 5.0 < wait <= 6.0
    assert limiter.try_recipient("n1:+5511999990002", 6.0) == 0.0


def test_tier_counts_unique_recipients(limiter: Limiter) -> None:
    assert [limiter.try_tier("waba", f"r{i}", 3) for i in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.try_tier("waba", "r1", 3) == 0.0  # already counted: free
    wait = limiter.try_tier("waba", "r9", 3)
    assert 86_000 < wait <= 86_400
    assert limiter.try_tier("waba", "r9", None) == 0.0  # unlimited tier


def test_memory_tier_window_rolls_and_is_seeded() -> None:
    limiter = MemoryLimiter()
    limiter.seed_tier("waba", {"old": 0.0, "recent": 1e12})
    assert limiter.try_tier("waba", "new", 2) == 0.0  # "old" left the 24 h window
    assert limiter.try_tier("waba", "newer", 2) > 0


def test_memory_clock_is_injectable() -> None:
    clock = FakeClock()
    limiter = MemoryLimiter(clock)
    assert limiter.try_recipient("k", 6.0) == 0.0
    clock.now += 6.1
    assert limiter.try_recipient("k", 6.0) == 0.0


def test_batched_admission_applies_pair_then_tier_in_order(limiter: Limiter) -> None:
    from quita.dispatch.limits import Admission

    checks = [
        Admission("n1:a", 6.0, "waba", "a", 2),
        Admission("n1:a", 6.0, "waba", "a", 2),  # second to the same person: pair limit
        Admission("n1:b", 6.0, "waba", "b", 2),
        Admission("n1:c", 6.0, "waba", "c", 2),  # a third new person: over the tier
        Admission("n1:d", 6.0, "other-waba", "d", None),  # unlimited tier
    ]
    waits = limiter.admit(checks)
    assert waits[0] == 0.0 and waits[2] == 0.0 and waits[4] == 0.0
    assert 5.0 < waits[1] <= 6.0
    assert waits[3] > 86_000  # until the first of the two counted recipients leaves the 24 h window
    assert limiter.admit([Admission("n2:a", 6.0, "waba", "a", 2)]) == [0.0]  # already counted: free
    assert limiter.admit([]) == []
