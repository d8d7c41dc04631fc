"""The policy table against the services: every route guarded, roles agreeing, matrix through real processes."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from deploy.processes import SERVICES
from gateway.policy import POLICY, Policy
from putokaz.auth import ROLES, Authorize, Public
from putokaz.events.receiver import WebhookSignature
from putokaz.testing import api_routes, auth, settings_kwargs

SAMPLE_ID = "00000000-0000-4000-8000-000000000000"


def _service_apps(jwt_secret: str) -> dict[str, FastAPI]:
    in_memory = settings_kwargs(jwt_secret, "sqlite+aiosqlite:///:memory:")
    return {service.name: service.create_app(**in_memory) for service in SERVICES}


def _guards(dependant: Any) -> list[Any]:
    found = []
    for dep in dependant.dependencies:
        if isinstance(dep.call, (Authorize, Public, WebhookSignature)):
            found.append(dep.call)
        found.extend(_guards(dep))
    return found


def _sample_path(template: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", template)


def _routes(apps: dict[str, FastAPI]) -> list[tuple[str, str, str, list[Any]]]:
    return [
        (service, method, path, _guards(dependant))
        for service, app in apps.items()
        for method, path, dependant in api_routes(app)
    ]


def test_every_service_route_declares_who_may_call_it(jwt_secret):
    routes = _routes(_service_apps(jwt_secret))
    assert len(routes) > 50
    unguarded = [(s, m, p) for s, m, p, guards in routes if not guards]
    assert unguarded == []


def test_policy_roles_equal_service_roles_and_no_dead_rules(jwt_secret):
    policy = Policy()
    mismatches, exposed_internal, unlisted = [], [], []
    used_rules = set()
    for service, method, path, guards in _routes(_service_apps(jwt_secret)):
        rule = policy.match(method, _sample_path(path))
        if path.startswith("/internal"):
            if rule is not None:
                exposed_internal.append(path)
            continue
        if not path.startswith("/api/"):
            continue
        if rule is None:
            unlisted.append((service, method, path))
            continue
        used_rules.add(rule)
        roles = frozenset().union(*(g.roles for g in guards if isinstance(g, Authorize)))
        if rule.service != service or rule.roles != roles:
            mismatches.append((method, path, rule.service, sorted(rule.roles), service, sorted(roles)))
    dead = [(r.method, r.path) for r in POLICY if r not in used_rules and r.service != "gateway"]
    assert exposed_internal == []
    assert unlisted == [], "service routes the gateway does not expose"
    assert mismatches == [], "gateway roles differ from the service's own"
    assert dead == [], "policy rules with no service route behind them"


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", SAMPLE_ID, path)


@pytest.mark.parametrize("rule", POLICY, ids=lambda r: f"{r.method} {r.path}")
def test_role_matrix_through_the_gateway(stack, make_token, rule):
    """Each role on each route: forbidden roles stop at the gateway, allowed ones reach the service."""
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        for role in ROLES:
            kwargs: dict[str, Any] = {"headers": auth(make_token(role, org="org-matrix"))}
            if rule.method in ("POST", "PUT", "PATCH"):
                kwargs["json"] = {}
            response = client.request(rule.method, _fill(rule.path), **kwargs)
            assert response.headers["content-type"].split(";")[0] in (
                "application/json",
                "application/problem+json",
                "text/csv",
            ), (role, response.text[:200])
            if role in rule.roles:
                assert response.status_code not in (401, 403, 405), (role, response.status_code, response.text[:300])
                assert response.status_code < 500, (role, response.status_code, response.text[:300])
                assert response.json().get("detail") != "No such route"
            else:
                assert response.status_code == 403, (role, response.status_code)


def test_request_id_travels_to_the_service_and_back(stack, make_token):
    with httpx.Client(base_url=stack.url) as client:
        response = client.get(
            "/api/v1/organisations", headers={**auth(make_token("police")), "X-Request-ID": "trace-through-gateway-1"}
        )
    assert response.headers["x-request-id"] == "trace-through-gateway-1"
    # The service writes its access line once the answer has gone: wait for it (bounded), never a fixed sleep.
    deadline = time.monotonic() + 10
    while '"request_id": "trace-through-gateway-1"' not in (log := (stack.log_dir / "referral.log").read_text()):
        assert time.monotonic() < deadline, log[-2000:]
        time.sleep(0.05)


def test_merged_openapi_lists_public_routes_only(stack):
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        document = client.get("/openapi.json").json()
        docs = client.get("/docs")
    assert document["openapi"].startswith("3.1")
    assert not [p for p in document["paths"] if p.startswith("/internal") or p in ("/healthz", "/metrics")]
    assert "/api/v1/screenings" in document["paths"]
    assert "/api/v1/referrals" in document["paths"]
    assert any(p.startswith("/api/v1/stats") for p in document["paths"])
    assert "bearerAuth" in document["components"]["securitySchemes"]
    assert docs.status_code == 200 and "swagger-ui" in docs.text


def test_gateway_ready_when_all_services_are(stack):
    with httpx.Client(base_url=stack.url) as client:
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["services"] == {
        "screening": "ready",
        "referral": "ready",
        "registry": "ready",
        "strategy": "ready",
    }


def test_merged_openapi_has_every_policy_route(stack):
    document = httpx.get(stack.url + "/openapi.json").json()
    documented = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    policy = Policy()
    missing = [
        (r.method, r.path)
        for r in POLICY
        if not any(m == r.method and policy.match(m, _fill(p)) == r for m, p in documented)
    ]
    assert missing == []
