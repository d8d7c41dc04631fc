"""HTTP routes of the registry service: statistics, releases, the Eurostat report, CSV imports and the feed ingest."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from putokaz import audit
from putokaz.auth import Authorize, Principal
from putokaz.clock import Now, clock_of
from putokaz.db import DbSession
from putokaz.errors import Invalid, NotFound, ProblemError, problem_response
from putokaz.events.receiver import WebhookMessage, WebhookSignature
from putokaz.roles import Admin
from services.registry import explorer, imports, indicators, released, releases, statistics
from services.registry.eurostat import eurostat_report
from services.registry.export import eurostat_csv, release_csv, series_csv, table_csv
from services.registry.ingest import ingest_message
from services.registry.models import audit_tables
from services.registry.schemas import (
    EurostatReportRead,
    ImportRead,
    IngestRead,
    ReleaseRead,
    ReleaseRequest,
    StatsIndicatorRead,
    StatsSeriesRead,
    StatsTableRead,
)
from services.registry.settings import Settings

router = APIRouter(prefix="/api/v1", tags=["registry"])
internal_router = APIRouter(prefix="/internal", include_in_schema=False)

STATS_ROLES = ("coordinator", "admin")
STATS_QUERY = frozenset({"period", "year", "quarter", "by", "format", "lang"})
SERIES_QUERY = frozenset({"from", "to", "step", "by", "format", "lang"})
REPORT_QUERY = frozenset({"year", "format", "lang"})
CSV_TYPE = "text/csv"
TableName = Literal["screenings", "victims", "referrals"]
Format = Literal["json", "csv"]
Language = Literal["bs", "hr", "sr-Latn", "sr-Cyrl", "en"]
Year = Annotated[int, Query(ge=1900, le=9999, description="calendar year")]
Lang = Annotated[Language, Query(description="language of the CSV labels")]
Breakdowns = Annotated[list[str], Query(max_length=4, description="up to two breakdowns, repeated or comma-separated")]
CSV_ANSWER: dict[int | str, dict[str, Any]] = {200: {"content": {CSV_TYPE: {"schema": {"type": "string"}}}}}
STATS_ANSWERS: dict[int | str, dict[str, Any]] = {
    **CSV_ANSWER,
    409: {
        "description": "victims of a released year by a breakdown its release does not publish: read the tables named"
    },
}


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


class Export:
    """Who asks for a statistics answer, in which format and language (a route dependency); `send` audits
    the export, with the format it goes out in, and writes the answer as JSON or CSV."""

    def __init__(
        self,
        request: Request,
        session: DbSession,
        principal: Annotated[Principal, Depends(Authorize(*STATS_ROLES))],
        format: Annotated[Format | None, Query()] = None,
        lang: Lang = "en",
    ) -> None:
        self.request, self.session, self.principal = request, session, principal
        self.format, self.lang = format, lang

    @property
    def settings(self) -> Settings:
        return _settings(self.request)

    def send(
        self,
        answer: dict[str, Any],
        audited: tuple[str, str, str],
        detail: dict[str, Any],
        read: type[BaseModel],
        to_csv: Callable[[dict[str, Any], str], str],
        filename: str,
    ) -> Response:
        """`audited` is the audit entry's (action, object type, object id)."""
        csv = _wants_csv(self.request, self.format)
        detail = {**detail, "format": "csv" if csv else "json"}
        audit.record_for(self.session, audit_tables, self.principal, *audited, detail=detail)
        if csv:
            return _csv_response(to_csv(answer, self.lang), filename)
        return JSONResponse(read.model_validate(answer).model_dump(mode="json"))


INDICATOR_QUERY = frozenset({"year"})


# Declared before /stats/{table}/series, which would otherwise take /stats/indicators/series.
@router.get("/stats/indicators/{name}", response_model=StatsIndicatorRead)
async def get_indicator(
    request: Request,
    session: DbSession,
    now: Now,
    principal: Annotated[Principal, Depends(Authorize(*STATS_ROLES))],
    name: Annotated[indicators.IndicatorName, Path(description="an indicator no table of counts answers")],
    year: Year,
) -> Any:
    """A share of two perturbed counts, or a median withheld below 10 units: never a fact, never more precise
    than the tables."""
    _reject_unknown_parameters(request, INDICATOR_QUERY)
    settings = _settings(request)
    fixed = statistics.check_period("year", year, None, closed_only=settings.closed_periods_only(), now=now)
    answer = await indicators.indicator(
        session,
        name,
        fixed,
        settings.ptable(),
        (settings.stats_threshold, settings.stats_sensitive_threshold),
        closed=statistics.is_closed(fixed, now),
    )
    audit.record_for(
        session, audit_tables, principal, "export_indicator", "stats_indicator", name, detail={"period": fixed.label}
    )
    return JSONResponse(StatsIndicatorRead.model_validate(answer).model_dump(mode="json"))


