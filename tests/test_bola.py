"""Broken object-level authorisation walk: org A creates, org B tries every {id} route → 404, like a missing id."""

from __future__ import annotations

import re

import httpx

from gateway.policy import POLICY
from tests.journeys import CONSENT_VERSION, PRESUMED_ADULT_ANSWERS, bearer, ok, refer, screen, unique_person

SAFE_HOUSE = "demo-svc-safe-house-zenica"
SAFE_HOUSE_LOCATION = "demo-loc-safe-house-zenica"
ORG_A = "demo-csw-sarajevo"
ORG_B = "org-intruder"

# Routes whose {id} objects are not owned by an organisation: shared reference data or admin-only.
SHARED = {
    "/api/v1/questionnaires/{code}",
    "/api/v1/questionnaires/{code}/versions/{version}",
    "/api/v1/organisations/{organisation_id}",
    "/api/v1/locations/{location_id}",
    "/api/v1/services/{service_id}",
    "/api/v1/stats/{table}",
    "/api/v1/stats/{table}/series",
    "/api/v1/reports/{report}",
    "/api/v1/releases/{year}",
    "/api/v1/releases/{year}/versions/{version}",
    "/api/v1/imports/{import_id}",
    "/api/v1/training/vignettes/{vignette_id}",
}
# Roles of national reach (the State Coordinator's office oversees every measure of the plan; admins);
# a route only they may call has no other organisation to walk in from.
NATIONAL = frozenset({"coordinator", "admin"})
# Except an admin's data-protection routes: they are scoped to the admin's own organisation.
ADMIN_OF_THE_ORG = {
    "/api/v1/screenings/{screening_id}/erasure",
    "/api/v1/screenings/{screening_id}/subject-access",
    "/api/v1/screenings/{screening_id}/legal-hold",
    "/api/v1/subject-access/referrals/{screening_id}",
}

BODIES = {
    ("PATCH", "/api/v1/screenings/{screening_id}/answers"): {"answers": {"dr_wages": "no"}},
    ("PUT", "/api/v1/screenings/{screening_id}/consent"): {"text_version": "2026-1", "referral": "declined"},
    ("POST", "/api/v1/screenings/{screening_id}/decisions"): {
        "outcome": "IDENTIFIED_VICTIM",
        "authority": "Prosecutor's Office",
        "decided_on": "2026-01-05",
    },
    ("POST", "/api/v1/referrals/{referral_id}/transitions"): {"status": "cancelled"},
    ("PATCH", "/api/v1/webhooks/endpoints/{endpoint_id}"): {"description": "taken over"},
    ("POST", "/api/v1/webhooks/endpoints/{endpoint_id}/replay-failed"): {"since": "2026-01-01T00:00:00Z"},
    ("PATCH", "/api/v1/locations/{location_id}"): {"name": "taken over"},
    ("PATCH", "/api/v1/services/{service_id}"): {"name": "taken over"},
    ("PUT", "/api/v1/services/{service_id}/capacity"): {"available": 0, "maximum": 8},
    ("POST", "/api/v1/services/{service_id}/capacities"): {"available": 0, "maximum": 8, "population": "men"},
    ("PUT", "/api/v1/services/{service_id}/capacities/{capacity_id}"): {"available": 0, "maximum": 8},
    ("PATCH", "/api/v1/measures/{measure_id}/activities/{activity_id}"): {"status": "done"},
    ("POST", "/api/v1/training/practices/{practice_id}/ask"): {"question": "cd_documents"},
    ("PATCH", "/api/v1/training/practices/{practice_id}/answers"): {"answers": {"dr_wages": "no"}},
    ("POST", "/api/v1/indicators/{indicator_id}/reports"): {
        "period": "2026-H1",
        "value": 1,
        "evidence_url": "https://example.org/taken-over",
    },
    ("POST", "/api/v1/screenings/{screening_id}/erasure"): {"reason": "subject_request"},
    ("PUT", "/api/v1/screenings/{screening_id}/legal-hold"): {"reason": "court_order"},
}


