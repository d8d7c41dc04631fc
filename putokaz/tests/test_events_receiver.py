"""The receiver helper: Standard Webhooks verification, timestamp tolerance and durable deduplication."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import Depends, FastAPI, Request
from sqlalchemy import MetaData, func, select
from standardwebhooks.webhooks import Webhook

from putokaz.db import Database
from putokaz.errors import install_problem_handlers
from putokaz.events.receiver import WebhookMessage, WebhookSignature, define_receiver_tables, record_once
from putokaz.events.testing import database_with_tables
from putokaz.testing import PostgresServer

metadata = MetaData()
processed = define_receiver_tables(metadata)
SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
OLD_SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


@pytest.fixture(scope="module")
def receiver_db_url(postgres_server: PostgresServer) -> str:
    return database_with_tables(postgres_server, "events_receiver", metadata)


@pytest.fixture
async def receiver(receiver_db_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, list[str], Database]]:
    db = Database(receiver_db_url)
    handled: list[str] = []
    app = FastAPI()
    install_problem_handlers(app)

    def feed_secrets(_: Request) -> list[str]:
        return [SECRET, OLD_SECRET]

    @app.post("/internal/events", status_code=204)
    async def receive(message: WebhookMessage = Depends(WebhookSignature(feed_secrets))) -> None:
        async with db.sessionmaker() as session, session.begin():
            if await record_once(session, message.id, message.type, datetime.now(UTC)):
                handled.append(message.id)

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as client:
        yield client, handled, db
    await db.dispose()


def signed(body: str, msg_id: str, secret: str = SECRET, at: float | None = None) -> dict[str, str]:
    when = datetime.fromtimestamp(at if at is not None else time.time(), tz=UTC)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, when, body),
        "content-type": "application/json",
    }


def event_body(event_type: str = "registry.screening_fact") -> str:
    return json.dumps({"type": event_type, "timestamp": "2026-11-24T07:00:00Z", "data": {"fact_id": "f1"}})


def new_id() -> str:
    return "msg_" + secrets.token_hex(16)


async def test_valid_signature_is_processed_once_and_duplicate_answers_2xx(receiver) -> None:
    client, handled, _ = receiver
    body, msg_id = event_body(), new_id()
    first = await client.post("/internal/events", content=body, headers=signed(body, msg_id))
    again = await client.post("/internal/events", content=body, headers=signed(body, msg_id))
    assert first.status_code == 204
    assert again.status_code == 204
    assert handled.count(msg_id) == 1


async def test_either_secret_verifies_during_rotation(receiver) -> None:
    client, handled, _ = receiver
    body, msg_id = event_body(), new_id()
    response = await client.post("/internal/events", content=body, headers=signed(body, msg_id, OLD_SECRET))
    assert response.status_code == 204
    assert msg_id in handled


@pytest.mark.parametrize(
    "tamper",
    ["body", "wrong_secret", "no_signature", "stale", "future", "garbage_signature", "bad_timestamp", "other_id"],
)
async def test_bad_or_stale_signature_is_401_problem_and_not_processed(receiver, tamper: str) -> None:
    client, handled, _ = receiver
    body, msg_id = event_body(), new_id()
    headers = signed(body, msg_id)
    content = body
    if tamper == "body":
        content = body.replace("f1", "f2")
    elif tamper == "wrong_secret":
        headers = signed(body, msg_id, "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode())
    elif tamper == "no_signature":
        del headers["webhook-signature"]
    elif tamper == "stale":
        headers = signed(body, msg_id, at=time.time() - 301 - 5)
    elif tamper == "future":
        headers = signed(body, msg_id, at=time.time() + 400)
    elif tamper == "garbage_signature":
        headers["webhook-signature"] = "v1,@@@ nonsense v2,abc"
    elif tamper == "bad_timestamp":
        headers["webhook-timestamp"] = "yesterday"
    elif tamper == "other_id":
        headers["webhook-id"] = new_id()
    response = await client.post("/internal/events", content=content, headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert msg_id not in handled and headers["webhook-id"] not in handled


async def test_concurrent_duplicates_record_exactly_once(receiver) -> None:
    _, _, db = receiver
    msg_id = new_id()

    async def attempt() -> bool:
        async with db.sessionmaker() as session, session.begin():
            return await record_once(session, msg_id, "registry.screening_fact", datetime.now(UTC))

    results = await asyncio.gather(*(attempt() for _ in range(8)))
    assert sorted(results) == [False] * 7 + [True]
    async with db.sessionmaker() as session:
        count = await session.scalar(select(func.count()).where(processed.c.message_id == msg_id))
    assert count == 1


async def test_rolled_back_processing_can_be_retried(receiver) -> None:
    _, _, db = receiver
    msg_id = new_id()
    async with db.sessionmaker() as session:
        assert await record_once(session, msg_id, "registry.referral_fact", datetime.now(UTC))
        await session.rollback()
    async with db.sessionmaker() as session, session.begin():
        assert await record_once(session, msg_id, "registry.referral_fact", datetime.now(UTC))


async def test_a_processed_id_is_stamped_with_the_time_the_caller_passes(receiver) -> None:
    """The caller's clock stamps the row retention later purges by, so a test clock can age it."""
    _, _, db = receiver
    msg_id, then = new_id(), datetime(2020, 3, 1, 12, tzinfo=UTC)
    async with db.sessionmaker() as session, session.begin():
        assert await record_once(session, msg_id, "registry.referral_fact", then)
    async with db.sessionmaker() as session:
        stamped = await session.scalar(select(processed.c.received_at).where(processed.c.message_id == msg_id))
    assert stamped.replace(tzinfo=UTC) == then