@router.get("/stats/{table}", response_model=StatsTableRead, responses=STATS_ANSWERS)
async def get_statistics(
    export: Annotated[Export, Depends()],
    now: Now,
    table: Annotated[TableName, Path(description="screenings, victims or referrals")],
    year: Year,
    period: Annotated[Literal["year", "quarter"], Query()] = "year",
    quarter: Annotated[int | None, Query(ge=1, le=4)] = None,
    by: Breakdowns = [],  # noqa: B006
) -> Any:
    """A table of counts for one fixed year or quarter, at most two breakdowns, perturbed by the cell key method;
    the victims of a released year are its release's table (or 409 when the release does not publish it)."""
    _reject_unknown_parameters(export.request, STATS_QUERY)
    settings, session = export.settings, export.session
    breakdowns = statistics.parse_breakdowns(table, by)
    fixed = statistics.check_period(period, year, quarter, closed_only=settings.closed_periods_only(), now=now)
    closed = statistics.is_closed(fixed, now)
    # A released year's victims are its release's tables: never counted (and perturbed) a second time.
    published = (await released.latest(session, [fixed.year])).get(fixed.year) if table == "victims" else None
    if published is not None:
        answer = released.table_answer(published, breakdowns, fixed, settings.ptable().describe(), closed=closed)
    else:
        answer = await explorer.build_table(session, table, breakdowns, fixed, settings.ptable(), closed=closed)
    detail = {"period": fixed.label, "by": list(breakdowns)}
    audited = ("export_stats", "stats_table", table)
    return export.send(answer, audited, detail, StatsTableRead, table_csv, f"{table}-{fixed.label}.csv")


@router.get("/stats/{table}/series", response_model=StatsSeriesRead, responses=STATS_ANSWERS)
async def get_series(
    export: Annotated[Export, Depends()],
    now: Now,
    table: Annotated[TableName, Path(description="screenings, victims or referrals")],
    start: Annotated[int, Query(alias="from", ge=1900, le=9999, description="first year")],
    end: Annotated[int, Query(alias="to", ge=1900, le=9999, description="last year (inclusive)")],
    step: Annotated[Literal["year", "quarter"], Query()] = "year",
    by: Breakdowns = [],  # noqa: B006
) -> Any:
    """One table per year or quarter from `from` to `to`: a trend in one request, perturbed (a released
    year's victims periods from its release)."""
    _reject_unknown_parameters(export.request, SERIES_QUERY)
    settings, session = export.settings, export.session
    breakdowns = statistics.parse_breakdowns(table, by)
    periods = statistics.series_periods(start, end, step, closed_only=settings.closed_periods_only(), now=now)
    closed = {p: statistics.is_closed(p, now) for p in periods}
    from_release = {}
    if table == "victims":
        from_release = released.series_periods(
            await released.latest(session, {p.year for p in periods}), breakdowns, periods
        )
    answer = await explorer.build_series(
        session, table, breakdowns, periods, settings.ptable(), closed=closed, released=from_release
    )
    detail = {"from": periods[0].label, "to": periods[-1].label, "by": list(breakdowns)}
    audited = ("export_series", "stats_table", table)
    return export.send(answer, audited, detail, StatsSeriesRead, series_csv, f"{table}-{start}-{end}-{step}.csv")


@router.get("/reports/{report}", response_model=EurostatReportRead, responses=CSV_ANSWER)
async def get_report(
    export: Annotated[Export, Depends()],
    now: Now,
    report: Annotated[Literal["eurostat"], Path(description="eurostat: the crim_thb annual report")],
    year: Year,
) -> Any:
    """Registered victims in the Eurostat crim_thb shape: perturbed, or a released year's release tables."""
    _reject_unknown_parameters(export.request, REPORT_QUERY)
    settings, session = export.settings, export.session
    fixed = statistics.check_period("year", year, None, closed_only=settings.closed_periods_only(), now=now)
    published = (await released.latest(session, [fixed.year])).get(fixed.year)
    answer = await eurostat_report(session, fixed.year, settings.ptable(), published)
    audited = ("export_report", "report", report)
    return export.send(
        answer, audited, {"year": fixed.year}, EurostatReportRead, eurostat_csv, f"eurostat-crim_thb-{year}.csv"
    )


