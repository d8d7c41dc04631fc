"""A safe house cannot be located through matching: what callers see is its municipality, never its door."""

from __future__ import annotations

from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from putokaz.gazetteer import find_municipality, haversine_km
from services.referral.tests.conftest import World

ZENICA = find_municipality("Zenica")
assert ZENICA is not None
# The demo house sits about 6 km from the centre of Zenica (well inside the municipality).
HOUSE = (ZENICA.latitude + 0.04, ZENICA.longitude + 0.05)
PROBES: list[dict[str, Any]] = [
    {"municipality": "Bihać"},
    {"municipality": "Zenica"},
    {"latitude": 44.21, "longitude": 17.93},
    {"latitude": 44.30, "longitude": 17.80},
    {"latitude": 43.86, "longitude": 18.41},
    {"entity": "FBIH", "canton": 4},
]


async def move_house(client: httpx.AsyncClient, world: World, latitude: float, longitude: float) -> None:
    r = await client.patch(
        f"/api/v1/locations/{world.safe_house_location}",
        json={"latitude": latitude, "longitude": longitude},
        headers=world.headers("service_provider", "org-p"),
    )
    assert r.status_code == 200, r.text


async def answers(client: httpx.AsyncClient, world: World, role: str, org: str) -> list[bytes]:
    out = []
    for place in PROBES:
        for needs in (["safe_house"], ["safe_house", "social_welfare", "medical"]):
            body = {"age": 30, "sex": "F", "needs": needs, "place": place, "urgent": True, "limit": 50}
            r = await client.post("/api/v1/matches", json=body, headers=world.headers(role, org))
            assert r.status_code == 200, r.text
            out.append(r.content)
    return out


# Within about 12 km of the centre of Zenica: inside the municipality (it spans roughly 25 km).
offsets = st.floats(-0.08, 0.08, allow_nan=False)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(d_lat=offsets, d_lon=offsets)
async def test_moving_the_house_within_its_municipality_changes_no_answer_to_anyone_else(
    client: httpx.AsyncClient, world: World, d_lat: float, d_lon: float
) -> None:
    await move_house(client, world, *HOUSE)
    before = {who: await answers(client, world, *who) for who in (("police", "org-a"), ("social_worker", "org-b"))}
    await move_house(client, world, ZENICA.latitude + d_lat, ZENICA.longitude + d_lon)
    after = {who: await answers(client, world, *who) for who in (("police", "org-a"), ("social_worker", "org-b"))}
    assert after == before  # byte for byte: scores, parts, reasons, distances, order


async def test_bisection_through_the_api_finds_the_municipality_centre_not_the_house(
    client: httpx.AsyncClient, world: World
) -> None:
    """The attack of the audit: minimise the reported distance along two axes to find the house."""
    await move_house(client, world, *HOUSE)
    requests = 0

    async def distance(latitude: float, longitude: float) -> float:
        nonlocal requests
        requests += 1
        body = {"needs": ["safe_house"], "age": 30, "place": {"latitude": latitude, "longitude": longitude}}
        r = await client.post("/api/v1/matches", json=body, headers=world.headers("police", "org-a"))
        (match,) = [m for m in r.json()["matches"] if m["service_id"] == world.safe_house]
        return float(match["distance_km"]) + match["score"] * 1e-6  # any change in the answer helps the attacker

    async def closest(low: float, high: float, at: Any) -> float:
        for _ in range(40):  # ternary search: the distance along a line has one minimum
            a, b = low + (high - low) / 3, high - (high - low) / 3
            if await distance(*at(a)) <= await distance(*at(b)):
                high = b
            else:
                low = a
        return (low + high) / 2

    longitude = await closest(15.7, 19.7, lambda x: (44.0, x))
    latitude = await closest(42.5, 45.3, lambda y: (y, longitude))
    assert requests <= 200  # well within what the rate limit allows an attacker
    found_to_house = haversine_km(latitude, longitude, *HOUSE)
    found_to_centre = haversine_km(latitude, longitude, ZENICA.latitude, ZENICA.longitude)
    assert found_to_centre < 2.0, (latitude, longitude)  # what the attack finds is the public centre...
    assert found_to_house > 5.0  # ...and the house is not there


async def test_owner_and_admin_still_see_the_exact_location(client: httpx.AsyncClient, world: World) -> None:
    await move_house(client, world, *HOUSE)
    for role, org in (("service_provider", "org-p"), ("admin", "org-admin")):
        r = await client.get(f"/api/v1/locations/{world.safe_house_location}", headers=world.headers(role, org))
        assert (r.json()["latitude"], r.json()["longitude"]) == HOUSE
    r = await client.get(f"/api/v1/locations/{world.safe_house_location}", headers=world.headers("police", "org-a"))
    assert r.json()["latitude"] is None and r.json()["location_type"] == "redacted"
