"""The directory in HSDS 3.1 shape, validated against the standard's JSON schemas; an HSDS file's import."""

from __future__ import annotations

import json
from typing import Any

import pytest

from services.referral.hsds.service import hsds_id
from services.referral.hsds.validation import RECORD_SCHEMAS, record_errors

KINDS = ("organizations", "services", "locations", "service_at_locations")


def nulls(value: Any, path: str = "") -> list[str]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in ([f"{path}.{k}"] if v is None else nulls(v, f"{path}.{k}"))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in nulls(v, f"{path}.{i}")]
    return []


async def export(client, headers) -> dict[str, list[dict]]:
    out = {}
    for kind in KINDS:
        r = await client.get(f"/api/v1/hsds/{kind}?per_page=100", headers=headers)
        assert r.status_code == 200, r.text
        page = r.json()
        assert page["total_items"] == len(page["contents"]) and page["first_page"] and page["last_page"]
        out[kind] = page["contents"]
    return out


async def test_every_exported_record_is_valid_hsds_3_1_without_nulls(client, world):
    directory = await export(client, world.headers("admin", "org-admin"))
    assert len(directory["services"]) == 3 and len(directory["organizations"]) == 4
    for kind, records in directory.items():
        for n, record in enumerate(records):
            assert list(record_errors(RECORD_SCHEMAS[kind], record, f"{kind}.{n}")) == []
            assert nulls(record) == [], (kind, nulls(record))
    (house,) = [s for s in directory["services"] if s["id"] == hsds_id("service", world.safe_house)]
    (capacity,) = house["capacities"]
    assert (capacity["unit"]["name"], capacity["available"], capacity["maximum"]) == ("bed", 3, 3)
    assert {a["label"]: a["value"] for a in house["attributes"]}["service_type"] == "safe_house"


async def test_confidential_location_is_left_out_entirely_for_those_who_may_not_see_it(client, world):
    hidden = hsds_id("location", world.safe_house_location)
    police = await export(client, world.headers("police", "org-b"))
    everything = json.dumps(police)
    assert hidden not in everything and "Secret street" not in everything
    assert world.safe_house_location not in everything
    (house,) = [s for s in police["services"] if s["id"] == hsds_id("service", world.safe_house)]
    assert "service_at_locations" not in house  # no link to a location the caller may not see
    # The owner and an admin see it.
    for role, org in (("service_provider", "org-p"), ("admin", "org-admin")):
        own = await export(client, world.headers(role, org))
        assert hidden in [loc["id"] for loc in own["locations"]]
        assert hidden in [link["location_id"] for link in own["service_at_locations"]]


