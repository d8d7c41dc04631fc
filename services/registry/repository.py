"""Every query of the registry: fact upserts, aggregate counts, imports. Never commits."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import combinations
from typing import Any

from sqlalchemy import Select, Table, func, select, text, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.dimensions import DIMENSIONS, form_matches, forms_list
from services.registry.facts import VICTIM_MIN_RANK
from services.registry.models import FactImport, ReferralFact, ScreeningFact

SCREENINGS: Table = ScreeningFact.__table__  # type: ignore[assignment]
REFERRALS: Table = ReferralFact.__table__  # type: ignore[assignment]
UPSERT_CHUNK = 1000
# Columns per grouping set when counting a period's pairs (measured best over 1,000,000 facts).
COVER_SIZE = 4
PERSON_COLUMNS = ("sex", "age_band", "child", "citizenship", "entity", "canton", "status", "forms_mask")


@dataclass(frozen=True)
class Period:
    year: int
    quarter: int | None = None

    @property
    def label(self) -> str:
        return f"{self.year}" if self.quarter is None else f"{self.year}-Q{self.quarter}"


def _insert_for(session: AsyncSession) -> Any:
    dialect = session.bind.dialect.name if session.bind is not None else "postgresql"
    return sqlite.insert if dialect == "sqlite" else postgresql.insert


async def upsert_facts(
    session: AsyncSession,
    table: Table,
    rows: Sequence[dict[str, Any]],
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Insert facts or replace a stored fact by a higher version; lower or equal versions change nothing.

    Returns how many rows were written (new or replaced).
    """
    written = 0
    insert = _insert_for(session)
    for start in range(0, len(rows), UPSERT_CHUNK):
        chunk = rows[start : start + UPSERT_CHUNK]
        statement = insert(table).values(list(chunk))
        replaceable = {c.name: statement.excluded[c.name] for c in table.columns if c.name != "fact_id"}
        statement = statement.on_conflict_do_update(
            index_elements=["fact_id"],
            set_=replaceable,
            where=table.c.version < statement.excluded.version,
        )
        result = await session.execute(statement)
        written += max(result.rowcount or 0, 0)
        if progress:
            progress(start + len(chunk), len(rows))
    return written


def _period_filter(table: Any, period: Period) -> list[Any]:
    clauses = [table.c.year == period.year]
    if period.quarter is not None:
        clauses.append(table.c.quarter == period.quarter)
    return clauses


def _victims(period: Period, min_rank: int) -> Any:
    """One row per person (subject_key; an anonymous fact is its own person): their highest-status fact."""
    top = SCREENINGS.c.top_of_year if period.quarter is None else SCREENINGS.c.top_of_quarter
    return (
        select(*(SCREENINGS.c[name] for name in PERSON_COLUMNS))
        .where(*_period_filter(SCREENINGS, period), top, SCREENINGS.c.status_rank >= min_rank)
        .subquery("victims")
    )


def _person() -> Any:
    return func.coalesce(SCREENINGS.c.subject_key, SCREENINGS.c.fact_id)


async def refresh_person_periods(session: AsyncSession, *, years: Sequence[int], person: str | None = None) -> None:
    """Re-mark each person's highest-status fact per year and per quarter (ties: latest month, then fact_id).

    Called after every write in the same transaction: for one person on ingest, for whole years after
    an import. On PostgreSQL a per-person advisory lock keeps two concurrent facts of one person from
    both (or neither) being marked.
    """
    if person is not None and session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:person))"), {"person": person})
    order = (SCREENINGS.c.status_rank.desc(), SCREENINGS.c.month.desc(), SCREENINGS.c.fact_id)
    ranked = select(
        SCREENINGS.c.fact_id.label("ranked_id"),
        func.row_number().over(partition_by=(_person(), SCREENINGS.c.year), order_by=order).label("in_year"),
        func.row_number()
        .over(partition_by=(_person(), SCREENINGS.c.year, SCREENINGS.c.quarter), order_by=order)
        .label("in_quarter"),
    ).where(SCREENINGS.c.year.in_(list(years)))
    if person is not None:
        ranked = ranked.where(_person() == person)
    ranks = ranked.subquery("ranks")
    top_year = ranks.c.in_year == 1
    top_quarter = ranks.c.in_quarter == 1
    await session.execute(
        update(SCREENINGS)
        .where(
            SCREENINGS.c.fact_id == ranks.c.ranked_id,
            (SCREENINGS.c.top_of_year != top_year) | (SCREENINGS.c.top_of_quarter != top_quarter),
        )
        .values(top_of_year=top_year, top_of_quarter=top_quarter)
    )


