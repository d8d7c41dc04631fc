"""Registry test fixtures: one migrated PostgreSQL database and app per session, tables emptied per test."""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from putokaz.testing import PostgresServer, app_client, auth, service_migrations, settings_kwargs, truncate_tables
from services.registry.app import create_app
from services.registry.settings import Settings

FEED_SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()
TABLES = ("screening_facts", "referral_facts", "fact_imports", "processed_webhooks", "releases", "stats_writes")
LAST_YEAR = time.gmtime().tm_year - 1


@pytest.fixture(scope="session")
def registry_db_url(postgres_server: PostgresServer) -> str:
    return postgres_server.create_database("registry", service_migrations("registry"))


@pytest.fixture(scope="session")
def registry_settings(jwt_secret: str, registry_db_url: str) -> Settings:
    return Settings(
        **settings_kwargs(jwt_secret, registry_db_url),
        registry_feed_secret=FEED_SECRET,
        log_level="WARNING",
    )


@pytest.fixture(scope="session")
async def registry_app(registry_settings: Settings) -> AsyncIterator[Any]:
    app = create_app(registry_settings)
    async with app_client(app) as client:
        yield app, client


@pytest.fixture
async def client(registry_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    app, http = registry_app
    await truncate_tables(app.state.db.engine, TABLES)
    yield http


@pytest.fixture(scope="session")
def coordinator(make_token: Callable[..., str]) -> dict[str, str]:
    return auth(make_token("coordinator", org="state-coordinator"))


@pytest.fixture(scope="session")
def admin(make_token: Callable[..., str]) -> dict[str, str]:
    return auth(make_token("admin", org="admin-org"))


def screening_fact(**overrides: Any) -> dict[str, Any]:
    fact: dict[str, Any] = {
        "fact_id": str(uuid.uuid4()),
        "version": 1,
        "subject_key": uuid.uuid4().hex + uuid.uuid4().hex,
        "year": LAST_YEAR,
        "month": 5,
        "age_band": "24-26",
        "sex": "F",
        "citizenship": "BA",
        "entity": "FBIH",
        "canton": 9,
        "status": "presumed",
        "forms": ["sexual"],
        "instrument": "adult",
        "child": False,
        "anonymous": False,
    }
    fact.update(overrides)
    return fact


def referral_fact(**overrides: Any) -> dict[str, Any]:
    fact: dict[str, Any] = {
        "fact_id": str(uuid.uuid4()),
        "version": 1,
        "year": LAST_YEAR,
        "month": 3,
        "service_type": "safe_house",
        "status": "accepted",
        "hours_to_answer": 1.5,
        "hours_to_placement": 20.0,
        "entity": "RS",
        "canton": None,
        "child": False,
        "urgent": True,
    }
    fact.update(overrides)
    return fact


def signed_event(event_type: str, data: dict[str, Any], msg_id: str | None = None) -> tuple[str, dict[str, str]]:
    msg_id = msg_id or "msg_" + uuid.uuid4().hex
    body = json.dumps({"type": event_type, "timestamp": "2025-05-01T10:00:00Z", "data": data})
    now = time.time()
    from datetime import UTC, datetime

    when = datetime.fromtimestamp(now, tz=UTC)
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now)),
        "webhook-signature": Webhook(FEED_SECRET).sign(msg_id, when, body),
        "content-type": "application/json",
    }
    return body, headers


async def send(
    client: httpx.AsyncClient, event_type: str, data: dict[str, Any], msg_id: str | None = None
) -> httpx.Response:
    body, headers = signed_event(event_type, data, msg_id)
    return await client.post("/internal/events", content=body, headers=headers)


async def send_all(
    client: httpx.AsyncClient, facts: list[dict[str, Any]], event_type: str = "registry.screening_fact"
) -> None:
    for fact in facts:
        response = await send(client, event_type, fact)
        assert response.status_code == 200, response.text


class _Unperturbed:
    """Stands in for the ptable where a test checks what was stored, not what is published."""

    def perturb(self, count: int, key_sum: int) -> int:
        return count


async def exact_cells(registry_app: Any, table: str, year: int, by: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """The true (unperturbed) cells of a table, counted by the explorer's own query: for tests of
    ingest and import, where the stored facts are what is checked."""
    from services.registry.explorer import count_periods, render
    from services.registry.facts import VICTIM_MIN_RANK
    from services.registry.repository import Period

    app, _ = registry_app
    period = Period(year)
    async with app.state.db.sessionmaker() as session:
        tallies = (await count_periods(session, table, list(by), [period], min_rank=VICTIM_MIN_RANK))[period]
    return render(table, list(by), tallies, _Unperturbed())  # type: ignore[arg-type]
