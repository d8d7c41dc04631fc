"""The screening audit trail: hash-chained, append-only, refused reads included, edits detected."""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest

from services.screening.tests.test_privacy import IDENTITY_STRINGS, completed_screening, raw_rows
from services.screening.tests.test_screenings_api import start


@pytest.fixture
def own_chain_app(own_app: Any, own_db_url: str) -> tuple[Any, str]:
    """A screening service on a database of its own: these tests break its chain on purpose."""
    return own_app, own_db_url


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def test_a_refused_read_is_audited_although_the_answer_is_404(screening_app, client, headers, org) -> None:
    sid, _ = await completed_screening(client, headers, org)
    prober = headers("social_worker", org=org + "-probe", sub="prober-1")
    assert (await client.get(f"/api/v1/screenings/{sid}", headers=prober)).status_code == 404
    missing = str(uuid.uuid4())
    assert (await client.get(f"/api/v1/screenings/{missing}", headers=prober)).status_code == 404
    admin = headers("admin", org="demo-admin")
    response = await client.get("/api/v1/audit/screening?actor=prober-1&outcome=refused", headers=admin)
    assert response.status_code == 200, response.text
    refused = response.json()["items"]
    # Another organisation's screening and one that does not exist look the same to the prober and here.
    assert {(e["object_id"], e["action"], e["actor_org"]) for e in refused} == {
        (sid, "read", org + "-probe"),
        (missing, "read", org + "-probe"),
    }
    assert (await client.get("/api/v1/audit/screening", headers=prober)).status_code == 403


async def test_the_chain_verifies_and_carries_no_identity(screening_app, client, headers, org) -> None:
    await completed_screening(client, headers, org)
    admin = headers("admin", org="demo-admin")
    verdict = (await client.get("/api/v1/audit/screening/verify", headers=admin)).json()
    assert verdict["ok"] is True and verdict["first_broken"] is None
    assert verdict["rows_checked"] == verdict["head"]["seq"] > 0
    rows = await raw_rows(screening_app, "SELECT * FROM audit_log WHERE actor_org = :org", org=org)
    dump = json.dumps(rows, default=str)
    assert rows and not any(secret in dump for secret in IDENTITY_STRINGS)


async def test_concurrent_writers_extend_one_unbroken_chain(own_chain_app, make_token) -> None:
    app, _ = own_chain_app
    client: httpx.AsyncClient = app.state.test_client
    h = {"Authorization": f"Bearer {make_token('police', org='org-many')}"}
    created = await asyncio.gather(*(start(client, h) for _ in range(12)))
    await asyncio.gather(*(client.get(f"/api/v1/screenings/{s['id']}", headers=h) for s in created))
    rows = await raw_rows(app, "SELECT seq, prev_hash, hash FROM audit_log ORDER BY seq")
    assert [r["seq"] for r in rows] == list(range(1, 25))
    assert all(a["hash"] == b["prev_hash"] for a, b in itertools.pairwise(rows))
    admin = {"Authorization": f"Bearer {make_token('admin', org='demo-admin')}"}
    assert (await client.get("/api/v1/audit/screening/verify", headers=admin)).json()["ok"] is True


async def _tamper(url: str, statement: str) -> None:
    conn = await asyncpg.connect(_dsn(url))
    try:
        # What only a superuser can do: switch the append-only trigger off for this session.
        await conn.execute("SET session_replication_role = replica")
        await conn.execute(statement)
    finally:
        await conn.close()


async def _verify(client: httpx.AsyncClient, make_token: Callable[..., str]) -> dict[str, Any]:
    admin = {"Authorization": f"Bearer {make_token('admin', org='demo-admin')}"}
    response = await client.get("/api/v1/audit/screening/verify", headers=admin)
    assert response.status_code == 200
    return response.json()


async def _started(
    own_chain_app: tuple[Any, str], make_token: Callable[..., str], org: str, screenings: int
) -> tuple[httpx.AsyncClient, str]:
    """The own app's client and database after a police officer of `org` started `screenings` screenings."""
    app, url = own_chain_app
    client: httpx.AsyncClient = app.state.test_client
    h = {"Authorization": f"Bearer {make_token('police', org=org)}"}
    for _ in range(screenings):
        await start(client, h)
    return client, url


async def test_an_edited_row_breaks_the_chain_at_that_row(own_chain_app, make_token) -> None:
    client, url = await _started(own_chain_app, make_token, "org-t", 3)
    conn = await asyncpg.connect(_dsn(url))
    try:
        with pytest.raises(asyncpg.RaiseError):
            await conn.execute("UPDATE audit_log SET actor_sub = 'someone-else' WHERE seq = 2")
        with pytest.raises(asyncpg.RaiseError):
            await conn.execute("DELETE FROM audit_log WHERE seq = 3")
    finally:
        await conn.close()
    assert (await _verify(client, make_token))["ok"] is True
    await _tamper(url, "UPDATE audit_log SET actor_sub = 'someone-else' WHERE seq = 2")
    verdict = await _verify(client, make_token)
    assert verdict["ok"] is False
    assert verdict["first_broken"] == {"seq": 2, "reason": "row changed after it was written"}


async def test_a_deleted_row_and_a_cut_tail_are_named(own_chain_app, make_token) -> None:
    client, url = await _started(own_chain_app, make_token, "org-d", 4)
    await _tamper(url, "DELETE FROM audit_log WHERE seq = 4")
    assert (await _verify(client, make_token))["first_broken"] == {"seq": 4, "reason": "row missing"}
    await _tamper(url, "DELETE FROM audit_log WHERE seq >= 2")
    # Only the head remembers the lost tail.
    assert (await _verify(client, make_token))["first_broken"] == {"seq": 2, "reason": "row missing"}