async def stored_periods(session: AsyncSession, fact_ids: Sequence[str]) -> set[tuple[str, int]]:
    """(person, year) of facts already stored under these ids: a new version may move a fact elsewhere."""
    found: set[tuple[str, int]] = set()
    for start in range(0, len(fact_ids), UPSERT_CHUNK):
        chunk = list(fact_ids[start : start + UPSERT_CHUNK])
        result = await session.execute(select(_person(), SCREENINGS.c.year).where(SCREENINGS.c.fact_id.in_(chunk)))
        found.update((row[0], int(row[1])) for row in result)
    return found


def _source(table: str, period: Period) -> tuple[Any, list[Any]]:
    if table == "victims":
        return _victims(period, VICTIM_MIN_RANK), []
    source = REFERRALS if table == "referrals" else SCREENINGS
    return source, _period_filter(source, period)


async def count_cells(
    session: AsyncSession, table: str, breakdowns: Sequence[str], period: Period
) -> dict[tuple[str, ...], int]:
    """Counts per combination of breakdown categories (people for `victims`, facts otherwise)."""
    source, where = _source(table, period)
    from_clause: Any = source
    groups = []
    for name in breakdowns:
        if name == "form":
            forms = forms_list()
            from_clause = from_clause.join(forms, form_matches(source.c.forms_mask, forms))
            groups.append(forms.c.form)
        else:
            groups.append(DIMENSIONS[name].expression(source))
    labelled = [g.label(f"d{i}") for i, g in enumerate(groups)]
    query: Select[Any] = select(*labelled, func.count().label("n")).select_from(from_clause).where(*where)
    if groups:
        query = query.group_by(*groups)
    result = await session.execute(query)
    return {tuple(str(v) for v in row[:-1]): int(row[-1]) for row in result}


def _raw_expression(name: str, source: Any) -> Any:
    """A breakdown's value as stored: forms as the bit mask (expanded per form by the caller)."""
    return source.c.forms_mask if name == "forms_mask" else DIMENSIONS[name].expression(source)


def covering_sets(names: Sequence[str], size: int) -> list[tuple[str, ...]]:
    """Few column sets of `size` that together contain every pair of `names` (a covering design).

    Grouping by a set and summing out its other columns gives each of its pairs exactly, so a period
    costs a fraction of the grouping sets that one set per pair would (each set is a hash table filled
    from every row of the period). Deterministic greedy cover (8 sets of 4 for 9 columns, not 36 pairs).
    """
    names = list(names)
    if len(names) <= size:
        return [tuple(names)] if len(names) >= 2 else []
    left = {frozenset(p) for p in combinations(names, 2)}
    cover: list[tuple[str, ...]] = []
    while left:
        chosen = max(combinations(names, size), key=lambda t: sum(frozenset(p) in left for p in combinations(t, 2)))
        cover.append(chosen)
        left -= {frozenset(p) for p in combinations(chosen, 2)}
    return cover


_covers: dict[tuple[str, ...], list[tuple[str, ...]]] = {}


def _covering_sets(names: Sequence[str]) -> list[tuple[str, ...]]:
    key = tuple(names)
    if key not in _covers:
        _covers[key] = covering_sets(key, COVER_SIZE)
    return _covers[key]