def _role_for(rule_roles: frozenset[str]) -> str:
    # An admin's data-protection routes (erasure, legal hold, subject access) are scoped to the admin's org too.
    for role in ("social_worker", "police", "service_provider", "partner", "reporter", "admin"):
        if role in rule_roles:
            return role
    raise AssertionError(f"no organisation-scoped role among {rule_roles}")


def _strategy_ids(client: httpx.Client, make_token) -> dict[str, str]:
    """Objects of the demo plan assigned to ORG_A (the Sarajevo CSW is responsible for measure 4.1)."""
    coordinator = bearer(make_token("coordinator", org="demo-state-coordinator"))
    # The demo plan by its code: other tests on the shared stack may have loaded plans of their own.
    plans = ok(client.get("/api/v1/plans", headers=coordinator))["items"]
    plan_id = next(p["id"] for p in plans if p["code"] == "DEMO-AP-2024-2027")
    plan = ok(client.get(f"/api/v1/plans/{plan_id}", headers=coordinator))
    measure = next(m for g in plan["goals"] for m in g["measures"] if m["code"] == "4.1")
    assert ORG_A in measure["organisations"]
    indicator = measure["indicators"][0]
    report = ok(client.get(f"/api/v1/indicators/{indicator['id']}", headers=coordinator))["reports"][0]
    return {
        "plan_id": plan_id,
        "measure_id": measure["id"],
        "activity_id": measure["activities"][0]["id"],
        "indicator_id": indicator["id"],
        "report_id": report["id"],
    }


def test_another_organisation_gets_404_on_every_object_route(stack, make_token):
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        social_worker = make_token("social_worker", org=ORG_A)
        screening = screen(client, social_worker, unique_person(), PRESUMED_ADULT_ANSWERS)
        referral = ok(
            refer(
                client,
                social_worker,
                {
                    "screening_id": screening["id"],
                    "service_id": SAFE_HOUSE,
                    "profile": {"age": 30, "sex": "F", "languages": ["en"]},
                    "consent": {"recorded": True, "text_version": CONSENT_VERSION},
                },
            ),
            201,
        )
        endpoint = ok(
            client.post(
                "/api/v1/webhooks/endpoints",
                headers=bearer(make_token("partner", org=ORG_A)),
                json={"url": "https://partner.example.org/hooks", "event_types": ["referral.*"]},
            ),
            201,
        )
        partner_a = make_token("partner", org=ORG_A)
        delivery = ok(client.post(f"/api/v1/webhooks/endpoints/{endpoint['id']}/test", headers=bearer(partner_a)), 202)
        practice = ok(
            client.post(
                "/api/v1/training/practices", headers=bearer(social_worker), json={"vignette": "construction-labour"}
            ),
            201,
        )
        ids = {
            "screening_id": screening["id"],
            "practice_id": practice["id"],
            "referral_id": referral["id"],
            "endpoint_id": endpoint["id"],
            "delivery_id": delivery["id"],
            "service_id": SAFE_HOUSE,
            "location_id": SAFE_HOUSE_LOCATION,
            "capacity_id": f"demo-cap-{SAFE_HOUSE.removeprefix('demo-svc-')}",
            **_strategy_ids(client, make_token),
        }

        walked, leaks = 0, []
        for rule in POLICY:
            if "{" not in rule.path or rule.path in SHARED:
                continue
            if rule.roles <= NATIONAL and rule.path not in ADMIN_OF_THE_ORG:
                continue
            path = re.sub(r"\{([a-z_]+)\}", lambda m: ids[m.group(1)], rule.path)
            role = _role_for(rule.roles)
            response = client.request(
                rule.method,
                path,
                headers=bearer(make_token(role, org=ORG_B)),
                json=BODIES.get((rule.method, rule.path)),
            )
            walked += 1
            if response.status_code != 404:
                leaks.append((rule.method, rule.path, role, response.status_code, response.text[:200]))
            else:
                assert response.headers["content-type"] == "application/problem+json"

        # The owner still sees its objects: the 404s above are about the organisation, not the ids.
        assert ok(client.get(f"/api/v1/screenings/{screening['id']}", headers=bearer(social_worker)))["id"]
        assert ok(client.get(f"/api/v1/referrals/{referral['id']}", headers=bearer(social_worker)))["id"]
    assert walked >= 24
    assert leaks == []
