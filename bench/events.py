"""Event delivery: delivered events/s and p50/p99 emit→delivered latency to a loopback receiver (PostgreSQL).

One dispatcher with production settings (0.25 s poll, 16 in flight) delivers to an internal
subscription served by an aiohttp receiver in the same process (so both share one core: a
conservative figure). Phase 1 emits a backlog and measures the drain rate; phase 2 emits at a
steady rate, one event per transaction, and measures each event from commit to receipt.
"""

from __future__ import annotations

import asyncio
import time

from bench.common import median, percentile, postgres_server, result
from putokaz.db import Database, new_metadata
from putokaz.events import define_event_tables, emit
from putokaz.events.config import EventSettings, InternalSubscription
from putokaz.events.dispatcher import Dispatcher
from putokaz.events.signing import new_webhook_secret
from putokaz.events.testing import loopback_receiver

BACKLOG = 3_000
STEADY = 600
STEADY_RATE = 150  # events per second
DEADLINE_SECONDS = 120


def fact(i: int) -> dict[str, object]:
    return {"fact_id": f"bench-{i}", "version": 1, "subject_key": "ab" * 16, "year": 2026, "month": 11}


async def wait_for(predicate, deadline: float) -> None:  # type: ignore[no-untyped-def]
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("deliveries did not finish in time")
        await asyncio.sleep(0.01)


async def run(url: str) -> None:
    metadata = new_metadata()
    tables = define_event_tables(metadata)
    db = Database(url)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        async with loopback_receiver() as receiver:
            received_at: dict[str, float] = {}

            def count() -> int:
                for r in receiver.requests[len(seen) :]:
                    received_at.setdefault(r.headers["webhook-id"], r.received_at)
                seen.extend([None] * (len(receiver.requests) - len(seen)))
                return len(received_at)

            seen: list[None] = []
            settings = EventSettings(
                internal_subscriptions=[InternalSubscription(url=receiver.url("/feed"), secret=new_webhook_secret())],
            )
            # Phase 1: a backlog (as after a receiver outage), drained by one dispatcher.
            for start in range(0, BACKLOG, 100):
                async with db.sessionmaker() as session, session.begin():
                    for i in range(start, start + 100):
                        await emit(session, "registry.screening_fact", fact(i), aggregate_id=f"s{i}")
            dispatcher = Dispatcher(db, tables, settings)
            began = time.monotonic()
            dispatcher.start()
            await wait_for(lambda: count() >= BACKLOG, began + DEADLINE_SECONDS)
            drained = time.monotonic() - began
            result("backlog drain", BACKLOG / drained, "events/s")

            # Phase 2: steady load, latency from commit to receipt.
            committed: dict[str, float] = {}
            began = time.monotonic()
            for i in range(STEADY):
                async with db.sessionmaker() as session, session.begin():
                    message_id = await emit(session, "registry.screening_fact", fact(BACKLOG + i), aggregate_id=f"t{i}")
                committed[message_id] = time.monotonic()
                await asyncio.sleep(max(0.0, began + (i + 1) / STEADY_RATE - time.monotonic()))
            await wait_for(lambda: count() >= BACKLOG + STEADY, time.monotonic() + DEADLINE_SECONDS)
            await dispatcher.stop()
            latencies = [(received_at[m] - t) * 1000 for m, t in committed.items()]
            result("steady delivered", STEADY / (max(received_at[m] for m in committed) - began), "events/s")
            result("emit→delivered p50", median(latencies), "ms")
            result("emit→delivered p99", percentile(latencies, 0.99), "ms", "≤ 2000 (registry within 2 s)")
            duplicates = len(receiver.requests) - len(received_at)
            result("duplicates", str(duplicates), "requests")
    finally:
        await db.dispose()


def main() -> None:
    server = postgres_server()
    try:
        asyncio.run(run(server.create_database("bench_events")))
    finally:
        server.drop_all()


if __name__ == "__main__":
    main()
