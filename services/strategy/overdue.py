"""Chasing overdue reports: one `strategy.report_overdue` event per indicator and period, through the outbox."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from putokaz.clock import Clock
from putokaz.db import Database
from putokaz.events import emit
from services.strategy import repository
from services.strategy.models import OverdueNotice
from services.strategy.periods import due_date
from services.strategy.progress import overdue_periods

logger = logging.getLogger("putokaz.strategy.overdue")
EVENT_TYPE = "strategy.report_overdue"


async def raise_overdue(session: AsyncSession, now: datetime, grace_days: int) -> int:
    """Write an event for every newly overdue report; the unique notice row makes a second pass a no-op."""
    indicators = await repository.reported_indicators_of_active_plans(session)
    notices = await repository.notices_of(session, [i.id for i in indicators])
    reports = await repository.reports_of(session, [i.id for i in indicators])
    raised = 0
    plans: dict[str, object] = {}
    for indicator in indicators:
        plan = plans.get(indicator.plan_id) or await repository.get_plan(session, indicator.plan_id)
        plans[indicator.plan_id] = plan
        own = [r for r in reports if r.indicator_id == indicator.id]
        for period in overdue_periods(indicator, plan, own, now.date(), grace_days):  # type: ignore[arg-type]
            if (indicator.id, period) in notices:
                continue
            session.add(OverdueNotice(indicator_id=indicator.id, period=period, raised_at=now))
            organisations = indicator.measure.org_ids
            await emit(
                session,
                EVENT_TYPE,
                {
                    "plan_id": indicator.plan_id,
                    "measure_id": indicator.measure_id,
                    "measure_code": indicator.measure.code,
                    "indicator_id": indicator.id,
                    "indicator_code": indicator.code,
                    "period": period,
                    "due": due_date(period, indicator.measure.deadline, grace_days).isoformat(),
                    "organisations": organisations,
                },
                aggregate_id=indicator.id,
                occurred_at=now,
                orgs=organisations,
            )
            raised += 1
    await session.flush()
    return raised


async def sweep_once(db: Database, clock: Clock, grace_days: int) -> int:
    async with db.sessionmaker() as session, session.begin():
        return await raise_overdue(session, clock.now(), grace_days)


async def _loop(app: FastAPI, interval: float) -> None:
    settings = app.state.settings
    while True:
        try:
            raised = await sweep_once(app.state.db, app.state.clock, settings.report_grace_days)
            if raised:
                logger.info("overdue reports chased", extra={"count": raised})
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # A database hiccup must not stop the chase; the next pass retries.
            logger.warning("overdue sweep failed", extra={"error_type": type(exc).__name__})
        await app.state.clock.sleep(interval)


async def start_sweeper(app: FastAPI) -> None:
    interval = app.state.settings.overdue_sweep_seconds
    app.state.sweeper = asyncio.create_task(_loop(app, interval)) if interval > 0 else None


async def stop_sweeper(app: FastAPI) -> None:
    task = getattr(app.state, "sweeper", None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
