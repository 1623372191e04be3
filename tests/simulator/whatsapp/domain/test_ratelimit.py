from __future__ import annotations

from quita.simulator.whatsapp.domain.ratelimit import PairLimiter, TokenBucket


def test_token_bucket_allows_rate_per_second_and_refills() -> None:
    bucket = TokenBucket(rate=80, capacity=80)
    assert sum(bucket.take(0.0) for _ in range(100)) == 80
    assert not bucket.take(0.0)
    assert sum(bucket.take(0.5) for _ in range(100)) == 40


def test_pair_limit_burst_then_one_per_interval() -> None:
    pairs = PairLimiter(interval=6.0, burst=3)
    assert [pairs.take("a", 0.0) for _ in range(4)] == [True, True, True, False]
    assert pairs.take("b", 0.0)
    assert not pairs.take("a", 5.9)
    assert pairs.take("a", 6.1)
    assert not pairs.take("a", 6.2)


def test_pair_table_forgets_idle_recipients() -> None:
    pairs = PairLimiter(interval=1.0, burst=1, max_entries=10)
    for i in range(10):
        pairs.take(str(i), 0.0)
    pairs.take("new", 100.0)
    assert len(pairs._buckets) == 1
