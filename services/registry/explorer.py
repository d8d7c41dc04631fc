"""The explorer: any table of one or two breakdowns for fixed periods, every cell perturbed by the cell key method.

A request costs one grouped query (counts and record-key sums per group of stored values, see
`repository.count_with_keys`); cells and their margins are sums of groups, so a margin's count and
cell key are exact sums too, and every cell, margins and grand total included, is perturbed through
the ptable on its own. Tables are therefore not additive: a total need not equal the sum of its
perturbed parts (each answer says so). Counts already computed are kept in an in-process cache keyed by
the number of committed writes of each year (`stats_writes`), which every write moves (see `AnswerCache`).
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import repository
from services.registry.ckm import PTable
from services.registry.dimensions import NATIONAL_CITIZENSHIP, UNSPECIFIED_FORM, categories
from services.registry.facts import FORM_BITS, VICTIM_MIN_RANK
from services.registry.repository import KeyedCount, Period

TOTAL = "total"
UNITS = {"screenings": "screenings", "victims": "persons", "referrals": "referrals"}
# Breakdowns counted from another stored value: nationality from citizenship, form from the form bits.
RAW_NAME = {"nationality": "citizenship", "form": "forms_mask"}
RELEASED_QUARTERS = (
    "Quarters of a released year are the release's: each person once in the year, in the quarter of their "
    "counted screening."
)
NOT_ADDITIVE = "Every cell, totals included, is perturbed on its own: parts need not add up to their total."


@dataclass(frozen=True)
class Tally:
    count: int
    key_sum: int


def expand(name: str, raw: Any) -> tuple[str, ...]:
    """The categories of breakdown `name` that a stored value counts under (a unit under each of its forms)."""
    if name == "form":
        forms = tuple(form for form, bit in FORM_BITS.items() if int(raw) & bit)
        return forms or (UNSPECIFIED_FORM,)
    if name == "nationality":
        if raw == NATIONAL_CITIZENSHIP:
            return ("national",)
        return ("unknown",) if raw == "UNK" else ("foreign",)
    return (str(raw),)


def raw_names(breakdowns: Sequence[str]) -> list[str]:
    return [RAW_NAME.get(name, name) for name in breakdowns]


Expander = Callable[[Any], tuple[str, ...]]


def tally(
    breakdowns: Sequence[str], groups: Iterable[KeyedCount], expanders: Sequence[Expander] | None = None
) -> dict[tuple[str, ...], Tally]:
    """Count and key sum of every cell and margin: each group adds to each cell it falls in, once.

    `expanders` map each stored value to its categories (default: `expand` by breakdown name).
    """
    counts: dict[tuple[str, ...], int] = defaultdict(int)
    keys: dict[tuple[str, ...], int] = defaultdict(int)
    maps = list(expanders) if expanders is not None else [partial(expand, name) for name in breakdowns]
    for group in groups:
        options = [(*mapper(raw), TOTAL) for mapper, raw in zip(maps, group.values, strict=True)]
        cells: list[tuple[str, ...]] = [()]
        for choice in options:
            cells = [(*cell, value) for cell in cells for value in choice]
        for cell in cells or [()]:
            counts[cell] += group.count
            keys[cell] += group.key_sum
    if not breakdowns:
        return {(TOTAL,): Tally(counts[()], keys[()])}
    return {cell: Tally(counts[cell], keys[cell]) for cell in counts}


def layout(
    table: str,
    breakdowns: Sequence[str],
    tallies: Mapping[tuple[str, ...], Tally],
    fixed: Sequence[Sequence[str]] | None = None,
) -> list[tuple[str, ...]]:
    """Every cell of the table in order (fixed categories with their zeros, present ones otherwise), totals last."""
    axes: list[list[str]] = []
    for i, name in enumerate(breakdowns):
        if fixed is not None:
            axes.append([*fixed[i], TOTAL])
            continue
        present = {cell: 0 for cell in tallies if cell[i] != TOTAL}
        axes.append([*categories(table, name, present, i), TOTAL])
    cells: list[tuple[str, ...]] = [()]
    for axis in axes:
        cells = [(*cell, value) for cell in cells for value in axis]
    return cells if breakdowns else [(TOTAL,)]


def render(
    table: str,
    breakdowns: Sequence[str],
    tallies: Mapping[tuple[str, ...], Tally],
    ptable: PTable,
    fixed: Sequence[Sequence[str]] | None = None,
) -> list[dict[str, Any]]:
    """Cells as published: the breakdown values, the perturbed count and its share of the perturbed grand total."""
    grand_key = (TOTAL,) * max(1, len(breakdowns))
    empty = Tally(0, 0)
    grand_tally = tallies.get(grand_key, empty)
    grand = ptable.perturb(grand_tally.count, grand_tally.key_sum)
    out = []
    for cell in layout(table, breakdowns, tallies, fixed):
        t = tallies.get(cell, empty)
        published = ptable.perturb(t.count, t.key_sum)
        row: dict[str, Any] = dict(zip(breakdowns, cell, strict=True)) if breakdowns else {}
        row["count"] = published
        row["percent"] = round(100.0 * published / grand, 1) if grand else None
        out.append(row)
    return out


def notes(table: str, breakdowns: Sequence[str]) -> list[str]:
    out = [NOT_ADDITIVE]
    if "form" in breakdowns:
        out.append(
            "Form cells count persons (or facts) with that form; one with several forms is under each, once in totals."
        )
    if table == "victims":
        out.append("Each person is counted once in the period, under their highest status.")
    return out


class AnswerCache:
    """Counts and key sums already computed, keyed by the request and the counters of its years.

    Every write of a year's facts adds to that year's count of writes in the same transaction
    (repository.bump_versions), visible when it commits, so an entry is found only while its years are
    unchanged: a cached answer is the answer the database would give. One small query (the counts of
    writes, read before the facts) per request; bounded (LRU).
    """

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self.entries: OrderedDict[Any, dict[Period, dict[tuple[str, ...], Tally]]] = OrderedDict()

    def get(self, key: Any) -> dict[Period, dict[tuple[str, ...], Tally]] | None:
        found = self.entries.get(key)
        if found is not None:
            self.entries.move_to_end(key)
        return found

    def put(self, key: Any, value: dict[Period, dict[tuple[str, ...], Tally]]) -> None:
        self.entries[key] = value
        self.entries.move_to_end(key)
        while len(self.entries) > self.size:
            self.entries.popitem(last=False)


CACHE = AnswerCache()


async def count_periods(
    session: AsyncSession, table: str, breakdowns: Sequence[str], periods: Sequence[Period], *, min_rank: int
) -> dict[Period, dict[tuple[str, ...], Tally]]:
    years = await repository.versions(session, sorted({p.year for p in periods}))
    key = (
        str(session.bind.url) if session.bind is not None else "",
        table,
        tuple(breakdowns),
        tuple(periods),
        min_rank,
        years,
    )
    cached = CACHE.get(key)
    if cached is not None:
        return cached
    groups = await repository.count_with_keys(session, table, raw_names(breakdowns), periods, min_rank=min_rank)
    counted = {period: tally(breakdowns, groups[period]) for period in periods}
    CACHE.put(key, counted)
    return counted


def period_read(period: Period, closed: bool) -> dict[str, Any]:
    return {"year": period.year, "quarter": period.quarter, "label": period.label, "closed": closed}


async def build_table(
    session: AsyncSession,
    table: str,
    breakdowns: Sequence[str],
    period: Period,
    ptable: PTable,
    *,
    closed: bool,
    min_rank: int = VICTIM_MIN_RANK,
) -> dict[str, Any]:
    tallies = (await count_periods(session, table, breakdowns, [period], min_rank=min_rank))[period]
    return {
        "table": table,
        "unit": UNITS[table],
        "period": period_read(period, closed),
        "breakdowns": list(breakdowns),
        "perturbed": True,
        "additive": False,
        "ptable": ptable.describe(),
        "cells": render(table, breakdowns, tallies, ptable),
        "notes": notes(table, breakdowns),
    }


async def build_series(
    session: AsyncSession,
    table: str,
    breakdowns: Sequence[str],
    periods: Sequence[Period],
    ptable: PTable,
    *,
    closed: Mapping[Period, bool],
    released: Mapping[Period, tuple[list[dict[str, Any]], dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """One table per period, from one grouped query over the whole range: perturbed, except the periods
    `released` gives (cells and source) from a year's release."""
    released = released or {}
    counted_periods = [p for p in periods if p not in released]
    counted = (
        await count_periods(session, table, breakdowns, counted_periods, min_rank=VICTIM_MIN_RANK)
        if counted_periods
        else {}
    )
    entries = []
    for p in periods:
        if p in released:
            found, source = released[p]
            entries.append({"period": period_read(p, closed[p]), "perturbed": False, "release": source, "cells": found})
        else:
            cells = render(table, breakdowns, counted[p], ptable)
            entries.append({"period": period_read(p, closed[p]), "perturbed": True, "release": None, "cells": cells})
    out = notes(table, breakdowns) if counted_periods else []
    if released:
        years = sorted({(s["year"], s["version"]) for _, s in released.values()})
        out.append(
            "Periods of a released year ("
            + ", ".join(f"{y}: version {v}" for y, v in years)
            + ") are the exact figures of its release, hidden cells with the release's marker; the other periods "
            "are perturbed."
        )
        if any(p.quarter is not None for p in released):
            out.append(RELEASED_QUARTERS)
    return {
        "table": table,
        "unit": UNITS[table],
        "step": "quarter" if periods[0].quarter is not None else "year",
        "breakdowns": list(breakdowns),
        "perturbed": bool(counted_periods),
        "additive": not counted_periods,
        "ptable": ptable.describe(),
        "periods": entries,
        "notes": out,
    }
