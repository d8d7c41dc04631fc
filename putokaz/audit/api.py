"""The admin routes every service mounts: `GET /api/v1/audit/{service}` and `.../verify`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select

from putokaz.audit.chain import verify
from putokaz.audit.tables import AuditTables
from putokaz.auth import Authorize, Principal
from putokaz.db import DbSession


class AuditRow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seq: int
    at: datetime
    actor_sub: str
    actor_org: str
    actor_roles: list[str]
    action: str
    object_type: str
    object_id: str | None
    outcome: str
    detail: dict[str, Any] | None
    hash: str


class AuditLogPage(BaseModel):
    items: list[AuditRow]
    total: int
    limit: int
    offset: int


class ChainHead(BaseModel):
    seq: int
    hash: str


class BrokenRow(BaseModel):
    seq: int | None
    reason: str | None


class ChainVerification(BaseModel):
    ok: bool
    rows_checked: int
    head: ChainHead
    first_broken: BrokenRow | None


Admin = Annotated[Principal, Depends(Authorize("admin"))]


def _tables(request: Request) -> AuditTables:
    return request.app.state.audit_tables


Tables = Annotated[AuditTables, Depends(_tables)]


def audit_router(service: str) -> APIRouter:
    """Reads the service's `app.state.audit_tables`; admin only."""
    router = APIRouter(prefix=f"/api/v1/audit/{service}", tags=["audit"])

    @router.get("", response_model=AuditLogPage)
    async def list_audit(
        _: Admin,
        session: DbSession,
        audit: Tables,
        object_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
        actor: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
        action: Annotated[str | None, Query(pattern=r"^[a-z_.]{1,40}$")] = None,
        outcome: Annotated[str | None, Query(pattern=r"^(ok|refused)$")] = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    ) -> dict[str, Any]:
        log = audit.log
        query = select(log)
        for column, value in (
            (log.c.object_id, object_id),
            (log.c.actor_sub, actor),
            (log.c.action, action),
            (log.c.outcome, outcome),
        ):
            if value is not None:
                query = query.where(column == value)
        if since is not None:
            query = query.where(log.c.at >= since)
        if until is not None:
            query = query.where(log.c.at < until)
        total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = (await session.execute(query.order_by(log.c.seq.desc()).limit(limit).offset(offset))).mappings()
        items = [
            {
                **{k: v for k, v in row.items() if k != "prev_hash"},
                "actor_roles": [r for r in row["actor_roles"].split(",") if r],
            }
            for row in rows
        ]
        return {"items": items, "total": total, "limit": limit, "offset": offset}

    @router.get("/verify", response_model=ChainVerification)
    async def verify_audit(_: Admin, session: DbSession, audit: Tables) -> dict[str, Any]:
        return (await verify(session, audit)).as_dict()

    return router
