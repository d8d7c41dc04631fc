"""Handover through the gateway: a safe house sees the referrer's contact, arrival and note only once it accepts.

Before it answers, it sees what it needs to decide (the minimal profile and the care-need codes); partners
never receive any of it in events.
"""

from __future__ import annotations

import uuid

import httpx

from tests.journeys import (
    CONSENT_VERSION,
    PRESUMED_ADULT_ANSWERS,
    bearer,
    ok,
    partner_receiver,
    refer,
    screen,
    subscribe,
    unique_person,
    wait_for,
)

SAFE_HOUSE = "demo-svc-safe-house-zenica"
HANDOVER = {
    "contact_name": "Social worker Lejla K.",
    "contact_phone": "+387 33 111 222",
    "expected_arrival": "2026-12-03T09:00:00Z",
    "interpreter_language": "fa-AF",
    "needs": ["medical_regular_medication", "childcare_infant"],
    "note": "Arrives with an infant; needs a cot and a quiet room.",
}
WRITTEN = ("Lejla", "111 222", "cot and a quiet room", "fa-AF", "2026-12-03T09:00")


def test_safe_house_sees_the_handover_only_after_accepting_and_partners_never(stack, make_token):
    social_worker = make_token("social_worker", org="demo-csw-sarajevo")
    provider = make_token("service_provider", org="demo-safe-house-zenica")
    partner = make_token("partner", org="demo-safe-house-zenica")
    with httpx.Client(base_url=stack.url, timeout=30) as client, partner_receiver() as receiver:
        endpoint = subscribe(client, partner, receiver.url)
        screening = screen(client, social_worker, unique_person(), PRESUMED_ADULT_ANSWERS)
        body = {
            "screening_id": screening["id"],
            "service_id": SAFE_HOUSE,
            "profile": {"age": 29, "sex": "F", "languages": ["fa"], "place": {"municipality": "Sarajevo"}},
            "consent": {"recorded": True, "text_version": CONSENT_VERSION},
            "handover": HANDOVER,
        }
        referral = ok(refer(client, social_worker, body), 201)
        assert referral["handover"]["contact_name"] == HANDOVER["contact_name"]

        url = f"/api/v1/referrals/{referral['id']}"
        before = ok(client.get(url, headers=bearer(provider)))
        inbox = ok(client.get("/api/v1/referrals?box=received&limit=100", headers=bearer(provider)))
        assert before["handover"] is None
        assert before["profile"]["care_needs"] == HANDOVER["needs"]
        for text in WRITTEN:
            assert text not in str(before) and text not in str(inbox)

        accepted = ok(client.post(f"{url}/transitions", headers=bearer(provider), json={"status": "accepted"}))
        assert accepted["handover"]["note"] == HANDOVER["note"]
        assert ok(client.get(url, headers=bearer(provider)))["handover"]["contact_phone"] == "+387 33 111 222"
        ok(client.post(f"{url}/transitions", headers=bearer(social_worker), json={"status": "cancelled"}))
        assert ok(client.get(url, headers=bearer(provider)))["handover"] is None

        def delivered() -> list[dict]:
            events = [e for e in receiver.events(endpoint["secret"]) if e["data"].get("referral_id") == referral["id"]]
            return events if len(events) >= 3 else []

        for event in wait_for(delivered):
            for text in (*WRITTEN, "childcare_infant"):
                assert text not in str(event)


def test_a_note_that_looks_like_identity_is_refused_through_the_gateway(stack, make_token):
    social_worker = make_token("social_worker", org="demo-csw-sarajevo")
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        screening = screen(client, social_worker, unique_person(), PRESUMED_ADULT_ANSWERS)
        body = {
            "screening_id": screening["id"],
            "service_id": SAFE_HOUSE,
            "profile": {"age": 29, "sex": "F"},
            "consent": {"recorded": True, "text_version": CONSENT_VERSION},
            "handover": {"note": "Passport P1234567, born 17.03.1994"},
        }
        refused = refer(client, social_worker, body)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["body.handover.note"]
    assert "P1234567" not in refused.text


