"""One aware-UTC timestamp column type: what goes in comes out as the same instant, marked UTC, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import BaseModel
from sqlalchemy import Column, Integer, MetaData, Table, insert, select

from putokaz.db import UtcDateTime, create_engine

SARAJEVO_SUMMER = timezone(timedelta(hours=2))


class Stamp(BaseModel):
    at: datetime


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path: Path, postgres_server) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'utc.db'}"
    return postgres_server.create_database("utc_datetime")


async def test_aware_utc_in_and_out_on_sqlite_and_postgresql(database_url: str) -> None:
    engine = create_engine(database_url)
    metadata = MetaData()
    table = Table("stamps", metadata, Column("id", Integer, primary_key=True), Column("at", UtcDateTime))
    local = datetime(2026, 7, 1, 14, 30, tzinfo=SARAJEVO_SUMMER)
    naive_utc = datetime(2026, 1, 2, 3, 4, 5)
    async with engine.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.run_sync(metadata.create_all)
        await conn.execute(insert(table), [{"id": 1, "at": local}, {"id": 2, "at": naive_utc}])
        rows = dict((await conn.execute(select(table.c.id, table.c.at))).all())
        later = await conn.execute(select(table.c.id).where(table.c.at > datetime(2026, 7, 1, 12, 0, tzinfo=UTC)))
        after_noon_utc = [r[0] for r in later]
    assert rows[1] == local and rows[1].tzinfo == UTC and rows[1].hour == 12
    assert rows[2] == naive_utc.replace(tzinfo=UTC) and rows[2].tzinfo == UTC
    assert after_noon_utc == [1]
    assert Stamp(at=rows[1]).model_dump_json() == '{"at":"2026-07-01T12:30:00Z"}'
    await engine.dispose()
