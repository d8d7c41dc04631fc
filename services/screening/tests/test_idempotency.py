"""Idempotency-Key on POST /screenings: a retried start answers the first screening, never a duplicate."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import text

from services.screening.tests.conftest import adult_subject, start_body


async def counts(app: Any, org: str) -> tuple[int, int, int]:
    """Screenings, outbox events and `create` audit entries of one organisation."""
    async with app.state.db.engine.connect() as conn:
        screenings = await conn.scalar(text("SELECT count(*) FROM screenings WHERE org_id = :org"), {"org": org})
        events = await conn.scalar(
            text(
                "SELECT count(*) FROM outbox_events WHERE aggregate_id IN (SELECT id FROM screenings"
                " WHERE org_id = :org UNION SELECT fact_id FROM screenings WHERE org_id = :org)"
            ),
            {"org": org},
        )
        creates = await conn.scalar(
            text("SELECT count(*) FROM audit_log WHERE actor_org = :org AND action = 'create'"), {"org": org}
        )
    return int(screenings or 0), int(events or 0), int(creates or 0)


def keyed(h: dict[str, str], key: str) -> dict[str, str]:
    return {**h, "Idempotency-Key": key}


async def test_replay_answers_the_same_screening_and_creates_nothing(
    screening_app: Any, client: httpx.AsyncClient, headers: Callable[..., dict[str, str]], org: str
) -> None:
    h = keyed(headers("police", org=org), "retry-" + uuid.uuid4().hex)
    first = await client.post("/api/v1/screenings", json=start_body(), headers=h)
    assert first.status_code == 201, first.text
    before = await counts(screening_app, org)
    assert before[0] == 1 and before[2] == 1

    again = await client.post("/api/v1/screenings", json=start_body(), headers=h)
    assert again.status_code == 201, again.text
    assert again.json() == first.json()
    fresh = await client.get(f"/api/v1/screenings/{first.json()['id']}", headers=headers("police", org=org))
    assert again.json() == fresh.json()
    assert await counts(screening_app, org) == before


async def test_same_key_with_another_body_is_refused(
    screening_app: Any, client: httpx.AsyncClient, headers: Callable[..., dict[str, str]], org: str
) -> None:
    h = keyed(headers("police", org=org), uuid.uuid4().hex)
    assert (await client.post("/api/v1/screenings", json=start_body(), headers=h)).status_code == 201
    other = start_body(subject=adult_subject(given_name="Another"))
    response = await client.post("/api/v1/screenings", json=other, headers=h)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == "header.idempotency-key"
    assert "Another" not in response.text
    assert (await counts(screening_app, org))[0] == 1


async def test_malformed_key_is_refused_naming_the_header(
    screening_app: Any, client: httpx.AsyncClient, headers: Callable[..., dict[str, str]], org: str
) -> None:
    for bad in ("", "has space", "x" * 65, "semi;colon"):
        response = await client.post(
            "/api/v1/screenings", json=start_body(), headers=keyed(headers("police", org=org), bad)
        )
        assert response.status_code == 422, (bad, response.text)
        assert "header.idempotency-key" in {e["field"] for e in response.json()["errors"]}
    assert (await counts(screening_app, org))[0] == 0


async def test_the_same_key_in_another_organisation_creates_its_own_screening(
    screening_app: Any, client: httpx.AsyncClient, headers: Callable[..., dict[str, str]], org: str
) -> None:
    key = uuid.uuid4().hex
    other_org = f"{org}-other"
    mine = await client.post("/api/v1/screenings", json=start_body(), headers=keyed(headers(org=org), key))
    theirs = await client.post("/api/v1/screenings", json=start_body(), headers=keyed(headers(org=other_org), key))
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert theirs.json()["org"] == other_org
    assert (await counts(screening_app, other_org))[0] == 1


async def test_concurrent_requests_with_one_key_create_one_screening(
    screening_app: Any, client: httpx.AsyncClient, headers: Callable[..., dict[str, str]], org: str
) -> None:
    h = keyed(headers("social_worker", org=org), uuid.uuid4().hex)
    responses = await asyncio.gather(
        *(client.post("/api/v1/screenings", json=start_body(), headers=h) for _ in range(8))
    )
    assert {r.status_code for r in responses} == {201}, [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    screenings, _, creates = await counts(screening_app, org)
    assert (screenings, creates) == (1, 1)
