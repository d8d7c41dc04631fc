"""Races on PostgreSQL: concurrent accepts for the last places never overbook."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from services.referral.tests.conftest import World, referral_body, twenty_accepted_at_once


async def test_twenty_concurrent_accepts_for_three_places(
    client: httpx.AsyncClient, world: World, referral_app: FastAPI
) -> None:
    provider = world.headers("service_provider", "org-p")
    r = await client.put(
        f"/api/v1/services/{world.safe_house}/capacity", json={"available": 3, "maximum": 10}, headers=provider
    )
    assert r.status_code == 200

    codes = await twenty_accepted_at_once(client, world)
    assert codes == [200] * 3 + [409] * 17, codes

    r = await client.get(f"/api/v1/services/{world.safe_house}", headers=provider)
    assert r.json()["capacity"]["available"] == 0
    async with referral_app.state.db.engine.connect() as conn:
        accepted = await conn.scalar(text("SELECT count(*) FROM referrals WHERE status = 'accepted'"))
        held = await conn.scalar(text("SELECT count(*) FROM referrals WHERE place_reserved"))
    assert accepted == 3 and held == 3


async def test_concurrent_accept_and_cancel_of_one_referral_leave_one_outcome(
    client: httpx.AsyncClient, world: World
) -> None:
    sender = world.headers("police", "org-a")
    provider = world.headers("service_provider", "org-p")
    for _ in range(5):
        r = await client.post("/api/v1/referrals", json=referral_body(world.safe_house), headers=sender)
        rid = r.json()["id"]
        accept, cancel = await asyncio.gather(
            client.post(f"/api/v1/referrals/{rid}/transitions", json={"status": "accepted"}, headers=provider),
            client.post(f"/api/v1/referrals/{rid}/transitions", json={"status": "cancelled"}, headers=sender),
        )
        assert cancel.status_code == 200  # cancelling is legal from requested and from accepted
        assert accept.status_code in (200, 409)
        final = (await client.get(f"/api/v1/referrals/{rid}", headers=sender)).json()
        assert final["status"] == "cancelled" and final["place_reserved"] is False
    r = await client.get(f"/api/v1/services/{world.safe_house}", headers=provider)
    assert r.json()["capacity"]["available"] == 3  # every place taken was given back
