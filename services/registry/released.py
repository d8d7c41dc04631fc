"""The explorer's answers about the victims of a released year: read from the year's latest release.

Once a year has a release, its official tables are the only protection over that year's persons. The
explorer no longer counts them from the facts: a victims table, a period of a series or a Eurostat
table of a released year is the matching release table as released (published cells exact, hidden
cells with the release's marker), and a breakdown the release does not publish (a pair of breakdowns
or a quarter finer than its declared tables) is refused with 409, naming the release tables to read
instead. Two protections over the same persons — exact tables with suppression beside perturbed
cross-tables — are only as strong as their combination, which the release's audit cannot model: the
exact margins take the noise out of the perturbed cells (docs/statistics.md, "The explorer and the
release together"). Screenings and referrals are not victims (persons) tables and stay perturbed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from putokaz.errors import ProblemError
from services.registry.explorer import RELEASED_QUARTERS, TOTAL, layout
from services.registry.models import Release
from services.registry.repository import Period

# The explorer's victims breakdowns that a release table publishes, under the release's name.
RELEASE_DIM = {
    "sex": "sex",
    "child": "age_group",
    "status": "status",
    "entity": "entity",
    "canton": "canton",
    "age_band": "age_band",
}
# The release table that answers each set of explorer breakdowns (in either order).
TABLE_OF: dict[frozenset[str], str] = {
    frozenset(): "total",
    frozenset({"sex"}): "by_sex",
    frozenset({"child"}): "by_age_group",
    frozenset({"status"}): "by_status",
    frozenset({"entity"}): "by_entity",
    frozenset({"canton"}): "by_canton",
    frozenset({"age_band"}): "by_age_band",
    frozenset({"sex", "child"}): "by_sex_and_age_group",
}
QUARTER_TABLE = "by_quarter"
# What to read instead of a refused breakdown: the release tables about it, the one-way table first.
INSTEAD: dict[str, tuple[str, ...]] = {
    "sex": ("by_sex", "by_sex_and_age_group"),
    "child": ("by_age_group", "by_sex_and_age_group"),
    "status": ("by_status",),
    "entity": ("by_entity",),
    "canton": ("by_canton",),
    "age_band": ("by_age_band",),
    "form": ("by_form_group", "crim_thb_by_sex_and_form"),
    "citizenship": ("by_citizenship", "crim_thb_by_sex_and_citizenship"),
    "nationality": ("by_citizenship", "crim_thb_by_sex_and_citizenship"),
}
# The explorer's Eurostat tables and the release tables they are.
EUROSTAT_TABLES = {
    "by_sex_and_age_group": ("crim_thb_by_sex_and_age_group", "age_group"),
    "by_sex_and_citizenship": ("crim_thb_by_sex_and_citizenship", "citizenship"),
    "by_sex_and_form": ("crim_thb_by_sex_and_form", "form"),
}
NOTE = (
    "The year {year} is released: these are the exact figures of its release (version {version}), hidden cells "
    "with the release's marker; the explorer does not count a released year's victims again."
)


class YearReleased(ProblemError):
    """A victims breakdown of a released year that its release does not publish."""

    status = 409


@dataclass(frozen=True)
class Published:
    """The latest version of a year's release, as the explorer answers from it."""

    year: int
    version: int
    tables: dict[str, Any]

    def source(self, table: str) -> dict[str, Any]:
        return {"year": self.year, "version": self.version, "table": table, "href": f"/api/v1/releases/{self.year}"}

    def grand_total(self) -> Any:
        return self.tables["total"]["cells"][0]["count"]

    def lookup(self, name: str, dims: Sequence[str]) -> dict[tuple[str, ...], Any]:
        return {tuple(str(c[d]) for d in dims): c["count"] for c in self.tables[name]["cells"]}


async def latest(session: AsyncSession, years: Iterable[int]) -> dict[int, Published]:
    """The latest release version of each of `years` that has one (one small query)."""
    wanted = sorted(set(years))
    newest = (
        select(Release.year, func.max(Release.version).label("version"))
        .where(Release.year.in_(wanted))
        .group_by(Release.year)
        .subquery("newest")
    )
    rows = await session.execute(
        select(Release.year, Release.version, Release.tables).join(
            newest, (Release.year == newest.c.year) & (Release.version == newest.c.version)
        )
    )
    return {int(y): Published(int(y), int(v), json.loads(t)) for y, v, t in rows}


def _percent(count: Any, grand: Any) -> float | None:
    if isinstance(count, int) and isinstance(grand, int) and grand > 0:
        return round(100.0 * count / grand, 1)
    return None


