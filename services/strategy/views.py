"""Read shapes built from the tables (a measure carries its goal; an indicator its definition)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from services.strategy.computed import DEFINITIONS
from services.strategy.models import ComputedValue, Indicator, Measure, Plan, Report
from services.strategy.periods import indicator_periods
from services.strategy.schemas import (
    ActivityRead,
    AuditRead,
    ComputedValueRead,
    GoalRead,
    IndicatorDetail,
    IndicatorRead,
    MeasureRead,
    PlanRead,
    ReportRead,
)


def indicator_read(indicator: Indicator) -> IndicatorRead:
    read = IndicatorRead.model_validate(indicator)
    if indicator.source in DEFINITIONS:
        read.definition = DEFINITIONS[indicator.source].definition
    return read


def indicator_detail(
    indicator: Indicator, values: Sequence[ComputedValue], reports: Sequence[Report], plan: Plan
) -> IndicatorDetail:
    # What submit_report accepts: a reported indicator of an active plan, a period of the plan with no report
    # awaiting review or accepted (a returned one may be reported again).
    taken = {r.period for r in reports if r.status in ("submitted", "accepted")}
    reportable = (
        [p for p in indicator_periods(indicator, plan, indicator.measure.deadline) if p not in taken]
        if indicator.kind == "reported" and plan.status == "active"
        else []
    )
    return IndicatorDetail(
        **indicator_read(indicator).model_dump(),
        values=[ComputedValueRead.model_validate(v) for v in values],
        reports=[ReportRead.model_validate(r) for r in reports],
        reportable_periods=reportable,
    )


def measure_read(measure: Measure) -> MeasureRead:
    return MeasureRead(
        id=measure.id,
        plan_id=measure.plan_id,
        goal_id=measure.goal_id,
        goal_code=measure.goal.code,
        goal_title=measure.goal.title,
        part=measure.goal.part,  # type: ignore[arg-type]
        code=measure.code,
        title=measure.title,
        description=measure.description,
        organisations=measure.org_ids,
        deadline=measure.deadline,
        status=measure.status,  # type: ignore[arg-type]
        activities=[ActivityRead.model_validate(a) for a in measure.activities],
        indicators=[indicator_read(i) for i in measure.indicators],
    )


def plan_read(plan: Plan) -> PlanRead:
    return PlanRead(
        id=plan.id,
        code=plan.code,
        title=plan.title,
        starts_on=plan.starts_on,
        ends_on=plan.ends_on,
        status=plan.status,  # type: ignore[arg-type]
        created_at=plan.created_at,
        updated_at=plan.updated_at,
        goals=[
            GoalRead(
                id=g.id,
                code=g.code,
                part=g.part,  # type: ignore[arg-type]
                title=g.title,
                measures=[measure_read(m) for m in g.measures],
            )
            for g in plan.goals
        ],
    )


def audit_read(row: Any) -> AuditRead:
    detail = row.detail or {}
    return AuditRead(
        seq=row.seq,
        at=row.at,
        actor=row.actor_sub,
        actor_org=row.actor_org,
        action=row.action,
        entity=detail.get("entity", "plan"),
        entity_id=detail.get("entity_id", row.object_id or ""),
        before=detail.get("before"),
        after=detail.get("after"),
        hash=row.hash,
    )
