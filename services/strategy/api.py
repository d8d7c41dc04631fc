"""HTTP routes of the strategy monitor: plans, measures, indicators and reports, progress and its export."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import ValidationError

from putokaz.auth import Authorize, Principal
from putokaz.clock import Now
from putokaz.db import DbSession
from putokaz.errors import Invalid, NotFound, ProblemError, found
from putokaz.schemas import Limit, Offset, Page
from services.strategy import repository, service
from services.strategy.computed import RegistryClient
from services.strategy.export import progress_csv, progress_html
from services.strategy.plan_import import plan_from_csv, validated
from services.strategy.progress import plan_progress
from services.strategy.schemas import (
    ActivityRead,
    ActivityUpdate,
    AuditRead,
    ComputedValueRead,
    IndicatorDetail,
    IndicatorRead,
    IndicatorUpdate,
    MeasureRead,
    MeasureUpdate,
    PlanCreate,
    PlanRead,
    PlanSummary,
    PlanUpdate,
    ProgressRead,
    RefreshRead,
    ReportCreate,
    ReportRead,
    ReviewCreate,
)
from services.strategy.settings import Settings
from services.strategy.views import audit_read, indicator_detail, indicator_read, measure_read, plan_read

router = APIRouter(prefix="/api/v1", tags=["strategy"])

COORDINATOR = Authorize("coordinator")
READERS = Authorize("coordinator", "reporter")
REPORTER = Authorize("reporter")
AUDITORS = Authorize("coordinator", "admin")
Coordinator = Annotated[Principal, Depends(COORDINATOR)]
Reader = Annotated[Principal, Depends(READERS)]
Id = Annotated[str, Path(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9-]+$")]


class UnsupportedMediaType(ProblemError):
    status = 415


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def scope(principal: Principal) -> str | None:
    """None for the coordinator (every measure); a reporter's organisation otherwise."""
    return None if "coordinator" in principal.roles else principal.org


async def _plan(session: DbSession, plan_id: str) -> Any:
    return found(await repository.get_plan(session, plan_id), "plan")


@router.get("/plans", response_model=Page[PlanSummary])
async def list_plans(session: DbSession, _: Coordinator) -> Page[PlanSummary]:
    """Every plan (a handful: one per action-plan period), newest first."""
    plans = [PlanSummary.model_validate(p) for p in await repository.list_plans(session)]
    return Page.whole(plans)


@router.post("/plans", status_code=201, response_model=PlanRead)
async def create_plan(session: DbSession, principal: Coordinator, now: Now, body: PlanCreate) -> PlanRead:
    """Load a whole plan (goals → measures → activities, indicators): every error reported, or nothing loaded."""
    return plan_read(await service.create_plan(session, body, principal, now))


PLAN_FILE: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {
                "schema": {"type": "string", "description": "one row per plan/goal/measure/activity/indicator"}
            },
            "application/json": {"schema": {"$ref": "#/components/schemas/PlanCreate"}},
        },
    }
}


@router.post(
    "/plans/import",
    status_code=201,
    response_model=PlanRead,
    openapi_extra=PLAN_FILE,
    responses={422: {"description": "every row error, with its row number; nothing loaded"}},
)
async def import_plan(request: Request, session: DbSession, principal: Coordinator, now: Now) -> PlanRead:
    """Load a plan from a file: CSV (see docs/strategy.md) or the JSON of POST /plans."""
    settings = _settings(request)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("text/csv", "application/csv", "application/json"):
        raise UnsupportedMediaType("Send the plan as text/csv or application/json")
    body = await request.body()
    if len(body) > settings.plan_import_max_bytes:
        raise Invalid(f"The file is larger than {settings.plan_import_max_bytes} bytes", field="body")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("The file is not UTF-8 text", field="body") from None
    if content_type == "application/json":
        try:
            plan = validated(PlanCreate.model_validate(json.loads(text)))
        except json.JSONDecodeError:
            raise Invalid("The file is not JSON", field="body") from None
        except ValidationError as exc:
            errors = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
            raise Invalid(f"{len(errors)} error(s); nothing was loaded", errors=errors[:500]) from None
    else:
        plan = plan_from_csv(text)
    return plan_read(await service.create_plan(session, plan, principal, now))


