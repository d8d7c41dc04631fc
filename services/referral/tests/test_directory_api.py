"""Directory API: who may change what, capacity bounds, confidential addresses per role, events."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from services.referral.tests.conftest import World, outbox, referral_body

ROLES = ("police", "social_worker", "service_provider", "coordinator", "partner", "admin")


async def test_everyone_reads_directory_but_only_admin_creates_services(
    client: httpx.AsyncClient, world: World
) -> None:
    for role in ROLES:
        r = await client.get("/api/v1/services", headers=world.headers(role, "org-x"))
        assert r.status_code == 200
        assert r.json()["total"] == 3
    body = {"organisation_id": "org-p", "name": "x", "service_type": "medical"}
    r = await client.post("/api/v1/services", json=body, headers=world.headers("service_provider", "org-p"))
    assert r.status_code == 403


async def test_service_filters_and_pagination(client: httpx.AsyncClient, world: World) -> None:
    h = world.headers("police", "org-a")
    r = await client.get("/api/v1/services", params={"service_type": "safe_house"}, headers=h)
    assert [s["id"] for s in r.json()["items"]] == [world.safe_house]
    r = await client.get("/api/v1/services", params={"canton": 9}, headers=h)
    assert [s["id"] for s in r.json()["items"]] == [world.welfare]
    r = await client.get("/api/v1/services", params={"limit": 2, "offset": 2}, headers=h)
    assert r.json()["total"] == 3 and len(r.json()["items"]) == 1
    r = await client.get("/api/v1/services", params={"organisation_id": "org-a", "entity": "FBIH"}, headers=h)
    assert r.status_code == 200
    # Every bad filter is named, the filters being one dependency.
    bad = {"service_type": "spa", "status": "open", "entity": "XX", "canton": 11, "organisation_id": "A"}
    r = await client.get("/api/v1/services", params=bad, headers=h)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert {e["field"] for e in r.json()["errors"]} == {f"query.{name}" for name in bad}


@pytest.mark.parametrize(
    ("role", "org", "sees_address"),
    [
        ("admin", "org-admin", True),
        ("service_provider", "org-p", True),  # the owner
        ("service_provider", "org-other", False),
        ("police", "org-a", False),
        ("social_worker", "org-a", False),
        ("coordinator", "org-coord", False),
        ("partner", "org-a", False),
    ],
)
async def test_confidential_address_is_redacted_for_each_role(
    client: httpx.AsyncClient, world: World, role: str, org: str, sees_address: bool
) -> None:
    h = world.headers(role, org)
    for url in (f"/api/v1/locations/{world.safe_house_location}", f"/api/v1/services/{world.safe_house}"):
        r = await client.get(url, headers=h)
        assert r.status_code == 200
        loc = r.json() if "locations" not in r.json() else r.json()["locations"][0]
        if sees_address:
            assert loc["location_type"] == "physical"
            assert loc["address"]["address_1"] == "Secret street 7"
            assert loc["latitude"] is not None
        else:
            assert loc["location_type"] == "redacted"
            assert loc["address"] is None and loc["latitude"] is None and loc["longitude"] is None
            assert "Secret" not in r.text
            assert loc["municipality"] == "Zenica"  # the region stays visible


async def test_referrer_sees_address_only_while_its_referral_is_accepted(
    client: httpx.AsyncClient, world: World
) -> None:
    police = world.headers("police", "org-a")
    provider = world.headers("service_provider", "org-p")
    url = f"/api/v1/locations/{world.safe_house_location}"
    r = await client.post("/api/v1/referrals", json=referral_body(world.safe_house), headers=police)
    rid = r.json()["id"]
    assert (await client.get(url, headers=police)).json()["location_type"] == "redacted"
    await client.post(f"/api/v1/referrals/{rid}/transitions", json={"status": "accepted"}, headers=provider)
    assert (await client.get(url, headers=police)).json()["address"]["address_1"] == "Secret street 7"
    # Another organisation still does not see it.
    assert (await client.get(url, headers=world.headers("police", "org-b"))).json()["location_type"] == "redacted"
    await client.post(f"/api/v1/referrals/{rid}/transitions", json={"status": "cancelled"}, headers=police)
    assert (await client.get(url, headers=police)).json()["location_type"] == "redacted"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"available": -1, "maximum": 3}, "available"),
        ({"available": 4, "maximum": 3}, "available must not exceed maximum"),
        ({"available": 1, "maximum": -2}, "maximum"),
        ({"available": 1, "maximum": 3, "extra": 1}, "extra"),
    ],
)
async def test_capacity_out_of_bounds_is_422_and_unchanged(
    client: httpx.AsyncClient, world: World, body: dict[str, int], field: str
) -> None:
    h = world.headers("service_provider", "org-p")
    r = await client.put(f"/api/v1/services/{world.safe_house}/capacity", json=body, headers=h)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert field in r.text
    r = await client.get(f"/api/v1/services/{world.safe_house}", headers=h)
    assert r.json()["capacity"]["available"] == 3


async def test_provider_keeps_own_capacity_and_event_goes_out(
    client: httpx.AsyncClient, world: World, referral_app: FastAPI
) -> None:
    r = await client.put(
        f"/api/v1/services/{world.safe_house}/capacity",
        json={"available": 1, "maximum": 4},
        headers=world.headers("service_provider", "org-p"),
    )
    assert r.status_code == 200
    assert r.json()["available"] == 1 and r.json()["maximum"] == 4
    events = await outbox(referral_app, "capacity.changed")
    assert events[-1]["data"]["available"] == 1 and events[-1]["_orgs"] == ["org-p"]
    # Another provider's service is not found, exactly like a missing one.
    r = await client.put(
        f"/api/v1/services/{world.safe_house}/capacity",
        json={"available": 1, "maximum": 4},
        headers=world.headers("service_provider", "org-q"),
    )
    assert r.status_code == 404
    r = await client.patch(
        f"/api/v1/services/{world.safe_house}",
        json={"open_24_7": True},
        headers=world.headers("service_provider", "org-q"),
    )
    assert r.status_code == 404


async def test_provider_updates_its_service_and_location(client: httpx.AsyncClient, world: World) -> None:
    h = world.headers("service_provider", "org-p")
    r = await client.patch(
        f"/api/v1/services/{world.medical}", json={"open_24_7": True, "languages": ["ar"]}, headers=h
    )
    assert r.status_code == 200 and r.json()["open_24_7"] is True and r.json()["languages"] == ["ar"]
    r = await client.patch(f"/api/v1/locations/{world.safe_house_location}", json={"address_1": "New 1"}, headers=h)
    assert r.status_code == 200 and r.json()["address"]["address_1"] == "New 1"
    r = await client.patch(
        f"/api/v1/locations/{world.safe_house_location}",
        json={"address_1": "x"},
        headers=world.headers("service_provider", "org-q"),
    )
    assert r.status_code == 404


async def test_a_patch_setting_required_fields_to_null_names_each(client: httpx.AsyncClient, world: World) -> None:
    h = world.headers("service_provider", "org-p")
    body = {"name": None, "minimum_age": None, "open_24_7": None}
    r = await client.patch(f"/api/v1/services/{world.medical}", json=body, headers=h)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in r.json()["errors"]] == ["name", "open_24_7"]  # minimum_age may be null
    body = {"name": None, "confidential": None, "address_1": None}
    r = await client.patch(f"/api/v1/locations/{world.safe_house_location}", json=body, headers=h)
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["name", "confidential"]
    admin = world.headers("admin", "org-admin")
    r = await client.patch("/api/v1/organisations/org-p", json={"name": None, "description": None}, headers=admin)
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["name", "description"]
    r = await client.get(f"/api/v1/services/{world.medical}", headers=h)
    assert r.json()["name"]  # nothing was changed


async def test_bad_directory_input_is_named(client: httpx.AsyncClient, world: World) -> None:
    admin = world.headers("admin", "org-admin")
    r = await client.post(
        "/api/v1/locations",
        json={"organisation_id": "org-p", "name": "x", "entity": "RS", "canton": 3, "municipality": "Doboj"},
        headers=admin,
    )
    assert r.status_code == 422 and "cantons exist only" in r.text
    r = await client.post(
        "/api/v1/services",
        json={"organisation_id": "org-p", "name": "x", "service_type": "safe_house"},
        headers=admin,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "capacity"
    r = await client.post(
        "/api/v1/services",
        json={
            "organisation_id": "org-a",
            "name": "x",
            "service_type": "medical",
            "location_ids": [world.safe_house_location],
        },
        headers=admin,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "location_ids"
    r = await client.post("/api/v1/organisations", json={"id": "org-p", "name": "dup", "kind": "ngo"}, headers=admin)
    assert r.status_code == 409


async def test_matches_endpoint_ranks_and_redacts(client: httpx.AsyncClient, world: World) -> None:
    body = {"needs": ["safe_house", "medical"], "age": 25, "place": {"municipality": "Zenica"}, "urgent": True}
    r = await client.post("/api/v1/matches", json=body, headers=world.headers("police", "org-a"))
    assert r.status_code == 200, r.text
    matches = r.json()["matches"]
    assert [m["service_id"] for m in matches] == [world.safe_house, world.medical]
    assert matches[0]["location"]["location_type"] == "redacted"
    assert matches[0]["reasons"] and "parts" in matches[0]
    r = await client.post("/api/v1/matches", json=body, headers=world.headers("service_provider", "org-p"))
    assert r.status_code == 403


async def test_matches_follow_directory_and_capacity_changes_at_once(client: httpx.AsyncClient, world: World) -> None:
    police = world.headers("police", "org-a")
    provider = world.headers("service_provider", "org-p")
    body = {"needs": ["safe_house", "medical"], "age": 25, "place": {"municipality": "Zenica"}}

    async def matched() -> list[str]:
        r = await client.post("/api/v1/matches", json=body, headers=police)
        return [m["service_id"] for m in r.json()["matches"]]

    assert await matched() == [world.safe_house, world.medical]  # also fills the candidate cache
    await client.put(
        f"/api/v1/services/{world.safe_house}/capacity", json={"available": 0, "maximum": 3}, headers=provider
    )
    assert await matched() == [world.medical]  # a full shelter drops out immediately
    await client.patch(f"/api/v1/services/{world.medical}", json={"status": "temporarily closed"}, headers=provider)
    assert await matched() == []
    await client.put(
        f"/api/v1/services/{world.safe_house}/capacity", json={"available": 1, "maximum": 3}, headers=provider
    )
    await client.patch(f"/api/v1/services/{world.safe_house}", json={"minimum_age": 30}, headers=provider)
    assert await matched() == []  # eligibility edits are seen without a restart


async def test_nul_characters_are_bad_input_not_a_database_error(client: httpx.AsyncClient, world: World) -> None:
    r = await client.post(
        "/api/v1/organisations", json={"name": "a\x00b", "kind": "ngo"}, headers=world.headers("admin", "org-admin")
    )
    assert r.status_code == 422


async def test_unknown_query_parameters_are_422_naming_each_on_every_list(
    client: httpx.AsyncClient, world: World
) -> None:
    """A misspelt filter must not silently answer the whole list."""
    police = world.headers("police", "org-a")
    partner = world.headers("partner", "org-partner")
    for path, headers in (
        ("/api/v1/services?created_from=2026-01-01&entity=FBIH", police),
        ("/api/v1/organisations?created_from=2026-01-01", police),
        ("/api/v1/locations?created_from=2026-01-01", police),
        ("/api/v1/referrals?created_from=2026-01-01T00:00:00Z&since=2026-01-01", police),
        ("/api/v1/webhooks/endpoints?created_from=2026-01-01", partner),
    ):
        r = await client.get(path, headers=headers)
        assert r.status_code == 422, (path, r.text)
        unknown = "query.since" if "referrals" in path else "query.created_from"
        assert [e["field"] for e in r.json()["errors"]] == [unknown], path
    assert (await client.get("/api/v1/services?entity=FBIH&limit=5", headers=police)).status_code == 200
    r = await client.get("/api/v1/referrals?created_from=2026-01-01T00:00:00Z&box=sent", headers=police)
    assert r.status_code == 200, r.text


async def test_method_not_allowed_says_which_methods_are(client: httpx.AsyncClient, world: World) -> None:
    r = await client.delete("/api/v1/services", headers=world.headers("admin", "org-admin"))
    assert r.status_code == 405
    assert set(r.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
