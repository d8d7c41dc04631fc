"""Every query of the screening service; screenings are always scoped to the caller's organisation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from putokaz import audit as audit_log
from putokaz.auth import Principal
from services.screening.models import BlindIndex, Decision, Screening, audit_tables


async def get_screening(
    session: AsyncSession, org: str, screening_id: str, *, for_update: bool = False
) -> Screening | None:
    query = select(Screening).where(Screening.id == screening_id, Screening.org_id == org)
    if for_update:
        # Serialises concurrent answer/submit/decision writes to one screening on PostgreSQL.
        query = query.with_for_update()
    return await session.scalar(query)


@dataclass(frozen=True)
class ScreeningFilters:
    state: str | None = None
    outcome: str | None = None
    instrument: str | None = None
    language: str | None = None
    urgent: bool | None = None
    child: bool | None = None
    entity: str | None = None
    canton: int | None = None
    started_from: datetime | None = None
    started_to: datetime | None = None


def _filtered(org: str, filters: ScreeningFilters) -> Select[Any]:
    query = select(Screening).where(Screening.org_id == org)
    columns = {
        "state": Screening.state,
        "outcome": Screening.outcome,
        "instrument": Screening.instrument_code,
        "language": Screening.language,
        "urgent": Screening.urgent,
        "child": Screening.child,
        "entity": Screening.entity,
        "canton": Screening.canton,
    }
    for name, column in columns.items():
        value = getattr(filters, name)
        if value is not None:
            query = query.where(column == value)
    if filters.started_from is not None:
        query = query.where(Screening.started_at >= filters.started_from)
    if filters.started_to is not None:
        query = query.where(Screening.started_at < filters.started_to)
    return query


async def list_screenings(
    session: AsyncSession, org: str, filters: ScreeningFilters, limit: int, offset: int
) -> tuple[list[Screening], int]:
    query = _filtered(org, filters)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(query.order_by(Screening.started_at.desc(), Screening.id).limit(limit).offset(offset))
    return list(rows), total


async def decisions_of(session: AsyncSession, org: str, screening_id: str) -> list[Decision]:
    rows = await session.scalars(
        select(Decision)
        .where(Decision.screening_id == screening_id, Decision.org_id == org)
        .order_by(Decision.recorded_at, Decision.id)
    )
    return list(rows)


async def blind_index_matches(session: AsyncSession, org: str, digests: list[tuple[str, str]]) -> dict[str, set[str]]:
    """Screening ids of the caller's organisation whose blind index equals one of `digests` (kind, digest)."""
    if not digests:
        return {}
    wanted = set(digests)
    rows = await session.execute(
        select(BlindIndex.screening_id, BlindIndex.kind, BlindIndex.digest).where(
            BlindIndex.org_id == org, BlindIndex.digest.in_([digest for _, digest in digests])
        )
    )
    found: dict[str, set[str]] = {}
    for screening_id, kind, digest in rows:
        if (kind, digest) in wanted:
            found.setdefault(screening_id, set()).add(kind)
    return found


async def screenings_by_ids(session: AsyncSession, org: str, ids: list[str]) -> list[Screening]:
    if not ids:
        return []
    rows = await session.scalars(
        select(Screening).where(Screening.org_id == org, Screening.id.in_(ids)).order_by(Screening.started_at.desc())
    )
    return list(rows)


async def delete_blind_index(session: AsyncSession, screening_id: str) -> None:
    await session.execute(delete(BlindIndex).where(BlindIndex.screening_id == screening_id))


def audit(session: AsyncSession, principal: Principal, action: str, screening_id: str | None = None) -> None:
    """Chained into the service's audit log when the request's transaction commits."""
    audit_log.record_for(session, audit_tables, principal, action, "screening", screening_id)


def audit_detail(
    session: AsyncSession, principal: Principal, action: str, screening_id: str, detail: dict[str, Any] | None
) -> None:
    audit_log.record_for(session, audit_tables, principal, action, "screening", screening_id, detail=detail)


async def audit_refused(session: AsyncSession, principal: Principal, action: str, screening_id: str) -> None:
    """A read of a screening the caller may not see (or that does not exist), committed on its own."""
    await audit_log.record_refused(session, audit_tables, principal, action, "screening", screening_id)


async def list_audit(
    session: AsyncSession,
    *,
    screening_id: str | None,
    actor_sub: str | None,
    action: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
) -> tuple[list[Any], int]:
    log = audit_tables.log
    query = select(log).where(log.c.object_type == "screening")
    if screening_id is not None:
        query = query.where(log.c.object_id == screening_id)
    if actor_sub is not None:
        query = query.where(log.c.actor_sub == actor_sub)
    if action is not None:
        query = query.where(log.c.action == action)
    if since is not None:
        query = query.where(log.c.at >= since)
    if until is not None:
        query = query.where(log.c.at < until)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.execute(query.order_by(log.c.seq.desc()).limit(limit).offset(offset))
    return list(rows.mappings()), total
