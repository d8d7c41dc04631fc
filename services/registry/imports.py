"""Bulk import of historical anonymised facts from CSV: validate every row first, then write all or nothing."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from putokaz.clock import Clock
from putokaz.db import Database
from services.registry import repository
from services.registry.facts import REFERRAL_FACT, SCREENING_FACT, ReferralFactIn, ScreeningFactIn, fact_errors
from services.registry.models import FactImport

ImportKind = Literal["screening", "referral"]
KIND_EVENT = {"screening": SCREENING_FACT, "referral": REFERRAL_FACT}
COLUMNS: dict[str, tuple[str, ...]] = {
    "screening": (
        "fact_id",
        "version",
        "subject_key",
        "year",
        "month",
        "age_band",
        "sex",
        "citizenship",
        "entity",
        "canton",
        "status",
        "forms",
        "instrument",
        "child",
        "anonymous",
    ),
    "referral": (
        "fact_id",
        "version",
        "year",
        "month",
        "service_type",
        "status",
        "hours_to_answer",
        "hours_to_placement",
        "hours_from_screening",
        "entity",
        "canton",
        "child",
        "urgent",
    ),
}
OPTIONAL = {
    "subject_key",
    "entity",
    "canton",
    "hours_to_answer",
    "hours_to_placement",
    "hours_from_screening",
    "anonymous",
    "forms",
}
INTEGERS = {"version", "year", "month", "canton"}
FLOATS = {"hours_to_answer", "hours_to_placement", "hours_from_screening"}
BOOLEANS = {"child", "anonymous", "urgent"}
TRUE = {"true", "1", "yes"}
FALSE = {"false", "0", "no"}
MAX_ERRORS = 1000
PROGRESS_SECONDS = 0.5
logger = logging.getLogger("putokaz.registry.imports")

Progress = Callable[[int, int], None]


@dataclass
class ParsedFile:
    rows: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    total: int = 0


class CellError(ValueError):
    pass


def _convert(name: str, raw: str) -> Any:
    value = raw.strip()
    if value == "" and name in OPTIONAL:
        return [] if name == "forms" else None
    if name in INTEGERS:
        try:
            return int(value)
        except ValueError:
            raise CellError("must be a whole number") from None
    if name in FLOATS:
        try:
            return float(value)
        except ValueError:
            raise CellError("must be a number") from None
    if name in BOOLEANS:
        lowered = value.lower()
        if lowered in TRUE:
            return True
        if lowered in FALSE:
            return False
        raise CellError("must be true or false")
    if name == "forms":
        return [part.strip() for part in value.replace("|", ";").split(";") if part.strip()]
    return value


def _records(text: str) -> Iterator[list[str]]:
    return csv.reader(io.StringIO(text, newline=""))


def parse_csv(
    text: str, kind: ImportKind, *, now: datetime, max_rows: int, progress: Progress | None = None
) -> ParsedFile:
    """Every row validated against the fact contract; errors name the row and column, never the value."""
    parsed = ParsedFile()
    expected = COLUMNS[kind]
    model = ScreeningFactIn if kind == "screening" else ReferralFactIn
    reader = _records(text)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        parsed.errors.append({"row": 1, "field": None, "message": "the file is empty"})
        return parsed
    except csv.Error:
        parsed.errors.append({"row": 1, "field": None, "message": "the header is not valid CSV"})
        return parsed
    unknown = [i + 1 for i, name in enumerate(header) if name not in expected]
    if unknown:
        # Column names are not echoed: a column outside the contract may itself be identity data.
        parsed.errors.append(
            {"row": 1, "field": None, "message": f"columns outside the anonymised fact contract at positions {unknown}"}
        )
    missing = [name for name in expected if name not in header and name not in OPTIONAL]
    for name in missing:
        parsed.errors.append({"row": 1, "field": name, "message": "required column missing"})
    if len(set(header)) != len(header):
        parsed.errors.append({"row": 1, "field": None, "message": "a column appears twice"})
    if parsed.errors:
        return parsed
    lines = text.count("\n")
    seen: set[str] = set()
    line_number = 1
    try:
        for line_number, record in enumerate(reader, start=2):
            if not record or all(not cell.strip() for cell in record):
                continue
            parsed.total += 1
            if parsed.total > max_rows:
                parsed.errors.append({"row": line_number, "field": None, "message": f"more than {max_rows} rows"})
                break
            if progress and parsed.total % 1000 == 0:
                progress(parsed.total, lines)
            row_errors = _validate_row(record, header, model, line_number, parsed, seen, now)
            parsed.errors.extend(row_errors)
            if len(parsed.errors) >= MAX_ERRORS:
                parsed.errors.append({"row": line_number, "field": None, "message": "too many errors; stopped"})
                break
    except csv.Error:
        parsed.errors.append({"row": line_number + 1, "field": None, "message": "not valid CSV"})
    if progress:
        progress(parsed.total, parsed.total)
    return parsed


def _validate_row(
    record: list[str],
    header: list[str],
    model: type[ScreeningFactIn] | type[ReferralFactIn],
    line_number: int,
    parsed: ParsedFile,
    seen: set[str],
    now: datetime,
) -> list[dict[str, Any]]:
    if len(record) != len(header):
        return [{"row": line_number, "field": None, "message": f"expected {len(header)} columns, got {len(record)}"}]
    values: dict[str, Any] = {}
    errors = []
    for name, raw in zip(header, record, strict=True):
        try:
            values[name] = _convert(name, raw)
        except CellError as exc:
            errors.append({"row": line_number, "field": name, "message": str(exc)})
    if errors:
        return errors
    try:
        fact = model.model_validate(values, context={"now": now})
    except ValidationError as exc:
        return [{"row": line_number, **error} for error in fact_errors(exc)]
    fact_id = fact.fact_id.lower()
    if fact_id in seen:
        return [{"row": line_number, "field": "fact_id", "message": "fact_id appears twice in the file"}]
    seen.add(fact_id)
    parsed.rows.append(fact.row("import", now))
    return []


def new_import(kind: ImportKind, created_by: str, org_id: str, now: datetime) -> FactImport:
    return FactImport(
        id=str(uuid.uuid4()),
        kind=kind,
        org_id=org_id,
        status="processing",
        rows_total=0,
        rows_processed=0,
        rows_imported=0,
        error_count=0,
        errors="[]",
        created_by=created_by,
        created_at=now,
    )


async def accept(session: AsyncSession, record: FactImport) -> FactImport:
    """Store a large import's record before its 202 answer; its rows are written in the background."""
    return await repository.add_import(session, record)


