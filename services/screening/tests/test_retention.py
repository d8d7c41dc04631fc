"""Retention on a controlled clock: each period's boundary is crossed, held screenings are skipped."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import text

from putokaz.clock import FakeClock
from putokaz.retention import RetentionJob
from putokaz.testing import auth
from services.screening.retention import retention_tasks
from services.screening.tests.conftest import start_body
from services.screening.tests.test_privacy import completed_screening, raw_rows


def _job(app: Any, clock: FakeClock) -> RetentionJob:
    tasks = retention_tasks(app.state.vault, app.state.settings)
    return RetentionJob(app.state.db, tasks, app.state.metrics, clock, batch=2)


async def _erased(app: Any) -> dict[str, str | None]:
    rows = await raw_rows(app, "SELECT id, erasure_reason FROM screenings")
    return {r["id"]: r["erasure_reason"] for r in rows}


async def test_each_retention_period_is_crossed_on_a_controlled_clock(own_app, make_token) -> None:
    client: httpx.AsyncClient = own_app.state.test_client

    def headers(*roles: str, org: str, sub: str | None = None) -> dict[str, str]:
        return auth(make_token(*(roles or ("police",)), org=org, sub=sub))

    org = "org-retention"
    clock = FakeClock()
    start = clock.now()
    no_indicators, h = await completed_screening(client, headers, org)
    presumed, _ = await completed_screening(client, headers, org)
    held, _ = await completed_screening(client, headers, org)
    async with own_app.state.db.engine.begin() as conn:
        await conn.execute(
            text("UPDATE screenings SET outcome = 'NO_INDICATORS' WHERE id = :id"), {"id": no_indicators}
        )
    admin = headers("admin", org=org)
    hold = {"reason": "criminal_proceedings"}
    await client.put(f"/api/v1/screenings/{held}/legal-hold", json=hold, headers=admin)
    keyed = await client.post(
        "/api/v1/screenings",
        json=start_body(),
        headers={**h, "Idempotency-Key": "retention-key-1"},
    )
    assert keyed.status_code == 201, keyed.text
    job = _job(own_app, clock)

    # Idempotency keys: kept for 24 hours.
    assert (await job.run_once(start + timedelta(hours=23)))["idempotency_keys"] == 0
    assert (await job.run_once(start + timedelta(hours=25)))["idempotency_keys"] == 1
    assert await raw_rows(own_app, "SELECT * FROM idempotency_keys") == []

    # Events delivered to everyone (here: fanned out to no subscriber) are kept 30 days.
    async with own_app.state.db.engine.begin() as conn:
        await conn.execute(text("UPDATE outbox_events SET fanned_out_at = :at"), {"at": start})
    events = len(await raw_rows(own_app, "SELECT position FROM outbox_events"))
    assert events > 0
    assert (await job.run_once(start + timedelta(days=29)))["delivered_events"] == 0
    assert (await job.run_once(start + timedelta(days=31)))["delivered_events"] == events

    # NO_INDICATORS: identity erased after 12 months; the others wait for 10 years.
    assert (await job.run_once(start + timedelta(days=364)))["expired_identities"] == 0
    assert (await job.run_once(start + timedelta(days=366)))["expired_identities"] == 1
    assert (await _erased(own_app))[no_indicators] == "retention"
    assert (await _erased(own_app))[presumed] is None
    ten_years = start + timedelta(days=3653 + 1)
    assert (await job.run_once(ten_years))["expired_identities"] == 2  # presumed + the keyed one
    erased = await _erased(own_app)
    assert erased[presumed] == "retention" and erased[held] is None  # under legal hold: skipped
    # Idempotent: a second run (or a second replica) finds nothing more.
    assert await job.run_once(ten_years) == {
        "expired_identities": 0,
        "blind_index_reindex": 0,
        "pseudonym_rotation": 0,
        "delivered_events": 0,
        "idempotency_keys": 0,
        "training_idempotency_keys": 0,
        "training_records": 0,
    }
    body = (await client.get(f"/api/v1/screenings/{presumed}", headers=h)).json()
    assert body["subject"] is None and body["data_protection"]["erasure_reason"] == "retention"
    metrics = (await client.get("/metrics")).text
    assert 'putokaz_retention_purged_total{kind="expired_identities",service="screening"} 3.0' in metrics
    log = await client.get(f"/api/v1/audit/screening?object_id={presumed}&action=erase", headers=admin)
    assert [(e["actor_sub"], e["detail"]) for e in log.json()["items"]] == [
        ("system:retention", {"reason": "retention"})
    ]


async def test_training_records_and_their_keys_go_after_their_periods(own_app, make_token) -> None:
    client: httpx.AsyncClient = own_app.state.test_client
    org = "org-training-retention"
    trainee = auth(make_token("trainee", org=org, sub="trainee-r"))
    trainer = auth(make_token("coordinator", org=org, sub="trainer-r"))
    clock = FakeClock()
    start = clock.now()
    practice = await client.post(
        "/api/v1/training/practices",
        json={"vignette": "construction-labour", "language": "en"},
        headers={**trainee, "Idempotency-Key": "practice-key-1"},
    )
    assert practice.status_code == 201, practice.text
    group = await client.post(
        "/api/v1/training/groups",
        json={"name": "Course", "members": ["trainee-r"], "vignettes": ["construction-labour"]},
        headers=trainer,
    )
    assert group.status_code == 201, group.text
    job = _job(own_app, clock)

    assert (await job.run_once(start + timedelta(hours=25)))["training_idempotency_keys"] == 1
    assert (await job.run_once(start + timedelta(days=364)))["training_records"] == 0
    assert (await client.get("/api/v1/training/practices", headers=trainee)).json()["items"] != []
    assert (await job.run_once(start + timedelta(days=366)))["training_records"] == 2
    assert (await client.get("/api/v1/training/practices", headers=trainee)).json()["items"] == []
    assert (await client.get("/api/v1/training/groups", headers=trainer)).json()["items"] == []
    assert (await job.run_once(start + timedelta(days=366)))["training_records"] == 0
