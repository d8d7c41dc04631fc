"""Strategy test fixtures: one migrated PostgreSQL database per session, tables emptied per test, a manual clock."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from putokaz.clock import FakeClock
from putokaz.testing import PostgresServer, app_client, auth, service_migrations, settings_kwargs, truncate_tables
from services.strategy.app import create_app
from services.strategy.seed import DEMO_PLAN
from services.strategy.settings import Settings

# The audit log is append-only (a trigger refuses DELETE); tests read it per plan, and plans are new each test.
TABLES = (
    "overdue_notices",
    "reports",
    "computed_values",
    "indicators",
    "activities",
    "measure_organisations",
    "measures",
    "goals",
    "plans",
    "webhook_deliveries",
    "outbox_events",
)
START = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def strategy_db_url(postgres_server: PostgresServer) -> str:
    return postgres_server.create_database("strategy", service_migrations("strategy"))


@pytest.fixture(scope="session")
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture(scope="session")
async def strategy_app(jwt_secret: str, strategy_db_url: str, clock: FakeClock) -> AsyncIterator[Any]:
    settings = Settings(
        **settings_kwargs(jwt_secret, strategy_db_url),
        log_level="WARNING",
        overdue_sweep_seconds=0,
        # Nothing listens here: computed indicators must say the registry is unreachable.
        registry_url="http://127.0.0.1:9",
        registry_timeout_seconds=1,
    )
    app = create_app(settings, clock=clock)
    async with app_client(app) as client:
        yield app, client


@pytest.fixture
async def client(strategy_app: Any, clock: FakeClock) -> AsyncIterator[httpx.AsyncClient]:
    app, http = strategy_app
    await truncate_tables(app.state.db.engine, TABLES, cascade=True)
    clock.set(START)
    yield http


@pytest.fixture(scope="session")
def coordinator(make_token: Callable[..., str]) -> dict[str, str]:
    return auth(make_token("coordinator", org="state-coordinator"))


@pytest.fixture(scope="session")
def reporter(make_token: Callable[..., str]) -> Callable[[str], dict[str, str]]:
    return lambda org: auth(make_token("reporter", org=org))


def demo_plan(**overrides: Any) -> dict[str, Any]:
    plan = copy.deepcopy(DEMO_PLAN)
    plan.update(overrides)
    return plan


async def load_plan(client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/plans", json=demo_plan(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def find_measure(plan: dict[str, Any], code: str) -> dict[str, Any]:
    return next(m for g in plan["goals"] for m in g["measures"] if m["code"] == code)


def find_indicator(plan: dict[str, Any], code: str) -> dict[str, Any]:
    return next(i for g in plan["goals"] for m in g["measures"] for i in m["indicators"] if i["code"] == code)