async def read(session: AsyncSession, import_id: str, org_id: str) -> FactImport | None:
    """An import of the caller's organisation (another organisation's is None, like a missing one)."""
    return await repository.get_import(session, import_id, org_id)


async def validate(
    text: str, kind: ImportKind, *, now: datetime, max_rows: int, progress: Progress | None = None
) -> ParsedFile:
    """Parse and validate in a worker thread: a large file must not stall the event loop."""
    return await asyncio.to_thread(parse_csv, text, kind, now=now, max_rows=max_rows, progress=progress)


async def apply(
    session: AsyncSession,
    record: FactImport,
    parsed: ParsedFile,
    now: datetime,
    write_progress: Progress | None = None,
) -> None:
    """Reject the import if any row failed; otherwise write every fact in the caller's transaction."""
    if parsed.errors:
        await repository.finish_import(
            session, record.id, status="rejected", processed=parsed.total, imported=0, errors=parsed.errors, now=now
        )
        return
    table = repository.SCREENINGS if record.kind == "screening" else repository.REFERRALS
    previous: set[tuple[str, int]] = set()
    if record.kind == "screening":
        previous = await repository.stored_periods(session, [r["fact_id"] for r in parsed.rows])
    written = await repository.upsert_facts(session, table, parsed.rows, write_progress)
    if record.kind == "screening":
        years = {r["year"] for r in parsed.rows} | {year for _, year in previous}
        await repository.refresh_person_periods(session, years=sorted(years))
    await repository.finish_import(
        session, record.id, status="completed", processed=parsed.total, imported=written, errors=[], now=now
    )


async def run_import(
    session: AsyncSession,
    record: FactImport,
    text: str,
    *,
    now: datetime,
    max_rows: int,
    progress: Progress | None = None,
    write_progress: Progress | None = None,
) -> FactImport:
    """Record the import, validate the whole file, then write all facts or none, in the caller's transaction."""
    await repository.add_import(session, record)
    parsed = await validate(text, record.kind, now=now, max_rows=max_rows, progress=progress)  # type: ignore[arg-type]
    await apply(session, record, parsed, now, write_progress)
    await session.refresh(record)
    return record


async def run_import_in_background(db: Database, import_id: str, text: str, *, clock: Clock, max_rows: int) -> None:
    """A large import after its 202 answer: progress is committed as it goes, the facts in one transaction."""
    done = {"validated": 0, "written": 0}

    async def report_progress() -> None:
        while True:
            await asyncio.sleep(PROGRESS_SECONDS)
            async with db.sessionmaker() as session, session.begin():
                await repository.record_progress(session, import_id, done["validated"], done["written"])

    reporter = asyncio.create_task(report_progress())
    try:
        async with db.sessionmaker() as session, session.begin():
            record = await repository.get_import_by_id(session, import_id)
            if record is None:
                return
            parsed = await validate(
                text,
                record.kind,  # type: ignore[arg-type]
                now=clock.now(),
                max_rows=max_rows,
                progress=lambda n, _total: done.__setitem__("validated", n),
            )
            await apply(session, record, parsed, clock.now(), lambda n, _total: done.__setitem__("written", n))
            # Stop reporting before the final row is committed so no stale progress overwrites it.
            reporter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reporter
    except Exception as exc:
        logger.error("import failed", extra={"import_id": import_id, "error_type": type(exc).__name__})
        async with db.sessionmaker() as session, session.begin():
            await repository.finish_import(
                session,
                import_id,
                status="failed",
                processed=done["validated"],
                imported=0,
                errors=[{"row": 0, "field": None, "message": "the import failed; nothing was imported"}],
                now=clock.now(),
            )
    finally:
        reporter.cancel()
