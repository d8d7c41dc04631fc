"""The in-process scheduler that expires unanswered referrals and escalates them."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import FastAPI

from putokaz.clock import Clock
from putokaz.db import Database
from services.referral.referrals.service import expire_overdue

logger = logging.getLogger("putokaz.referral.scheduler")


async def sweep_once(db: Database, clock: Clock) -> list[str]:
    """One pass in its own transaction; returns the ids of the referrals it expired."""
    async with db.sessionmaker() as session, session.begin():
        return await expire_overdue(session, clock.now())


async def run_expiry_loop(db: Database, clock: Clock, interval: float) -> None:
    while True:
        try:
            expired = await sweep_once(db, clock)
            if expired:
                logger.info("referrals expired", extra={"count": len(expired)})
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # A database hiccup must not kill the scheduler; the next pass retries.
            logger.warning("expiry sweep failed", extra={"error_type": type(exc).__name__})
        await asyncio.sleep(interval)


async def start_scheduler(app: FastAPI) -> None:
    interval = app.state.settings.expiry_sweep_seconds
    if interval <= 0:
        app.state.scheduler = None
        return
    app.state.scheduler = asyncio.create_task(run_expiry_loop(app.state.db, app.state.clock, interval))


async def stop_scheduler(app: FastAPI) -> None:
    task: asyncio.Task[None] | None = getattr(app.state, "scheduler", None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