def test_the_referrer_sees_the_safe_house_address_only_while_its_referral_is_accepted(stack, make_token):
    """The officer must bring the person: the address and contact come with the accepted referral, to the
    referring organisation's officers only (audited), never before, never after, never to anyone else."""
    officer_sub = f"officer-{uuid.uuid4().hex[:8]}"
    police = make_token("police", org="demo-police-una-sana", sub=officer_sub)
    other_police = make_token("police", org="demo-police-elsewhere")
    partner = make_token("partner", org="demo-police-una-sana")  # the referrer's own partner system
    provider = make_token("service_provider", org="demo-safe-house-zenica")
    admin = make_token("admin", org="demo-admin")
    with httpx.Client(base_url=stack.url, timeout=30) as client:

        def answers(token: str, url: str, box: str) -> list[dict]:
            listed = ok(client.get(f"/api/v1/referrals?box={box}&limit=100", headers=bearer(token)))["items"]
            return [ok(client.get(url, headers=bearer(token))), *[r for r in listed if r["id"] == url.split("/")[-1]]]

        def reveals() -> list[dict]:
            params = {"action": "reveal_address", "actor": officer_sub, "limit": 500}
            return ok(client.get("/api/v1/audit/referral", params=params, headers=bearer(admin)))["items"]

        screening = screen(client, police, unique_person(), PRESUMED_ADULT_ANSWERS)
        body = {
            "screening_id": screening["id"],
            "service_id": SAFE_HOUSE,
            "profile": {"age": 29, "sex": "F", "place": {"municipality": "Bihać"}},
            "consent": {"recorded": True, "text_version": CONSENT_VERSION},
        }
        created = ok(refer(client, police, body), 201)
        url = f"/api/v1/referrals/{created['id']}"
        before = [created, *answers(police, url, "sent"), *answers(provider, url, "received")]
        assert all(r["destination"] is None for r in before)
        assert "Confidential address" not in str(before)

        accepted = ok(client.post(f"{url}/transitions", headers=bearer(provider), json={"status": "accepted"}))
        assert accepted["destination"] is None  # the provider knows its own door
        seen = answers(police, url, "sent")
        for referral in seen:
            destination = referral["destination"]
            assert (destination["organisation_name"], destination["service_name"]) == (
                "[DEMO] Safe House Zenica",
                "Safe house for women",
            )
            (location,) = destination["locations"]
            assert location["address"]["address_1"] == "[DEMO] Confidential address 1"
            assert location["municipality"] == "Zenica" and location["latitude"] is not None
        # The single read and the list each showed it: both on the audit log, naming the officer.
        audited = reveals()
        assert len(audited) == 2 and {(e["object_id"], e["actor_org"]) for e in audited} == {
            ("demo-loc-safe-house-zenica", "demo-police-una-sana")
        }
        # Another police organisation cannot read it at all; the referrer's partner system sees no address.
        assert client.get(url, headers=bearer(other_police)).status_code == 404
        listed = ok(client.get("/api/v1/referrals?box=all&limit=100", headers=bearer(other_police)))["items"]
        assert created["id"] not in {r["id"] for r in listed}
        assert ok(client.get(url, headers=bearer(partner)))["destination"] is None

        # While the person is there (in progress) the referrer still has it...
        ok(client.post(f"{url}/transitions", headers=bearer(provider), json={"status": "in_progress"}))
        assert ok(client.get(url, headers=bearer(police)))["destination"]["locations"][0]["address"] is not None
        assert len(reveals()) == 3
        # ...and once the referral ends (here cancelled by the referrer), the address is gone again.
        cancelled = ok(client.post(f"{url}/transitions", headers=bearer(police), json={"status": "cancelled"}))
        assert [r["destination"] for r in (cancelled, *answers(police, url, "sent"))] == [None, None, None]
        # A declined referral never shows it.
        declined = ok(refer(client, police, body), 201)
        url = f"/api/v1/referrals/{declined['id']}"
        move = {"status": "rejected", "reason_code": "no_capacity"}
        ok(client.post(f"{url}/transitions", headers=bearer(provider), json=move))
        assert [r["destination"] for r in answers(police, url, "sent")] == [None, None]
        assert len(reveals()) == 3
