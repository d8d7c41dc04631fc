"""Several capacities per service (HSDS service_capacity), each for a group; no capacity is ever overbooked."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from putokaz.db import async_url
from putokaz.migrations import upgrade
from putokaz.testing import service_migrations
from services.referral.tests.conftest import World, outbox, referral_body, twenty_accepted_at_once

GIRL = {"age": 12, "sex": "F", "languages": ["bs"], "place": {"municipality": "Zenica"}}


async def _add(client: httpx.AsyncClient, world: World, body: dict, org: str = "org-p") -> httpx.Response:
    return await client.post(
        f"/api/v1/services/{world.safe_house}/capacities", json=body, headers=world.headers("service_provider", org)
    )


async def test_provider_adds_capacities_per_group_and_sets_each(client, world, referral_app):
    provider = world.headers("service_provider", "org-p")
    r = await _add(client, world, {"unit": "bed", "population": "children", "available": 2, "maximum": 4})
    assert r.status_code == 201, r.text
    children = r.json()
    assert (children["unit"], children["population"], children["available"]) == ("bed", "children", 2)
    service = (await client.get(f"/api/v1/services/{world.safe_house}", headers=provider)).json()
    assert sorted(c["population"] for c in service["capacities"]) == ["children", "everyone"]

    r = await client.put(
        f"/api/v1/services/{world.safe_house}/capacities/{children['id']}",
        json={"unit": "bed", "population": "children", "available": 4, "maximum": 4},
        headers=provider,
    )
    assert r.status_code == 200 and r.json()["available"] == 4
    changed = [e["data"] for e in await outbox(referral_app, "capacity.changed")]
    assert changed[-1]["capacity_id"] == children["id"] and changed[-1]["population"] == "children"

    # The one-capacity route of older clients no longer knows which one is meant.
    r = await client.put(
        f"/api/v1/services/{world.safe_house}/capacity", json={"available": 1, "maximum": 3}, headers=provider
    )
    assert r.status_code == 409 and "capacities" in r.json()["detail"]


async def test_second_capacity_of_the_same_unit_and_group_is_409(client, world):
    r = await _add(client, world, {"unit": "bed", "population": "everyone", "available": 1, "maximum": 1})
    assert r.status_code == 409 and r.json()["field"] == "population"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"unit": "tent", "available": 1, "maximum": 1}, "body.unit"),
        ({"population": "pensioners", "available": 1, "maximum": 1}, "body.population"),
        ({"available": 3, "maximum": 1}, "body"),
    ],
)
async def test_bad_capacity_is_422_naming_the_field(client, world, body, field):
    r = await _add(client, world, body)
    assert r.status_code == 422 and field in [e["field"] for e in r.json()["errors"]]


async def test_another_organisation_cannot_add_or_set_capacities_404(client, world):
    r = await _add(client, world, {"available": 1, "maximum": 1, "population": "women"}, org="org-b")
    assert r.status_code == 404
    service = (
        await client.get(f"/api/v1/services/{world.safe_house}", headers=world.headers("police", "org-a"))
    ).json()
    r = await client.put(
        f"/api/v1/services/{world.safe_house}/capacities/{service['capacities'][0]['id']}",
        json={"available": 0, "maximum": 3},
        headers=world.headers("service_provider", "org-b"),
    )
    assert r.status_code == 404


async def test_twenty_concurrent_accepts_for_three_places_per_capacity(
    client: httpx.AsyncClient, world: World, referral_app: FastAPI
) -> None:
    """Women's beds: 3; girls' beds: 2. Twenty women accepted at once take exactly the three women's beds."""
    sender = world.headers("police", "org-a")
    provider = world.headers("service_provider", "org-p")
    service = (await client.get(f"/api/v1/services/{world.safe_house}", headers=provider)).json()
    (everyone,) = service["capacities"]
    r = await client.put(
        f"/api/v1/services/{world.safe_house}/capacities/{everyone['id']}",
        json={"unit": "bed", "population": "women", "available": 3, "maximum": 3},
        headers=provider,
    )
    assert r.status_code == 200, r.text
    girls = (await _add(client, world, {"unit": "bed", "population": "girls", "available": 2, "maximum": 2})).json()
    assert await twenty_accepted_at_once(client, world) == [200] * 3 + [409] * 17

    capacities = {
        c["population"]: c
        for c in (await client.get(f"/api/v1/services/{world.safe_house}", headers=provider)).json()["capacities"]
    }
    assert capacities["women"]["available"] == 0 and capacities["girls"]["available"] == 2
    # A girl still finds her group's beds, and takes one of them.
    r = await client.post(
        "/api/v1/referrals", json=referral_body(world.safe_house, screening_id="scr-25", profile=GIRL), headers=sender
    )
    r = await client.post(
        f"/api/v1/referrals/{r.json()['id']}/transitions", json={"status": "accepted"}, headers=provider
    )
    assert r.status_code == 200, r.text
    async with referral_app.state.db.engine.connect() as conn:
        held = dict(
            (
                await conn.execute(text("SELECT capacity_id, count(*) FROM referrals WHERE place_reserved GROUP BY 1"))
            ).all()
        )
        left = await conn.scalar(text("SELECT available FROM service_capacity WHERE id = :id"), {"id": girls["id"]})
    assert held == {everyone["id"]: 3, girls["id"]: 1} and left == 1


