"""Referral's retention job: the feed's deduplication records and delivered events go after their periods."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from services.referral.tests.conftest import World, referral_body
from services.referral.tests.test_feed import deliver, new_id


async def _count(app: FastAPI, table: str) -> int:
    async with app.state.db.engine.connect() as conn:
        return int((await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())  # noqa: S608


async def test_feed_records_go_after_the_redelivery_window_and_a_later_copy_is_processed_once(
    client: httpx.AsyncClient, world: World, referral_app: FastAPI
) -> None:
    data = {"screening_id": "scr-1", "org": "org-a", "consent_referral": "given"}
    msg = new_id()
    assert (await deliver(client, "screening.consent_recorded", data, msg)).json()["status"] == "processed"
    assert (await deliver(client, "screening.consent_recorded", data, msg)).json()["status"] == "duplicate"
    r = await client.post(
        "/api/v1/referrals", json=referral_body(world.medical), headers=world.headers("police", "org-a")
    )
    assert r.status_code == 201, r.text
    job = referral_app.state.retention
    now = referral_app.state.clock.now()  # the feed stamps the record with the app clock
    # Inside the window (35 days) nothing goes: a redelivery is still answered "duplicate".
    assert (await job.run_once(now + timedelta(days=34)))["processed_webhooks"] == 0
    assert (await deliver(client, "screening.consent_recorded", data, msg)).json()["status"] == "duplicate"
    purged = await job.run_once(now + timedelta(days=36))
    assert purged["processed_webhooks"] == 1
    assert await _count(referral_app, "processed_webhooks") == 0
    assert (await job.run_once(now + timedelta(days=36)))["processed_webhooks"] == 0  # idempotent
    metrics = (await client.get("/metrics")).text
    assert 'putokaz_retention_purged_total{kind="processed_webhooks",service="referral"}' in metrics
