"""Several capacities per service through the gateway: a family shelter counts children's beds apart."""

from __future__ import annotations

import httpx

from tests.journeys import bearer, ok

FAMILY_SHELTER = "demo-svc-family-shelter-ilidza"
CASE = {"needs": ["shelter_families"], "place": {"municipality": "Ilidža"}, "limit": 50}


def test_family_shelter_has_beds_for_everyone_and_for_children_and_matching_counts_the_person_s_group(
    stack, make_token
):
    provider = make_token("service_provider", org="demo-family-shelter-sarajevo")
    police = make_token("police", org="demo-police-una-sana")
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        service = ok(client.get(f"/api/v1/services/{FAMILY_SHELTER}", headers=bearer(police)))
        groups = {c["population"]: c for c in service["capacities"]}
        assert set(groups) == {"everyone", "children"} and groups["children"]["unit"] == "bed"

        # The adults' and everyone's beds run out; the children's do not.
        everyone = groups["everyone"]
        body = {"unit": "bed", "population": "everyone", "available": 0, "maximum": everyone["maximum"]}
        url = f"/api/v1/services/{FAMILY_SHELTER}/capacities/{everyone['id']}"
        ok(client.put(url, headers=bearer(provider), json=body))
        try:
            adult = ok(client.post("/api/v1/matches", headers=bearer(police), json={**CASE, "age": 35, "sex": "F"}))
            child = ok(client.post("/api/v1/matches", headers=bearer(police), json={**CASE, "age": 9, "sex": "M"}))
            assert FAMILY_SHELTER not in [m["service_id"] for m in adult["matches"]]
            (match,) = [m for m in child["matches"] if m["service_id"] == FAMILY_SHELTER]
            assert match["available"] == groups["children"]["available"]
        finally:
            ok(client.put(url, headers=bearer(provider), json={**body, "available": everyone["available"]}))

        added = client.post(
            f"/api/v1/services/{FAMILY_SHELTER}/capacities",
            headers=bearer(provider),
            json={"unit": "session", "population": "women", "available": 2, "maximum": 5},
        )
        assert added.status_code == 201, added.text
        refused = client.post(
            f"/api/v1/services/{FAMILY_SHELTER}/capacities",
            headers=bearer(make_token("service_provider", org="demo-safe-house-zenica")),
            json={"unit": "session", "population": "men", "available": 2, "maximum": 5},
        )
        assert refused.status_code == 404
