"""Every route's problem+json answers in the OpenAPI document, so generated clients know the error shape.

What a route can answer follows from what it declares: a role guard answers 401 and 403, a path with an
id 404, parameters or a body 422, the database 503, an Idempotency-Key 409. A route adds what only its
own logic knows with `responses=problem_answers(409)`. `install_problem_answers` runs once per app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI

from putokaz.auth import Authorize
from putokaz.db import get_session
from putokaz.errors import _TITLES, PROBLEM_BASE, PROBLEM_CONTENT_TYPE
from putokaz.idempotency import _idempotency_key
from putokaz.query import reject_unknown_query

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM_SCHEMAS: dict[str, Any] = {
    "Problem": {
        "title": "Problem",
        "description": "RFC 9457 problem details. Values the caller sent are never echoed back.",
        "type": "object",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string", "format": "uri", "examples": [PROBLEM_BASE + "validation"]},
            "title": {"type": "string", "examples": ["Invalid request"]},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string"},
            "errors": {
                "type": "array",
                "description": "One entry per bad field (422), e.g. `body.place.canton`.",
                "items": {"$ref": "#/components/schemas/ProblemFieldError"},
            },
        },
        "additionalProperties": True,
    },
    "ProblemFieldError": {
        "title": "ProblemFieldError",
        "type": "object",
        "required": ["field", "message"],
        "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
    },
}


def problem_answers(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` of a route that can answer these problems beyond what its signature shows (e.g. 409)."""
    return {status: {"description": _TITLES.get(status, "Error")} for status in statuses}


def api_routes(app: FastAPI) -> Iterator[tuple[str, str, Any]]:
    """(method, full path, dependant) of every FastAPI route, including those of included routers.

    FastAPI ≥0.16x keeps included routers lazily (`_IncludedRouter`), so `app.routes` alone misses them.
    """

    def walk(routes: Any) -> Iterator[Any]:
        for route in routes:
            if hasattr(route, "effective_route_contexts"):
                yield from route.effective_route_contexts()
            else:
                yield route

    for context in walk(app.routes):
        route = getattr(context, "original_route", context)
        dependant = getattr(route, "dependant", None)
        if dependant is None:
            continue
        for method in sorted(set(getattr(context, "methods", None) or ()) - {"HEAD", "OPTIONS"}):
            yield method, context.path, dependant


def _calls(dependant: Any) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


def implied_problems(path: str, dependant: Any, operation: dict[str, Any]) -> set[int]:
    """The problems a route can answer because of what it declares."""
    calls = list(_calls(dependant))
    statuses: set[int] = set()
    if any(isinstance(call, Authorize) for call in calls):
        statuses |= {401, 403}
    if "{" in path:
        statuses.add(404)
    # An undeclared query parameter is refused on every route that checks for them (the app factory adds it).
    if operation.get("parameters") or operation.get("requestBody") or reject_unknown_query in calls:
        statuses.add(422)
    if get_session in calls:
        statuses.add(503)
    if _idempotency_key in calls:
        statuses.add(409)
    return statuses


def add_problem_answers(app: FastAPI, document: dict[str, Any]) -> dict[str, Any]:
    """Declare the problem answers of every operation of `app` in its OpenAPI `document` (in place)."""
    paths = document.get("paths", {})
    for method, path, dependant in api_routes(app):
        operation = paths.get(path, {}).get(method.lower())
        if operation is None:
            continue  # not in the schema (health, metrics)
        responses = operation.setdefault("responses", {})
        declared = {int(code) for code in responses if code.isdigit() and int(code) >= 400}
        for status in sorted(declared | implied_problems(path, dependant, operation)):
            description = responses.get(str(status), {}).get("description") or _TITLES.get(status, "Error")
            responses[str(status)] = {
                "description": description,
                "content": {PROBLEM_CONTENT_TYPE: {"schema": PROBLEM_REF}},
            }
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(PROBLEM_SCHEMAS)
    # FastAPI's own 422 shape is never what a Putokaz service answers.
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return document


def install_problem_answers(app: FastAPI) -> None:
    """Make `app.openapi()` declare every route's problem answers (built once, then cached)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = add_problem_answers(app, build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
