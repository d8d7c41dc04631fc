"""Fixtures for the screening tests: one migrated PostgreSQL database and one app for the session."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from putokaz.testing import PostgresServer, app_client, auth, service_migrations, settings_kwargs
from services.screening.app import create_app
from services.screening.identity import new_key
from services.screening.settings import Settings

# Identity strings that must never appear outside the encrypted columns.
SECRET_GIVEN = "Zlatanka"
SECRET_FAMILY = "Hodžić-Testna"
SECRET_DOB = "1994-03-17"
SECRET_PHONE = "+387 61 555 0199"
SECRET_DOCUMENT = "ZX9876543"
SECRET_NOTES = "met at the Lipa bus stop by Enver"


def identity_settings() -> dict[str, str]:
    return {
        "identity_keys": json.dumps({"k1": new_key()}),
        "identity_active_key": "k1",
        "identity_blind_index_key": new_key(),
        "identity_pseudonym_key": new_key(),
    }


@pytest.fixture(scope="session")
def screening_db_url(postgres_server: PostgresServer) -> str:
    return postgres_server.create_database("screening", service_migrations("screening"))


@pytest.fixture(scope="session")
def screening_keystore_url(postgres_server: PostgresServer) -> str:
    """The data keys live in a database of their own, as in production (crypto-shredding)."""
    return postgres_server.create_database("screening_keys")


@pytest.fixture(scope="session")
def screening_settings(jwt_secret: str, screening_db_url: str, screening_keystore_url: str) -> Settings:
    return Settings(
        **settings_kwargs(jwt_secret, screening_db_url),
        **identity_settings(),
        keystore_database_url=screening_keystore_url,
    )


@pytest.fixture(scope="session")
async def screening_app(screening_settings: Settings) -> AsyncIterator[Any]:
    app = create_app(screening_settings)
    async with app_client(app) as client:
        app.state.test_client = client
        yield app


@pytest.fixture(scope="session")
def client(screening_app: Any) -> httpx.AsyncClient:
    return screening_app.state.test_client


@pytest.fixture
def org() -> str:
    """A fresh organisation per test keeps tests independent without truncating shared tables."""
    return f"org-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def headers(make_token: Callable[..., str]) -> Callable[..., dict[str, str]]:
    def factory(*roles: str, org: str, sub: str | None = None) -> dict[str, str]:
        return auth(make_token(*(roles or ("police",)), org=org, sub=sub))

    return factory


def adult_subject(**overrides: Any) -> dict[str, Any]:
    subject = {
        "given_name": SECRET_GIVEN,
        "family_name": SECRET_FAMILY,
        "date_of_birth": SECRET_DOB,
        "sex": "F",
        "citizenship": "AF",
        "phone": SECRET_PHONE,
        "documents": [{"type": "passport", "number": SECRET_DOCUMENT}],
        "notes": SECRET_NOTES,
    }
    subject.update(overrides)
    return subject


def start_body(language: str = "bs", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "language": language,
        "place": {"entity": "FBIH", "canton": 1, "municipality": "Bihać"},
        "subject": adult_subject(),
        "consent": {"text_version": "2026-1", "referral": "given"},
    }
    body.update(overrides)
    return body


@pytest.fixture
def own_db_url(postgres_server: PostgresServer) -> str:
    """A screening database of the test's own (migrated from the worker's template)."""
    return postgres_server.create_database("screening_own", service_migrations("screening"))


@pytest.fixture
async def own_app(own_db_url: str, jwt_secret: str) -> AsyncIterator[Any]:
    """A screening app on a database of its own, for jobs that walk every row (retention, re-indexing) or
    tests that break the audit chain on purpose; `app.state.test_client` is its in-process client."""
    app = create_app(Settings(**settings_kwargs(jwt_secret, own_db_url), **identity_settings()))
    async with app_client(app) as client:
        app.state.test_client = client
        yield app
