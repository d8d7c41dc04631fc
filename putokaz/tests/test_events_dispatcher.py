"""The outbox dispatcher against real PostgreSQL and a real loopback receiver."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text, update
from standardwebhooks.webhooks import Webhook

from putokaz.clock import FakeClock
from putokaz.db import Database, new_metadata
from putokaz.events import define_event_tables, emit
from putokaz.events.config import EventSettings, InternalSubscription
from putokaz.events.dispatcher import Dispatcher, pending_count
from putokaz.events.endpoints import EndpointStore
from putokaz.events.receiver import define_receiver_tables
from putokaz.events.schedule import RETRY_DELAYS
from putokaz.events.secrets import secret_box
from putokaz.events.signing import new_webhook_secret
from putokaz.events.testing import LoopbackReceiver, ScriptedAnswer, database_with_tables, loopback_receiver
from putokaz.testing import PostgresServer

metadata = new_metadata()
T = define_event_tables(metadata)
STORE = EndpointStore(T)
define_receiver_tables(metadata)
FEED_SECRET = new_webhook_secret()
# The dev key the dispatchers built here use too (no keys configured: var/webhook-secret-keys.json).
BOX = secret_box({}, None, "test")


@pytest.fixture(scope="module")
def events_db_url(postgres_server: PostgresServer) -> str:
    return database_with_tables(postgres_server, "events", metadata)


@pytest.fixture
async def db(events_db_url: str) -> AsyncIterator[Database]:
    database = Database(events_db_url)
    async with database.engine.begin() as conn:
        await conn.execute(text("TRUNCATE webhook_attempts, webhook_deliveries, webhook_endpoints, outbox_events"))
    yield database
    await database.dispose()


@pytest.fixture
async def receiver() -> AsyncIterator[LoopbackReceiver]:
    async with loopback_receiver() as r:
        yield r


def settings(receiver: LoopbackReceiver | None = None, **kw: object) -> EventSettings:
    subs = []
    if receiver is not None:
        subs = [InternalSubscription(url=receiver.url("/feed"), secret=FEED_SECRET, event_types=["registry.*"])]
    kw.setdefault("webhook_allow_private_targets", True)
    return EventSettings(internal_subscriptions=subs, webhook_timeout_seconds=2, **kw)


def dispatcher(db: Database, clock: FakeClock | None = None, **kw: object) -> Dispatcher:
    receiver = kw.pop("feed_receiver", None)
    return Dispatcher(db, T, settings(receiver, **kw), clock=clock or FakeClock(), jitter=lambda: 1.0)  # type: ignore[arg-type]


async def add_endpoint(db: Database, url: str, org: str = "org-a", types: list[str] | None = None) -> tuple[str, str]:
    async with db.sessionmaker() as session, session.begin():
        endpoint, secret = await STORE.create_endpoint(
            session,
            org_id=org,
            url=url,
            event_types=types or ["referral.*"],
            description="",
            now=datetime.now(UTC),
            box=BOX,
        )
    return endpoint["id"], secret


async def emit_one(
    db: Database, event_type: str = "referral.accepted", orgs: list[str] | None = None, aggregate: str | None = None
) -> str:
    async with db.sessionmaker() as session, session.begin():
        return await emit(
            session,
            event_type,
            {"referral_id": aggregate or "ref-1", "status": event_type.split(".")[-1]},
            aggregate_id=aggregate,
            orgs=["org-a", "org-b"] if orgs is None else orgs,
        )


async def delivery(db: Database, message_id: str) -> dict[str, object]:
    async with db.sessionmaker() as session:
        row = (await session.execute(select(T.deliveries).where(T.deliveries.c.message_id == message_id))).one()
    return dict(row._mapping)


async def endpoint_row(db: Database, endpoint_id: str) -> dict[str, object]:
    async with db.sessionmaker() as session:
        row = (await session.execute(select(T.endpoints).where(T.endpoints.c.id == endpoint_id))).one()
    return dict(row._mapping)


async def test_delivered_request_verifies_with_standardwebhooks(db: Database, receiver: LoopbackReceiver) -> None:
    _, secret = await add_endpoint(db, receiver.url())
    message_id = await emit_one(db)
    d = dispatcher(db)
    assert await d.run_once() == 1
    await d.close()
    [request] = receiver.requests
    payload = Webhook(secret).verify(request.body, request.headers)
    assert request.headers["webhook-id"] == message_id
    assert payload["type"] == "referral.accepted"
    assert payload["data"] == {"referral_id": "ref-1", "status": "accepted"}
    assert payload["timestamp"].endswith("Z")
    row = await delivery(db, message_id)
    assert row["status"] == "delivered" and row["attempt_count"] == 1
    async with db.sessionmaker() as session:
        attempt = (await session.execute(select(T.attempts))).one()
    assert attempt.succeeded and attempt.response_status == 200 and attempt.response_body == "ok"


async def test_rolled_back_change_emits_nothing(db: Database, receiver: LoopbackReceiver) -> None:
    await add_endpoint(db, receiver.url())
    async with db.sessionmaker() as session:
        await emit(session, "referral.accepted", {"referral_id": "r"}, orgs=["org-a"])
        await session.rollback()
    d = dispatcher(db)
    assert await d.run_once() == 0
    await d.close()
    assert receiver.requests == []
    async with db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(T.outbox)) == 0


async def test_partner_gets_only_its_organisations_events_and_never_the_registry_feed(
    db: Database, receiver: LoopbackReceiver
) -> None:
    await add_endpoint(db, receiver.url("/a"), org="org-a")
    await add_endpoint(db, receiver.url("/c"), org="org-c")
    # Even an endpoint subscribed to everything (inserted past the API's validation) never sees registry facts.
    async with db.sessionmaker() as session, session.begin():
        await session.execute(
            update(T.endpoints).where(T.endpoints.c.org_id == "org-a").values(event_types=json.dumps(["*"]))
        )
    referral = await emit_one(db, orgs=["org-a", "org-b"])
    fact = await emit_one(db, "registry.screening_fact", orgs=["org-a"])
    d = dispatcher(db, feed_receiver=receiver)
    await d.run_once()
    await d.close()
    assert receiver.ids("/a") == [referral]
    assert receiver.ids("/c") == []
    [feed] = [r for r in receiver.requests if r.path == "/feed"]
    assert feed.headers["webhook-id"] == fact
    assert Webhook(FEED_SECRET).verify(feed.body, feed.headers)["type"] == "registry.screening_fact"


async def test_retries_follow_the_schedule_then_fail(db: Database, receiver: LoopbackReceiver) -> None:
    receiver.default = ScriptedAnswer(status=500, body="x" * 5000)
    endpoint_id, _ = await add_endpoint(db, receiver.url())
    message_id = await emit_one(db)
    clock = FakeClock()
    d = dispatcher(db, clock)
    await d.run_once()
    for n, delay in enumerate(RETRY_DELAYS, start=1):
        row = await delivery(db, message_id)
        assert row["status"] == "pending" and row["attempt_count"] == n
        assert row["next_attempt_at"] == clock.now() + delay
        clock.advance(delay - timedelta(seconds=1))
        assert await d.run_once() == 0, f"retry {n} came early"
        clock.advance(timedelta(seconds=1))
        assert await d.run_once() == 1
    await d.close()
    row = await delivery(db, message_id)
    assert row["status"] == "failed" and row["attempt_count"] == len(RETRY_DELAYS) + 1
    assert receiver.ids() == [message_id] * (len(RETRY_DELAYS) + 1)  # the same webhook-id every time
    async with db.sessionmaker() as session:
        bodies = (await session.execute(select(T.attempts.c.response_body, T.attempts.c.response_status))).all()
    assert all(len(b) == 2048 and s == 500 for b, s in bodies)
    assert (await endpoint_row(db, endpoint_id))["failing_since"] is not None


async def test_retry_after_is_honoured_and_3xx_is_a_failure(db: Database, receiver: LoopbackReceiver) -> None:
    receiver.script = [
        ScriptedAnswer(status=503, headers={"Retry-After": "120"}),
        ScriptedAnswer(status=302, headers={"Location": "http://example.invalid/"}),
    ]
    await add_endpoint(db, receiver.url())
    message_id = await emit_one(db)
    clock = FakeClock()
    d = dispatcher(db, clock)
    await d.run_once()
    assert (await delivery(db, message_id))["next_attempt_at"] == clock.now() + timedelta(seconds=120)
    clock.advance(timedelta(seconds=120))
    await d.run_once()
    row = await delivery(db, message_id)
    assert row["status"] == "pending" and row["attempt_count"] == 2
    assert row["next_attempt_at"] == clock.now() + RETRY_DELAYS[1]
    clock.advance(RETRY_DELAYS[1])
    await d.run_once()
    await d.close()
    assert (await delivery(db, message_id))["status"] == "delivered"
    assert len(receiver.requests) == 3


async def test_410_disables_the_endpoint_and_notifies_its_owner(db: Database, receiver: LoopbackReceiver) -> None:
    receiver.by_path["/gone"] = ScriptedAnswer(status=410)
    gone_id, _ = await add_endpoint(db, receiver.url("/gone"))
    await add_endpoint(db, receiver.url("/ops"), types=["webhook.endpoint_disabled"])
    first = await emit_one(db, aggregate="ref-1")
    second = await emit_one(db, aggregate="ref-2")
    d = dispatcher(db)
    await d.run_once()
    endpoint = await endpoint_row(db, gone_id)
    assert endpoint["enabled"] is False and "410" in endpoint["disabled_reason"]
    statuses = {(await delivery(db, m))["status"] for m in (first, second)}
    assert statuses == {"failed"}
    await d.run_once()
    await d.close()
    notices = [json.loads(r.body) for r in receiver.requests if r.path == "/ops"]
    assert [n["type"] for n in notices] == ["webhook.endpoint_disabled"]
    assert notices[0]["data"]["endpoint_id"] == gone_id
    assert 1 <= len([r for r in receiver.requests if r.path == "/gone"]) <= 2


async def test_endpoint_failing_for_five_days_is_disabled(db: Database, receiver: LoopbackReceiver) -> None:
    receiver.default = ScriptedAnswer(status=500)
    endpoint_id, _ = await add_endpoint(db, receiver.url())
    clock = FakeClock()
    d = dispatcher(db, clock)
    await emit_one(db, aggregate="day-0")
    await d.run_once()
    for _day in range(5):
        clock.advance(timedelta(days=1))
        assert (await endpoint_row(db, endpoint_id))["enabled"] is True
        await emit_one(db, aggregate=f"day-{_day + 1}")
        await d.run_once()
    await d.close()
    endpoint = await endpoint_row(db, endpoint_id)
    assert endpoint["enabled"] is False and endpoint["disabled_reason"] == "failing for 5 days"


async def test_rotation_sends_both_signatures(db: Database, receiver: LoopbackReceiver) -> None:
    endpoint_id, old_secret = await add_endpoint(db, receiver.url())
    async with db.sessionmaker() as session, session.begin():
        new_secret, _ = await STORE.rotate_secret(
            session, endpoint_id, "org-a", datetime.now(UTC), timedelta(hours=24), BOX
        )
    await emit_one(db)
    d = dispatcher(db, FakeClock())
    await d.run_once()
    await d.close()
    [request] = receiver.requests
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (old_secret, new_secret):
        assert Webhook(secret).verify(request.body, request.headers)["type"] == "referral.accepted"


async def test_killed_dispatcher_mid_delivery_loses_nothing(db: Database, receiver: LoopbackReceiver) -> None:
    receiver.script = [ScriptedAnswer(hang=True)]
    await add_endpoint(db, receiver.url())
    message_id = await emit_one(db)
    clock = FakeClock()
    first = dispatcher(db, clock)
    running = asyncio.create_task(first.run_once())
    await asyncio.wait_for(receiver.got_request.wait(), 5)
    running.cancel()  # the process dies while the receiver still holds the request
    with pytest.raises(asyncio.CancelledError):
        await running
    await first.close()
    assert (await delivery(db, message_id))["status"] == "pending"
    second = dispatcher(db, clock)
    assert await second.run_once() == 0  # the dead dispatcher's lease still holds
    clock.advance(timedelta(minutes=2))
    assert await second.run_once() == 1
    await second.close()
    assert (await delivery(db, message_id))["status"] == "delivered"
    assert receiver.ids() == [message_id, message_id]  # a duplicate at worst, never a loss


async def test_two_dispatchers_never_double_deliver(db: Database, receiver: LoopbackReceiver) -> None:
    await add_endpoint(db, receiver.url())
    sent = [await emit_one(db, aggregate=None) for _ in range(120)]
    clock = FakeClock()
    dispatchers = [dispatcher(db, clock, dispatcher_batch_size=10) for _ in range(2)]

    async def drain(d: Dispatcher) -> int:
        worked = 0
        while await pending_count(db, T):
            worked += await d.run_once()
            await asyncio.sleep(0)
        return worked

    done = await asyncio.gather(*(drain(d) for d in dispatchers))
    for d in dispatchers:
        await d.close()
    assert sorted(receiver.ids()) == sorted(sent)
    assert all(n > 0 for n in done), "both dispatchers should have taken part"


async def test_events_of_one_aggregate_arrive_in_order(db: Database, receiver: LoopbackReceiver) -> None:
    receiver.script = [ScriptedAnswer(status=500)]
    await add_endpoint(db, receiver.url())
    requested = await emit_one(db, "referral.requested", aggregate="ref-9")
    accepted = await emit_one(db, "referral.accepted", aggregate="ref-9")
    other = await emit_one(db, "referral.requested", aggregate="ref-10")
    clock = FakeClock()
    d = dispatcher(db, clock)
    await d.run_once()
    assert (await delivery(db, accepted))["attempt_count"] == 0  # held back behind the failed `requested`
    clock.advance(RETRY_DELAYS[0])
    await d.run_once()
    await d.run_once()
    await d.close()
    order = [i for i in receiver.ids() if i != other]
    assert order == [requested, requested, accepted]
    assert other in receiver.ids()


async def test_replay_one_and_replay_failed_since(db: Database, receiver: LoopbackReceiver) -> None:
    receiver.default = ScriptedAnswer(status=500)
    endpoint_id, _ = await add_endpoint(db, receiver.url())
    messages = [await emit_one(db, aggregate=f"r{i}") for i in range(3)]
    clock = FakeClock()
    d = dispatcher(db, clock)
    await d.run_once()
    for delay in RETRY_DELAYS:
        clock.advance(delay)
        await d.run_once()
    assert {(await delivery(db, m))["status"] for m in messages} == {"failed"}
    receiver.default = ScriptedAnswer(status=204)
    async with db.sessionmaker() as session, session.begin():
        first = await delivery(db, messages[0])
        await STORE.replay_delivery(session, endpoint_id, str(first["id"]), "org-a", clock.now())
    await d.run_once()
    assert (await delivery(db, messages[0]))["status"] == "delivered"
    assert (await delivery(db, messages[1]))["status"] == "failed"
    async with db.sessionmaker() as session, session.begin():
        count = await STORE.replay_failed_since(
            session, endpoint_id, "org-a", clock.now() - timedelta(days=3), clock.now()
        )
    assert count == 2
    await d.run_once()
    await d.close()
    assert {(await delivery(db, m))["status"] for m in messages} == {"delivered"}


async def test_internal_feed_never_gives_up_and_needs_no_private_allowance(
    db: Database, receiver: LoopbackReceiver
) -> None:
    receiver.default = ScriptedAnswer(status=503)
    fact = await emit_one(db, "registry.referral_fact", orgs=[])
    clock = FakeClock()
    d = dispatcher(db, clock, feed_receiver=receiver, webhook_allow_private_targets=False)
    await d.run_once()
    for delay in [*RETRY_DELAYS, RETRY_DELAYS[-1], RETRY_DELAYS[-1]]:
        clock.advance(delay)
        await d.run_once()
    row = await delivery(db, fact)
    assert row["status"] == "pending" and row["attempt_count"] == len(RETRY_DELAYS) + 3
    receiver.default = ScriptedAnswer(status=200)
    clock.advance(RETRY_DELAYS[-1])
    await d.run_once()
    await d.close()
    assert (await delivery(db, fact))["status"] == "delivered"


async def test_partner_loopback_target_refused_at_delivery_time(db: Database, receiver: LoopbackReceiver) -> None:
    # Saved while private targets were allowed; refused when the policy no longer allows them.
    await add_endpoint(db, receiver.url("/literal"))
    await add_endpoint(db, f"http://localhost:{receiver.port}/named")
    await emit_one(db)
    d = dispatcher(db, FakeClock(), webhook_allow_private_targets=False)
    await d.run_once()
    await d.close()
    assert receiver.requests == []
    async with db.sessionmaker() as session:
        attempts = (await session.execute(select(T.attempts.c.error, T.attempts.c.succeeded))).all()
        statuses = (await session.execute(select(T.deliveries.c.status))).scalars().all()
    assert sorted(e for e, _ in attempts) == [
        "connection failed: ClientConnectorDNSError",
        "destination address refused",
    ]
    assert not any(ok for _, ok in attempts)
    assert statuses == ["pending", "pending"]


async def test_a_disabled_endpoint_gets_no_new_deliveries(db: Database, receiver: LoopbackReceiver) -> None:
    endpoint_id, _ = await add_endpoint(db, receiver.url())
    async with db.sessionmaker() as session, session.begin():
        await session.execute(update(T.endpoints).where(T.endpoints.c.id == endpoint_id).values(enabled=False))
    await emit_one(db)
    d = dispatcher(db)
    await d.run_once()
    await d.close()
    assert receiver.requests == []
    async with db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(T.deliveries)) == 0


async def test_background_loop_delivers_and_stops_cleanly(db: Database, receiver: LoopbackReceiver) -> None:
    await add_endpoint(db, receiver.url())
    d = Dispatcher(db, T, settings(dispatcher_poll_seconds=0.05))
    d.start()
    sent = [await emit_one(db, aggregate="loop") for _ in range(5)]
    for _ in range(200):
        if len(receiver.requests) >= 5:
            break
        await asyncio.sleep(0.02)
    await d.stop()
    assert receiver.ids() == sent


async def test_unknown_endpoint_row_is_not_required_for_direct_outbox_insert(db: Database) -> None:
    # Events emitted while no endpoint exists are marked fanned out and never block the queue.
    await emit_one(db)
    d = dispatcher(db)
    await d.run_once()
    await d.close()
    assert await pending_count(db, T) == 0
    async with db.sessionmaker() as session:
        fanned = await session.scalar(select(T.outbox.c.fanned_out_at))
    assert fanned is not None


async def test_database_connections_dropped_mid_run_lose_nothing(
    db: Database, receiver: LoopbackReceiver, postgres_server: PostgresServer
) -> None:
    await add_endpoint(db, receiver.url())
    d = Dispatcher(db, T, settings(dispatcher_poll_seconds=0.05))
    d.start()

    async def delivered(count: int) -> None:
        for _ in range(400):
            if len(set(receiver.ids())) >= count:
                return
            await asyncio.sleep(0.025)
        raise AssertionError(f"only {len(set(receiver.ids()))} of {count} delivered")

    before = [await emit_one(db, aggregate=f"b{i}") for i in range(5)]
    await delivered(5)
    # What a database restart looks like from the pool: every open connection is cut.
    admin = Database(postgres_server.admin_url)
    async with admin.engine.connect() as conn:
        await conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"
            ),
            {"n": db.engine.url.database},
        )
    await admin.dispose()
    after = []
    for i in range(5):
        for _ in range(50):
            try:
                after.append(await emit_one(db, aggregate=f"a{i}"))
                break
            except Exception:
                await asyncio.sleep(0.05)
    await delivered(10)
    await d.stop()
    assert set(receiver.ids()) == set(before + after)
