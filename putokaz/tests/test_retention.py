"""Kernel retention tasks on PostgreSQL: delivered events, processed webhooks; replicas never double-purge."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select

from putokaz.clock import FakeClock
from putokaz.db import Database, new_metadata
from putokaz.events import define_event_tables
from putokaz.events.receiver import define_receiver_tables
from putokaz.events.testing import database_with_tables
from putokaz.middleware import ServiceMetrics
from putokaz.retention import RetentionJob, delivered_events_task, processed_webhooks_task
from putokaz.testing import PostgresServer

T0 = datetime(2026, 1, 1, tzinfo=UTC)


async def test_events_go_30_days_after_every_delivery_succeeded_and_failed_ones_stay(
    postgres_server: PostgresServer,
) -> None:
    metadata = new_metadata()
    tables = define_event_tables(metadata)
    processed = define_receiver_tables(metadata)
    url = await asyncio.to_thread(database_with_tables, postgres_server, "retention_events", metadata)
    db = Database(url)
    try:
        async with db.sessionmaker() as session, session.begin():
            await session.execute(
                insert(tables.endpoints),
                [
                    {
                        "id": "ep1",
                        "kind": "partner",
                        "org_id": "org",
                        "url": "https://partner.example/hook",
                        "event_types": "[]",
                        "secret": "whsec_x",
                        "created_at": T0,
                        "updated_at": T0,
                    }
                ],
            )
            for position, status in ((1, "delivered"), (2, "failed"), (3, "pending"), (4, None)):
                await session.execute(
                    insert(tables.outbox).values(
                        position=position,
                        message_id=f"msg_{position}",
                        event_type="referral.accepted",
                        payload="{}",
                        occurred_at=T0,
                        fanned_out_at=T0,
                    )
                )
                if status is None:
                    continue  # nobody subscribed
                await session.execute(
                    insert(tables.deliveries).values(
                        id=f"d{position}",
                        endpoint_id="ep1",
                        message_position=position,
                        message_id=f"msg_{position}",
                        event_type="referral.accepted",
                        status=status,
                        attempt_count=1,
                        created_at=T0,
                        delivered_at=T0 if status == "delivered" else None,
                    )
                )
                await session.execute(
                    insert(tables.attempts).values(
                        delivery_id=f"d{position}", attempted_at=T0, succeeded=status == "delivered", duration_ms=5
                    )
                )
            await session.execute(
                insert(processed), [{"message_id": f"in_{n}", "event_type": "x", "received_at": T0} for n in range(3)]
            )
        metrics = ServiceMetrics("kernel-test")
        tasks = [delivered_events_task(tables), processed_webhooks_task(processed)]
        replicas = [RetentionJob(db, tasks, metrics, FakeClock(T0), batch=1) for _ in range(2)]
        assert await replicas[0].run_once(T0 + timedelta(days=29)) == {"delivered_events": 0, "processed_webhooks": 0}
        # Two replicas at once: every row is removed once.
        later = T0 + timedelta(days=36)
        results = await asyncio.gather(*(job.run_once(later) for job in replicas))
        assert sum(r["delivered_events"] for r in results) == 2
        assert sum(r["processed_webhooks"] for r in results) == 3
        async with db.sessionmaker() as session:
            left = sorted((await session.scalars(select(tables.outbox.c.position))).all())
            attempts = await session.scalar(select(func.count()).select_from(tables.attempts))
        assert left == [2, 3]  # a failed delivery can still be replayed; a pending one is still due
        assert attempts == 2
    finally:
        await db.dispose()