@router.get("/plans/{plan_id}", response_model=PlanRead)
async def read_plan(session: DbSession, _: Coordinator, plan_id: Id) -> PlanRead:
    return plan_read(await _plan(session, plan_id))


@router.patch("/plans/{plan_id}", response_model=PlanSummary)
async def update_plan(session: DbSession, principal: Coordinator, now: Now, plan_id: Id, body: PlanUpdate) -> Any:
    plan = await service.update_plan(session, await _plan(session, plan_id), body, principal, now)
    return PlanSummary.model_validate(plan)


@router.get("/plans/{plan_id}/audit", response_model=Page[AuditRead])
async def plan_audit(
    session: DbSession,
    _: Annotated[Principal, Depends(AUDITORS)],
    plan_id: Id,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[AuditRead]:
    """Who changed or reviewed what in the plan, when, with the values before and after (newest first)."""
    await _plan(session, plan_id)
    rows, total = await repository.audit_of(session, plan_id, limit, offset)
    return Page(items=[audit_read(r) for r in rows], total=total, limit=limit, offset=offset)


@router.post("/plans/{plan_id}/refresh", response_model=RefreshRead)
async def refresh_plan(request: Request, session: DbSession, principal: Coordinator, now: Now, plan_id: Id) -> Any:
    """Recompute the plan's computed indicators from the registry's protected statistics."""
    plan = await _plan(session, plan_id)
    client: RegistryClient = request.app.state.registry
    values = await service.refresh_plan(session, plan, client, principal, now)
    return RefreshRead(
        plan_id=plan.id, values={k: [ComputedValueRead.model_validate(v) for v in vs] for k, vs in values.items()}
    )


@router.get("/measures", response_model=Page[MeasureRead])
async def list_measures(
    session: DbSession, principal: Reader, plan_id: Annotated[str | None, Query(max_length=40)] = None
) -> Page[MeasureRead]:
    """The coordinator sees every measure; a reporter only those assigned to its organisation."""
    measures = [measure_read(m) for m in await repository.list_measures(session, scope(principal), plan_id)]
    return Page.whole(measures)


async def _measure(session: DbSession, principal: Principal, measure_id: str) -> Any:
    return found(await repository.get_measure(session, measure_id, scope(principal)), "measure")


@router.get("/measures/{measure_id}", response_model=MeasureRead)
async def read_measure(session: DbSession, principal: Reader, measure_id: Id) -> MeasureRead:
    return measure_read(await _measure(session, principal, measure_id))


@router.patch("/measures/{measure_id}", response_model=MeasureRead)
async def update_measure(
    session: DbSession, principal: Coordinator, now: Now, measure_id: Id, body: MeasureUpdate
) -> MeasureRead:
    measure = await _measure(session, principal, measure_id)
    return measure_read(await service.update_measure(session, measure, body, principal, now))


@router.patch("/measures/{measure_id}/activities/{activity_id}", response_model=ActivityRead)
async def update_activity(
    session: DbSession, principal: Reader, now: Now, measure_id: Id, activity_id: Id, body: ActivityUpdate
) -> Any:
    """Mark an activity planned, in progress or done (the coordinator, or a responsible organisation)."""
    measure = await _measure(session, principal, measure_id)
    return ActivityRead.model_validate(
        await service.update_activity(session, measure, activity_id, body, principal, now)
    )


@router.get("/indicators", response_model=Page[IndicatorRead])
async def list_indicators(
    session: DbSession, principal: Reader, plan_id: Annotated[str | None, Query(max_length=40)] = None
) -> Page[IndicatorRead]:
    indicators = [indicator_read(i) for i in await repository.list_indicators(session, scope(principal), plan_id)]
    return Page.whole(indicators)


async def _indicator(session: DbSession, principal: Principal, indicator_id: str) -> Any:
    return found(await repository.get_indicator(session, indicator_id, scope(principal)), "indicator")


@router.get("/indicators/{indicator_id}", response_model=IndicatorDetail)
async def read_indicator(session: DbSession, principal: Reader, indicator_id: Id) -> IndicatorDetail:
    """The indicator with its computed values, every report (and its review) and the periods open to a report."""
    indicator = await _indicator(session, principal, indicator_id)
    values = await repository.values_of(session, [indicator.id])
    reports = await repository.reports_of(session, [indicator.id])
    return indicator_detail(indicator, values, reports, await _plan(session, indicator.plan_id))


@router.patch("/indicators/{indicator_id}", response_model=IndicatorRead)
async def update_indicator(
    session: DbSession, principal: Coordinator, now: Now, indicator_id: Id, body: IndicatorUpdate
) -> IndicatorRead:
    indicator = await _indicator(session, principal, indicator_id)
    return indicator_read(await service.update_indicator(session, indicator, body, principal, now))


@router.post("/indicators/{indicator_id}/reports", status_code=201, response_model=ReportRead)
async def submit_report(
    request: Request,
    session: DbSession,
    principal: Annotated[Principal, Depends(REPORTER)],
    now: Now,
    indicator_id: Id,
    body: ReportCreate,
) -> ReportRead:
    """A responsible organisation reports a value for one period, with evidence (a link or a document)."""
    indicator = await _indicator(session, principal, indicator_id)
    report = await service.submit_report(
        session, indicator, body, principal, now, evidence_max_bytes=_settings(request).evidence_max_bytes
    )
    return ReportRead.model_validate(report)


@router.post("/indicators/{indicator_id}/reports/{report_id}/review", response_model=ReportRead)
async def review_report(
    session: DbSession, principal: Coordinator, now: Now, indicator_id: Id, report_id: Id, body: ReviewCreate
) -> ReportRead:
    """Accept the report, or return it with a reason (the reporter then submits a new one)."""
    indicator = await _indicator(session, principal, indicator_id)
    report = found(await repository.get_report(session, indicator.id, report_id), "report")
    return ReportRead.model_validate(await service.review_report(session, report, indicator, body, principal, now))


@router.get(
    "/indicators/{indicator_id}/reports/{report_id}/evidence",
    responses={200: {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}},
)
async def read_evidence(session: DbSession, principal: Reader, indicator_id: Id, report_id: Id) -> Response:
    indicator = await _indicator(session, principal, indicator_id)
    report = await repository.get_report(session, indicator.id, report_id)
    content = await repository.evidence_of(session, report_id) if report is not None else None
    if report is None or content is None:
        raise NotFound("No such document")
    return Response(
        content,
        media_type=report.evidence_type or "application/octet-stream",
        headers={
            "Content-Disposition": 'attachment; filename="evidence"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox",
        },
    )


@router.get("/progress/{plan_id}", response_model=ProgressRead)
async def read_progress(request: Request, session: DbSession, principal: Reader, now: Now, plan_id: Id) -> Any:
    """Progress per measure and goal with the rule that decides it (a reporter: its own measures)."""
    plan = await _plan(session, plan_id)
    progress = await plan_progress(session, plan, scope(principal), now.date(), _settings(request).report_grace_days)
    if scope(principal) is not None and not progress["goals"]:
        raise NotFound("No such plan")
    return JSONResponse(ProgressRead.model_validate(progress).model_dump(mode="json"))


@router.get(
    "/progress/{plan_id}/export",
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}, "text/html": {"schema": {"type": "string"}}}}
    },
)
async def export_progress(
    request: Request,
    session: DbSession,
    _: Coordinator,
    now: Now,
    plan_id: Id,
    format: Annotated[Literal["csv", "html"], Query()] = "csv",
) -> Response:
    """The progress report: CSV, or a printable page (print it to PDF)."""
    plan = await _plan(session, plan_id)
    progress = await plan_progress(session, plan, None, now.date(), _settings(request).report_grace_days)
    name = f"progress-{plan.code}-{now.date().isoformat()}"
    if format == "html":
        return HTMLResponse(
            progress_html(progress),
            headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"},
        )
    return Response(
        progress_csv(progress),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )
