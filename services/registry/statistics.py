"""Statistics tables: fixed periods, at most two breakdowns, disclosure control on every answer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from putokaz.errors import Invalid
from services.registry import family
from services.registry.dimensions import DIMENSIONS, MAX_BREAKDOWNS, SENSITIVE_DIMENSIONS, TABLES
from services.registry.disclosure import TOTAL, Key, ProtectedTable
from services.registry.facts import MIN_YEAR
from services.registry.repository import Period

UNITS = {"screenings": "screenings", "victims": "persons", "referrals": "referrals"}


@dataclass(frozen=True)
class Thresholds:
    standard: int
    sensitive: int

    def for_breakdowns(self, breakdowns: Sequence[str]) -> int:
        return self.sensitive if SENSITIVE_DIMENSIONS.intersection(breakdowns) else self.standard


def parse_breakdowns(table: str, raw: Sequence[str]) -> list[str]:
    """`by=sex&by=child` or `by=sex,child`: known, offered by this table, distinct, at most two."""
    names = [part.strip() for item in raw for part in item.split(",") if part.strip()]
    if len(names) > MAX_BREAKDOWNS:
        raise Invalid(f"At most {MAX_BREAKDOWNS} breakdowns are allowed", field="query.by")
    if len(set(names)) != len(names):
        raise Invalid("A breakdown may appear only once", field="query.by")
    for name in names:
        dimension = DIMENSIONS.get(name)
        if dimension is None:
            known = ", ".join(sorted(DIMENSIONS))
            raise Invalid(f"Unknown breakdown; known breakdowns: {known}", field="query.by")
        if table not in dimension.tables:
            offered = ", ".join(sorted(n for n, d in DIMENSIONS.items() if table in d.tables))
            raise Invalid(f"The {table} table cannot be broken down by {name}; it offers: {offered}", field="query.by")
    return names


def check_period(kind: str, year: int, quarter: int | None, *, closed_only: bool, now: datetime) -> Period:
    """A fixed calendar year or quarter that has started (and, when `closed_only`, has ended)."""
    current_quarter = (now.month - 1) // 3 + 1
    if year < MIN_YEAR:
        raise Invalid(f"The registry holds no data before {MIN_YEAR}", field="query.year")
    if kind == "year":
        if quarter is not None:
            raise Invalid("quarter is only allowed with period=quarter", field="query.quarter")
        if year > now.year:
            raise Invalid("The period is in the future", field="query.year")
        if closed_only and year == now.year:
            raise Invalid("Only closed periods are published; this year has not ended", field="query.year")
        return Period(year)
    if quarter is None:
        raise Invalid("period=quarter needs quarter=1..4", field="query.quarter")
    if (year, quarter) > (now.year, current_quarter):
        raise Invalid("The period is in the future", field="query.year" if year > now.year else "query.quarter")
    if closed_only and (year, quarter) == (now.year, current_quarter):
        raise Invalid("Only closed periods are published; this quarter has not ended", field="query.quarter")
    return Period(year, quarter)


def is_closed(period: Period, now: datetime) -> bool:
    if period.quarter is None:
        return period.year < now.year
    return (period.year, period.quarter) < (now.year, (now.month - 1) // 3 + 1)


def render_table(
    protected: ProtectedTable, breakdowns: Sequence[str], rows: Sequence[str], cols: Sequence[str] | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Cells (totals included, value "total") and the list of suppressions with their rules."""
    if not breakdowns:
        keys: list[Key] = [(TOTAL,)]
        names: list[str] = []
    elif cols is None:
        keys = [(r,) for r in (*rows, TOTAL)]
        names = [breakdowns[0]]
    else:
        keys = [(r, c) for r in (*rows, TOTAL) for c in (*cols, TOTAL)]
        names = list(breakdowns)
    grand: Key = (TOTAL,) * max(1, len(names))
    out = []
    for key in keys:
        cell: dict[str, Any] = dict(zip(names, key, strict=False))
        shown = protected.shown(key)
        suppression = protected.suppressed.get(key)
        cell["count"] = shown
        cell["percent"] = protected.percent(key, grand)
        cell["suppressed"] = suppression.rule if suppression else None
        out.append(cell)
    suppressions = []
    for key, s in protected.suppressed.items():
        if key not in keys:
            continue
        suppressions.append({"cell": dict(zip(names, key, strict=False)), "rule": s.rule, "reason": s.reason})
    return out, suppressions


async def build_table(
    session: AsyncSession,
    table: str,
    breakdowns: Sequence[str],
    period: Period,
    thresholds: Thresholds,
    *,
    now: datetime,
    cache_seconds: float = 0,
) -> dict[str, Any]:
    """The requested table as protected within its whole family (see `family`): margins consistent."""
    if table not in TABLES:
        raise Invalid("Unknown table", field="table")
    threshold = thresholds.for_breakdowns(breakdowns)
    tables = await family.protected_family(
        session, table, period, thresholds.for_breakdowns, thresholds, ttl=cache_seconds
    )
    chosen = family.requested(tables, breakdowns)
    rendered, suppressions = render_table(chosen.table, breakdowns, chosen.rows, chosen.cols)
    notes = []
    if "form" in breakdowns:
        notes.append("A fact with several forms of exploitation is counted under each; form totals count mentions.")
    if table == "victims":
        notes.append("Each person is counted once in the period, under their highest status.")
    if any(s["rule"] == "consistent_margin" for s in suppressions):
        notes.append("Totals marked consistent_margin are hidden because another table of this period hides them.")
    return {
        "table": table,
        "unit": UNITS[table],
        "period": {
            "year": period.year,
            "quarter": period.quarter,
            "label": period.label,
            "closed": is_closed(period, now),
        },
        "breakdowns": list(breakdowns),
        "threshold": threshold,
        "cells": rendered,
        "suppressions": suppressions,
        "notes": notes,
    }
