"""Referral test fixtures: one migrated PostgreSQL database, one app with a manual clock, clean tables per test."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from putokaz.clock import FakeClock
from putokaz.testing import app_client, auth, service_migrations, settings_kwargs, truncate_tables
from services.referral.app import create_app
from services.referral.settings import Settings

TABLES = (
    "referral_transitions",
    "referrals",
    "service_capacity",
    "service_at_location",
    "services",
    "locations",
    "organisations",
    "outbox_events",
    "idempotency_keys",
    "known_screenings",
    "processed_webhooks",
)
FEED_SECRET = "whsec_" + base64.b64encode(b"referral-feed-test-secret-32-byt").decode()


@pytest.fixture(scope="session")
def referral_db_url(postgres_server: Any) -> str:
    return postgres_server.create_database("referral", service_migrations("referral"))


@pytest.fixture(scope="session")
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def referral_app(jwt_secret: str, referral_db_url: str, clock: FakeClock) -> FastAPI:
    # The scheduler is off here; tests drive sweeps themselves (one test runs the real loop).
    settings = Settings(
        **settings_kwargs(jwt_secret, referral_db_url), expiry_sweep_seconds=0, referral_feed_secret=FEED_SECRET
    )
    return create_app(settings, clock=clock)


@pytest.fixture(scope="session")
async def client(referral_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app_client(referral_app) as c:
        yield c


@pytest.fixture(autouse=True)
async def clean_tables(request: pytest.FixtureRequest) -> None:
    """Empty every table before each test that touches the database (pure tests need no server)."""
    if not {"client", "world", "referral_app"} & set(request.fixturenames):
        return
    referral_app: FastAPI = request.getfixturevalue("referral_app")
    # Other tables sharing the outbox (webhook deliveries) reference it; clear them with CASCADE.
    await truncate_tables(referral_app.state.db.engine, TABLES, cascade=True)


async def outbox(app: FastAPI, event_type: str | None = None) -> list[dict[str, Any]]:
    """Outbox bodies in order, with the receiving organisations under `_orgs`."""
    async with app.state.db.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT payload, orgs FROM outbox_events ORDER BY position"))).all()
    out = []
    for payload, orgs in rows:
        body = json.loads(payload)
        body["_orgs"] = json.loads(orgs) if orgs else None
        if event_type is None or body["type"] == event_type:
            out.append(body)
    return out


async def know_screening(
    app: FastAPI, screening_id: str, org: str, *, consent: str = "given", child: bool = False
) -> None:
    """State set-up: a screening the feed already told us about (the feed itself is tested through /internal)."""
    now = datetime.now(UTC)
    async with app.state.db.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO known_screenings (screening_id, org_id, child, consent_referral, consent_at, learnt_at)"
                " VALUES (:id, :org, :child, :consent, :now, :now)"
            ),
            {"id": screening_id, "org": org, "child": child, "consent": consent, "now": now},
        )


@dataclass
class World:
    """A small directory: sender org-a (police), org-b (unrelated), provider org-p, welfare org-csw."""

    medical: str
    safe_house: str
    safe_house_location: str
    welfare: str
    headers: Callable[..., dict[str, str]]


@pytest.fixture
async def world(client: httpx.AsyncClient, referral_app: FastAPI, make_token: Callable[..., str]) -> World:
    def headers(role: str, org: str) -> dict[str, str]:
        return auth(make_token(role, org=org))

    admin = headers("admin", "org-admin")
    for org_id, kind in (
        ("org-a", "police"),
        ("org-b", "police"),
        ("org-p", "service_provider"),
        ("org-csw", "social_welfare"),
    ):
        r = await client.post("/api/v1/organisations", json={"id": org_id, "name": org_id, "kind": kind}, headers=admin)
        assert r.status_code == 201, r.text
    r = await client.post(
        "/api/v1/locations",
        json={
            "organisation_id": "org-p",
            "name": "House",
            "confidential": True,
            "entity": "FBIH",
            "canton": 4,
            "municipality": "Zenica",
            "address_1": "Secret street 7",
            "city": "Zenica",
        },
        headers=admin,
    )
    assert r.status_code == 201, r.text
    hidden = r.json()["id"]
    r = await client.post(
        "/api/v1/locations",
        json={
            "organisation_id": "org-p",
            "name": "Clinic",
            "entity": "FBIH",
            "canton": 3,
            "municipality": "Tuzla",
            "address_1": "Clinic road 1",
        },
        headers=admin,
    )
    clinic = r.json()["id"]
    r = await client.post(
        "/api/v1/locations",
        json={
            "organisation_id": "org-csw",
            "name": "CSW",
            "entity": "FBIH",
            "canton": 9,
            "municipality": "Sarajevo Centar",
        },
        headers=admin,
    )
    csw_location = r.json()["id"]

    async def service(body: dict[str, Any]) -> str:
        r = await client.post("/api/v1/services", json=body, headers=admin)
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    medical = await service(
        {
            "organisation_id": "org-p",
            "name": "Clinic",
            "service_type": "medical",
            "location_ids": [clinic],
            "languages": ["bs", "en"],
        }
    )
    safe_house = await service(
        {
            "organisation_id": "org-p",
            "name": "Safe house",
            "service_type": "safe_house",
            "location_ids": [hidden],
            "capacity": {"available": 3, "maximum": 3},
        }
    )
    welfare = await service(
        {"organisation_id": "org-csw", "name": "CSW", "service_type": "social_welfare", "location_ids": [csw_location]}
    )
    for i in range(30):
        await know_screening(referral_app, f"scr-{i}", "org-a")
    return World(medical, safe_house, hidden, welfare, headers)


def referral_body(service_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "screening_id": "scr-1",
        "service_id": service_id,
        "profile": {
            "age": 30,
            "sex": "F",
            "languages": ["ar"],
            "forms": ["sexual"],
            "place": {"entity": "FBIH", "canton": 1, "municipality": "Bihać"},
        },
        "urgent": False,
        "consent": {"recorded": True, "text_version": "v1"},
    }
    body.update(overrides)
    return body


async def twenty_accepted_at_once(client: httpx.AsyncClient, world: World) -> list[int]:
    """Twenty referrals of women to the safe house, then its keeper accepts all twenty at once (each request in
    its own session on its own pooled connection); the answers' status codes, sorted."""
    sender = world.headers("police", "org-a")
    provider = world.headers("service_provider", "org-p")
    ids = []
    for i in range(20):
        r = await client.post(
            "/api/v1/referrals", json=referral_body(world.safe_house, screening_id=f"scr-{i}"), headers=sender
        )
        ids.append(r.json()["id"])
    answers = await asyncio.gather(
        *(
            client.post(f"/api/v1/referrals/{rid}/transitions", json={"status": "accepted"}, headers=provider)
            for rid in ids
        )
    )
    return sorted(a.status_code for a in answers)
