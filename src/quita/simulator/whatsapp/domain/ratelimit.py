"""Token buckets for the two limits Meta enforces on sends: per business number and per recipient pair.

Time is passed in (seconds, monotonic) so the rules are testable without sleeping.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class TokenBucket:
    """``rate`` tokens per second, at most ``capacity`` saved up; starts full."""

    rate: float
    capacity: float
    tokens: float = -1.0
    updated: float = 0.0

    def take(self, now: float) -> bool:
        if self.tokens < 0:
            self.tokens, self.updated = self.capacity, now
        elapsed = now - self.updated
        if elapsed > 0:
            self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
            self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class PairLimiter:
    """About one message per ``interval`` seconds to the same user, with a small ``burst``.

    Idle recipients are forgotten once the table grows, so a million-recipient benchmark stays bounded.
    """

    def __init__(self, interval: float, burst: int, max_entries: int = 200_000) -> None:
        self.interval = interval
        self.burst = burst
        self.max_entries = max_entries
        self._buckets: dict[str, TokenBucket] = {}

    def take(self, recipient: str, now: float) -> bool:
        bucket = self._buckets.get(recipient)
        if bucket is None:
            if len(self._buckets) >= self.max_entries:
                self._forget_idle(now)
            bucket = self._buckets[recipient] = TokenBucket(1.0 / self.interval, float(self.burst))
        return bucket.take(now)

    def _forget_idle(self, now: float) -> None:
        full_after = self.interval * self.burst
        self._buckets = {k: b for k, b in self._buckets.items() if now - b.updated < full_after}
