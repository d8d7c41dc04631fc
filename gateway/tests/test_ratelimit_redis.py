"""The Redis-backed limiter shares one bucket across gateway replicas (real Redis on loopback)."""

from __future__ import annotations

import os
import socket
import uuid

import pytest

from gateway.ratelimit import RedisRateLimiter

REDIS_URL = os.environ.get("PUTOKAZ_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_reachable() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), 0.5).close()
        return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(
    "PUTOKAZ_TEST_REDIS_URL" not in os.environ and not _redis_reachable(),
    reason="the optional Redis rate-limit backend needs a Redis on 127.0.0.1:6379 or PUTOKAZ_TEST_REDIS_URL",
)


async def test_two_replicas_share_one_bucket():
    key = f"sub:org:{uuid.uuid4().hex}"
    replica_a = RedisRateLimiter(REDIS_URL, per_minute=60, burst=3)
    replica_b = RedisRateLimiter(REDIS_URL, per_minute=60, burst=3)
    results = [
        await replica_a.acquire(key),
        await replica_b.acquire(key),
        await replica_a.acquire(key),
        await replica_b.acquire(key),
    ]
    assert results[:3] == [None, None, None]
    assert results[3] is not None and 0 < results[3] <= 1.0
    assert await replica_a.acquire(f"sub:org:{uuid.uuid4().hex}") is None
    await replica_a.client.aclose()
    await replica_b.client.aclose()


async def test_unreachable_redis_lets_requests_through():
    limiter = RedisRateLimiter("redis://127.0.0.1:1/0", per_minute=1, burst=1)
    assert [await limiter.acquire("k") for _ in range(3)] == [None, None, None]
    await limiter.client.aclose()
