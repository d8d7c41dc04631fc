"""Retention: purge what is no longer needed, in small batches that several replicas can run at once.

A service's job is a list of tasks; each task removes at most `batch` rows per call, taking the rows
it removes with `FOR UPDATE SKIP LOCKED` (PostgreSQL), so two replicas never wait on, or remove, the
same rows, and running the job twice removes nothing more. Progress is counted in the service's
metrics (`putokaz_retention_purged_total{service, kind}`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import FastAPI
from prometheus_client import Counter, Gauge
from sqlalchemy import Table, and_, delete, exists, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from putokaz.clock import Clock
from putokaz.db import Database
from putokaz.events.outbox import EventTables
from putokaz.middleware import ServiceMetrics

log = logging.getLogger("putokaz.retention")

# Defaults, each overridable by the service's settings (see docs/data-protection.md for the reasons).
IDEMPOTENCY_KEYS = timedelta(hours=24)
DELIVERED_EVENTS = timedelta(days=30)
# A sender may redeliver until it purges the message (DELIVERED_EVENTS after success), plus slack.
PROCESSED_WEBHOOKS = timedelta(days=35)

Purge = Callable[[AsyncSession, datetime, int], Awaitable[int]]
Hook = Callable[[FastAPI], Awaitable[None]]


@dataclass(frozen=True)
class Task:
    kind: str
    purge: Purge


def idempotency_keys_task(table: Table, keep: timedelta = IDEMPOTENCY_KEYS) -> Task:
    async def purge(session: AsyncSession, now: datetime, batch: int) -> int:
        key = tuple_(table.c.org_id, table.c.sub, table.c.key)
        doomed = (
            await session.execute(
                select(table.c.org_id, table.c.sub, table.c.key)
                .where(table.c.created_at < now - keep)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
        ).all()
        if doomed:
            await session.execute(delete(table).where(key.in_([tuple(row) for row in doomed])))
        return len(doomed)

    return Task("idempotency_keys", purge)


def delivered_events_task(tables: EventTables, keep: timedelta = DELIVERED_EVENTS) -> Task:
    """Outbox rows whose every delivery succeeded more than `keep` ago (or that had no subscriber), with
    their deliveries and attempts. A failed or pending delivery keeps its message (it can be replayed)."""
    outbox, deliveries, attempts = tables.outbox, tables.deliveries, tables.attempts

    async def purge(session: AsyncSession, now: datetime, batch: int) -> int:
        cutoff = now - keep
        unfinished = exists().where(
            deliveries.c.message_position == outbox.c.position,
            ~and_(deliveries.c.status == "delivered", deliveries.c.delivered_at < cutoff),
        )
        positions = list(
            (
                await session.execute(
                    select(outbox.c.position)
                    .where(outbox.c.fanned_out_at.is_not(None), outbox.c.fanned_out_at < cutoff, ~unfinished)
                    .order_by(outbox.c.position)
                    .limit(batch)
                    .with_for_update(skip_locked=True)
                )
            ).scalars()
        )
        if positions:
            delivery_ids = select(deliveries.c.id).where(deliveries.c.message_position.in_(positions))
            await session.execute(delete(attempts).where(attempts.c.delivery_id.in_(delivery_ids)))
            await session.execute(delete(deliveries).where(deliveries.c.message_position.in_(positions)))
            await session.execute(delete(outbox).where(outbox.c.position.in_(positions)))
        return len(positions)

    return Task("delivered_events", purge)


def processed_webhooks_task(table: Table, keep: timedelta = PROCESSED_WEBHOOKS) -> Task:
    async def purge(session: AsyncSession, now: datetime, batch: int) -> int:
        ids = list(
            (
                await session.execute(
                    select(table.c.message_id)
                    .where(table.c.received_at < now - keep)
                    .limit(batch)
                    .with_for_update(skip_locked=True)
                )
            ).scalars()
        )
        if ids:
            await session.execute(delete(table).where(table.c.message_id.in_(ids)))
        return len(ids)

    return Task("processed_webhooks", purge)


class RetentionJob:
    """Runs a service's tasks now (`run_once`) or every `interval` in the background (`start`)."""

    def __init__(
        self,
        db: Database,
        tasks: Sequence[Task],
        metrics: ServiceMetrics,
        clock: Clock,
        *,
        interval_seconds: float = 3600,
        batch: int = 500,
    ) -> None:
        self.db = db
        self.tasks = tuple(tasks)
        self.clock = clock
        self.interval = interval_seconds
        self.batch = batch
        self.service = metrics.service
        self.purged = _counter(metrics, "putokaz_retention_purged_total", "Rows purged or erased by retention")
        self.last_run = _gauge(metrics, "putokaz_retention_last_run_timestamp_seconds", "End of the last full run")
        self._task: asyncio.Task[None] | None = None

    async def run_once(self, now: datetime | None = None) -> dict[str, int]:
        """Every task until it has nothing left older than its period; returns how many rows each removed."""
        now = now or self.clock.now()
        done: dict[str, int] = {}
        for task in self.tasks:
            total = 0
            while True:
                async with self.db.sessionmaker() as session, session.begin():
                    count = await task.purge(session, now, self.batch)
                total += count
                self.purged.labels(self.service, task.kind).inc(count)
                if count < self.batch:
                    break
            done[task.kind] = total
        self.last_run.labels(self.service).set(self.clock.now().timestamp())
        return done

    async def _loop(self) -> None:
        while True:
            # Real time, not the app's clock: a test's fake clock must not make the loop spin.
            await asyncio.sleep(self.interval)
            try:
                done = await self.run_once()
                if any(done.values()):
                    log.info("retention run", extra={"purged": done})
            except Exception:
                # A failed run (database away) is retried at the next interval; nothing is half-purged.
                log.exception("retention run failed")

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def _counter(metrics: ServiceMetrics, name: str, doc: str) -> Counter:
    existing = metrics.registry._names_to_collectors.get(name)
    return existing or Counter(name, doc, ["service", "kind"], registry=metrics.registry)  # type: ignore[return-value]


def _gauge(metrics: ServiceMetrics, name: str, doc: str) -> Gauge:
    existing = metrics.registry._names_to_collectors.get(name)
    return existing or Gauge(name, doc, ["service"], registry=metrics.registry)  # type: ignore[return-value]


def retention_hooks(tasks_of: Callable[[FastAPI], Sequence[Task]]) -> tuple[Hook, Hook]:
    """Startup and shutdown hooks that run the service's job in the background (`app.state.retention`)."""

    async def start(app: FastAPI) -> None:
        settings = app.state.settings
        app.state.retention = RetentionJob(
            app.state.db,
            tasks_of(app),
            app.state.metrics,
            app.state.clock,
            interval_seconds=settings.retention_interval_seconds,
        )
        if settings.retention_enabled:
            app.state.retention.start()

    async def stop(app: FastAPI) -> None:
        job = getattr(app.state, "retention", None)
        if job is not None:
            await job.stop()

    return start, stop
