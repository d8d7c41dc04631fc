"""The sealed-webhook-secrets migration of each service (one kernel helper) widens both secret columns on
PostgreSQL and narrows them back on downgrade; on SQLite it runs both ways and changes nothing."""

import asyncio

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from putokaz.db import async_url
from putokaz.migrations import alembic_config, upgrade
from putokaz.testing import service_migrations

# service, the sealed-secrets revision, the one before it
REVISIONS = [
    ("screening", "b5e1ed5ec001", "a1d17c4a1e05"),
    ("referral", "b5e1ed5ec002", "5c1d2e3f4a5b"),
    ("strategy", "b5e1ed5ec003", "55a3bbd6a4b8"),
]


def widths(url: str) -> dict[str, int]:
    async def read() -> dict[str, int]:
        engine = create_async_engine(async_url(url))
        async with engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT column_name, character_maximum_length FROM information_schema.columns"
                    " WHERE table_name = 'webhook_endpoints' AND column_name IN ('secret', 'previous_secret')"
                )
            )
            found = dict(rows.all())
        await engine.dispose()
        return found

    return asyncio.run(read())


@pytest.mark.parametrize(("service", "revision", "before"), REVISIONS)
def test_sealed_secret_columns_widen_and_narrow_on_postgresql(postgres_server, service, revision, before) -> None:
    url = postgres_server.create_database(f"sealed_{service}")
    migrations = service_migrations(service)
    upgrade(migrations, url, before)
    assert widths(url) == {"secret": 100, "previous_secret": 100}
    upgrade(migrations, url, revision)
    assert widths(url) == {"secret": 255, "previous_secret": 255}
    command.downgrade(alembic_config(migrations, url), before)
    assert widths(url) == {"secret": 100, "previous_secret": 100}


@pytest.mark.parametrize(("service", "revision", "before"), REVISIONS)
def test_sealed_secret_migration_runs_both_ways_on_sqlite(tmp_path, service, revision, before) -> None:
    url = f"sqlite:///{tmp_path / service}.db"
    migrations = service_migrations(service)
    upgrade(migrations, url, revision)
    command.downgrade(alembic_config(migrations, url), before)
    upgrade(migrations, url)
