"""The HSDS 3.1 export and import through the gateway, validated against the standard's JSON schemas."""

from __future__ import annotations

import json

import httpx
import pytest

from services.referral.hsds.service import hsds_id
from services.referral.hsds.validation import RECORD_SCHEMAS, record_errors
from tests.journeys import bearer, ok

KINDS = ("organizations", "services", "locations", "service_at_locations")
SAFE_HOUSE_LOCATION = "demo-loc-safe-house-zenica"


def everything(client: httpx.Client, token: str) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for kind in KINDS:
        out[kind], page = [], 1
        while True:
            answer = ok(
                client.get(f"/api/v1/hsds/{kind}", params={"page": page, "per_page": 100}, headers=bearer(token))
            )
            out[kind] += answer["contents"]
            if answer["last_page"]:
                break
            page += 1
    return out


@pytest.mark.parametrize(
    ("role", "org"),
    # The police organisation is one with no referrals: a referrer whose referral a safe house accepted may
    # see that house's address (docs/referral.md), and other tests on the shared stack make such referrals.
    [
        ("police", "hsds-police-never-referred"),
        ("coordinator", "demo-state-coordinator"),
        ("partner", "demo-ngo-partner"),
    ],
)
def test_export_is_valid_hsds_and_leaves_confidential_locations_out(stack, make_token, role, org):
    with httpx.Client(base_url=stack.url, timeout=60) as client:
        directory = everything(client, make_token(role, org=org))
    assert directory["services"] and directory["organizations"] and directory["locations"]
    for kind, records in directory.items():
        for n, record in enumerate(records):
            assert list(record_errors(RECORD_SCHEMAS[kind], record, f"{kind}.{n}")) == []
            assert "null" not in json.dumps(record)
    text = json.dumps(directory)
    assert hsds_id("location", SAFE_HOUSE_LOCATION) not in text and "Confidential address" not in text
    assert not any(a["label"] == "confidential" for loc in directory["locations"] for a in loc.get("attributes", []))


def test_the_safe_house_itself_sees_its_location(stack, make_token):
    with httpx.Client(base_url=stack.url, timeout=60) as client:
        own = everything(client, make_token("service_provider", org="demo-safe-house-zenica"))
    assert hsds_id("location", SAFE_HOUSE_LOCATION) in [loc["id"] for loc in own["locations"]]


def test_import_reports_every_invalid_record_through_the_gateway(stack, make_token):
    admin = make_token("admin", org="demo-admin")
    broken = {
        "organizations": [{"id": "x", "name": "No description"}],
        "services": [{"id": "3c1d2e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f", "name": "s", "status": "gone"}],
    }
    with httpx.Client(base_url=stack.url, timeout=60) as client:
        refused = client.post("/api/v1/hsds/import", json=broken, headers=bearer(admin))
        police = client.post("/api/v1/hsds/import", json=broken, headers=bearer(make_token("police")))
    assert refused.status_code == 422
    assert sorted(e["field"] for e in refused.json()["errors"]) == [
        "body.organizations.0.description",
        "body.organizations.0.id",
        "body.services.0.status",
    ]
    assert police.status_code == 403