async def test_cancelling_gives_the_place_back_to_the_capacity_it_came_from(client, world):
    sender = world.headers("police", "org-a")
    provider = world.headers("service_provider", "org-p")
    girls = (await _add(client, world, {"unit": "bed", "population": "girls", "available": 1, "maximum": 1})).json()
    r = await client.post(
        "/api/v1/referrals", json=referral_body(world.safe_house, screening_id="scr-3", profile=GIRL), headers=sender
    )
    rid = r.json()["id"]
    await client.post(f"/api/v1/referrals/{rid}/transitions", json={"status": "accepted"}, headers=provider)
    capacities = (await client.get(f"/api/v1/services/{world.safe_house}", headers=provider)).json()["capacities"]
    assert {c["population"]: c["available"] for c in capacities} == {"everyone": 3, "girls": 0}
    await client.post(f"/api/v1/referrals/{rid}/transitions", json={"status": "cancelled"}, headers=sender)
    capacities = (await client.get(f"/api/v1/services/{world.safe_house}", headers=provider)).json()["capacities"]
    assert {c["population"]: c["available"] for c in capacities} == {"everyone": 3, girls["population"]: 1}


def test_migration_turns_the_single_capacity_into_one_for_everyone(postgres_server):
    """Data written before several capacities existed: a counselling `bed` becomes a session, held places keep
    their capacity."""
    url = postgres_server.create_database("capacity_migration")
    migrations = service_migrations("referral")
    upgrade(migrations, url, "b7c3e1d2f4a6")
    now = datetime.now(UTC)

    async def run(statements: list[str]) -> list:
        engine = create_async_engine(async_url(url))
        out = []
        async with engine.begin() as conn:
            for sql in statements:
                result = await conn.execute(text(sql), {"now": now})
                out.append(result.all() if result.returns_rows else None)
        await engine.dispose()
        return out

    asyncio.run(
        run(
            [
                "INSERT INTO organisations (id, name, description, kind, is_demo, created_at, updated_at)"
                " VALUES ('org', 'org', '', 'ngo', false, :now, :now)",
                "INSERT INTO services (id, organisation_id, name, description, service_type, status, sexes,"
                " nationalities, languages, specialisations, child_only, lgbtqia_safe, wheelchair_accessible,"
                " open_24_7, created_at, updated_at) VALUES"
                " ('house', 'org', 's', '', 'safe_house', 'active', '[]', '[]', '[]', '[]', false, false, false,"
                " false, :now, :now),"
                " ('talk', 'org', 's', '', 'mhpss', 'active', '[]', '[]', '[]', '[]', false, false, false, false,"
                " :now, :now)",
                "INSERT INTO service_capacity (id, service_id, unit, available, maximum, updated) VALUES"
                " ('cap-house', 'house', 'bed', 2, 5, :now), ('cap-talk', 'talk', 'bed', 1, 1, :now)",
                "INSERT INTO referrals (id, fact_id, fact_version, screening_ref, from_org, from_sub, to_org,"
                " service_id, service_type, status, urgent, child, consent_recorded, profile, place_reserved,"
                " awaiting_consent, created_at, updated_at, deadline_at) VALUES ('ref', 'fact', 2, 'scr', 'org-a',"
                " 'u', 'org', 'house', 'safe_house', 'accepted', false, false, true, '{}', true, false, :now, :now,"
                " :now)",
            ]
        )
    )
    upgrade(migrations, url)
    capacities, referral = asyncio.run(
        run(
            [
                "SELECT id, unit, population, available, maximum FROM service_capacity ORDER BY id",
                "SELECT capacity_id FROM referrals",
            ]
        )
    )
    assert capacities == [("cap-house", "bed", "everyone", 2, 5), ("cap-talk", "session", "everyone", 1, 1)]
    assert referral == [("cap-house",)]
