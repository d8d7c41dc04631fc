"""Indicators the action plan asks of the registry that no table of counts answers: protected like a table.

Each is computed in the registry from its facts; only the protected result leaves it:

- a **share** is the ratio of two counts, each perturbed by the cell key method like any explorer cell
  (same record keys, same ptable), so it is no more precise than the tables; when the perturbed
  denominator is below the release threshold (5) the share is withheld (`suppressed`);
- a **median** of hours is published, rounded to whole hours, only when at least the sensitive threshold
  (10) of units stand behind it; the number of units is published perturbed.
"""

from __future__ import annotations

import statistics as stats
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.ckm import PTable
from services.registry.dimensions import deadline_outcome
from services.registry.repository import REFERRALS, SCREENINGS, Period

IndicatorName = Literal[
    "children_referred_to_csw_within_24h", "median_hours_screening_to_placement", "referrals_accepted_within_deadline"
]
INDICATOR_NAMES: tuple[str, ...] = IndicatorName.__args__  # type: ignore[attr-defined]
CSW = "social_welfare"


@dataclass(frozen=True)
class Definition:
    title: str
    unit: str
    definition: str


DEFINITIONS: dict[str, Definition] = {
    "children_referred_to_csw_within_24h": Definition(
        "Share of children screened who were referred to a Centre for Social Welfare within 24 h",
        "%",
        "Referrals of children to a Centre for Social Welfare made within 24 hours of the child's screening "
        "(referral facts: child, service type social_welfare, hours_from_screening < 24), as a percentage of "
        "the screenings of children that found indicators (screening facts: child, outcome other than `none`), "
        "in the year. The referral service refers each such child's screening to social welfare once, so "
        "referrals and screenings correspond one to one; both counts are perturbed.",
    ),
    "median_hours_screening_to_placement": Definition(
        "Median hours from screening to placement",
        "hours",
        "Over the referrals of the year that led to a placement and followed a screening, the median of "
        "hours_from_screening + hours_to_placement (screening to referral request, request to placement), "
        "rounded to whole hours; withheld below 10 placements.",
    ),
    "referrals_accepted_within_deadline": Definition(
        "Share of referrals accepted within their deadline",
        "%",
        "Referrals of the year accepted within their deadline (urgent 2 h, routine 48 h from the request), "
        "as a percentage of all referrals of the year: registry table `referrals` by `deadline`, "
        "accepted_in_time / total.",
    ),
}


@dataclass(frozen=True)
class Tally:
    count: int
    key_sum: int


async def _tally(session: AsyncSession, source: Any, *where: ColumnElement[bool]) -> Tally:
    row = (await session.execute(select(func.count(), func.sum(source.c.rkey)).where(*where))).one()
    return Tally(int(row[0]), int(row[1] or 0))


def _share(part: Tally, whole: Tally, ptable: PTable, threshold: int) -> dict[str, Any]:
    """Both counts perturbed like any explorer cell; the share withheld below the threshold of the whole."""
    numerator = ptable.perturb(part.count, part.key_sum)
    denominator = ptable.perturb(whole.count, whole.key_sum)
    value = None if denominator < threshold else round(100.0 * numerator / denominator, 1)
    status = "suppressed" if value is None else "ok"
    return {"value": value, "status": status, "numerator": numerator, "denominator": denominator}


Computer = Callable[[AsyncSession, Period, PTable, tuple[int, int]], Awaitable[dict[str, Any]]]


async def _children_to_csw(
    session: AsyncSession, period: Period, ptable: PTable, thresholds: tuple[int, int]
) -> dict[str, Any]:
    referred = await _tally(
        session,
        REFERRALS,
        REFERRALS.c.year == period.year,
        REFERRALS.c.child,
        REFERRALS.c.service_type == CSW,
        REFERRALS.c.hours_from_screening < 24,
    )
    screened = await _tally(
        session, SCREENINGS, SCREENINGS.c.year == period.year, SCREENINGS.c.child, SCREENINGS.c.status != "none"
    )
    return _share(referred, screened, ptable, thresholds[0])


async def _accepted_in_time(
    session: AsyncSession, period: Period, ptable: PTable, thresholds: tuple[int, int]
) -> dict[str, Any]:
    year = REFERRALS.c.year == period.year
    accepted = await _tally(session, REFERRALS, year, deadline_outcome(REFERRALS) == "accepted_in_time")
    every = await _tally(session, REFERRALS, year)
    return _share(accepted, every, ptable, thresholds[0])


async def _median_to_placement(
    session: AsyncSession, period: Period, ptable: PTable, thresholds: tuple[int, int]
) -> dict[str, Any]:
    placed = (
        REFERRALS.c.year == period.year,
        REFERRALS.c.hours_to_placement.is_not(None),
        REFERRALS.c.hours_from_screening.is_not(None),
    )
    hours = (
        await session.scalars(select(REFERRALS.c.hours_from_screening + REFERRALS.c.hours_to_placement).where(*placed))
    ).all()
    units = await _tally(session, REFERRALS, *placed)
    published_units = ptable.perturb(units.count, units.key_sum)
    # The decision rests on the true count (a median of fewer than 10 comes too close to one person's time).
    if len(hours) < thresholds[1]:
        return {"value": None, "status": "suppressed", "numerator": None, "denominator": published_units}
    return {
        "value": float(round(stats.median(hours))),
        "status": "ok",
        "numerator": None,
        "denominator": published_units,
    }


COMPUTE: dict[str, Computer] = {
    "children_referred_to_csw_within_24h": _children_to_csw,
    "median_hours_screening_to_placement": _median_to_placement,
    "referrals_accepted_within_deadline": _accepted_in_time,
}


async def indicator(
    session: AsyncSession, name: str, period: Period, ptable: PTable, thresholds: tuple[int, int], *, closed: bool
) -> dict[str, Any]:
    definition = DEFINITIONS[name]
    result = await COMPUTE[name](session, period, ptable, thresholds)
    return {
        "indicator": name,
        "title": definition.title,
        "unit": definition.unit,
        "definition": definition.definition,
        "period": {"year": period.year, "quarter": None, "label": period.label, "closed": closed},
        "perturbed": True,
        "ptable": ptable.describe(),
        **result,
    }