async def count_pairs(
    session: AsyncSession, table: str, raw_names: Sequence[str], period: Period
) -> dict[tuple[str, str], dict[tuple[Any, Any], int]]:
    """Counts per pair of stored breakdown values, for every pair of `raw_names`, in one pass.

    On PostgreSQL one GROUPING SETS query (a single scan of the period) over a covering design of
    column sets (`covering_sets`), each set summed out into its pairs here; SQLite has no grouping
    sets, so there one grouped query per pair. Every raw value is non-null (the expressions coalesce),
    so the non-null columns of a row say which set it counts.
    """
    source, where = _source(table, period)
    pairs = [(a, b) for i, a in enumerate(raw_names) for b in raw_names[i + 1 :]]
    out: dict[tuple[str, str], dict[tuple[Any, Any], int]] = {pair: {} for pair in pairs}
    dialect = session.bind.dialect.name if session.bind is not None else "postgresql"
    if dialect == "postgresql":
        expressions = [_raw_expression(n, source) for n in raw_names]
        if table == "victims":
            facts = select(*(e.label(n) for e, n in zip(expressions, raw_names, strict=True))).where(*where)
            facts = facts.subquery("facts")
            count: Any = func.count()
        else:
            # Group the period's rows by all their values first (a few times fewer rows), then the sets.
            facts = (
                select(*(e.label(n) for e, n in zip(expressions, raw_names, strict=True)), func.count().label("n"))
                .where(*where)
                .group_by(*expressions)
                .subquery("facts")
            )
            count = func.sum(facts.c.n)
        covers = _covering_sets(raw_names)
        sets = func.grouping_sets(*(tuple_(*(facts.c[n] for n in cover)) for cover in covers))
        # The planner overestimates the groups of these expressions: left alone it sorts (spilling to
        # disk) instead of hashing, and compiles the query with JIT, which alone costs ~50 ms.
        await session.execute(text("SET LOCAL jit = off"))
        await session.execute(text("SET LOCAL work_mem = '32MB'"))
        result = await session.execute(select(*(facts.c[n] for n in raw_names), count).group_by(sets))
        index = {name: i for i, name in enumerate(raw_names)}
        # Each pair read from exactly one set: a pair in two sets would otherwise count twice.
        by_set: dict[tuple[str, ...], list[tuple[str, str]]] = {cover: [] for cover in covers}
        for a, b in pairs:
            by_set[next(c for c in covers if a in c and b in c)].append((a, b))
        for row in result:
            present = tuple(raw_names[i] for i, value in enumerate(row[:-1]) if value is not None)
            n = int(row[-1])
            for a, b in by_set.get(present, ()):
                cells = out[(a, b)]
                values = (row[index[a]], row[index[b]])
                cells[values] = cells.get(values, 0) + n
        return out
    facts = select(*(_raw_expression(n, source).label(n) for n in raw_names)).where(*where).subquery("facts")
    for a, b in pairs:
        result = await session.execute(select(facts.c[a], facts.c[b], func.count()).group_by(facts.c[a], facts.c[b]))
        out[(a, b)] = {(row[0], row[1]): int(row[2]) for row in result}
    return out


async def registered_victims(
    session: AsyncSession, period: Period, min_rank: int
) -> list[tuple[str, bool, str, int, int]]:
    """(sex, child, citizenship, forms_mask, people) for persons whose highest status reaches `min_rank`."""
    victims = _victims(period, min_rank)
    query = select(victims.c.sex, victims.c.child, victims.c.citizenship, victims.c.forms_mask, func.count()).group_by(
        victims.c.sex, victims.c.child, victims.c.citizenship, victims.c.forms_mask
    )
    result = await session.execute(query)
    return [(r[0], bool(r[1]), r[2], int(r[3]), int(r[4])) for r in result]


async def add_import(session: AsyncSession, record: FactImport) -> FactImport:
    session.add(record)
    await session.flush()
    return record


async def get_import(session: AsyncSession, import_id: str, org_id: str) -> FactImport | None:
    result = await session.execute(select(FactImport).where(FactImport.id == import_id, FactImport.org_id == org_id))
    return result.scalar_one_or_none()


async def get_import_by_id(session: AsyncSession, import_id: str) -> FactImport | None:
    return await session.get(FactImport, import_id)


async def record_progress(session: AsyncSession, import_id: str, validated: int, written: int) -> None:
    await session.execute(
        update(FactImport)
        .where(FactImport.id == import_id, FactImport.status == "processing")
        .values(rows_processed=validated, rows_imported=written)
    )


async def finish_import(
    session: AsyncSession, import_id: str, *, status: str, processed: int, imported: int, errors: list[dict[str, Any]]
) -> None:
    await session.execute(
        update(FactImport)
        .where(FactImport.id == import_id)
        .values(
            status=status,
            rows_total=processed,
            rows_processed=processed,
            rows_imported=imported,
            error_count=len(errors),
            errors=json.dumps(errors[:1000]),
            finished_at=datetime.now(UTC),
        )
    )
