"""Rate limits that hold across every worker: per sender number, per recipient, and the account's tier.

Two implementations of one small interface. ``MemoryLimiter`` serves the embedded mode (one process).
``RedisLimiter`` serves the scaled mode: each check is one Lua script, atomic in Redis, and uses Redis's
own clock (``TIME``) so machines with skewed clocks still share one schedule.

* sender number: GCRA reservation. ``reserve(key, rate, n)`` books the next ``n`` slots and answers how
  long to wait before using them, so a worker paces itself instead of polling or hitting 130429;
* recipient (pair limit, ~1 per 6 s): a key with a TTL, ``SET NX PX``;
* tier (unique business-initiated recipients per rolling 24 h, per WhatsApp account): a sorted set of
  recipients scored by first contact; a recipient already counted passes free.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Protocol

DAY = 86_400.0


class Limiter(Protocol):
    def reserve(self, key: str, rate: float, count: int) -> float: ...

    def try_recipient(self, key: str, interval: float) -> float: ...

    def try_tier(self, account: str, recipient: str, limit: int | None, window: float = DAY) -> float: ...


class MemoryLimiter:
    def __init__(self, clock: Any = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._tat: dict[str, float] = {}
        self._recipients: dict[str, float] = {}
        self._tiers: dict[str, dict[str, float]] = {}
        self._wall = time.time

    def reserve(self, key: str, rate: float, count: int) -> float:
        with self._lock:
            now = self._clock()
            start = max(self._tat.get(key, now), now)
            self._tat[key] = start + count / rate
            return start - now

    def try_recipient(self, key: str, interval: float) -> float:
        with self._lock:
            now = self._clock()
            until = self._recipients.get(key, 0.0)
            if until > now:
                return until - now
            if len(self._recipients) > 200_000:
                self._recipients = {k: v for k, v in self._recipients.items() if v > now}
            self._recipients[key] = now + interval
            return 0.0

    def try_tier(self, account: str, recipient: str, limit: int | None, window: float = DAY) -> float:
        if limit is None:
            return 0.0
        with self._lock:
            now = self._wall()
            seen = self._tiers.setdefault(account, {})
            for r in [r for r, at in seen.items() if at <= now - window]:
                del seen[r]
            if recipient in seen:
                return 0.0
            if len(seen) < limit:
                seen[recipient] = now
                return 0.0
            return min(seen.values()) + window - now

    def seed_tier(self, account: str, recipients: dict[str, float]) -> None:
        """Embedded start-up: the last 24 h of sends come from the database, not from memory."""
        with self._lock:
            self._tiers.setdefault(account, {}).update(recipients)


_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local after = tat + tonumber(ARGV[1]) * tonumber(ARGV[2])
redis.call('SET', KEYS[1], tostring(after), 'PX', math.ceil((after - now) * 1000) + 60000)
return tostring(tat - now)
"""

_TIER = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local window = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return '0' end
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now, ARGV[1])
  redis.call('EXPIRE', KEYS[1], math.ceil(window) + 60)
  return '0'
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tostring(tonumber(oldest[2]) + window - now)
"""


class RedisLimiter:
    def __init__(self, url: str, prefix: str = "quita:rl:") -> None:
        import redis

        self._redis = redis.Redis.from_url(url)
        self._prefix = prefix
        self._reserve = self._redis.register_script(_RESERVE)
        self._tier = self._redis.register_script(_TIER)

    def reserve(self, key: str, rate: float, count: int) -> float:
        return max(0.0, float(self._reserve(keys=[f"{self._prefix}mps:{key}"], args=[1.0 / rate, count])))

    def try_recipient(self, key: str, interval: float) -> float:
        full = f"{self._prefix}pair:{key}"
        if self._redis.set(full, b"1", nx=True, px=max(1, int(interval * 1000))):
            return 0.0
        ttl = self._redis.pttl(full)
        return max(0.001, float(ttl) / 1000 if isinstance(ttl, int) and ttl > 0 else 0.001)

    def try_tier(self, account: str, recipient: str, limit: int | None, window: float = DAY) -> float:
        if limit is None:
            return 0.0
        return max(
            0.0, float(self._tier(keys=[f"{self._prefix}tier:{account}"], args=[recipient, limit, window]))
        )

    def reset(self) -> None:
        """Tests and benchmarks only: forget every counter under this prefix."""
        for key in self._redis.scan_iter(f"{self._prefix}*"):
            self._redis.delete(key)
