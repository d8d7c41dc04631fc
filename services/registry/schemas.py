"""Pydantic models of the registry's API answers (requests are query parameters, CSV or signed events)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from services.registry.models import FactImport


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Suppressed(ReadModel):
    cell: dict[str, str]
    rule: Literal["primary", "secondary", "linked", "consistent_margin"]
    reason: str


class PeriodRead(ReadModel):
    year: int
    quarter: int | None
    label: str
    closed: bool


class StatsTableRead(ReadModel):
    """Cells carry one key per breakdown ("total" on margins), `count` (a number, "<t" or "x"),
    `percent` of the grand total (null when either is suppressed) and `suppressed` (the rule or null)."""

    table: str
    unit: str
    period: PeriodRead
    breakdowns: list[str]
    threshold: int
    cells: list[dict[str, Any]]
    suppressions: list[Suppressed]
    notes: list[str]


class EurostatTableRead(ReadModel):
    threshold: int
    cells: list[dict[str, Any]]
    suppressions: list[Suppressed]


class EurostatReportRead(ReadModel):
    report: str
    dataset: str
    year: int
    unit: str
    definition: str
    tables: dict[str, EurostatTableRead]
    notes: list[str]


class ImportRowError(ReadModel):
    row: int
    field: str | None
    message: str


class ImportRead(ReadModel):
    id: str
    kind: str
    status: Literal["processing", "completed", "rejected", "failed"]
    rows_total: int
    rows_processed: int
    rows_imported: int
    error_count: int
    errors: list[ImportRowError]
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, record: FactImport) -> ImportRead:
        return cls(
            id=record.id,
            kind=record.kind,
            status=record.status,  # type: ignore[arg-type]
            rows_total=record.rows_total,
            rows_processed=record.rows_processed,
            rows_imported=record.rows_imported,
            error_count=record.error_count,
            errors=[ImportRowError(**e) for e in json.loads(record.errors or "[]")],
            created_at=record.created_at,
            finished_at=record.finished_at,
        )


class IngestRead(ReadModel):
    status: Literal["stored", "superseded", "duplicate", "ignored"]
