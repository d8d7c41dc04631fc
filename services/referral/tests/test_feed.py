"""The screening feed: consent kept from the screening's own record, children referred by the system, withdrawal."""

from __future__ import annotations

import json
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from standardwebhooks.webhooks import Webhook

from services.referral.tests.conftest import FEED_SECRET, World, outbox, referral_body


def new_id() -> str:
    return "msg_" + secrets.token_hex(16)


async def deliver(
    client: httpx.AsyncClient, event_type: str, data: dict[str, Any], msg_id: str | None = None
) -> httpx.Response:
    """Send one event exactly as the screening service's dispatcher does (Standard Webhooks signature)."""
    msg_id = msg_id or new_id()
    body = json.dumps({"type": event_type, "timestamp": datetime.now(UTC).isoformat(), "data": data})
    when = datetime.fromtimestamp(time.time(), tz=UTC)
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": Webhook(FEED_SECRET).sign(msg_id, when, body),
        "content-type": "application/json",
    }
    return await client.post("/internal/events", content=body, headers=headers)


def child_submitted(screening_id: str, municipality: str | None = "Sarajevo Centar", **kw: Any) -> dict[str, Any]:
    place = {"entity": "FBIH", "canton": 9, "municipality": municipality} if municipality else {}
    return {
        "screening_id": screening_id,
        "org": "org-a",
        "outcome": "PRESUMED_VICTIM",
        "urgent": True,
        "child": True,
        "consent_referral": "not_required",
        "place": place,
        "forms": ["begging"],
        **kw,
    }


async def inbox(client: httpx.AsyncClient, world: World, org: str, box: str) -> list[dict[str, Any]]:
    role = "police" if org == "org-a" else "social_worker"
    r = await client.get(f"/api/v1/referrals?box={box}", headers=world.headers(role, org))
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def test_a_child_screened_with_indications_reaches_the_municipality_csw_exactly_once(
    client: httpx.AsyncClient, world: World, referral_app: FastAPI
) -> None:
    msg = new_id()
    first = await deliver(client, "screening.submitted", child_submitted("scr-child-1"), msg)
    again = await deliver(client, "screening.submitted", child_submitted("scr-child-1"), msg)
    other_copy = await deliver(client, "screening.submitted", child_submitted("scr-child-1"))  # a new webhook-id
    assert [first.json()["status"], again.json()["status"]] == ["processed", "duplicate"]
    assert other_copy.status_code == 200
    (sent,) = await inbox(client, world, "org-a", "sent")
    (received,) = await inbox(client, world, "org-csw", "received")
    assert sent["id"] == received["id"]
    assert (received["to_org"], received["service_type"], received["urgent"]) == ("org-csw", "social_welfare", True)
    assert received["status"] == "requested" and received["profile"]["child"] is True
    assert received["sender"] is None  # the centre sees what it needs, not the screening
    events = await outbox(referral_app, "referral.requested")
    assert len(events) == 1 and "org-csw" in events[0]["_orgs"] and "org-a" in events[0]["_orgs"]
    assert "scr-child-1" not in json.dumps(events)  # partner events carry no screening reference


async def test_no_referral_for_a_child_without_indications_or_for_an_adult(
    client: httpx.AsyncClient, world: World
) -> None:
    await deliver(client, "screening.submitted", child_submitted("scr-none", outcome="NO_INDICATORS"))
    await deliver(client, "screening.submitted", child_submitted("scr-adult", child=False, consent_referral="given"))
    assert await inbox(client, world, "org-csw", "received") == []


