"""Token revocation, served by the gateway itself: it is the one place every request passes, and the
store it writes to is read by every service too (putokaz/revocation.py).

`POST /api/v1/revocations` (admin) revokes one token by `jti`, or every token of a subject (`sub`)
issued before now; `GET /api/v1/revocations` (admin) lists the latest revocations: who revoked, when,
why, and the digest of what (never the subject id in clear); `GET /api/v1/revocations/verify` (admin)
checks the store's hash-chained audit log like a service's `/api/v1/audit/{service}/verify`.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from putokaz.auth import Principal
from putokaz.revocation import Revocation, RevocationList

logger = logging.getLogger("putokaz.gateway.revocations")

PATH = "/api/v1/revocations"
VERIFY_PATH = PATH + "/verify"
Answer = tuple[int, dict[str, Any]]


class RevocationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    jti: str | None = Field(default=None, min_length=1, max_length=255)
    sub: str | None = Field(default=None, min_length=1, max_length=255)
    reason: str = Field(min_length=3, max_length=500, pattern=r"^[^\x00-\x1f]+$")

    @model_validator(mode="after")
    def _exactly_one_target(self) -> RevocationCreate:
        if (self.jti is None) == (self.sub is None):
            raise ValueError("give either jti (one token) or sub (every token of that subject)")
        return self


def _read(revocation: Revocation) -> dict[str, Any]:
    return {
        "kind": revocation.kind,
        "target_digest": revocation.target,
        "revoked_before": datetime.fromtimestamp(revocation.revoked_before, UTC).isoformat(),
        "revoked_by": {"sub": revocation.actor_sub, "org": revocation.actor_org},
        "reason": revocation.reason,
    }


def _field_errors(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {"field": ".".join(str(p) for p in ("body", *e["loc"])), "message": e["msg"], "type": e["type"]}
        for e in exc.errors()
    ]


async def handle(
    revocations: RevocationList | None, method: str, path: str, principal: Principal, body: bytes
) -> Answer:
    """(status, JSON body); problems carry `detail` and, for 422, `errors` naming every bad field."""
    if revocations is None:
        return 503, {"detail": "No revocation store is configured (PUTOKAZ_REVOCATION_URL)"}
    if path == VERIFY_PATH:
        verdict = await revocations.store.verify_audit()
        if verdict is None:
            return 409, {"detail": "This revocation store (Redis) keeps no audit chain to verify"}
        return 200, verdict
    if method == "GET":
        return 200, {"items": [_read(r) for r in await revocations.store.recent(100)]}
    try:
        request = RevocationCreate.model_validate(json.loads(body or b"null"))
    except json.JSONDecodeError:
        return 422, {"detail": "The body is not JSON", "errors": [{"field": "body", "message": "not JSON"}]}
    except ValidationError as exc:
        errors = _field_errors(exc)
        return 422, {"detail": "The request is not valid: " + ", ".join(e["field"] for e in errors), "errors": errors}
    kind, value = ("jti", request.jti) if request.jti is not None else ("subject", request.sub)
    assert value is not None
    revocation = await revocations.revoke(kind, value, principal, request.reason)
    # The audit record is the stored revocation itself; the log line names no one.
    logger.info("token revocation", extra={"kind": kind, "target_digest": revocation.target})
    return 201, _read(revocation)


def _problems(*statuses: int) -> dict[str, Any]:
    """The problem+json answers of a gateway route (the Problem schema comes with the services' documents)."""
    titles = {
        401: "Missing or invalid token",
        403: "Your role may not call this route",
        409: "The store (Redis) keeps no audit chain",
        422: "The body is not valid; `errors` names every bad field",
        503: "No revocation store is configured",
    }
    content = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    return {str(s): {"description": titles[s], "content": content} for s in statuses}


OPENAPI_PATHS: dict[str, Any] = {
    PATH: {
        "post": {
            "summary": "Revoke one token (jti) or every token of a subject issued before now",
            "tags": ["revocations"],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": RevocationCreate.model_json_schema()}},
            },
            "responses": {
                "201": {"description": "Revoked everywhere within a few seconds"},
                **_problems(401, 403, 422, 503),
            },
        },
        "get": {
            "summary": "The latest revocations (who, when, why)",
            "tags": ["revocations"],
            "responses": {"200": {"description": "Latest revocations, newest first"}, **_problems(401, 403, 503)},
        },
    },
    VERIFY_PATH: {
        "get": {
            "summary": "Check the revocation store's hash-chained audit log; names the first broken row",
            "tags": ["revocations"],
            "responses": {
                "200": {"description": "ok, rows checked, the chain's head, and the first broken row (or null)"},
                **_problems(401, 403, 409, 503),
            },
        },
    },
}
