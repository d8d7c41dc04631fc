"""Every list refuses a query parameter it does not offer (422 naming it); every 405 says what is allowed.

A misspelt filter that is silently ignored answers the whole list, and the caller believes it filtered
(`/referrals?created_after=` for `created_from`). Through the gateway, on the shared stack.
"""

from __future__ import annotations

import httpx
import pytest

from tests.journeys import bearer

# (role, organisation, list path) for one list of every service; each also gets a misspelt filter.
LISTS = [
    ("police", "demo-police-una-sana", "/api/v1/services"),
    ("police", "demo-police-una-sana", "/api/v1/organisations"),
    ("police", "demo-police-una-sana", "/api/v1/locations"),
    ("police", "demo-police-una-sana", "/api/v1/hsds/services"),
    ("police", "demo-police-una-sana", "/api/v1/referrals"),
    ("police", "demo-police-una-sana", "/api/v1/screenings"),
    ("police", "demo-police-una-sana", "/api/v1/questionnaires"),
    ("police", "demo-police-una-sana", "/api/v1/training/practices"),
    ("partner", "demo-ngo-partner", "/api/v1/webhooks/endpoints"),
    ("coordinator", "demo-coordinator", "/api/v1/plans"),
    ("coordinator", "demo-coordinator", "/api/v1/measures"),
    ("coordinator", "demo-coordinator", "/api/v1/indicators"),
    ("admin", "demo-admin", "/api/v1/audit/registry"),
    ("admin", "demo-admin", "/api/v1/audit/strategy"),
    ("admin", "demo-admin", "/api/v1/audit/referral"),
]


@pytest.mark.parametrize(("role", "org", "path"), LISTS, ids=[p for _, _, p in LISTS])
def test_unknown_query_parameter_on_a_list_is_422_naming_it(stack, make_token, role, org, path):
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        headers = bearer(make_token(role, org=org))
        assert client.get(path, headers=headers).status_code == 200
        refused = client.get(f"{path}?created_after=2026-01-01", headers=headers)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in refused.json()["errors"]] == ["query.created_after"]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/api/v1/screenings", "GET, POST"),
        ("PUT", "/api/v1/services/demo-svc-children-zenica", "GET, PATCH"),
        ("DELETE", "/api/v1/plans", "GET, POST"),
        ("POST", "/api/v1/hsds/services", "GET"),
    ],
)
def test_method_not_offered_is_405_with_allow(stack, make_token, method, path, allowed):
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        response = client.request(method, path, headers=bearer(make_token("admin", org="demo-admin")))
    assert response.status_code == 405, response.text
    assert response.headers["allow"] == allowed
    assert response.headers["content-type"] == "application/problem+json"
