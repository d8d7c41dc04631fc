"""`/readyz` of the gateway: every service's own `/readyz`, probed at most once per cache period.

A service with several replicas is ready when at least one of them is (the gateway passes over the
others); the answer says how many are.

Probes are shared: however many callers ask at once or within the period, each service is probed once
(150 calls must not become 450 probes; a readiness endpoint must not be a way to load the services).
"""

from __future__ import annotations

import asyncio
import time

from gateway.proxy import Upstreams, UpstreamUnavailable

PROBE_SECONDS = 3.0


class Readiness:
    def __init__(self, upstreams: Upstreams, cache_seconds: float) -> None:
        self.upstreams = upstreams
        self.cache_seconds = cache_seconds
        self._result: dict[str, str] | None = None
        self._at = float("-inf")
        self._lock = asyncio.Lock()

    async def check(self) -> dict[str, str]:
        if self._result is not None and time.monotonic() - self._at < self.cache_seconds:
            return self._result
        async with self._lock:
            # Whoever waited on the lock finds the answer of the probe that held it.
            if self._result is None or time.monotonic() - self._at >= self.cache_seconds:
                names = self.upstreams.names
                states = await asyncio.gather(*(self._probe(name) for name in names))
                self._result, self._at = dict(zip(names, states, strict=True)), time.monotonic()
        return self._result

    async def _probe(self, name: str) -> str:
        urls = self.upstreams.replicas[name].urls
        states = await asyncio.gather(*(self._probe_one(url) for url in urls))
        ready = states.count("ready")
        if len(urls) == 1 or ready == 0:
            return states[0] if ready == 0 else "ready"
        return "ready" if ready == len(urls) else f"ready ({ready} of {len(urls)} replicas)"

    async def _probe_one(self, url: str) -> str:
        try:
            status = await self.upstreams.get_status(url, "/readyz", PROBE_SECONDS)
        except UpstreamUnavailable:
            return "unreachable"
        return "ready" if status == 200 else f"not ready ({status})"