async def test_hsds_lists_refuse_unknown_parameters_and_page(client, world):
    headers = world.headers("police", "org-a")
    r = await client.get("/api/v1/hsds/services?modified_after=2026-01-01", headers=headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.modified_after"
    r = await client.get("/api/v1/hsds/services?per_page=2&page=2", headers=headers)
    page = r.json()
    assert (page["total_items"], page["total_pages"], page["size"], page["last_page"]) == (3, 2, 1, True)


async def test_import_of_an_exported_directory_round_trips(client, world):
    admin = world.headers("admin", "org-admin")
    before = await export(client, admin)
    r = await client.post("/api/v1/hsds/import", json=before, headers=admin)
    assert r.status_code == 201, r.text
    assert r.json()["services"] == 3 and r.json()["capacities"] == 1
    assert await export(client, admin) == before


ORG = "7b0f2c6e-8d5a-4c1b-9f3e-2a6d4e8b1c90"
NEW_FILE = {
    "organizations": [{"id": ORG, "name": "Shelter Tuzla", "description": "NGO shelter"}],
    "locations": [
        {
            "id": "0c7f1e2d-3b4a-4c5d-8e6f-7a8b9c0d1e2f",
            "location_type": "physical",
            "organization_id": ORG,
            "name": "Shelter",
            "attributes": [
                {"id": "1d8f2e3c-4b5a-4d6e-9f70-8a9b0c1d2e3f", "label": "entity", "value": "FBIH"},
                {"id": "2e9f3d4c-5b6a-4e7f-8091-9a0b1c2d3e4f", "label": "municipality", "value": "Tuzla"},
                {"id": "3f0a4e5d-6c7b-4f80-9102-0b1c2d3e4f50", "label": "canton", "value": "3"},
            ],
        }
    ],
    "services": [
        {
            "id": "4a1b5f6e-7d8c-4091-8213-1c2d3e4f5061",
            "organization_id": ORG,
            "name": "Shelter for women",
            "status": "active",
            "attributes": [
                {"id": "5b2c6a7f-8e9d-41a2-9324-2d3e4f506172", "label": "service_type", "value": "safe_house"}
            ],
            "capacities": [
                {
                    "id": "6c3d7b8a-9f0e-42b3-a435-3e4f50617283",
                    "unit": {"id": "7d4e8c9b-0a1f-43c4-b546-4f5061728394", "name": "bed"},
                    "available": 2,
                    "maximum": 6,
                    "updated": "2026-12-01T08:00:00Z",
                }
            ],
        }
    ],
}


async def test_import_of_a_new_hsds_file_creates_the_records(client, world):
    admin = world.headers("admin", "org-admin")
    r = await client.post("/api/v1/hsds/import", json=NEW_FILE, headers=admin)
    assert r.status_code == 201, r.text
    service = (await client.get(f"/api/v1/services/{NEW_FILE['services'][0]['id']}", headers=admin)).json()
    assert service["service_type"] == "safe_house" and service["capacities"][0]["available"] == 2


def _broken() -> dict:
    file = json.loads(json.dumps(NEW_FILE))
    file["services"][0]["status"] = "open"
    del file["services"][0]["capacities"][0]["updated"]
    file["organizations"][0]["id"] = "not-a-uuid"
    file["locations"][0]["location_type"] = "moon"
    return file


async def test_import_reports_every_invalid_record_and_field_and_imports_nothing(client, world):
    admin = world.headers("admin", "org-admin")
    r = await client.post("/api/v1/hsds/import", json=_broken(), headers=admin)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    fields = sorted(e["field"] for e in r.json()["errors"])
    assert fields == [
        "body.locations.0.location_type",
        "body.organizations.0.id",
        "body.services.0.capacities.0.updated",
        "body.services.0.status",
    ]
    assert "moon" not in r.text and "not-a-uuid" not in r.text  # values sent are never echoed
    services = (await client.get("/api/v1/services?limit=100", headers=admin)).json()
    assert services["total"] == 3  # nothing imported


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            lambda f: f["services"][0].update(organization_id="9e6f0a1b-2c3d-4e5f-8a9b-0c1d2e3f4a5b"),
            "body.services.0.organization_id",
        ),
        (lambda f: f["locations"][0].update(attributes=[]), "body.locations.0.attributes"),
        (
            lambda f: f["services"][0]["capacities"][0]["unit"].update(name="tent"),
            "body.services.0.capacities.0.unit.name",
        ),
        (lambda f: f.update(programs=[]), "body.programs"),
        (lambda f: f["services"][0].update(minimum_age=3.5), "body.services.0.minimum_age"),
        (lambda f: f["organizations"][0].update(email="a" * 300 + "@example.org"), "body.organizations.0.email"),
    ],
)
async def test_import_refuses_what_the_directory_cannot_hold(client, world, change, field):
    file = json.loads(json.dumps(NEW_FILE))
    change(file)
    r = await client.post("/api/v1/hsds/import", json=file, headers=world.headers("admin", "org-admin"))
    assert r.status_code == 422, r.text
    assert field in [e["field"] for e in r.json()["errors"]]


async def test_only_an_admin_imports(client, world):
    r = await client.post("/api/v1/hsds/import", json=NEW_FILE, headers=world.headers("service_provider", "org-p"))
    assert r.status_code == 403
