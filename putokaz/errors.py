"""RFC 9457 problem+json errors: domain exceptions and the handlers that render every error."""

from __future__ import annotations

import logging
import traceback
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_BASE = "https://putokaz.example/problems/"
logger = logging.getLogger("putokaz.errors")

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Invalid request",
    429: "Too many requests",
    431: "Request header fields too large",
    500: "Internal error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}
_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation",
    429: "rate-limited",
    431: "header-too-large",
    500: "internal",
    502: "bad-gateway",
    503: "unavailable",
    504: "gateway-timeout",
}


def problem_body(
    status: int,
    detail: str | None = None,
    *,
    title: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + _SLUGS.get(status, str(status)),
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail or _TITLES.get(status, "Error"),
    }
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    return body


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    headers: dict[str, str] | None = None,
    errors: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> JSONResponse:
    return JSONResponse(
        problem_body(status, detail, errors=errors, **extra),
        status_code=status,
        media_type=PROBLEM_CONTENT_TYPE,
        headers=headers,
    )


class ProblemError(Exception):
    """A domain error that becomes a problem+json answer; its detail must never carry identity data."""

    status = 400

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers
        self.extra = extra


class Unauthorized(ProblemError):
    status = 401

    def __init__(self, detail: str = "A valid bearer token is required", **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        super().__init__(detail, **kw)


class HeaderTooLarge(ProblemError):
    status = 431


class Forbidden(ProblemError):
    status = 403


class NotFound(ProblemError):
    status = 404


R = TypeVar("R")


def found(row: R | None, what: str) -> R:
    """The row, or 404 "No such <what>" (another organisation's row is not found either: the query is scoped)."""
    if row is None:
        raise NotFound(f"No such {what}")
    return row


class Conflict(ProblemError):
    status = 409


class Invalid(ProblemError):
    """422 naming the offending field(s)."""

    status = 422

    def __init__(
        self, detail: str, *, field: str | None = None, errors: list[dict[str, Any]] | None = None, **kw: Any
    ) -> None:
        if errors is None and field is not None:
            errors = [{"field": field, "message": detail}]
        super().__init__(detail, errors=errors or [], **kw)


class Unavailable(ProblemError):
    status = 503


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


def _is_json(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Field-by-field errors without echoing the submitted values (they may be identity data).

    A body that is not JSON at all is one error naming `body` (never a character offset as a field).
    """
    out = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            out.append({"field": "body", "message": "The body is not valid JSON", "type": "json_invalid"})
            continue
        item = {
            "field": _field_path(err.get("loc", ())),
            "message": err.get("msg", "invalid"),
            "type": err.get("type", "value_error"),
        }
        # "Did you mean": names from a fixed list (the gazetteer), never the submitted value itself.
        suggestions = (err.get("ctx") or {}).get("suggestions")
        if isinstance(suggestions, list):
            item["suggestions"] = [str(s) for s in suggestions]
        out.append(item)
    return out


def allowed_methods(request: Request) -> str:
    """Every method the requested path offers: Starlette's 405 names only the first route's methods."""

    def walk(routes: Any) -> Any:
        for route in routes:
            if hasattr(route, "effective_route_contexts"):
                yield from route.effective_route_contexts()
            else:
                yield route

    methods: set[str] = set()
    for route in walk(request.app.router.routes):
        match, _ = route.matches(request.scope)
        if match == Match.PARTIAL:
            methods |= set(getattr(route, "methods", None) or ())
    return ", ".join(sorted(methods))


def install_problem_handlers(app: FastAPI) -> None:
    """Render every error as problem+json, including unknown routes and validation failures."""

    @app.exception_handler(ProblemError)
    async def _problem(_: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(exc.status, exc.detail, headers=exc.headers, errors=exc.errors, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = validation_errors(exc)
        body_errors = [e for e in errors if e["field"] == "body" or e["field"].startswith("body.")]
        content_type = request.headers.get("content-type")
        if body_errors and content_type and not _is_json(content_type):
            # A JSON route sent text/plain or a form: the media type is the problem, not the fields.
            return problem_response(415, "Send the request body as application/json")
        if any(e["type"] == "json_invalid" for e in errors):
            return problem_response(
                422, "The body is not valid JSON", errors=[e for e in errors if e["field"] == "body"]
            )
        fields = ", ".join(e["field"] for e in errors[:5])
        return problem_response(422, f"The request is not valid: {fields}", errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else None
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            headers["Allow"] = allowed_methods(request) or headers.get("Allow", "")
        return problem_response(exc.status_code, detail, headers=headers or None)

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        # The driver message may quote values; log only the constraint class.
        logger.warning("integrity error", extra={"error_type": type(exc.orig).__name__})
        return problem_response(409, "The request conflicts with the current state of a record")

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def _database_down(_: Request, exc: DBAPIError) -> JSONResponse:
        logger.error("database unavailable", extra={"error_type": type(exc.orig).__name__})
        return problem_response(
            503, "The database is unavailable; nothing was saved. Retry later.", headers={"Retry-After": "5"}
        )

    @app.exception_handler(OSError)
    @app.exception_handler(TimeoutError)
    async def _connection_failed(_: Request, exc: Exception) -> JSONResponse:
        # Raised by drivers while connecting (refused, reset, timed out) before SQLAlchemy wraps anything.
        logger.error("database connection failed", extra={"error_type": type(exc).__name__})
        return problem_response(
            503, "The database is unavailable; nothing was saved. Retry later.", headers={"Retry-After": "5"}
        )

    @app.exception_handler(DBAPIError)
    async def _database_error(_: Request, exc: DBAPIError) -> JSONResponse:
        sqlstate = str(getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None) or "")
        logger.error("database error", extra={"error_type": type(exc.orig).__name__, "sqlstate": sqlstate})
        if sqlstate.startswith("22"):
            # SQLSTATE class 22 "data exception": a value the database cannot store (a NUL character,
            # a number out of range) — the caller's input, not our outage.
            return problem_response(
                422,
                "A value in the request cannot be stored (invalid character or out of range)",
                errors=[{"field": "body", "message": "invalid character or value out of range"}],
            )
        if sqlstate.startswith("23"):
            return problem_response(409, "The request conflicts with the current state of a record")
        return problem_response(
            503, "The database could not complete the request; nothing was saved.", headers={"Retry-After": "5"}
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        # Never the message: it may carry identity data or SQL.
        # Where it happened (file:line of each frame), never the message or local values.
        frames = [f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in traceback.extract_tb(exc.__traceback__)]
        logger.error("unhandled error", extra={"error_type": type(exc).__name__, "frames": frames[-8:]})
        return problem_response(500, "An unexpected error occurred; nothing was saved.")
