"""Errors a caller can act on: full field paths, every bad field at once, bad JSON, wrong media type."""

from __future__ import annotations

from services.screening.tests.conftest import adult_subject, start_body
from services.screening.tests.test_screenings_api import error_fields


async def test_malformed_json_names_the_body(client, headers, org) -> None:
    h = headers("police", org=org) | {"content-type": "application/json"}
    response = await client.post("/api/v1/screenings", content=b'{"language": "bs",', headers=h)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "body", "message": "The body is not valid JSON", "type": "json_invalid"}
    ]


async def test_a_text_plain_body_is_415(client, headers, org) -> None:
    h = headers("police", org=org) | {"content-type": "text/plain"}
    response = await client.post("/api/v1/screenings", content=b'{"language": "bs"}', headers=h)
    assert response.status_code == 415
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_future_decision_date_names_body_decided_on(client, headers, org) -> None:
    h = headers("police", org=org)
    sid = (await client.post("/api/v1/screenings", json=start_body(instrument="quick"), headers=h)).json()["id"]
    decision = {"outcome": "IDENTIFIED_VICTIM", "authority": "SIPA", "decided_on": "2999-01-01"}
    response = await client.post(f"/api/v1/screenings/{sid}/decisions", json=decision, headers=h)
    assert response.status_code == 422 and error_fields(response) == {"body.decided_on"}


async def test_a_minor_stated_adult_with_adult_consent_is_told_the_child_instrument_applies(
    client, headers, org
) -> None:
    h = headers("police", org=org)
    minor = adult_subject(date_of_birth="2011-05-05", possibly_minor=False)
    response = await client.post("/api/v1/screenings", json=start_body(subject=minor), headers=h)
    assert response.status_code == 422 and error_fields(response) == {"body.consent"}
    assert "child" in response.json()["detail"] and "date of birth" in response.json()["detail"]
    assert "version" not in response.json()["detail"]
