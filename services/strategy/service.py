"""The plan's life: load, edit, report, review, refresh computed values — each change audited in its transaction."""

from __future__ import annotations

import base64
import binascii
import hashlib
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from putokaz import audit as audit_log
from putokaz.auth import Principal
from putokaz.errors import Conflict, Invalid, NotFound
from services.strategy import repository
from services.strategy.computed import DEFINITIONS, RegistryClient, compute
from services.strategy.models import (
    Activity,
    ComputedValue,
    Goal,
    Indicator,
    Measure,
    MeasureOrganisation,
    Plan,
    Report,
    audit_tables,
)
from services.strategy.periods import indicator_periods
from services.strategy.plan_import import check_indicator, validated
from services.strategy.schemas import (
    ActivityUpdate,
    IndicatorCreate,
    IndicatorUpdate,
    MeasureUpdate,
    PlanCreate,
    PlanUpdate,
    ReportCreate,
    ReviewCreate,
)


def new_id() -> str:
    return str(uuid.uuid4())


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def snapshot(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {f: _json(getattr(obj, f)) for f in fields}


PLAN_FIELDS = ("code", "title", "starts_on", "ends_on", "status")
MEASURE_FIELDS = ("code", "title", "description", "deadline", "status", "org_ids")
INDICATOR_FIELDS = ("code", "title", "kind", "source", "unit", "baseline", "target", "frequency")
ACTIVITY_FIELDS = ("code", "title", "deadline", "status")
# Free text (comments) stays out of the audit log; its values, status and evidence fingerprint go in.
REPORT_FIELDS = ("period", "value", "status", "org_id", "evidence_url", "evidence_sha256")


def audit(
    session: AsyncSession,
    principal: Principal,
    now: datetime,
    plan_id: str,
    action: str,
    entity: str,
    entity_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """One entry of the service's hash-chained audit log, written with the change when it commits."""
    detail = {"entity": entity, "entity_id": entity_id, "before": before, "after": after}
    entry = audit_log.Entry(audit_log.Actor.of(principal), action, "plan", plan_id, detail=detail, at=now)
    audit_log.record(session, audit_tables, entry)


AUDITED_FIELDS: dict[type, tuple[str, ...]] = {
    Plan: PLAN_FIELDS,
    Measure: MEASURE_FIELDS,
    Activity: ACTIVITY_FIELDS,
    Indicator: INDICATOR_FIELDS,
    Report: REPORT_FIELDS,
}


def audited(obj: Plan | Measure | Activity | Indicator | Report) -> dict[str, Any]:
    """The audited fields of a plan, measure, activity, indicator or report, as they are now."""
    return snapshot(obj, AUDITED_FIELDS[type(obj)])


def audit_change(
    session: AsyncSession,
    principal: Principal,
    now: datetime,
    plan_id: str,
    action: str,
    obj: Plan | Measure | Activity | Indicator | Report,
    before: dict[str, Any] | None,
) -> None:
    """`action` on `obj`: its audited fields before (None: created) and after."""
    audit(session, principal, now, plan_id, action, type(obj).__name__.lower(), obj.id, before, audited(obj))


def _indicator(data: IndicatorCreate, plan_id: str, measure_id: str, position: int) -> Indicator:
    return Indicator(
        id=new_id(),
        plan_id=plan_id,
        measure_id=measure_id,
        code=data.code,
        title=data.title,
        kind=data.kind,
        source=data.source if data.kind == "computed" else None,
        unit=data.unit,
        baseline=data.baseline,
        target=data.target,
        frequency=data.frequency,
        position=position,
    )


async def create_plan(session: AsyncSession, data: PlanCreate, principal: Principal, now: datetime) -> Plan:
    validated(data)
    if await repository.plan_code_taken(session, data.code):
        raise Conflict("A plan with this code exists already", errors=[{"field": "code", "message": "taken"}])
    plan = Plan(
        id=new_id(),
        code=data.code,
        title=data.title,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        status=data.status,
        created_at=now,
        updated_at=now,
        goals=[],
    )
    for gi, g in enumerate(data.goals):
        goal = Goal(id=new_id(), plan_id=plan.id, code=g.code, part=g.part, title=g.title, position=gi, measures=[])
        for mi, m in enumerate(g.measures):
            measure = Measure(
                id=new_id(),
                plan_id=plan.id,
                goal_id=goal.id,
                code=m.code,
                title=m.title,
                description=m.description,
                deadline=m.deadline,
                status="open",
                position=mi,
                organisations=[MeasureOrganisation(org_id=o) for o in m.organisations],
                activities=[
                    Activity(
                        id=new_id(),
                        code=a.code,
                        title=a.title,
                        organisations=list(a.organisations),
                        deadline=a.deadline,
                        status="planned",
                        position=ai,
                    )
                    for ai, a in enumerate(m.activities)
                ],
                indicators=[_indicator(i, plan.id, "", ii) for ii, i in enumerate(m.indicators)],
            )
            for indicator in measure.indicators:
                indicator.measure_id = measure.id
            goal.measures.append(measure)
        plan.goals.append(goal)
    session.add(plan)
    audit(session, principal, now, plan.id, "plan.created", "plan", plan.id, None, data.model_dump(mode="json"))
    await session.flush()
    return plan


async def _apply(
    session: AsyncSession,
    principal: Principal,
    now: datetime,
    plan: Plan,
    obj: Plan | Measure,
    changes: dict[str, Any],
    action: str,
    before: dict[str, Any],
) -> None:
    """Set the changed fields of the plan or measure, mark the plan updated, audit the change."""
    for key, value in changes.items():
        setattr(obj, key, value)
    plan.updated_at = now
    audit_change(session, principal, now, plan.id, action, obj, before)
    await session.flush()


async def update_plan(session: AsyncSession, plan: Plan, data: PlanUpdate, principal: Principal, now: datetime) -> Plan:
    before = audited(plan)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if "ends_on" in changes and changes["ends_on"] <= plan.starts_on:
        raise Invalid("The plan must end after it starts", field="ends_on")
    await _apply(session, principal, now, plan, plan, changes, "plan.updated", before)
    return plan


async def update_measure(
    session: AsyncSession, measure: Measure, data: MeasureUpdate, principal: Principal, now: datetime
) -> Measure:
    plan = await repository.get_plan(session, measure.plan_id)
    assert plan is not None
    before = audited(measure)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if "deadline" in changes and not plan.starts_on <= changes["deadline"] <= plan.ends_on:
        raise Invalid("The deadline must fall within the plan's period", field="deadline")
    organisations = changes.pop("organisations", None)
    if organisations is not None:
        if len(set(organisations)) != len(organisations):
            raise Invalid("An organisation is named more than once", field="organisations")
        measure.organisations = [MeasureOrganisation(org_id=o) for o in organisations]
    await _apply(session, principal, now, plan, measure, changes, "measure.updated", before)
    return measure


async def update_activity(
    session: AsyncSession, measure: Measure, activity_id: str, data: ActivityUpdate, principal: Principal, now: datetime
) -> Activity:
    activity = next((a for a in measure.activities if a.id == activity_id), None)
    if activity is None:
        raise NotFound("No such activity")
    before = audited(activity)
    activity.status = data.status
    audit_change(session, principal, now, measure.plan_id, "activity.updated", activity, before)
    await session.flush()
    return activity


async def update_indicator(
    session: AsyncSession, indicator: Indicator, data: IndicatorUpdate, principal: Principal, now: datetime
) -> Indicator:
    before = audited(indicator)
    merged = IndicatorCreate.model_validate({**before, **data.model_dump(exclude_unset=True, exclude_none=True)})
    errors = check_indicator(merged, "body")
    if errors:
        raise Invalid("The indicator would not be valid", errors=[{**e, "field": e["field"][5:]} for e in errors])
    for key in ("title", "unit", "baseline", "target", "frequency"):
        setattr(indicator, key, getattr(merged, key))
    audit_change(session, principal, now, indicator.plan_id, "indicator.updated", indicator, before)
    await session.flush()
    return indicator


def _evidence(data: ReportCreate, max_bytes: int) -> tuple[bytes | None, str | None]:
    if data.evidence_document is None:
        return None, None
    try:
        content = base64.b64decode(data.evidence_document.content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise Invalid("The document is not valid base64", field="evidence_document.content_base64") from None
    if not content:
        raise Invalid("The document is empty", field="evidence_document.content_base64")
    if len(content) > max_bytes:
        raise Invalid(f"The document is larger than {max_bytes} bytes", field="evidence_document.content_base64")
    return content, hashlib.sha256(content).hexdigest()


async def submit_report(
    session: AsyncSession,
    indicator: Indicator,
    data: ReportCreate,
    principal: Principal,
    now: datetime,
    *,
    evidence_max_bytes: int,
) -> Report:
    if indicator.kind != "reported":
        raise Conflict("This indicator is computed from the registry; it takes no reports")
    plan = await repository.get_plan(session, indicator.plan_id)
    assert plan is not None
    if plan.status != "active":
        raise Conflict("The plan is not active; it takes no reports")
    allowed = indicator_periods(indicator, plan, indicator.measure.deadline)
    if data.period not in allowed:
        raise Invalid(
            f"The period must be one of this {indicator.frequency} indicator's: {', '.join(allowed)}", field="period"
        )
    if data.evidence_url is None and data.evidence_document is None:
        raise Invalid("Evidence is required: a link or a document", field="evidence_url")
    if await repository.open_report(session, indicator.id, data.period) is not None:
        raise Conflict("A report for this period is awaiting review or accepted already")
    content, digest = _evidence(data, evidence_max_bytes)
    report = Report(
        id=new_id(),
        indicator_id=indicator.id,
        org_id=principal.org,
        period=data.period,
        value=data.value,
        comment=data.comment,
        evidence_url=str(data.evidence_url) if data.evidence_url else None,
        evidence_name=data.evidence_document.name if data.evidence_document else None,
        evidence_type=data.evidence_document.media_type if data.evidence_document else None,
        evidence_sha256=digest,
        evidence=content,
        status="submitted",
        submitted_by=principal.sub,
        submitted_at=now,
        review_comment="",
    )
    session.add(report)
    audit_change(session, principal, now, plan.id, "report.submitted", report, None)
    await session.flush()
    return report


async def review_report(
    session: AsyncSession, report: Report, indicator: Indicator, data: ReviewCreate, principal: Principal, now: datetime
) -> Report:
    if report.status != "submitted":
        raise Conflict(f"The report is {report.status} already")
    if data.decision == "return" and not data.comment.strip():
        raise Invalid("Say why the report is returned", field="comment")
    before = audited(report)
    report.status = "accepted" if data.decision == "accept" else "returned"
    report.reviewed_by = principal.sub
    report.reviewed_at = now
    report.review_comment = data.comment
    audit_change(session, principal, now, indicator.plan_id, f"report.{report.status}", report, before)
    await session.flush()
    return report


async def refresh_plan(
    session: AsyncSession, plan: Plan, client: RegistryClient, principal: Principal, now: datetime
) -> dict[str, list[ComputedValue]]:
    """Recompute every computed indicator of the plan for each year from its start to this year."""
    out: dict[str, list[ComputedValue]] = {}
    last_year = min(plan.ends_on.year, now.year)
    for indicator in await repository.plan_indicators(session, plan.id):
        if indicator.kind != "computed" or indicator.source not in DEFINITIONS:
            continue
        values = []
        for year in range(plan.starts_on.year, last_year + 1):
            outcome = await compute(client, indicator.source, year)
            row = await repository.computed_value(session, indicator.id, str(year))
            if row is None:
                row = ComputedValue(id=new_id(), indicator_id=indicator.id, period=str(year))
                session.add(row)
            row.value, row.status, row.note, row.computed_at = outcome.value, outcome.status, outcome.note[:500], now
            values.append(row)
        out[indicator.id] = values
    audit(session, principal, now, plan.id, "plan.refreshed", "plan", plan.id, None, {"indicators": len(out)})
    await session.flush()
    return out
