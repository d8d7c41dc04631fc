"""Every service's OpenAPI declares its problem+json answers, so a client generated from it knows the error shape."""

from __future__ import annotations

from typing import Any

import pytest

from deploy.processes import SERVICES
from gateway.policy import POLICY
from putokaz.testing import settings_kwargs

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def documents(jwt_secret: str) -> dict[str, dict[str, Any]]:
    in_memory = settings_kwargs(jwt_secret, "sqlite+aiosqlite:///:memory:")
    return {service.name: service.create_app(**in_memory).openapi() for service in SERVICES}


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def test_every_error_answer_is_a_problem_document(documents: dict[str, dict[str, Any]]) -> None:
    wrong = []
    for service, document in documents.items():
        assert "Problem" in document["components"]["schemas"], service
        for method, path, operation in operations(document):
            for status, answer in operation["responses"].items():
                if status.isdigit() and int(status) >= 400:
                    schema = answer.get("content", {}).get(PROBLEM, {}).get("schema")
                    if schema != {"$ref": "#/components/schemas/Problem"} or set(answer["content"]) != {PROBLEM}:
                        wrong.append(f"{service} {method} {path} {status}")
    assert wrong == []


def test_fastapi_validation_shape_is_never_advertised(documents: dict[str, dict[str, Any]]) -> None:
    for service, document in documents.items():
        assert "HTTPValidationError" not in str(document), service


def test_every_gateway_route_declares_the_problems_its_shape_implies(documents: dict[str, dict[str, Any]]) -> None:
    """Checked against the gateway's policy table, not against the helper's own reasoning."""
    missing = []
    for rule in POLICY:
        if rule.service not in documents:
            continue  # answered by the gateway itself, not by a service
        operation = documents[rule.service]["paths"].get(rule.path, {}).get(rule.method.lower())
        if operation is None:
            missing.append(f"{rule.method} {rule.path}: not in the {rule.service} document")
            continue
        expected = {"401", "403"}  # every policy route names roles
        if "{" in rule.path:
            expected.add("404")
        if operation.get("requestBody") or operation.get("parameters"):
            expected.add("422")
        if lacking := expected - set(operation["responses"]):
            missing.append(f"{rule.method} {rule.path}: {sorted(lacking)}")
    assert missing == []


def test_a_conflict_a_route_can_raise_is_declared(documents: dict[str, dict[str, Any]]) -> None:
    screening = documents["screening"]["paths"]
    for path, method in (
        ("/api/v1/screenings", "post"),  # an Idempotency-Key reused with another body
        ("/api/v1/screenings/{screening_id}/answers", "patch"),  # answers after submission
        ("/api/v1/screenings/{screening_id}/submit", "post"),  # submitted twice
        ("/api/v1/screenings/{screening_id}/decisions", "post"),  # a decision before submission
    ):
        assert "409" in screening[path][method]["responses"], (method, path)


def test_the_data_protection_and_release_conflicts_are_declared(documents: dict[str, dict[str, Any]]) -> None:
    for service, path, method in (
        ("screening", "/api/v1/screenings/{screening_id}/erasure", "post"),  # under legal hold
        ("screening", "/api/v1/screenings/{screening_id}/legal-hold", "put"),  # already erased
        ("registry", "/api/v1/releases", "post"),  # the tables cannot be protected
    ):
        answer = documents[service]["paths"][path][method]["responses"]["409"]
        assert answer["content"][PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}, (method, path)
    export = documents["referral"]["paths"]["/api/v1/subject-access/referrals/{screening_id}"]["get"]["responses"]
    assert {"401", "403", "404", "422"} <= set(export)


def test_the_gateways_own_routes_answer_problems_in_the_document() -> None:
    from gateway.revocations import OPENAPI_PATHS

    for path, item in OPENAPI_PATHS.items():
        for method, operation in item.items():
            errors = {s: a for s, a in operation["responses"].items() if int(s) >= 400}
            assert {"401", "403"} <= set(errors), (method, path)
            for answer in errors.values():
                assert answer["content"] == {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
