"""The connection pool pings a connection only after it sat idle, and recovers from a dead one either way."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

import putokaz.db as db
from putokaz.testing import PostgresServer


@pytest.fixture(scope="module")
def url(postgres_server: PostgresServer) -> str:
    return postgres_server.create_database("pool")


async def _backend_pid(engine) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()


@asynccontextmanager
async def _engine(url: str) -> AsyncIterator[AsyncEngine]:
    engine = db.create_engine(url)
    try:
        yield engine
    finally:
        await engine.dispose()


async def _terminate(url: str, pid: int) -> None:
    async with _engine(url) as killer, killer.connect() as conn:
        await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


async def test_a_connection_dropped_while_idle_is_replaced_before_use(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with _engine(url) as engine:
        dropped = await _backend_pid(engine)
        await _terminate(url, dropped)
        monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)  # as if it had sat idle past the threshold
        assert await _backend_pid(engine) != dropped  # no error: pinged, found dead, replaced


async def test_a_connection_in_constant_use_is_not_pinged_and_a_dead_one_fails_once(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pings = []
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 3600.0)
    async with _engine(url) as engine:
        for _ in range(5):
            pid = await _backend_pid(engine)
        original = type(engine.sync_engine.dialect).do_ping
        monkeypatch.setattr(
            type(engine.sync_engine.dialect), "do_ping", lambda self, c: pings.append(1) or original(self, c)
        )
        await _terminate(url, pid)
        with pytest.raises(DBAPIError):  # the request using it fails (a 503 through the API, nothing saved)
            await _backend_pid(engine)
        assert await _backend_pid(engine) != pid  # the pool recovered on the next checkout
        assert pings == []
