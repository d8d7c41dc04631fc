"""Handover details: the provider sees contact, arrival, interpreter and note only once it has accepted."""

from __future__ import annotations

import pytest

from services.referral.tests.conftest import referral_body

HANDOVER = {
    "contact_name": "Officer Amra H.",
    "contact_phone": "+387 61 234 567",
    "expected_arrival": "2026-12-02T10:30:00+01:00",
    "interpreter_language": "fa-AF",
    "needs": ["mobility_wheelchair", "childcare_accompanying_children"],
    "note": "Arrives with two small children; ground-floor room please.",
}


async def _refer(client, world, **extra):
    police = world.headers("police", "org-a")
    r = await client.post("/api/v1/referrals", json=referral_body(world.safe_house, **extra), headers=police)
    assert r.status_code == 201, r.text
    return r.json()


async def test_provider_sees_only_care_needs_before_accepting_then_the_whole_handover(client, world):
    created = await _refer(client, world, handover=HANDOVER)
    assert created["handover"]["contact_phone"] == "+387 61 234 567"  # the sender sees what it wrote
    provider = world.headers("service_provider", "org-p")

    before = (await client.get(f"/api/v1/referrals/{created['id']}", headers=provider)).json()
    assert before["handover"] is None
    assert before["profile"]["care_needs"] == ["mobility_wheelchair", "childcare_accompanying_children"]
    listed = (await client.get("/api/v1/referrals?box=received", headers=provider)).json()["items"]
    assert all(item["handover"] is None for item in listed)
    for secret in ("Officer Amra", "234 567", "ground-floor", "fa-AF", "10:30"):
        assert secret not in str(before) and secret not in str(listed)

    r = await client.post(
        f"/api/v1/referrals/{created['id']}/transitions", json={"status": "accepted"}, headers=provider
    )
    assert r.status_code == 200, r.text
    accepted = r.json()["handover"]
    assert accepted["contact_name"] == "Officer Amra H." and accepted["interpreter_language"] == "fa-AF"
    assert accepted["note"].startswith("Arrives with two small children")
    assert accepted["expected_arrival"].startswith("2026-12-02T09:30:00")

    await client.post(
        f"/api/v1/referrals/{created['id']}/transitions", json={"status": "in_progress"}, headers=provider
    )
    r = await client.post(
        f"/api/v1/referrals/{created['id']}/transitions", json={"status": "completed"}, headers=provider
    )
    assert r.json()["handover"] is None  # the stay is over: the contact and note are no longer the provider's


async def test_rejected_referral_never_shows_the_handover_to_the_provider(client, world):
    created = await _refer(client, world, handover=HANDOVER)
    provider = world.headers("service_provider", "org-p")
    r = await client.post(
        f"/api/v1/referrals/{created['id']}/transitions",
        json={"status": "rejected", "reason_code": "no_capacity"},
        headers=provider,
    )
    assert r.json()["handover"] is None and "Officer" not in r.text


async def test_unrelated_organisation_sees_nothing_of_the_handover(client, world):
    created = await _refer(client, world, handover=HANDOVER)
    r = await client.get(f"/api/v1/referrals/{created['id']}", headers=world.headers("police", "org-b"))
    assert r.status_code == 404 and "Officer" not in r.text


@pytest.mark.parametrize(
    ("handover", "field"),
    [
        ({"note": "x" * 501}, "body.handover.note"),
        ({"note": "Her passport number is AB 1234567"}, "body.handover.note"),
        ({"note": "born 03.04.1999"}, "body.handover.note"),
        ({"note": "write to her at jane@example.org"}, "body.handover.note"),
        ({"needs": ["wheelchair please"]}, "body.handover.needs.0"),
        ({"contact_phone": "call me"}, "body.handover.contact_phone"),
        ({"expected_arrival": "2026-12-02T10:30:00"}, "body.handover.expected_arrival"),
        ({"interpreter_language": "Dari"}, "body.handover.interpreter_language"),
        ({"name": "Jane Doe"}, "body.handover.name"),
    ],
)
async def test_bad_handover_is_422_naming_the_field_and_creates_nothing(client, world, handover, field):
    police = world.headers("police", "org-a")
    r = await client.post("/api/v1/referrals", json=referral_body(world.safe_house, handover=handover), headers=police)
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]
    assert "1234567" not in r.text and "jane@" not in r.text  # the bad value is never echoed back
    assert (await client.get("/api/v1/referrals?box=sent", headers=police)).json()["total"] == 0


async def test_handover_is_optional_and_blank_fields_are_not_kept(client, world):
    created = await _refer(client, world, handover={"needs": [], "note": ""})
    assert created["handover"] is None and created["profile"]["care_needs"] == []
    plain = await _refer(client, world, screening_id="scr-2")
    assert plain["handover"] is None


async def test_openapi_says_the_note_must_never_hold_identity(referral_app):
    schemas = referral_app.openapi()["components"]["schemas"]
    note = schemas["HandoverIn"]["properties"]["note"]
    assert "Never the person's identity" in note["description"] and "500" in note["description"]