async def test_without_a_local_centre_the_entity_fallback_gets_it_and_an_alert_is_raised(
    client: httpx.AsyncClient, world: World, referral_app: FastAPI
) -> None:
    admin = world.headers("admin", "org-admin")
    r = await client.post(
        "/api/v1/organisations", json={"id": "org-rs-csw", "name": "RS", "kind": "social_welfare"}, headers=admin
    )
    assert r.status_code == 201
    body = {
        "organisation_id": "org-rs-csw",
        "name": "RS duty",
        "service_type": "social_welfare",
        "fallback_for_entity": "RS",
    }
    r = await client.post("/api/v1/services", json=body, headers=admin)
    assert r.status_code == 201, r.text
    place = {"screening_id": "scr-trebinje", "place": {"entity": "RS", "municipality": "Trebinje"}}
    await deliver(client, "screening.submitted", {**child_submitted("scr-trebinje"), **place})
    (received,) = await inbox(client, world, "org-rs-csw", "received")
    assert received["urgent"] is True
    (alert,) = await outbox(referral_app, "alert.child_referral_fallback")
    assert alert["data"]["reason"] == "no_centre_for_municipality" and alert["data"]["to_org"] == "org-rs-csw"


async def test_with_no_authority_configured_an_unrouted_alert_is_raised(
    client: httpx.AsyncClient, world: World, referral_app: FastAPI
) -> None:
    await deliver(client, "screening.submitted", {**child_submitted("scr-nowhere"), "place": {"entity": "BD"}})
    assert await inbox(client, world, "org-a", "sent") == []
    assert len(await outbox(referral_app, "alert.child_referral_unrouted")) == 1


async def test_a_forged_feed_event_is_refused(client: httpx.AsyncClient, world: World) -> None:
    body = json.dumps({"type": "screening.submitted", "data": child_submitted("scr-forged")})
    r = await client.post(
        "/internal/events",
        content=body,
        headers={"webhook-id": new_id(), "webhook-timestamp": str(int(time.time())), "webhook-signature": "v1,AAAA"},
    )
    assert r.status_code == 401
    assert await inbox(client, world, "org-a", "sent") == []


