"""Per-subject rate limits: a token bucket, in memory by default, pluggable for several replicas."""

from __future__ import annotations

import logging
import time
from typing import Protocol

logger = logging.getLogger("putokaz.gateway.ratelimit")


class RateLimiter(Protocol):
    async def acquire(self, key: str) -> float | None:
        """None when the request may pass, else the seconds to wait (for Retry-After)."""


class InMemoryRateLimiter:
    """Token bucket per key; fine for one gateway replica (use a shared backend for several)."""

    def __init__(self, per_minute: int, burst: int, max_keys: int = 100_000) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}

    async def acquire(self, key: str) -> float | None:
        now = time.monotonic()
        tokens, last = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self._store(key, tokens - 1.0, now)
            return None
        self._store(key, tokens, now)
        return (1.0 - tokens) / self.rate if self.rate > 0 else 60.0

    def _store(self, key: str, tokens: float, now: float) -> None:
        if len(self._buckets) >= self.max_keys and key not in self._buckets:
            # Drop full buckets first: they carry no state worth keeping.
            for k in [k for k, (t, _) in self._buckets.items() if t >= self.burst][: self.max_keys // 10 or 1]:
                del self._buckets[k]
            if len(self._buckets) >= self.max_keys:
                self._buckets.pop(next(iter(self._buckets)))
        self._buckets[key] = (tokens, now)


# Token bucket in one atomic step: KEYS[1] bucket; ARGV rate/s, burst, now (s). Returns 0 or wait in ms.
_BUCKET_SCRIPT = """
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tokens = tonumber(bucket[1]) or burst
local ts = tonumber(bucket[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) / rate * 1000) end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return wait
"""


class RedisRateLimiter:
    """Token bucket shared by every gateway replica through Redis (one Lua call per request).

    If Redis is unreachable the limiter lets requests through and logs it: refusing frontline
    workers because a protective cache is down would be the worse failure.
    """

    def __init__(self, url: str, per_minute: int, burst: int, prefix: str = "putokaz:ratelimit:") -> None:
        import redis.asyncio as redis

        self.client = redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.script = self.client.register_script(_BUCKET_SCRIPT)
        self.rate = per_minute / 60.0
        self.burst = burst
        self.prefix = prefix

    async def acquire(self, key: str) -> float | None:
        from redis.exceptions import RedisError

        try:
            wait_ms = await self.script(keys=[self.prefix + key], args=[self.rate, self.burst, time.time()])
        except (RedisError, OSError):
            logger.warning("rate limiter unavailable; request allowed")
            return None
        return None if int(wait_ms) == 0 else int(wait_ms) / 1000.0


def make_rate_limiter(backend: str, per_minute: int, burst: int) -> RateLimiter:
    """`memory` (one replica) or a `redis://` URL (shared by every replica)."""
    if backend == "memory":
        return InMemoryRateLimiter(per_minute, burst)
    if backend.startswith(("redis://", "rediss://", "unix://")):
        return RedisRateLimiter(backend, per_minute, burst)
    raise ValueError(f"unknown rate limit backend {backend!r}")
