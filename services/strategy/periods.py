"""Reporting periods of an indicator: which exist for its frequency, when each ends and is due."""

from __future__ import annotations

from datetime import date, timedelta

from services.strategy.models import Indicator, Plan


def period_end(period: str, final: date) -> date:
    """The last day of a period label ("2025", "2025-H1", "2025-Q3"; "final" ends on `final`)."""
    if period == "final":
        return final
    year = int(period[:4])
    if len(period) == 4:
        return date(year, 12, 31)
    kind, number = period[5], int(period[6])
    last_month = number * 6 if kind == "H" else number * 3
    if last_month == 12:
        return date(year, 12, 31)
    return date(year, last_month + 1, 1) - timedelta(days=1)


def periods(frequency: str, starts_on: date, ends_on: date, final: date) -> list[str]:
    """Every reporting period of a frequency that overlaps the plan, in order."""
    if frequency == "once":
        return ["final"]
    out = []
    for year in range(starts_on.year, ends_on.year + 1):
        if frequency == "annual":
            labels = [str(year)]
        elif frequency == "semiannual":
            labels = [f"{year}-H1", f"{year}-H2"]
        else:
            labels = [f"{year}-Q{q}" for q in range(1, 5)]
        out.extend(label for label in labels if period_end(label, final) >= starts_on)
    return [p for p in out if _period_start(p) <= ends_on]


def _period_start(period: str) -> date:
    year = int(period[:4])
    if len(period) == 4:
        return date(year, 1, 1)
    kind, number = period[5], int(period[6])
    first_month = (number - 1) * 6 + 1 if kind == "H" else (number - 1) * 3 + 1
    return date(year, first_month, 1)


def indicator_periods(indicator: Indicator, plan: Plan, deadline: date) -> list[str]:
    return periods(indicator.frequency, plan.starts_on, plan.ends_on, deadline)


def due_date(period: str, deadline: date, grace_days: int) -> date:
    return period_end(period, deadline) + timedelta(days=grace_days)
