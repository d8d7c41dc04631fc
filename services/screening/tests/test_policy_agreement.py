"""Every screening route declares its roles, and they equal the gateway policy's roles for that route."""

from __future__ import annotations

import re
from typing import Any

from fastapi.routing import APIRoute

from gateway.policy import POLICY, Policy
from putokaz.audit import audit_router
from putokaz.auth import ROLES, Authorize
from putokaz.testing import auth
from services.screening.api import router
from services.screening.places import router as places_router
from services.screening.training.api import router as training_router


def _roles(dependant: Any) -> frozenset[str]:
    found: frozenset[str] = frozenset()
    for dep in dependant.dependencies:
        if isinstance(dep.call, Authorize):
            found |= dep.call.roles
        found |= _roles(dep)
    return found


def test_screening_routes_match_the_gateway_policy_exactly() -> None:
    policy = Policy()
    used = set()
    mismatches = []
    routers = [router, training_router, places_router, audit_router("screening")]  # as the app mounts them
    for route in [r for each in routers for r in each.routes]:
        assert isinstance(route, APIRoute)
        roles = _roles(route.dependant)
        assert roles, f"{route.path} declares no roles"
        for method in route.methods:
            rule = policy.match(method, re.sub(r"\{[^}]+\}", "x1", route.path))
            assert rule is not None, f"{method} {route.path} is not in the gateway policy"
            used.add(rule)
            if rule.service != "screening" or rule.roles != roles:
                mismatches.append((method, route.path, sorted(rule.roles), sorted(roles)))
    assert mismatches == []
    assert [(r.method, r.path) for r in POLICY if r.service == "screening" and r not in used] == []


async def test_each_route_refuses_every_role_the_policy_does_not_list(client, make_token) -> None:
    sample = "00000000-0000-4000-8000-000000000000"
    checked = 0
    for rule in POLICY:
        if rule.service != "screening":
            continue
        path = re.sub(r"\{[^}]+\}", lambda m: "1" if m.group(0) == "{version}" else sample, rule.path)
        path = path.replace("/questionnaires/" + sample, "/questionnaires/quick")
        for role in sorted(set(ROLES) - rule.roles):
            headers = auth(make_token(role, org="org-matrix"))
            response = await client.request(rule.method, path, headers=headers, json={})
            assert response.status_code == 403, (rule.method, rule.path, role, response.status_code)
            checked += 1
        for role in sorted(rule.roles):
            response = await client.request(
                rule.method, path, headers=auth(make_token(role, org="org-matrix")), json={}
            )
            assert response.status_code not in (401, 403), (rule.method, rule.path, role)
    assert checked > 40
