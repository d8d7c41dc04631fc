"""Per-subject rate limits: a token bucket, in memory by default, pluggable for several replicas."""

from __future__ import annotations

import time
from typing import Protocol


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


def make_rate_limiter(backend: str, per_minute: int, burst: int) -> RateLimiter:
    if backend == "memory":
        return InMemoryRateLimiter(per_minute, burst)
    raise ValueError(f"unknown rate limit backend {backend!r}")