RELEASE_QUERY = frozenset({"format", "lang"})


def _release_answer(request: Request, answer: dict[str, Any], fmt: Format | None, lang: Language, status: int) -> Any:
    if _wants_csv(request, fmt):
        return _csv_response(release_csv(answer, lang), f"release-{answer['year']}-v{answer['version']}.csv")
    return JSONResponse(ReleaseRead.model_validate(answer).model_dump(mode="json"), status_code=status)


@router.post(
    "/releases",
    status_code=201,
    response_model=ReleaseRead,
    responses={
        200: {"description": "nothing changed since the latest version: that version"},
        409: {"description": "the declared tables cannot be protected; nothing was released"},
    },
)
async def create_release(
    request: Request,
    session: DbSession,
    now: Now,
    principal: Annotated[Principal, Depends(Authorize("coordinator"))],
    body: ReleaseRequest,
) -> Any:
    """Close a year: its official tables computed once, suppressed, audited and frozen as a new version
    (or the latest version, answered with 200, if no fact of that year changed since)."""
    _reject_unknown_parameters(request, frozenset())
    settings = _settings(request)
    release, created = await releases.release_year(
        session, body.year, (settings.stats_threshold, settings.stats_sensitive_threshold), now=now
    )
    audit.record_for(
        session,
        audit_tables,
        principal,
        "release",
        "release",
        release.id,
        detail={"year": body.year, "version": release.version},
    )
    answer = releases.release_read(release, release.version)
    return _release_answer(request, answer, None, "en", 201 if created else 200)


@router.get("/releases/{year}", response_model=ReleaseRead, responses=CSV_ANSWER)
async def read_release(
    request: Request,
    session: DbSession,
    principal: Annotated[Principal, Depends(Authorize(*STATS_ROLES))],
    year: Annotated[int, Path(ge=2000, le=9999)],
    format: Annotated[Format | None, Query()] = None,
    lang: Lang = "en",
) -> Any:
    """The latest version of a year's release, with its audit."""
    _reject_unknown_parameters(request, RELEASE_QUERY)
    release, versions = await releases.get_release(session, year)
    audit.record_for(
        session, audit_tables, principal, "read_release", "release", release.id, detail={"format": format or "json"}
    )
    return _release_answer(request, releases.release_read(release, versions), format, lang, 200)


@router.get("/releases/{year}/versions/{version}", response_model=ReleaseRead, responses=CSV_ANSWER)
async def read_release_version(
    request: Request,
    session: DbSession,
    principal: Annotated[Principal, Depends(Authorize(*STATS_ROLES))],
    year: Annotated[int, Path(ge=2000, le=9999)],
    version: Annotated[int, Path(ge=1, le=1_000_000)],
    format: Annotated[Format | None, Query()] = None,
    lang: Lang = "en",
) -> Any:
    """One version of a year's release (earlier versions stay readable: they were published)."""
    _reject_unknown_parameters(request, RELEASE_QUERY)
    release, versions = await releases.get_release(session, year, version)
    audit.record_for(
        session, audit_tables, principal, "read_release", "release", release.id, detail={"format": format or "json"}
    )
    return _release_answer(request, releases.release_read(release, versions), format, lang, 200)


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
    now: Now,
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
    record = imports.new_import(kind, principal.sub, principal.org, now)
    audit.record_for(session, audit_tables, principal, "import", "import", record.id, detail={"kind": kind})
    if text.count("\n") > settings.import_inline_rows:
        # Committed before the 202 (DbSession), then processed after the answer has been sent.
        await imports.accept(session, record)
        background.add_task(
            imports.run_import_in_background,
            request.app.state.db,
            record.id,
            text,
            clock=clock_of(request),
            max_rows=settings.import_max_rows,
        )
        return JSONResponse(
            ImportRead.of(record).model_dump(mode="json"),
            status_code=202,
            headers={"Location": f"/api/v1/imports/{record.id}"},
        )
    record = await imports.run_import(session, record, text, now=now, max_rows=settings.import_max_rows)
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
    record = await imports.read(session, import_id, principal.org)
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
    now: Now,
) -> IngestRead:
    """The internal feed (Standard Webhooks, signed with PUTOKAZ_REGISTRY_FEED_SECRET); never public."""
    return IngestRead(status=await ingest_message(session, message, now))
