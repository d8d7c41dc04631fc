"""Every query of the strategy service; a reporter's reads are scoped to its organisation in the query itself."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.strategy.models import (
    ComputedValue,
    Goal,
    Indicator,
    Measure,
    MeasureOrganisation,
    OverdueNotice,
    Plan,
    Report,
    audit_tables,
)


def assigned_to(org: str | None):  # type: ignore[no-untyped-def]
    """The condition "the measure is assigned to `org`" (None: the coordinator, who sees every measure)."""
    if org is None:
        return True
    return exists().where(MeasureOrganisation.measure_id == Measure.id, MeasureOrganisation.org_id == org)


async def list_plans(session: AsyncSession) -> Sequence[Plan]:
    return (await session.scalars(select(Plan).order_by(Plan.starts_on.desc(), Plan.code))).all()


async def get_plan(session: AsyncSession, plan_id: str) -> Plan | None:
    return await session.get(Plan, plan_id)


async def plan_code_taken(session: AsyncSession, code: str) -> bool:
    return (await session.scalar(select(Plan.id).where(Plan.code == code))) is not None


async def list_measures(session: AsyncSession, org: str | None, plan_id: str | None = None) -> Sequence[Measure]:
    query = (
        select(Measure).join(Goal).where(assigned_to(org)).order_by(Measure.plan_id, Goal.position, Measure.position)
    )
    if plan_id is not None:
        query = query.where(Measure.plan_id == plan_id)
    return (await session.scalars(query)).all()


async def get_measure(session: AsyncSession, measure_id: str, org: str | None) -> Measure | None:
    return await session.scalar(select(Measure).where(Measure.id == measure_id, assigned_to(org)))


async def get_goal(session: AsyncSession, goal_id: str) -> Goal | None:
    return await session.get(Goal, goal_id)


async def list_indicators(session: AsyncSession, org: str | None, plan_id: str | None = None) -> Sequence[Indicator]:
    query = (
        select(Indicator)
        .join(Measure, Indicator.measure_id == Measure.id)
        .where(assigned_to(org))
        .order_by(Indicator.plan_id, Indicator.code)
    )
    if plan_id is not None:
        query = query.where(Indicator.plan_id == plan_id)
    return (await session.scalars(query)).all()


async def get_indicator(session: AsyncSession, indicator_id: str, org: str | None) -> Indicator | None:
    return await session.scalar(
        select(Indicator)
        .join(Measure, Indicator.measure_id == Measure.id)
        .where(Indicator.id == indicator_id, assigned_to(org))
    )


async def plan_indicators(session: AsyncSession, plan_id: str) -> Sequence[Indicator]:
    return (await session.scalars(select(Indicator).where(Indicator.plan_id == plan_id))).all()


async def reports_of(session: AsyncSession, indicator_ids: Sequence[str]) -> Sequence[Report]:
    if not indicator_ids:
        return []
    return (
        await session.scalars(
            select(Report).where(Report.indicator_id.in_(indicator_ids)).order_by(Report.submitted_at, Report.id)
        )
    ).all()


async def values_of(session: AsyncSession, indicator_ids: Sequence[str]) -> Sequence[ComputedValue]:
    if not indicator_ids:
        return []
    return (
        await session.scalars(
            select(ComputedValue).where(ComputedValue.indicator_id.in_(indicator_ids)).order_by(ComputedValue.period)
        )
    ).all()


async def get_report(session: AsyncSession, indicator_id: str, report_id: str) -> Report | None:
    return await session.scalar(select(Report).where(Report.id == report_id, Report.indicator_id == indicator_id))


async def evidence_of(session: AsyncSession, report_id: str) -> bytes | None:
    return await session.scalar(select(Report.evidence).where(Report.id == report_id))


async def open_report(session: AsyncSession, indicator_id: str, period: str) -> Report | None:
    """A report of the period still awaiting review or already accepted (a new one would contradict it)."""
    return await session.scalar(
        select(Report).where(
            Report.indicator_id == indicator_id, Report.period == period, Report.status.in_(("submitted", "accepted"))
        )
    )


async def computed_value(session: AsyncSession, indicator_id: str, period: str) -> ComputedValue | None:
    return await session.scalar(
        select(ComputedValue).where(ComputedValue.indicator_id == indicator_id, ComputedValue.period == period)
    )


async def notices_of(session: AsyncSession, indicator_ids: Sequence[str]) -> set[tuple[str, str]]:
    if not indicator_ids:
        return set()
    rows = await session.execute(
        select(OverdueNotice.indicator_id, OverdueNotice.period).where(OverdueNotice.indicator_id.in_(indicator_ids))
    )
    return {(r[0], r[1]) for r in rows}


async def reported_indicators_of_active_plans(session: AsyncSession) -> Sequence[Indicator]:
    return (
        await session.scalars(
            select(Indicator)
            .join(Plan, Indicator.plan_id == Plan.id)
            .where(Plan.status == "active", Indicator.kind == "reported")
        )
    ).all()


async def audit_of(session: AsyncSession, plan_id: str, limit: int, offset: int) -> tuple[Sequence[Any], int]:
    """The plan's entries of the service's hash-chained audit log (each entry names its plan), newest first."""
    log = audit_tables.log
    where = (log.c.object_type == "plan", log.c.object_id == plan_id)
    rows = (
        await session.execute(select(log).where(*where).order_by(log.c.seq.desc()).limit(limit).offset(offset))
    ).all()
    total = await session.scalar(select(func.count()).select_from(log).where(*where))
    return rows, int(total or 0)
