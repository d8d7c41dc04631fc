"""HTTP routes of the registry service: statistics, the Eurostat report, CSV imports and the feed ingest."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from putokaz import audit
from putokaz.auth import Authorize, Principal
from putokaz.clock import Now
from putokaz.db import DbSession
from putokaz.errors import Invalid, NotFound, ProblemError, problem_response
from putokaz.events.receiver import WebhookMessage, WebhookSignature
from putokaz.roles import Admin
from services.registry import imports, statistics
from services.registry.eurostat import eurostat_report
from services.registry.export import eurostat_csv, table_csv
from services.registry.ingest import ingest_message
from services.registry.models import audit_tables
from services.registry.repository import add_import, get_import
from services.registry.schemas import EurostatReportRead, ImportRead, IngestRead, StatsTableRead
from services.registry.settings import Settings

router = APIRouter(prefix="/api/v1", tags=["registry"])
internal_router = APIRouter(prefix="/internal", include_in_schema=False)

STATS_ROLES = ("coordinator", "admin")
STATS_QUERY = frozenset({"period", "year", "quarter", "by", "format"})
REPORT_QUERY = frozenset({"year", "format"})
CSV_TYPE = "text/csv"
TableName = Literal["screenings", "victims", "referrals"]
Format = Literal["json", "csv"]
Year = Annotated[int, Query(ge=1900, le=9999, description="calendar year")]


class UnsupportedMediaType(ProblemError):
    status = 415


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _reject_unknown_parameters(request: Request, allowed: frozenset[str]) -> None:
    """Free-form filters (date ranges, ids) would let small differences be taken; only fixed periods exist."""
    for name in request.query_params:
        if name not in allowed:
            raise Invalid("Unknown query parameter; free-form filters are not offered", field=f"query.{name[:40]}")


def _wants_csv(request: Request, fmt: Format | None) -> bool:
    if fmt is not None:
        return fmt == "csv"
    accept = request.headers.get("accept", "")
    return CSV_TYPE in accept and "application/json" not in accept


def _csv_response(text: str, filename: str) -> Response:
    return Response(
        text,
        media_type=f"{CSV_TYPE}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _thresholds(settings: Settings) -> statistics.Thresholds:
    return statistics.Thresholds(settings.stats_threshold, settings.stats_sensitive_threshold)


CSV_ANSWER: dict[int | str, dict[str, Any]] = {200: {"content": {CSV_TYPE: {"schema": {"type": "string"}}}}}


@router.get("/stats/{table}", response_model=StatsTableRead, responses=CSV_ANSWER)
async def get_statistics(
    request: Request,
    session: DbSession,
    now: Now,
    principal: Annotated[Principal, Depends(Authorize(*STATS_ROLES))],
    table: Annotated[TableName, Path(description="screenings, victims or referrals")],
    year: Year,
    period: Annotated[Literal["year", "quarter"], Query()] = "year",
    quarter: Annotated[int | None, Query(ge=1, le=4)] = None,
    by: Annotated[list[str], Query(max_length=4, description="up to two breakdowns, repeated or comma-separated")] = [],  # noqa: B006
    format: Annotated[Format | None, Query()] = None,
) -> Any:
    """A table of counts for one fixed year or quarter, with at most two breakdowns, disclosure-controlled."""
    _reject_unknown_parameters(request, STATS_QUERY)
    settings = _settings(request)
    breakdowns = statistics.parse_breakdowns(table, by)
    fixed = statistics.check_period(period, year, quarter, closed_only=settings.closed_periods_only(), now=now)
    answer = await statistics.build_table(
        session, table, breakdowns, fixed, _thresholds(settings), now=now, cache_seconds=settings.stats_cache_seconds
    )
    csv = _wants_csv(request, format)
    audit.record_for(
        session,
        audit_tables,
        principal,
        "export_stats",
        "stats_table",
        table,
        detail={"period": fixed.label, "by": list(breakdowns), "format": "csv" if csv else "json"},
    )
    if csv:
        return _csv_response(table_csv(answer), f"{table}-{fixed.label}.csv")
    return JSONResponse(StatsTableRead.model_validate(answer).model_dump(mode="json"))


@router.get("/reports/{report}", response_model=EurostatReportRead, responses=CSV_ANSWER)
async def get_report(
    request: Request,
    session: DbSession,
    now: Now,
    principal: Annotated[Principal, Depends(Authorize(*STATS_ROLES))],
    report: Annotated[Literal["eurostat"], Path(description="eurostat: the crim_thb annual report")],
    year: Year,
    format: Annotated[Format | None, Query()] = None,
) -> Any:
    """The annual report of registered victims in the Eurostat crim_thb shape."""
    _reject_unknown_parameters(request, REPORT_QUERY)
    settings = _settings(request)
    fixed = statistics.check_period("year", year, None, closed_only=settings.closed_periods_only(), now=now)
    answer = await eurostat_report(session, fixed.year, _thresholds(settings))
    csv = _wants_csv(request, format)
    audit.record_for(
        session,
        audit_tables,
        principal,
        "export_report",
        "report",
        report,
        detail={"year": fixed.year, "format": "csv" if csv else "json"},
    )
    if csv:
        return _csv_response(eurostat_csv(answer), f"eurostat-crim_thb-{year}.csv")
    return JSONResponse(EurostatReportRead.model_validate(answer).model_dump(mode="json"))


IMPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {CSV_TYPE: {"schema": {"type": "string", "description": "CSV with the fact columns"}}},
    }
}


@router.post(
    "/imports",
    status_code=201,
    response_model=ImportRead,
    openapi_extra=IMPORT_BODY,
    responses={
        202: {"description": "a large file: accepted, processed in the background; poll the Location"},
        422: {"description": "rejected: nothing imported; the per-row error report is in `errors`"},
    },
)
async def create_import(
    request: Request,
    session: DbSession,
    principal: Admin,
    background: BackgroundTasks,
    kind: Annotated[imports.ImportKind, Query(description="screening or referral facts")] = "screening",
) -> Any:
    """Import historical anonymised facts from CSV: every row valid, or nothing imported."""
    _reject_unknown_parameters(request, frozenset({"kind"}))
    settings = _settings(request)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in (CSV_TYPE, "application/csv"):
        raise UnsupportedMediaType("Send the facts as text/csv (Content-Type: text/csv)")
    body = await request.body()
    if len(body) > settings.import_max_bytes:
        return problem_response(413, f"The file is larger than {settings.import_max_bytes} bytes")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("The file is not UTF-8 text", field="body") from None
    record = imports.new_import(kind, principal.sub, principal.org)
    audit.record_for(session, audit_tables, principal, "import", "import", record.id, detail={"kind": kind})
    if text.count("\n") > settings.import_inline_rows:
        # Committed before the 202 (DbSession), then processed after the answer has been sent.
        await add_import(session, record)
        background.add_task(
            imports.run_import_in_background,
            request.app.state.db,
            record.id,
            text,
            max_rows=settings.import_max_rows,
        )
        return JSONResponse(
            ImportRead.of(record).model_dump(mode="json"),
            status_code=202,
            headers={"Location": f"/api/v1/imports/{record.id}"},
        )
    record = await imports.run_import(session, record, text, max_rows=settings.import_max_rows)
    read = ImportRead.of(record)
    if record.status == "rejected":
        # Answered, not raised: the rejected import itself is kept so its report can be read again.
        return problem_response(
            422,
            f"{read.error_count} error(s); nothing was imported",
            errors=[e.model_dump() for e in read.errors[:100]],
            import_id=read.id,
        )
    return JSONResponse(read.model_dump(mode="json"), status_code=201)


@router.get("/imports/{import_id}", response_model=ImportRead)
async def read_import(
    session: DbSession,
    principal: Admin,
    import_id: Annotated[str, Path(max_length=64)],
) -> ImportRead:
    """Status, counts and per-row error report of an import made by the caller's organisation."""
    record = await get_import(session, import_id, principal.org)
    if record is None:
        await audit.record_refused(session, audit_tables, principal, "read_import", "import", import_id[:64])
        raise NotFound("No such import")
    audit.record_for(session, audit_tables, principal, "read_import", "import", record.id)
    return ImportRead.of(record)


def _feed_secrets(request: Request) -> list[str]:
    return _settings(request).feed_secrets()


@internal_router.post("/events", response_model=IngestRead)
async def receive_event(
    session: DbSession,
    message: Annotated[WebhookMessage, Depends(WebhookSignature(_feed_secrets))],
) -> IngestRead:
    """The internal feed (Standard Webhooks, signed with PUTOKAZ_REGISTRY_FEED_SECRET); never public."""
    return IngestRead(status=await ingest_message(session, message))
