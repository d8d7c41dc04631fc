"""Idempotency-Key on POST /referrals: a retried create never sends a safe house a second request."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from services.referral.tests.conftest import World, know_screening, outbox, referral_body


async def counts(app: FastAPI) -> tuple[int, int, int]:
    """Referrals, their history rows and outbox events."""
    async with app.state.db.engine.connect() as conn:
        referrals = await conn.scalar(text("SELECT count(*) FROM referrals"))
        transitions = await conn.scalar(text("SELECT count(*) FROM referral_transitions"))
    return int(referrals or 0), int(transitions or 0), len(await outbox(app))


def keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


async def test_replay_answers_the_same_referral_and_creates_nothing(
    client: httpx.AsyncClient, world: World, referral_app: FastAPI
) -> None:
    sender = world.headers("police", "org-a")
    h = keyed(sender, "retry_" + uuid.uuid4().hex)
    first = await client.post("/api/v1/referrals", json=referral_body(world.safe_house), headers=h)
    assert first.status_code == 201, first.text
    before = await counts(referral_app)
    assert before[0] == 1 and before[2] >= 1

    again = await client.post("/api/v1/referrals", json=referral_body(world.safe_house), headers=h)
    assert again.status_code == 201, again.text
    assert again.json()["id"] == first.json()["id"]
    fresh = await client.get(f"/api/v1/referrals/{first.json()['id']}", headers=sender)
    assert again.json() == fresh.json()
    assert await counts(referral_app) == before
    # The safe house sees exactly one request.
    received = await client.get("/api/v1/referrals?box=received", headers=world.headers("service_provider", "org-p"))
    assert received.json()["total"] == 1


async def test_same_key_with_another_body_is_refused(
    client: httpx.AsyncClient, world: World, referral_app: FastAPI
) -> None:
    h = keyed(world.headers("police", "org-a"), uuid.uuid4().hex)
    assert (await client.post("/api/v1/referrals", json=referral_body(world.safe_house), headers=h)).status_code == 201
    response = await client.post("/api/v1/referrals", json=referral_body(world.safe_house, urgent=True), headers=h)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == "header.idempotency-key"
    assert (await counts(referral_app))[0] == 1


async def test_malformed_key_is_refused_naming_the_header(
    client: httpx.AsyncClient, world: World, referral_app: FastAPI
) -> None:
    for bad in ("", "dot.ted", "k" * 65, "a/b"):
        response = await client.post(
            "/api/v1/referrals",
            json=referral_body(world.safe_house),
            headers=keyed(world.headers("police", "org-a"), bad),
        )
        assert response.status_code == 422, (bad, response.text)
        assert "header.idempotency-key" in {e["field"] for e in response.json()["errors"]}
    assert (await counts(referral_app))[0] == 0


async def test_the_same_key_in_another_organisation_creates_its_own_referral(
    client: httpx.AsyncClient, world: World, referral_app: FastAPI
) -> None:
    key = uuid.uuid4().hex
    await know_screening(referral_app, "scr-b", "org-b")
    a = await client.post(
        "/api/v1/referrals", json=referral_body(world.medical), headers=keyed(world.headers("police", "org-a"), key)
    )
    b = await client.post(
        "/api/v1/referrals",
        json=referral_body(world.medical, screening_id="scr-b"),
        headers=keyed(world.headers("police", "org-b"), key),
    )
    assert a.status_code == b.status_code == 201, (a.text, b.text)
    assert a.json()["id"] != b.json()["id"]
    assert (a.json()["from_org"], b.json()["from_org"]) == ("org-a", "org-b")
    assert (await counts(referral_app))[0] == 2


async def test_concurrent_requests_with_one_key_create_one_referral(
    client: httpx.AsyncClient, world: World, referral_app: FastAPI
) -> None:
    h = keyed(world.headers("social_worker", "org-a"), uuid.uuid4().hex)
    responses = await asyncio.gather(
        *(client.post("/api/v1/referrals", json=referral_body(world.safe_house), headers=h) for _ in range(8))
    )
    assert {r.status_code for r in responses} == {201}, [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    referrals, transitions, _ = await counts(referral_app)
    assert (referrals, transitions) == (1, 1)
    assert len(await outbox(referral_app, "referral.requested")) == 1
