"""The one notion of "now": real UTC time in production, a clock tests move by hand.

Services read the time through `Now` (a route dependency) or `app.state.clock`, never through
`datetime.now`, so a test can put a deadline, an expiry or a retry schedule in the past without waiting.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request


class Clock:
    """Real time. `now()` is always timezone-aware UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class FakeClock(Clock):
    """A clock that moves only when told to (`advance`); `sleep` yields briefly instead of waiting."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when

    def advance(self, delta: timedelta | None = None, **parts: float) -> datetime:
        """`advance(timedelta(hours=1))` or `advance(hours=1)`; returns the new now."""
        self._now += (delta or timedelta()) + timedelta(**parts)
        return self._now

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(min(seconds, 0.01))


SYSTEM_CLOCK = Clock()


def clock_of(request: Request) -> Clock:
    """The app's clock (set by `create_service_app`), the system clock for apps built without one."""
    return getattr(request.app.state, "clock", None) or SYSTEM_CLOCK


async def current_time(request: Request) -> datetime:
    # async: FastAPI runs a plain `def` dependency in its thread pool, a thread hop on every request.
    return clock_of(request).now()


Now = Annotated[datetime, Depends(current_time)]