def _instead(names: Iterable[str], published: Published) -> list[str]:
    out: list[str] = []
    for name in names:
        for table in INSTEAD.get(name, ()):
            if table in published.tables and table not in out:
                out.append(table)
    return out or ["total"]


def refuse(published: Published, breakdowns: Sequence[str], period_field: str | None) -> YearReleased:
    """409: the year is closed and released, and its release does not publish this breakdown."""
    names = list(breakdowns)
    instead = _instead(names, published)
    if period_field is not None:
        instead = [QUARTER_TABLE, *(t for t in instead if t != QUARTER_TABLE)]
    read = ", ".join(instead)
    year = published.year
    errors = []
    if period_field is not None:
        errors.append(
            {
                "field": period_field,
                "message": f"{year} is released: its quarters are published only without breakdown ({QUARTER_TABLE})",
            }
        )
    if names:
        per = " per quarter" if period_field is not None else ""
        errors.append(
            {
                "field": "query.by",
                "message": f"The release of {year} does not publish victims by {', '.join(names)}{per}; read {read}",
            }
        )
    return YearReleased(
        f"The year {year} is closed and released (version {published.version}): its victims are answered from the "
        f"release's tables only, and this breakdown is not one of them. Read instead: {read} "
        f"(GET /api/v1/releases/{year}).",
        errors=errors,
        release={**published.source(instead[0]), "tables": instead},
    )


def cells(
    published: Published, breakdowns: Sequence[str], period: Period, *, quarter_field: str
) -> list[dict[str, Any]]:
    """The cells of a victims table of a released year, in the explorer's layout, from the release."""
    if period.quarter is not None:
        if breakdowns:
            raise refuse(published, breakdowns, quarter_field)
        count = published.lookup(QUARTER_TABLE, ("quarter",)).get((str(period.quarter),))
        return [{"count": count, "percent": 100.0 if isinstance(count, int) and count > 0 else None}]
    name = TABLE_OF.get(frozenset(breakdowns))
    if name is None or name not in published.tables:
        raise refuse(published, breakdowns, None)
    found = published.lookup(name, [RELEASE_DIM[b] for b in breakdowns])
    grand = published.grand_total()
    out = []
    for cell in layout("victims", breakdowns, {}):
        count = found.get(cell if breakdowns else ())
        row: dict[str, Any] = dict(zip(breakdowns, cell, strict=True)) if breakdowns else {}
        row["count"] = count
        row["percent"] = _percent(count, grand)
        out.append(row)
    return out


def table_name(breakdowns: Sequence[str], period: Period) -> str:
    return QUARTER_TABLE if period.quarter is not None else TABLE_OF[frozenset(breakdowns)]


def notes(published: Published, period: Period) -> list[str]:
    out = [NOTE.format(year=published.year, version=published.version)]
    if period.quarter is not None:
        out.append(RELEASED_QUARTERS)
    return out


def table_answer(
    published: Published, breakdowns: Sequence[str], period: Period, ptable: dict[str, Any], *, closed: bool
) -> dict[str, Any]:
    """A victims table of a released year, shaped as the explorer's answer."""
    found = cells(published, breakdowns, period, quarter_field="query.quarter")
    return {
        "table": "victims",
        "unit": "persons",
        "period": {"year": period.year, "quarter": period.quarter, "label": period.label, "closed": closed},
        "breakdowns": list(breakdowns),
        "perturbed": False,
        "additive": True,
        "ptable": ptable,
        "release": published.source(table_name(breakdowns, period)),
        "cells": found,
        "notes": notes(published, period),
    }


def series_periods(
    released: Mapping[int, Published], breakdowns: Sequence[str], periods: Sequence[Period]
) -> dict[Period, tuple[list[dict[str, Any]], dict[str, Any]]]:
    """Cells and source of every period of a victims series that falls in a released year."""
    out = {}
    for period in periods:
        published = released.get(period.year)
        if published is None:
            continue
        found = cells(published, breakdowns, period, quarter_field="query.step")
        out[period] = (found, published.source(table_name(breakdowns, period)))
    return out


def eurostat_tables(published: Published) -> dict[str, Any]:
    """The explorer's crim_thb tables of a released year: the release's crim_thb tables, sex named `sex`."""
    tables = {}
    for name, (release_name, second) in EUROSTAT_TABLES.items():
        table = published.tables[release_name]
        grand = next(c["count"] for c in table["cells"] if c["eurostat_sex"] == TOTAL and c[second] == TOTAL)
        tables[name] = {
            "cells": [
                {
                    "sex": c["eurostat_sex"],
                    second: c[second],
                    "count": c["count"],
                    "percent": _percent(c["count"], grand),
                }
                for c in table["cells"]
            ]
        }
    return tables