async def test_consent_is_taken_from_the_screening_record(client: httpx.AsyncClient, world: World) -> None:
    sender = world.headers("police", "org-a")
    r = await client.post(
        "/api/v1/referrals", json=referral_body(world.medical, screening_id="does-not-exist"), headers=sender
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"].endswith("screening_id")
    # Another organisation's screening is answered exactly like a missing one.
    await deliver(
        client, "screening.consent_recorded", {"screening_id": "scr-of-b", "org": "org-b", "consent_referral": "given"}
    )
    r2 = await client.post(
        "/api/v1/referrals", json=referral_body(world.medical, screening_id="scr-of-b"), headers=sender
    )
    assert r2.status_code == 422 and r2.json()["detail"] == r.json()["detail"]
    assert r2.json()["errors"] == r.json()["errors"]
    await deliver(
        client, "screening.consent_recorded", {"screening_id": "scr-no", "org": "org-a", "consent_referral": "declined"}
    )
    r = await client.post("/api/v1/referrals", json=referral_body(world.medical, screening_id="scr-no"), headers=sender)
    assert r.status_code == 422 and r.json()["errors"][0]["field"].endswith("consent")
    await deliver(
        client, "screening.consent_recorded", {"screening_id": "scr-yes", "org": "org-a", "consent_referral": "given"}
    )
    r = await client.post(
        "/api/v1/referrals", json=referral_body(world.medical, screening_id="scr-yes"), headers=sender
    )
    assert r.status_code == 201, r.text


async def test_a_referral_waits_unseen_while_consent_is_pending_then_goes_out(
    client: httpx.AsyncClient, world: World, referral_app: FastAPI
) -> None:
    sender, provider = world.headers("police", "org-a"), world.headers("service_provider", "org-p")
    pending = {"screening_id": "scr-later", "org": "org-a", "consent_referral": "pending"}
    await deliver(client, "screening.consent_recorded", pending)
    r = await client.post(
        "/api/v1/referrals", json=referral_body(world.medical, screening_id="scr-later"), headers=sender
    )
    assert r.status_code == 201 and r.json()["status"] == "requested"
    referral_id = r.json()["id"]
    assert (await client.get(f"/api/v1/referrals/{referral_id}", headers=provider)).status_code == 404
    assert (await client.get("/api/v1/referrals?box=received", headers=provider)).json()["total"] == 0
    assert await outbox(referral_app, "referral.requested") == []
    accept = {"status": "accepted"}
    assert (
        await client.post(f"/api/v1/referrals/{referral_id}/transitions", json=accept, headers=provider)
    ).status_code == 404
    await deliver(client, "screening.consent_recorded", {**pending, "consent_referral": "given"})
    assert (await client.get(f"/api/v1/referrals/{referral_id}", headers=provider)).status_code == 200
    (event,) = await outbox(referral_app, "referral.requested")
    assert "org-p" in event["_orgs"]


async def test_pending_consent_then_declined_cancels_the_held_referral_unseen(
    client: httpx.AsyncClient, world: World, referral_app: FastAPI
) -> None:
    sender = world.headers("police", "org-a")
    pending = {"screening_id": "scr-maybe", "org": "org-a", "consent_referral": "pending"}
    await deliver(client, "screening.consent_recorded", pending)
    r = await client.post(
        "/api/v1/referrals", json=referral_body(world.medical, screening_id="scr-maybe"), headers=sender
    )
    await deliver(client, "screening.consent_recorded", {**pending, "consent_referral": "declined"})
    got = (await client.get(f"/api/v1/referrals/{r.json()['id']}", headers=sender)).json()
    assert (got["status"], got["reason_code"]) == ("cancelled", "consent_declined")
    (event,) = await outbox(referral_app, "referral.cancelled")
    assert event["_orgs"] == ["org-a"]  # the provider never heard of it


async def test_withdrawn_consent_cancels_open_referrals_and_frees_the_place(
    client: httpx.AsyncClient, world: World, referral_app: FastAPI
) -> None:
    sender, provider = world.headers("police", "org-a"), world.headers("service_provider", "org-p")
    placed = (await client.post("/api/v1/referrals", json=referral_body(world.safe_house), headers=sender)).json()
    r = await client.post(
        f"/api/v1/referrals/{placed['id']}/transitions", json={"status": "accepted"}, headers=provider
    )
    assert r.status_code == 200 and r.json()["place_reserved"] is True
    waiting = (await client.post("/api/v1/referrals", json=referral_body(world.medical), headers=sender)).json()
    other = (
        await client.post("/api/v1/referrals", json=referral_body(world.medical, screening_id="scr-2"), headers=sender)
    ).json()
    withdrawn = {"screening_id": "scr-1", "org": "org-a", "occurred_at": datetime.now(UTC).isoformat()}
    msg = new_id()
    assert (await deliver(client, "screening.consent_withdrawn", withdrawn, msg)).json()["status"] == "processed"
    assert (await deliver(client, "screening.consent_withdrawn", withdrawn, msg)).json()["status"] == "duplicate"
    for referral in (placed, waiting):
        got = (await client.get(f"/api/v1/referrals/{referral['id']}", headers=sender)).json()
        assert (got["status"], got["reason_code"], got["place_reserved"]) == ("cancelled", "consent_withdrawn", False)
    assert (await client.get(f"/api/v1/referrals/{other['id']}", headers=sender)).json()["status"] == "requested"
    service = (await client.get(f"/api/v1/services/{world.safe_house}", headers=provider)).json()
    assert service["capacity"]["available"] == 3  # the place is free again
    cancelled = await outbox(referral_app, "referral.cancelled")
    assert len(cancelled) == 2 and all("org-p" in e["_orgs"] for e in cancelled)
    assert all(e["data"]["reason_code"] == "consent_withdrawn" for e in cancelled)
    # Withdrawal is final: a consent event from before it, arriving late, does not revive referrals.
    late = {"screening_id": "scr-1", "org": "org-a", "consent_referral": "given", "occurred_at": "2026-01-01T00:00:00Z"}
    await deliver(client, "screening.consent_recorded", late)
    r = await client.post("/api/v1/referrals", json=referral_body(world.medical), headers=sender)
    assert r.status_code == 422 and r.json()["errors"][0]["field"].endswith("consent")


async def test_the_registry_fact_counts_hours_from_the_screenings_submission(
    client: httpx.AsyncClient, world: World, referral_app: FastAPI
) -> None:
    from datetime import timedelta

    submitted_at = datetime.now(UTC) - timedelta(hours=5)
    adult = {
        **child_submitted("scr-timed", child=False, outcome="PRESUMED_VICTIM"),
        "consent_referral": "given",
        "submitted_at": submitted_at.isoformat(),
    }
    assert (await deliver(client, "screening.submitted", adult)).status_code == 200
    sender = world.headers("police", "org-a")
    r = await client.post(
        "/api/v1/referrals", json=referral_body(world.medical, screening_id="scr-timed"), headers=sender
    )
    assert r.status_code == 201, r.text
    created = datetime.fromisoformat(r.json()["created_at"].replace("Z", "+00:00"))
    expected = max(0.0, round((created - submitted_at).total_seconds() / 3600, 3))
    # A screening learnt without its submission (consent only): the fact says "no time", never 0.
    await deliver(
        client,
        "screening.consent_recorded",
        {"screening_id": "scr-untimed", "org": "org-a", "consent_referral": "given"},
    )
    untimed = await client.post(
        "/api/v1/referrals", json=referral_body(world.medical, screening_id="scr-untimed"), headers=sender
    )
    assert untimed.status_code == 201, untimed.text
    facts = {f["data"]["fact_id"]: f["data"] for f in await outbox(referral_app, "registry.referral_fact")}
    hours = sorted((f["hours_from_screening"] is None, f["hours_from_screening"]) for f in facts.values())
    assert hours == [(False, expected), (True, None)]


@pytest.mark.parametrize("order", ["submission first", "referral first"])
async def test_the_fact_gets_hours_from_the_screening_whatever_order_the_feed_and_the_referral_come_in(
    client: httpx.AsyncClient, world: World, referral_app: FastAPI, order: str
) -> None:
    submitted_at = datetime.now(UTC) - timedelta(hours=7)
    submitted = {
        **child_submitted("scr-order", child=False, outcome="PRESUMED_VICTIM"),
        "consent_referral": "given",
        "submitted_at": submitted_at.isoformat(),
    }
    sender, provider = world.headers("police", "org-a"), world.headers("service_provider", "org-p")
    if order == "submission first":
        assert (await deliver(client, "screening.submitted", submitted)).json()["status"] == "processed"
    else:  # the consent, recorded at the start, is all that has arrived when the officer refers
        consent = {"screening_id": "scr-order", "org": "org-a", "consent_referral": "given"}
        assert (await deliver(client, "screening.consent_recorded", consent)).json()["status"] == "processed"
    r = await client.post(
        "/api/v1/referrals", json=referral_body(world.medical, screening_id="scr-order"), headers=sender
    )
    assert r.status_code == 201, r.text
    referral = r.json()
    if order == "referral first":
        assert (await deliver(client, "screening.submitted", submitted)).json()["status"] == "processed"
    created = datetime.fromisoformat(referral["created_at"].replace("Z", "+00:00"))
    expected = round((created - submitted_at).total_seconds() / 3600, 3)

    async def facts() -> list[dict[str, Any]]:
        return sorted(
            (f["data"] for f in await outbox(referral_app, "registry.referral_fact")), key=lambda d: d["version"]
        )

    latest = (await facts())[-1]
    assert (latest["hours_from_screening"], latest["status"]) == (expected, "requested")
    assert len({f["fact_id"] for f in await facts()}) == 1  # one fact, replaced by a higher version
    # Idempotent: the submission delivered again (a new message id) emits nothing and changes nothing.
    before = await facts()
    assert (await deliver(client, "screening.submitted", submitted)).json()["status"] == "processed"
    assert await facts() == before
    # The history still moves on (the fact's version is also the history's sequence).
    moved = await client.post(
        f"/api/v1/referrals/{referral['id']}/transitions", json={"status": "accepted"}, headers=provider
    )
    assert moved.status_code == 200, moved.text
    accepted = (await facts())[-1]
    assert (accepted["status"], accepted["hours_from_screening"]) == ("accepted", expected)
    assert accepted["version"] > latest["version"]
