"""A directory location's municipality is one of the gazetteer's: stored under its name, unknown ones refused."""

from __future__ import annotations

import httpx

from services.referral.tests.conftest import World


async def test_a_location_takes_the_gazetteer_name_and_canton(client: httpx.AsyncClient, world: World) -> None:
    admin = world.headers("admin", "org-admin")
    body = {"organisation_id": "org-p", "name": "Drop-in", "entity": "FBIH", "municipality": "Сарајево - Центар"}
    r = await client.post("/api/v1/locations", json=body, headers=admin)
    assert r.status_code == 201, r.text
    created = r.json()
    assert (created["municipality"], created["canton"]) == ("Centar Sarajevo", 9)
    assert created["latitude"] is not None  # the municipality's centroid when no coordinates are given


async def test_an_unknown_or_contradicted_municipality_is_422_with_suggestions(
    client: httpx.AsyncClient, world: World
) -> None:
    admin = world.headers("admin", "org-admin")
    body = {"organisation_id": "org-p", "name": "x", "entity": "RS", "municipality": "Kotor Varosh"}
    r = await client.post("/api/v1/locations", json=body, headers=admin)
    assert r.status_code == 422
    (error,) = r.json()["errors"]
    assert error["field"] == "body.municipality" and error["suggestions"][0] == "Kotor Varoš"
    r = await client.post("/api/v1/locations", json=body | {"municipality": "Zenica"}, headers=admin)
    assert r.status_code == 422 and "Zenica is in entity FBIH, not RS" in r.text
    police = world.headers("police", "org-a")
    r = await client.post(
        "/api/v1/matches", json={"needs": ["safe_house"], "place": {"municipality": "Nowhere"}}, headers=police
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.place.municipality"
    near = {"needs": ["safe_house"], "place": {"latitude": 44.2, "longitude": 17.9}}  # a coordinate pair is enough
    assert (await client.post("/api/v1/matches", json=near, headers=police)).status_code == 200
