"""What a statistics request may ask for: fixed periods and ranges of them, at most two known breakdowns."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from putokaz.errors import Invalid
from services.registry.dimensions import DIMENSIONS, MAX_BREAKDOWNS
from services.registry.facts import MIN_YEAR
from services.registry.repository import Period

# A series spans at most this many periods (80 quarters: twenty years).
MAX_SERIES_PERIODS = 80


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


def series_periods(start: int, end: int, step: str, *, closed_only: bool, now: datetime) -> list[Period]:
    """Every year (or quarter) from `start` to `end` inclusive that has started (and, when `closed_only`, ended)."""
    errors = []
    if start < MIN_YEAR:
        errors.append(("query.from", f"The registry holds no data before {MIN_YEAR}"))
    if end < start:
        errors.append(("query.to", "to must not be before from"))
    if end > now.year:
        errors.append(("query.to", "The period is in the future"))
    if errors:
        raise Invalid(errors[0][1], errors=[{"field": f, "message": m} for f, m in errors])
    if step == "year":
        periods = [Period(y) for y in range(start, end + 1)]
    else:
        periods = [Period(y, q) for y in range(start, end + 1) for q in range(1, 5)]
    periods = [p for p in periods if _started(p, now) and (not closed_only or is_closed(p, now))]
    if not periods:
        raise Invalid("No published period in this range yet", field="query.to")
    if len(periods) > MAX_SERIES_PERIODS:
        raise Invalid(f"A series spans at most {MAX_SERIES_PERIODS} periods", field="query.from")
    return periods


def _started(period: Period, now: datetime) -> bool:
    if period.quarter is None:
        return period.year <= now.year
    return (period.year, period.quarter) <= (now.year, (now.month - 1) // 3 + 1)
