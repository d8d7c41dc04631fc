"""Pydantic models of the registry's API answers (requests are query parameters, CSV or signed events)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.registry.models import FactImport


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class PeriodRead(ReadModel):
    year: int
    quarter: int | None
    label: str
    closed: bool


class PTableRead(ReadModel):
    """How the explorer's counts were perturbed: the cell key method with this ptable."""

    method: Literal["cell_key"]
    version: str
    max_deviation: int
    variance: float
    smallest_count: int


class ReleaseSourceRead(ReadModel):
    """The release an answer about a released year's victims was read from (its latest version)."""

    year: int
    version: int
    table: str
    href: str


class StatsTableRead(ReadModel):
    """Cells carry one key per breakdown ("total" on margins), `count` (perturbed) and `percent` of the
    perturbed grand total. Every cell is perturbed on its own, so the table is not additive. A victims
    table of a released year is its release's table instead (`release`, `perturbed: false`): `count` is
    exact, or the release's marker (`<t`, `x`) with `percent` null."""

    table: str
    unit: str
    period: PeriodRead
    breakdowns: list[str]
    perturbed: bool
    additive: bool
    ptable: PTableRead
    release: ReleaseSourceRead | None = None
    cells: list[dict[str, Any]]
    notes: list[str]


class StatsIndicatorRead(ReadModel):
    """A protected indicator: `value` is empty (never zero) when `status` is `suppressed`."""

    indicator: str
    title: str
    unit: str
    definition: str
    period: PeriodRead
    perturbed: bool
    ptable: PTableRead
    value: float | None
    status: Literal["ok", "suppressed"]
    numerator: int | None
    denominator: int


class SeriesPeriodRead(ReadModel):
    period: PeriodRead
    perturbed: bool
    release: ReleaseSourceRead | None
    cells: list[dict[str, Any]]


class StatsSeriesRead(ReadModel):
    """One table per period (cells as in a single table): perturbed, or from a released year's release."""

    table: str
    unit: str
    step: Literal["year", "quarter"]
    breakdowns: list[str]
    perturbed: bool
    additive: bool
    ptable: PTableRead
    periods: list[SeriesPeriodRead]
    notes: list[str]


class EurostatTableRead(ReadModel):
    cells: list[dict[str, Any]]


class EurostatReportRead(ReadModel):
    report: str
    dataset: str
    year: int
    unit: str
    definition: str
    perturbed: bool
    additive: bool
    ptable: PTableRead
    release: ReleaseSourceRead | None
    tables: dict[str, EurostatTableRead]
    notes: list[str]


class ReleaseRequest(BaseModel):
    """Close a year: compute (or return) its release."""

    model_config = ConfigDict(extra="forbid", strict=True)

    year: int = Field(ge=2000, le=9999, description="the closed calendar year to release")


class ReleaseTableRead(ReadModel):
    """Cells carry one key per breakdown ("total" on margins) and `count`: the exact number, or `<t`
    (fewer than t, hidden) or `x` (hidden so that other hidden cells cannot be worked out)."""

    title: str
    dims: list[str]
    headline: bool
    unit: str
    threshold: int
    cells: list[dict[str, Any]]


class ReleaseRead(ReadModel):
    """One frozen version of a closed year's official tables and the audit of its suppression."""

    year: int
    version: int
    versions: int
    created_at: datetime
    exact: bool
    tables: dict[str, ReleaseTableRead]
    audit: dict[str, Any]


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
