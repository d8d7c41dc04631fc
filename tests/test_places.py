"""Places are real: through the gateway, every municipality of BiH has a distance, and an unknown one is named.

Before the gazetteer (28 names) "Centar Sarajevo", "Novo Sarajevo" and "Kotor Varoš" gave "distance unknown",
a CSW in Banja Luka could rank first for a child found in Sarajevo, and screening took any text as a place.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.journeys import bearer, ok, unique_person


@pytest.fixture
def client(stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.url, timeout=30) as c:
        yield c


def _matches(client: httpx.Client, token: str, place: dict, **extra) -> httpx.Response:
    body = {"needs": ["social_welfare"], "child": True, "urgent": True, "place": place, **extra}
    return client.post("/api/v1/matches", json=body, headers=bearer(token))


@pytest.mark.parametrize(
    "municipality", ["Centar Sarajevo", "Sarajevo - Centar", "Центар Сарајево", "Novo Sarajevo", "Kotor Varoš"]
)
def test_every_municipality_gives_a_real_distance(client, make_token, municipality):
    police = make_token("police", org="demo-police-una-sana")
    matches = ok(_matches(client, police, {"municipality": municipality}))["matches"]
    assert matches, "the demo directory has centres for social welfare"
    assert all(m["distance_km"] is not None for m in matches)
    assert not any("distance unknown" in m["reasons"] for m in matches)


def test_a_sarajevo_centre_for_social_welfare_ranks_first_for_a_child_in_sarajevo(client, make_token):
    police = make_token("police", org="demo-police-una-sana")
    for place in ("Centar Sarajevo", "Novo Sarajevo", "Sarajevo"):
        first = ok(_matches(client, police, {"municipality": place}))["matches"][0]
        assert first["organisation_id"] == "demo-csw-sarajevo", (place, first)
        assert first["distance_km"] < 10
    # Kotor Varoš is in Republika Srpska: the centre in Banja Luka is the nearest there, about 40 km away.
    first = ok(_matches(client, police, {"municipality": "Котор Варош"}))["matches"][0]
    assert first["organisation_id"] == "demo-csw-banja-luka" and first["distance_km"] < 60


def test_an_unknown_municipality_is_422_naming_the_field_with_suggestions(client, make_token):
    police = make_token("police", org="demo-police-una-sana")
    problem = _matches(client, police, {"municipality": "Sarjevo"})
    assert problem.status_code == 422 and problem.headers["content-type"].startswith("application/problem+json")
    (error,) = problem.json()["errors"]
    assert error["field"] == "body.place.municipality"
    assert error["suggestions"][0] == "Sarajevo" and 1 <= len(error["suggestions"]) <= 3
    assert "did you mean" in error["message"] and "Sarjevo" not in problem.text  # the typed text is not echoed

    ambiguous = _matches(client, police, {"municipality": "Trnovo"}).json()["errors"][0]
    assert ambiguous["suggestions"] == ["Trnovo (FBiH)", "Trnovo (RS)"]
    contradicted = _matches(client, police, {"municipality": "Kotor Varoš", "entity": "FBIH"})
    assert contradicted.status_code == 422 and "entity RS" in contradicted.text

    started = client.post(
        "/api/v1/screenings",
        headers=bearer(police),
        json={"language": "bs", "subject": unique_person(), "place": {"municipality": "Kotorr Varoš"}},
    )
    assert started.status_code == 422
    (error,) = started.json()["errors"]
    assert error["field"] == "body.place.municipality" and error["suggestions"][0] == "Kotor Varoš"


def test_screening_stores_the_gazetteer_name_with_its_entity_and_canton(client, make_token):
    police = make_token("police", org="demo-police-una-sana")
    started = ok(
        client.post(
            "/api/v1/screenings",
            headers=bearer(police),
            json={"language": "bs", "subject": unique_person(), "place": {"municipality": "сарајево - центар"}},
        ),
        201,
    )
    assert started["place"] == {"entity": "FBIH", "canton": 9, "municipality": "Centar Sarajevo"}


def test_places_lookup_lists_municipalities_for_the_forms(client, make_token):
    police = make_token("police", org="demo-police-una-sana")
    found = ok(client.get("/api/v1/places", params={"q": "kotor"}, headers=bearer(police)))["items"]
    assert [p["name"] for p in found] == ["Kotor Varoš"]
    assert found[0]["official_cyrillic"] == "Котор Варош" and found[0]["region"] == "Banja Luka"
    # The public fields of the gazetteer entry, the variants as a list; its comprises and notes stay out.
    assert set(found[0]) == {
        *("name", "official_latin", "official_cyrillic", "kind", "entity", "canton", "region"),
        *("latitude", "longitude", "centroid", "variants"),
    }
    assert isinstance(found[0]["variants"], list)
    everything = ok(client.get("/api/v1/places", headers=bearer(police)))
    assert everything["total"] == 145
    assert client.get("/api/v1/places").status_code == 401
    assert client.get("/api/v1/places", params={"qq": "x"}, headers=bearer(police)).status_code == 422
