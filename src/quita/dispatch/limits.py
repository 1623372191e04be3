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
from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

DAY = 86_400.0


class Admission(NamedTuple):
    """One row's claim-time checks: the pair key and its interval, then the account's tier."""

    pair_key: str
    interval: float
    account: str
    recipient: str
    tier_limit: int | None


class Limiter(Protocol):
    def reserve(self, key: str, rate: float, count: int) -> float: ...

    def try_recipient(self, key: str, interval: float) -> float: ...

    def try_tier(self, account: str, recipient: str, limit: int | None, window: float = DAY) -> float: ...

    def admit(self, checks: Sequence[Admission], window: float = DAY) -> list[float]:
        """``try_recipient`` then, if it passed, ``try_tier`` for each row, in order: the seconds each row
        must wait (0 = go). Batched because a claim checks hundreds of rows at once."""
        ...


def _admit_one(limiter: Limiter, check: Admission, window: float) -> float:
    wait = limiter.try_recipient(check.pair_key, check.interval)
    if wait > 0:
        return wait
    return limiter.try_tier(check.account, check.recipient, check.tier_limit, window)


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

    def admit(self, checks: Sequence[Admission], window: float = DAY) -> list[float]:
        return [_admit_one(self, c, window) for c in checks]

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


_ADMIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local window = tonumber(ARGV[1])
local out = {}
local cleaned = {}
for i = 1, #KEYS / 2 do
  local pair, tier, base = KEYS[2 * i - 1], KEYS[2 * i], 1 + (i - 1) * 3
  local interval_ms, recipient, limit = ARGV[base + 1], ARGV[base + 2], ARGV[base + 3]
  local wait = 0
  if redis.call('SET', pair, '1', 'NX', 'PX', interval_ms) then
    if limit ~= '' then
      if not cleaned[tier] then
        redis.call('ZREMRANGEBYSCORE', tier, '-inf', now - window)
        cleaned[tier] = true
      end
      if not redis.call('ZSCORE', tier, recipient) then
        if redis.call('ZCARD', tier) < tonumber(limit) then
          redis.call('ZADD', tier, now, recipient)
          redis.call('EXPIRE', tier, math.ceil(window) + 60)
        else
          local oldest = redis.call('ZRANGE', tier, 0, 0, 'WITHSCORES')
          wait = math.max(0, tonumber(oldest[2]) + window - now)
        end
      end
    end
  else
    local ttl = redis.call('PTTL', pair)
    if ttl > 0 then wait = ttl / 1000 else wait = 0.001 end
  end
  out[i] = tostring(wait)
end
return out
"""


class RedisLimiter:
    def __init__(self, url: str, prefix: str = "quita:rl:") -> None:
        import redis

        self._redis = redis.Redis.from_url(url)
        self._prefix = prefix
        self._reserve = self._redis.register_script(_RESERVE)
        self._tier = self._redis.register_script(_TIER)
        self._admit = self._redis.register_script(_ADMIT)

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

    def admit(self, checks: Sequence[Admission], window: float = DAY, chunk: int = 500) -> list[float]:
        """The same checks as :meth:`try_recipient` + :meth:`try_tier`, for a whole claim in one atomic
        script per 500 rows instead of two round trips per row."""
        waits: list[float] = []
        for start in range(0, len(checks), chunk):
            keys: list[str] = []
            args: list[Any] = [window]
            for c in checks[start : start + chunk]:
                keys += [f"{self._prefix}pair:{c.pair_key}", f"{self._prefix}tier:{c.account}"]
                args += [
                    max(1, int(c.interval * 1000)),
                    c.recipient,
                    "" if c.tier_limit is None else c.tier_limit,
                ]
            waits += [float(w) for w in self._admit(keys=keys, args=args)]
        return waits

    def reset(self) -> None:
        """Tests and benchmarks only: forget every counter under this prefix."""
        for key in self._redis.scan_iter(f"{self._prefix}*"):
            self._redis.delete(key)
