"""Referrals: consent gate, the full lifecycle table, reservations, expiry, lists, views, events, BOLA."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from putokaz.clock import FakeClock
from services.referral.referrals.lifecycle import STATUSES, TRANSITIONS, Side
from services.referral.referrals.scheduler import run_expiry_loop, sweep_once
from services.referral.tests.conftest import World, know_screening, outbox, referral_body

USER_TARGETS = ("accepted", "rejected", "in_progress", "completed", "failed", "cancelled")
PATHS: dict[str, list[str]] = {
    "requested": [],
    "accepted": ["accepted"],
    "rejected": ["rejected"],
    "in_progress": ["accepted", "in_progress"],
    "completed": ["accepted", "in_progress", "completed"],
    "failed": ["accepted", "in_progress", "failed"],
    "cancelled": ["cancelled"],
    "expired": ["expired"],
}
REASONS = {"rejected": "no_capacity", "failed": "person_left", "cancelled": "no_longer_needed"}


class Flow:
    def __init__(self, client: httpx.AsyncClient, world: World, app: FastAPI, clock: FakeClock) -> None:
        self.client, self.world, self.app, self.clock = client, world, app, clock
        self.sender = world.headers("police", "org-a")
        self.provider = world.headers("service_provider", "org-p")

    async def create(self, service_id: str, **overrides: Any) -> dict[str, Any]:
        r = await self.client.post(
            "/api/v1/referrals", json=referral_body(service_id, **overrides), headers=self.sender
        )
        assert r.status_code == 201, r.text
        return dict(r.json())

    def side_headers(self, target: str) -> dict[str, str]:
        return self.sender if target == "cancelled" else self.provider

    async def move(self, rid: str, target: str, headers: dict[str, str] | None = None) -> httpx.Response:
        body: dict[str, Any] = {"status": target}
        if target in REASONS:
            body["reason_code"] = REASONS[target]
        return await self.client.post(
            f"/api/v1/referrals/{rid}/transitions", json=body, headers=headers or self.side_headers(target)
        )

    async def bring_to(self, rid: str, status: str) -> None:
        for step in PATHS[status]:
            if step == "expired":
                self.clock.advance(hours=49)
                assert rid in await sweep_once(self.app.state.db, self.clock)
            else:
                r = await self.move(rid, step)
                assert r.status_code == 200, r.text


@pytest.fixture
def flow(client: httpx.AsyncClient, world: World, referral_app: FastAPI, clock: FakeClock) -> Flow:
    return Flow(client, world, referral_app, clock)


def test_lifecycle_table_covers_every_state() -> None:
    assert set(PATHS) == set(STATUSES)
    assert {to for (_, to), side in TRANSITIONS.items() if side is not Side.SYSTEM} == set(USER_TARGETS)


@pytest.mark.parametrize("current", list(PATHS))
@pytest.mark.parametrize("target", USER_TARGETS)
async def test_lifecycle_transition(flow: Flow, current: str, target: str) -> None:
    referral = await flow.create(flow.world.medical)
    await flow.bring_to(referral["id"], current)
    r = await flow.move(referral["id"], target)
    if (current, target) in TRANSITIONS:
        assert r.status_code == 200, r.text
        assert r.json()["status"] == target
        history = (await flow.client.get(f"/api/v1/referrals/{referral['id']}/history", headers=flow.sender)).json()
        assert history[-1]["from_status"] == current and history[-1]["to_status"] == target
        assert history[-1]["reason_code"] == REASONS.get(target)
        assert history[0]["from_status"] is None and history[0]["to_status"] == "requested"
    else:
        assert r.status_code == 409, r.text
        assert r.json()["current_status"] == current
        assert current in r.json()["detail"]
        got = await flow.client.get(f"/api/v1/referrals/{referral['id']}", headers=flow.sender)
        assert got.json()["status"] == current


@pytest.mark.parametrize("target", ["accepted", "rejected", "in_progress", "completed", "failed"])
async def test_sender_cannot_make_provider_moves_404(flow: Flow, target: str) -> None:
    referral = await flow.create(flow.world.medical)
    r = await flow.move(referral["id"], target, headers=flow.sender)
    assert r.status_code == 404


async def test_provider_cannot_cancel_and_other_org_cannot_accept_404(flow: Flow) -> None:
    referral = await flow.create(flow.world.medical)
    assert (await flow.move(referral["id"], "cancelled", headers=flow.provider)).status_code == 404
    other_provider = flow.world.headers("service_provider", "org-q")
    assert (await flow.move(referral["id"], "accepted", headers=other_provider)).status_code == 404


async def test_reject_and_fail_need_a_reason(flow: Flow) -> None:
    referral = await flow.create(flow.world.medical)
    r = await flow.client.post(
        f"/api/v1/referrals/{referral['id']}/transitions", json={"status": "rejected"}, headers=flow.provider
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason_code"


async def test_adult_without_consent_is_422_and_nothing_is_written(flow: Flow, referral_app: FastAPI) -> None:
    await know_screening(referral_app, "scr-declined", "org-a", consent="declined")
    # The screening's own record decides: a referrer's claim of consent cannot override a person's "no".
    claims = [("scr-declined", {"recorded": True, "text_version": "v1"}), ("scr-declined", None)]
    for screening_id, consent in [*claims, ("scr-1", {"recorded": False})]:
        body = referral_body(flow.world.medical, screening_id=screening_id, consent=consent)
        r = await flow.client.post("/api/v1/referrals", json=body, headers=flow.sender)
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"].endswith("consent")
    listed = await flow.client.get("/api/v1/referrals", headers=flow.sender)
    assert listed.json()["total"] == 0
    assert await outbox(referral_app) == []


async def test_child_goes_to_social_welfare_without_consent_but_not_elsewhere(
    flow: Flow, referral_app: FastAPI
) -> None:
    await know_screening(referral_app, "scr-child", "org-a", consent="not_required", child=True)
    child = {"age": 14, "sex": "M", "languages": ["fa"], "place": {"municipality": "Bihać"}}
    body = referral_body(flow.world.welfare, screening_id="scr-child", profile=child, consent=None)
    r = await flow.client.post("/api/v1/referrals", json=body, headers=flow.sender)
    assert r.status_code == 201 and r.json()["profile"]["child"] is True
    body = referral_body(flow.world.medical, screening_id="scr-child", profile=child, consent=None)
    r = await flow.client.post("/api/v1/referrals", json=body, headers=flow.sender)
    assert r.status_code == 422
    unknown_age = {"sex": "UNK", "place": {}}
    r = await flow.client.post(
        "/api/v1/referrals",
        json=referral_body(flow.world.welfare, profile=unknown_age, consent=None),
        headers=flow.sender,
    )
    assert r.status_code == 201 and r.json()["profile"]["child"] is True  # presumption of minority


async def test_accept_reserves_a_place_and_the_end_releases_it(flow: Flow, referral_app: FastAPI) -> None:
    async def available() -> int:
        r = await flow.client.get(f"/api/v1/services/{flow.world.safe_house}", headers=flow.sender)
        return int(r.json()["capacity"]["available"])

    for end in ("completed", "failed", "cancelled"):
        referral = await flow.create(flow.world.safe_house)
        await flow.bring_to(referral["id"], "accepted")
        assert await available() == 2
        if end != "cancelled":
            assert (await flow.move(referral["id"], "in_progress")).status_code == 200
        assert (await flow.move(referral["id"], end)).status_code == 200
        assert await available() == 3
    changes = await outbox(referral_app, "capacity.changed")
    assert [e["data"]["available"] for e in changes] == [2, 3, 2, 3, 2, 3]


async def test_accept_with_no_place_left_is_409_and_referral_stays_requested(flow: Flow) -> None:
    await flow.client.put(
        f"/api/v1/services/{flow.world.safe_house}/capacity",
        json={"available": 0, "maximum": 3},
        headers=flow.provider,
    )
    referral = await flow.create(flow.world.safe_house)
    r = await flow.move(referral["id"], "accepted")
    assert r.status_code == 409 and "no free place" in r.json()["detail"]
    got = await flow.client.get(f"/api/v1/referrals/{referral['id']}", headers=flow.provider)
    assert got.json()["status"] == "requested"


async def test_unanswered_referral_expires_at_its_deadline_with_escalation(flow: Flow, referral_app: FastAPI) -> None:
    other = await flow.client.post(
        "/api/v1/services",
        json={"organisation_id": "org-p", "name": "Clinic 2", "service_type": "medical"},
        headers=flow.world.headers("admin", "org-admin"),
    )
    urgent = await flow.create(flow.world.medical, urgent=True)
    routine = await flow.create(flow.world.medical, screening_id="scr-2")
    flow.clock.advance(hours=1, minutes=59)
    assert await sweep_once(referral_app.state.db, flow.clock) == []
    flow.clock.advance(minutes=2)
    assert await sweep_once(referral_app.state.db, flow.clock) == [urgent["id"]]
    flow.clock.advance(hours=46)
    assert await sweep_once(referral_app.state.db, flow.clock) == [routine["id"]]
    got = (await flow.client.get(f"/api/v1/referrals/{urgent['id']}", headers=flow.sender)).json()
    assert got["status"] == "expired"
    assert got["suggested_service_id"] == other.json()["id"]
    expired = await outbox(referral_app, "referral.expired")
    assert expired[0]["data"]["escalation"] is True
    assert expired[0]["data"]["suggested_service_id"] == other.json()["id"]
    assert sorted(expired[0]["_orgs"]) == ["org-a", "org-p"]
    # An expired referral can no longer be accepted.
    assert (await flow.move(urgent["id"], "accepted")).status_code == 409


async def test_scheduler_loop_expires_in_the_background(flow: Flow, referral_app: FastAPI) -> None:
    referral = await flow.create(flow.world.medical, urgent=True)
    flow.clock.advance(hours=3)
    task = asyncio.create_task(run_expiry_loop(referral_app.state.db, flow.clock, interval=0.02))
    try:
        for _ in range(100):
            got = await flow.client.get(f"/api/v1/referrals/{referral['id']}", headers=flow.sender)
            if got.json()["status"] == "expired":
                break
            await asyncio.sleep(0.02)
        assert got.json()["status"] == "expired"
    finally:
        task.cancel()


async def test_every_transition_emits_partner_event_and_registry_fact(flow: Flow, referral_app: FastAPI) -> None:
    referral = await flow.create(flow.world.safe_house, urgent=True)
    await flow.bring_to(referral["id"], "completed")
    partner = [e for e in await outbox(referral_app) if e["type"].startswith("referral.")]
    assert [e["type"] for e in partner] == [
        "referral.requested",
        "referral.accepted",
        "referral.in_progress",
        "referral.completed",
    ]
    assert all(sorted(e["_orgs"]) == ["org-a", "org-p"] for e in partner)
    assert all("screening" not in str(e["data"]) and "profile" not in e["data"] for e in partner)
    facts = await outbox(referral_app, "registry.referral_fact")
    assert [f["data"]["version"] for f in facts] == [1, 2, 3, 4]
    assert len({f["data"]["fact_id"] for f in facts}) == 1 and facts[0]["data"]["fact_id"] != referral["id"]
    last = facts[-1]["data"]
    assert last["status"] == "completed" and last["urgent"] is True and last["child"] is False
    assert last["hours_to_answer"] == 0 and last["hours_to_placement"] == 0
    assert last["entity"] == "FBIH" and last["canton"] == 1 and last["service_type"] == "safe_house"
    assert all(f["_orgs"] is None for f in facts)


async def test_provider_sees_only_the_minimum(flow: Flow) -> None:
    referral = await flow.create(flow.world.medical)
    assert referral["sender"]["screening_id"] == "scr-1" and referral["sender"]["age"] == 30
    seen = (await flow.client.get(f"/api/v1/referrals/{referral['id']}", headers=flow.provider)).json()
    assert seen["sender"] is None
    assert seen["profile"]["age_band"] == "30-38"
    assert "scr-1" not in str(seen) and "Bihać" not in str(seen)


async def test_lists_for_each_side_with_filters_and_pagination(flow: Flow) -> None:
    ids = [(await flow.create(flow.world.medical, screening_id=f"scr-{i}"))["id"] for i in range(3)]
    urgent = await flow.create(flow.world.safe_house, urgent=True)
    await flow.move(ids[0], "rejected")
    sent = (await flow.client.get("/api/v1/referrals", params={"box": "sent"}, headers=flow.sender)).json()
    assert sent["total"] == 4
    received = await flow.client.get("/api/v1/referrals", params={"box": "received"}, headers=flow.sender)
    assert received.json()["total"] == 0
    inbox = await flow.client.get(
        "/api/v1/referrals", params={"box": "received", "status": "requested"}, headers=flow.provider
    )
    assert inbox.json()["total"] == 3
    only_urgent = await flow.client.get("/api/v1/referrals", params={"urgent": True}, headers=flow.provider)
    assert [r["id"] for r in only_urgent.json()["items"]] == [urgent["id"]]
    page = await flow.client.get("/api/v1/referrals", params={"limit": 3, "offset": 3}, headers=flow.sender)
    assert page.json()["total"] == 4 and len(page.json()["items"]) == 1
    other = await flow.client.get("/api/v1/referrals", headers=flow.world.headers("police", "org-b"))
    assert other.json()["total"] == 0


async def test_partner_reads_referrals_of_its_organisation_only(flow: Flow) -> None:
    referral = await flow.create(flow.world.medical)
    partner = flow.world.headers("partner", "org-p")
    assert (await flow.client.get(f"/api/v1/referrals/{referral['id']}", headers=partner)).status_code == 200
    assert (await flow.client.get("/api/v1/referrals", headers=partner)).json()["total"] == 1
    assert (await flow.move(referral["id"], "accepted", headers=partner)).status_code == 403
    stranger = flow.world.headers("partner", "org-b")
    assert (await flow.client.get(f"/api/v1/referrals/{referral['id']}", headers=stranger)).status_code == 404


async def test_bola_walk_other_org_gets_404_on_every_referral_route(flow: Flow) -> None:
    referral = await flow.create(flow.world.medical)
    rid = referral["id"]
    for role in ("police", "social_worker", "service_provider", "partner"):
        h = flow.world.headers(role, "org-b")
        assert (await flow.client.get(f"/api/v1/referrals/{rid}", headers=h)).status_code == 404
        assert (await flow.client.get(f"/api/v1/referrals/{rid}/history", headers=h)).status_code in (404,)
        if role != "partner":
            for target in USER_TARGETS:
                assert (await flow.move(rid, target, headers=h)).status_code == 404
    # The same answers as for an id that does not exist at all.
    h = flow.world.headers("police", "org-b")
    missing = await flow.client.get("/api/v1/referrals/doesnotexist", headers=h)
    other = await flow.client.get(f"/api/v1/referrals/{rid}", headers=h)
    assert missing.json() == other.json()
    owner = await flow.client.get(f"/api/v1/referrals/{rid}", headers=flow.sender)
    assert owner.json()["status"] == "requested"


async def test_referral_to_unknown_or_inactive_service_is_422(flow: Flow) -> None:
    r = await flow.client.post("/api/v1/referrals", json=referral_body("svc-missing"), headers=flow.sender)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "service_id"
    await flow.client.patch(
        f"/api/v1/services/{flow.world.medical}", json={"status": "inactive"}, headers=flow.provider
    )
    r = await flow.client.post("/api/v1/referrals", json=referral_body(flow.world.medical), headers=flow.sender)
    assert r.status_code == 422
