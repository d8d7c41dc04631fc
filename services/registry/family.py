"""Consistent margins: every publishable table of one period and unit, protected together.

Two tables of the same period and unit share their marginal totals (the count of `dimension = value`,
and the grand total). Protected one by one, a margin hidden in one table (say the F row of sex × child,
hidden so that F-child = 3 cannot be recovered) could be published by another (the one-way sex table),
and subtracting recovers the hidden cell. So a margin is published only if every publishable table
showing it publishes it: the whole family (the grand total, every one-way and every two-way table, each
with its own threshold) is protected to a fixed point in which a margin hidden anywhere is hidden
everywhere (rule `consistent_margin`), each table's own secondary suppression re-run with it hidden.

The counts come from one grouped pass over the period (`repository.count_pairs`) and the protected
family is cached for a short time per (unit, period, thresholds), so a request costs one lookup.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from putokaz.errors import Invalid
from services.registry import repository
from services.registry.dimensions import DIMENSIONS, NATIONAL_CITIZENSHIP, UNSPECIFIED_FORM, categories
from services.registry.disclosure import TOTAL, Key, ProtectedTable, protect, transpose
from services.registry.facts import FORM_BITS
from services.registry.linkage import determined, table_equations
from services.registry.repository import Period

# A margin, named independently of the table showing it: ("all",) the grand total, (dim, value) the
# count of a value, prefixed with "mentions" in tables counting form mentions (their other margins
# and grand total count a fact once per form, so they are different quantities).
MarginId = tuple[str, ...]
Breakdowns = tuple[str, ...]
CONSISTENT_REASON = "hidden in another table of this period that shows the same total"
LINKED_REASON = "hidden so that no two tables of this period together pin a hidden cell"
# nationality national / unknown are exactly citizenship BA / UNK: one quantity under two names.
SAME_AS = {
    ("nationality", "national"): ("citizenship", NATIONAL_CITIZENSHIP),
    ("nationality", "unknown"): ("citizenship", "UNK"),
}
# Breakdowns computed from another stored value rather than counted separately.
RAW_NAME = {"nationality": "citizenship", "form": "forms_mask"}


@dataclass(frozen=True)
class Protected:
    """One table of the family: its protection and its row and column categories."""

    table: ProtectedTable
    rows: list[str]
    cols: list[str] | None


def dimensions_of(table: str) -> list[str]:
    return [name for name, d in DIMENSIONS.items() if table in d.tables]


def family_of(table: str) -> list[Breakdowns]:
    """Every table a request may ask for (breakdowns in canonical order): none, one, or two breakdowns."""
    dims = dimensions_of(table)
    return [(), *((d,) for d in dims), *((a, b) for i, a in enumerate(dims) for b in dims[i + 1 :])]


def canonical(breakdowns: Sequence[str]) -> Breakdowns:
    order = list(DIMENSIONS)
    return tuple(sorted(breakdowns, key=order.index))


def _expand(name: str, raw: Any) -> tuple[str, ...]:
    """The categories of breakdown `name` that a stored value counts under (a fact under each of its forms)."""
    if name == "form":
        forms = tuple(form for form, bit in FORM_BITS.items() if int(raw) & bit)
        return forms or (UNSPECIFIED_FORM,)
    if name == "nationality":
        if raw == NATIONAL_CITIZENSHIP:
            return ("national",)
        return ("unknown",) if raw == "UNK" else ("foreign",)
    return (str(raw),)


def _raw(name: str) -> str:
    return RAW_NAME.get(name, name)


def table_counts(
    table: str, pairs: Mapping[tuple[str, str], Mapping[tuple[Any, Any], int]]
) -> dict[Breakdowns, dict[Key, int]]:
    """The interior cells of every table of the family, from the pair counts of stored values."""
    raw_names = list(dict.fromkeys(_raw(d) for d in dimensions_of(table)))
    single: dict[str, dict[Any, int]] = {}
    for name in raw_names:
        other = next(pair for pair in pairs if name in pair)
        at = other.index(name)
        sums: dict[Any, int] = defaultdict(int)
        for values, n in pairs[other].items():
            sums[values[at]] += n
        single[name] = sums
    grand = sum(single[raw_names[0]].values())
    out: dict[Breakdowns, dict[Key, int]] = {}
    for breakdowns in family_of(table):
        cells: dict[Key, int] = defaultdict(int)
        if not breakdowns:
            cells[()] = grand
        elif len(breakdowns) == 1:
            (d,) = breakdowns
            for raw, n in single[_raw(d)].items():
                for category in _expand(d, raw):
                    cells[(category,)] += n
        else:
            d, e = breakdowns
            rd, re = _raw(d), _raw(e)
            if rd == re:
                rows: Iterable[tuple[Any, Any, int]] = ((raw, raw, n) for raw, n in single[rd].items())
            elif (rd, re) in pairs:
                rows = ((a, b, n) for (a, b), n in pairs[(rd, re)].items())
            else:
                rows = ((a, b, n) for (b, a), n in pairs[(re, rd)].items())
            for a, b, n in rows:
                for ca in _expand(d, a):
                    for cb in _expand(e, b):
                        cells[(ca, cb)] += n
        out[breakdowns] = dict(cells)
    return out


def _margin_id(breakdowns: Breakdowns, dim: str, value: str) -> MarginId:
    if dim == "form":
        return ("form", value)
    named = SAME_AS.get((dim, value), (dim, value))
    return ("mentions", *named) if "form" in breakdowns else named


def _grand_id(breakdowns: Breakdowns) -> MarginId:
    return ("mentions", "all") if "form" in breakdowns else ("all",)


def margin_ids(breakdowns: Breakdowns, rows: Sequence[str], cols: Sequence[str] | None) -> dict[Key, MarginId]:
    """Which cells of a table are margins, and which shared quantity each one is."""
    grand = _grand_id(breakdowns)
    if not breakdowns:
        return {("all",): grand, (TOTAL,): grand}
    if cols is None:
        return {**{(r,): _margin_id(breakdowns, breakdowns[0], r) for r in rows}, (TOTAL,): grand}
    ids = {(r, TOTAL): _margin_id(breakdowns, breakdowns[0], r) for r in rows}
    ids.update({(TOTAL, c): _margin_id(breakdowns, breakdowns[1], c) for c in cols})
    ids[(TOTAL, TOTAL)] = grand
    return ids


def protect_family(
    table: str, counts: Mapping[Breakdowns, Mapping[Key, int]], threshold_of: Callable[[Sequence[str]], int]
) -> dict[Breakdowns, Protected]:
    """Protect every table, then re-protect those showing a margin hidden elsewhere, until none changes;
    then audit every two tables that share a hidden margin and hide one more margin where their joint
    equations would pin a hidden cell, and start again.

    The hidden set only grows, so this ends; at the end every table was protected with every hidden
    margin it shows forced hidden, and hides no margin outside the set: consistent across the family.
    """
    layout: dict[Breakdowns, tuple[list[str], list[str] | None, dict[Key, MarginId]]] = {}
    for breakdowns, cells in counts.items():
        if not breakdowns:
            rows, cols = ["all"], None
        else:
            rows = categories(table, breakdowns[0], cells, 0)
            cols = categories(table, breakdowns[1], cells, 1) if len(breakdowns) == 2 else None
        layout[breakdowns] = (rows, cols, margin_ids(breakdowns, rows, cols))
    hidden: set[MarginId] = set()
    for_linkage: set[MarginId] = set()
    cells_for_linkage: dict[Breakdowns, set[Key]] = defaultdict(set)
    result: dict[Breakdowns, Protected] = {}
    pending = set(counts)
    while pending:
        fresh: set[MarginId] = set()
        for breakdowns in pending:
            rows, cols, ids = layout[breakdowns]
            cells = {("all",): counts[breakdowns].get((), 0)} if not breakdowns else counts[breakdowns]
            protected = protect(
                rows,
                cols,
                cells,
                threshold_of(breakdowns),
                forced=[key for key, margin in ids.items() if margin in hidden] + sorted(cells_for_linkage[breakdowns]),
                forced_rule="consistent_margin",
                forced_reason=CONSISTENT_REASON,
            )
            for key, suppression in list(protected.suppressed.items()):
                if suppression.rule == "consistent_margin" and (
                    ids.get(key) in for_linkage or key in cells_for_linkage[breakdowns]
                ):
                    protected.suppressed[key] = replace(suppression, reason=LINKED_REASON)
            result[breakdowns] = Protected(protected, rows, cols)
            fresh.update(ids[key] for key in protected.suppressed if key in ids and ids[key] not in hidden)
        hidden |= fresh
        if not fresh:
            extra = _linked_margin(result, layout)
            if isinstance(extra, tuple) and extra and isinstance(extra[0], tuple):
                # No margin left to hide: an interior cell of one of the two tables instead.
                owner, key = extra
                cells_for_linkage[owner].add(key)
                pending = {owner}
                continue
            if extra is not None:
                for_linkage.add(extra)
                fresh = {extra}
                hidden.add(extra)
        pending = {b for b, (_, _, ids) in layout.items() if fresh.intersection(ids.values())}
    return result


def _linked_margin(
    result: Mapping[Breakdowns, Protected], layout: Mapping[Breakdowns, tuple[Any, Any, dict[Key, MarginId]]]
) -> Any:
    """A published margin (or `(table, cell)`) to hide because two tables together would pin a hidden
    cell; None if no two do."""
    hidden_margins = {b: {layout[b][2][k] for k in p.table.suppressed if k in layout[b][2]} for b, p in result.items()}
    names = [b for b in result if hidden_margins[b]]
    equations = {b: table_equations(b, result[b].table, layout[b][2]) for b in names}
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            if not hidden_margins[first] & hidden_margins[second]:
                continue  # no shared unknown: the joint system is two separate ones, each safe
            pinned = determined(equations[first] + equations[second])
            if pinned:
                return _margin_to_hide(result, layout, (first, second), pinned)
    return None


def _margin_to_hide(
    result: Mapping[Breakdowns, Protected],
    layout: Mapping[Breakdowns, tuple[Any, Any, dict[Key, MarginId]]],
    pair: tuple[Breakdowns, Breakdowns],
    pinned: set[Any],
) -> Any:
    """The smallest published margin of the two tables whose hiding frees the most pinned cells (or,
    when every margin is hidden already, `(table, cell)`: an interior cell of one of them)."""
    values: dict[Any, int] = {}
    for b in pair:
        table, ids = result[b].table, layout[b][2]
        for key, margin in ids.items():
            if key not in table.suppressed and table.values[key] > 0:
                values[margin] = table.values[key]
    if not values:
        # Every margin already hidden: the two tables' interior cells are the only choice left.
        for b in pair:
            table, ids = result[b].table, layout[b][2]
            for key, value in table.values.items():
                if key not in ids and key not in table.suppressed and value > 0:
                    values[(b, key)] = value
    best: tuple[int, int, Any] | None = None
    for margin in sorted(values, key=lambda m: (values[m], m)):
        trial = [eq for b in pair for eq in table_equations(b, result[b].table, layout[b][2], [margin])]
        left = len(determined(trial) & pinned)
        if left == 0:
            return margin
        if best is None or (left, values[margin]) < best[:2]:
            best = (left, values[margin], margin)
    if best is None:
        # Fail closed, never with a 500: nothing is published rather than something recoverable.
        raise Invalid(
            "These statistics cannot be published safely for this period (too few cases); ask for a whole year",
            field="query.period",
        )
    return best[2]


@dataclass
class _Entry:
    expires: float
    family: dict[Breakdowns, Protected]


_cache: dict[tuple[Any, ...], _Entry] = {}
_generation = 0


def invalidate() -> None:
    """Forget every cached family (facts changed in this process; other processes see it after the TTL)."""
    global _generation
    _generation += 1
    _cache.clear()


def invalidate_on_commit(session: AsyncSession) -> None:
    """Forget cached families now and again once this session commits, so that a table computed
    between the write and its commit is not kept."""
    invalidate()
    event.listen(session.sync_session, "after_commit", lambda _session: invalidate(), once=True)


async def protected_family(
    session: AsyncSession,
    table: str,
    period: Period,
    threshold_of: Callable[[Sequence[str]], int],
    thresholds_key: Hashable,
    *,
    ttl: float,
) -> dict[Breakdowns, Protected]:
    bind = session.bind
    key = (str(bind.url) if bind is not None else "", table, period, thresholds_key, _generation)
    now = time.monotonic()
    entry = _cache.get(key)
    if entry is not None and entry.expires > now:
        return entry.family
    raw_names = list(dict.fromkeys(_raw(d) for d in dimensions_of(table)))
    pairs = await repository.count_pairs(session, table, raw_names, period)
    family = protect_family(table, table_counts(table, pairs), threshold_of)
    if ttl > 0:
        for stale in [k for k, e in _cache.items() if e.expires <= now]:
            del _cache[stale]
        _cache[key] = _Entry(now + ttl, family)
    return family


def requested(family: Mapping[Breakdowns, Protected], breakdowns: Sequence[str]) -> Protected:
    """The requested table, turned if its breakdowns were asked for in the other order."""
    found = family[canonical(breakdowns)]
    if len(breakdowns) == 2 and tuple(breakdowns) != canonical(breakdowns):
        assert found.cols is not None
        return Protected(transpose(found.table), found.cols, found.rows)
    return found
