"""Consent withdrawn in the screening service cancels the person's open referrals in the referral service.

Through the real processes: the withdrawal travels as `screening.consent_withdrawn` on the internal feed,
referral cancels every open referral of the screening (reason `consent_withdrawn`), frees the reserved
place, and the provider's partner system hears `referral.cancelled` without identity. The referral side of
a subject access request then shows the whole story.
"""

from __future__ import annotations

import httpx

from tests.journeys import (
    CONSENT_VERSION,
    PRESUMED_ADULT_ANSWERS,
    bearer,
    ok,
    partner_receiver,
    refer,
    safe_houses,
    screen,
    subscribe,
    unique_person,
    wait_for,
)

SENDER_ORG = "demo-csw-sarajevo"


def test_withdrawn_consent_cancels_open_referrals_frees_the_place_and_tells_the_partner(stack, make_token):
    social_worker = make_token("social_worker", org=SENDER_ORG)
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        person = unique_person()
        screening = screen(client, social_worker, person, PRESUMED_ADULT_ANSWERS)
        top = safe_houses(client, social_worker, age=29, sex="F", languages=["en"])[0]
        provider_org = top["organisation_id"]
        provider = make_token("service_provider", org=provider_org)
        with partner_receiver() as receiver:
            endpoint = subscribe(client, make_token("partner", org=provider_org), receiver.url)
            body = {
                "screening_id": screening["id"],
                "service_id": top["service_id"],
                "profile": {"age": 29, "sex": "F", "languages": ["en"], "forms": ["forced_labour"]},
                "consent": {"recorded": True, "text_version": CONSENT_VERSION},
            }
            referral = ok(refer(client, social_worker, body), 201)
            accepted = ok(
                client.post(
                    f"/api/v1/referrals/{referral['id']}/transitions",
                    headers=bearer(provider),
                    json={"status": "accepted"},
                )
            )
            assert accepted["place_reserved"] is True

            withdrawn = ok(
                client.post(f"/api/v1/screenings/{screening['id']}/consent/withdraw", headers=bearer(social_worker))
            )
            assert withdrawn["consent_withdrawn_at"] and withdrawn["erased_at"]

            def cancelled() -> dict | None:
                got = ok(client.get(f"/api/v1/referrals/{referral['id']}", headers=bearer(social_worker)))
                return got if got["status"] == "cancelled" else None

            got = wait_for(cancelled)
            assert (got["reason_code"], got["place_reserved"]) == ("consent_withdrawn", False)
            seen_by_provider = ok(client.get(f"/api/v1/referrals/{referral['id']}", headers=bearer(provider)))
            assert (seen_by_provider["status"], seen_by_provider["reason_code"]) == ("cancelled", "consent_withdrawn")

            def partner_heard() -> list[dict]:
                return [
                    e
                    for e in receiver.events(endpoint["secret"])
                    if e["type"] == "referral.cancelled" and e["data"].get("referral_id") == referral["id"]
                ]

            (event,) = wait_for(partner_heard)
            assert event["data"]["reason_code"] == "consent_withdrawn"
            raw = b"".join(r.body for r in receiver.received).decode()
            for value in (
                person["given_name"],
                person["family_name"],
                person["documents"][0]["number"],
                screening["id"],
            ):
                assert value not in raw

        # Withdrawal is final: no new referral for this person.
        again = refer(client, social_worker, body)
        assert again.status_code == 422 and again.json()["errors"][0]["field"].endswith("consent")

        # The referral side of a subject access request: the referral, its whole history, who saw it.
        admin = make_token("admin", org=SENDER_ORG)
        export = ok(client.get(f"/api/v1/subject-access/referrals/{screening['id']}", headers=bearer(admin)))
        assert export["service"] == "referral" and export["consent"]["consent_referral"] == "withdrawn"
        (entry,) = export["referrals"]
        assert (
            entry["referral"]["id"] == referral["id"] and entry["referral"]["sender"]["screening_id"] == screening["id"]
        )
        assert [(h["to_status"], h["actor_org"], h["reason_code"]) for h in entry["history"]] == [
            ("requested", SENDER_ORG, None),
            ("accepted", provider_org, None),
            ("cancelled", "system", "consent_withdrawn"),
        ]
        assert {(a["actor_org"], a["action"]) for a in export["accesses"]} >= {
            (SENDER_ORG, "create"),
            (SENDER_ORG, "read"),
            (provider_org, "read"),
        }
        assert person["given_name"] not in str(export)
        # Another organisation's admin learns nothing, not even that the screening exists.
        stranger = make_token("admin", org="demo-police-una-sana")
        refused = client.get(f"/api/v1/subject-access/referrals/{screening['id']}", headers=bearer(stranger))
        assert refused.status_code == 404 and refused.headers["content-type"] == "application/problem+json"
        log = ok(
            client.get(
                "/api/v1/audit/referral",
                params={"object_id": screening["id"], "action": "subject_access_export"},
                headers=bearer(admin),
            )
        )
        assert sorted((e["actor_org"], e["outcome"]) for e in log["items"]) == [
            (SENDER_ORG, "ok"),
            ("demo-police-una-sana", "refused"),
        ]
