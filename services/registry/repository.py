"""Every query of the registry: fact upserts, aggregate counts, imports. Never commits."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.ckm import record_key
from services.registry.dimensions import DIMENSIONS
from services.registry.facts import VICTIM_MIN_RANK
from services.registry.models import (
    BREAKDOWN_COLUMNS,
    FactImport,
    ReferralFact,
    Release,
    ScreeningFact,
    StatsKey,
    StatsWrite,
)

SCREENINGS: Table = ScreeningFact.__table__  # type: ignore[assignment]
REFERRALS: Table = ReferralFact.__table__  # type: ignore[assignment]
UPSERT_CHUNK = 1000
# A victim's columns: the breakdowns of their facts but the instrument (a breakdown of screenings only),
# the quarter and the person-year record key.
PERSON_COLUMNS = (*(c for c in BREAKDOWN_COLUMNS if c != "instrument"), "quarter", "rkey_year")
RECORD_KEYS = "record_keys"


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
    # The years whose counts may change: the new rows' and those of stored versions they replace.
    years = {int(row["year"]) for row in rows}
    ids = [row["fact_id"] for row in rows]
    for start in range(0, len(ids), UPSERT_CHUNK):
        found = await session.execute(
            select(table.c.year).where(table.c.fact_id.in_(ids[start : start + UPSERT_CHUNK])).distinct()
        )
        years.update(int(y) for (y,) in found)
    await bump_versions(session, years)
    rows = with_record_keys(table, rows, await record_key_secret(session))
    if table is SCREENINGS:
        rows = await _keep_person_keys(session, rows)
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


STATS_WRITES: Table = StatsWrite.__table__  # type: ignore[assignment]


FOLD_WRITES = text(
    """WITH folded AS (
        DELETE FROM stats_writes WHERE id IN (
            SELECT id FROM stats_writes WHERE year = :year FOR UPDATE SKIP LOCKED
        ) RETURNING weight, token
    )
    INSERT INTO stats_writes (id, year, weight, token)
    SELECT :id, :year, 1 + coalesce(sum(weight), 0), greatest(:token, coalesce(max(token), 0)) FROM folded"""
)


async def bump_versions(session: AsyncSession, years: set[int] | Sequence[int]) -> None:
    """Count this transaction's write of each year: cached answers of it expire when it commits.

    No row another writer may update is touched, so concurrent writers of one year never wait for each
    other (a counter row per year, upserted here before, was held by each writer until its commit, and
    writers of the current year queued behind one another). The year's rows that no other transaction
    holds are folded into this transaction's own row (their weights summed, so the year's total is
    unchanged), which keeps a year at a handful of rows. A year's version is the sum of the weights
    visible to the reader: it grows by exactly one at each writer's commit, and two readers that see
    the same sum see the same committed writes (visible writes only ever grow).
    """
    postgres = session.bind is not None and session.bind.dialect.name == "postgresql"
    for year in sorted(set(years)):
        # A fresh random token beside the sum: a table emptied (tests truncate) and counted up again
        # would otherwise meet the keys of answers cached before.
        row = {"id": secrets.token_hex(16), "year": year, "token": secrets.randbits(62) + 1}
        if postgres:  # one round trip: this runs in every ingest transaction
            await session.execute(FOLD_WRITES, row)
            continue
        held = select(STATS_WRITES.c.id).where(STATS_WRITES.c.year == year).with_for_update(skip_locked=True)
        folded = (
            await session.execute(
                delete(STATS_WRITES)
                .where(STATS_WRITES.c.id.in_(held.scalar_subquery()))
                .returning(STATS_WRITES.c.weight, STATS_WRITES.c.token)
            )
        ).all()
        token = max([row["token"], *(int(t) for _, t in folded)])
        weight = 1 + sum(int(w) for w, _ in folded)
        await session.execute(STATS_WRITES.insert().values(**row | {"token": token, "weight": weight}))


async def versions(session: AsyncSession, years: Sequence[int]) -> tuple[tuple[int, int, int], ...]:
    """(year, writes, token) of each year asked ((year, 0, 0): nothing written since the table was
    emptied): part of every cache key. Read before the counts, so an answer is never older than its key."""
    found = {
        int(y): (int(w), int(t))
        for y, w, t in await session.execute(
            select(STATS_WRITES.c.year, func.sum(STATS_WRITES.c.weight), func.max(STATS_WRITES.c.token))
            .where(STATS_WRITES.c.year.in_(list(years)))
            .group_by(STATS_WRITES.c.year)
        )
    }
    return tuple((year, *found.get(year, (0, 0))) for year in sorted(set(years)))


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


async def lock_persons(session: AsyncSession, persons: set[str] | Sequence[str]) -> None:
    """Per-person advisory locks (PostgreSQL) for the transaction, taken in order so two writers never wait
    on each other in a cycle; taking one again in the same transaction is free."""
    if session.bind is None or session.bind.dialect.name != "postgresql":
        return
    for person in sorted(set(persons)):
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:person))"), {"person": person})


async def rekey_person(session: AsyncSession, old: str, new: str) -> int:
    """A pseudonym rotation: every fact under `old` gets `new`, in place and in one statement.

    The record keys stay as stored: recomputing them from the new pseudonym would give every cell the
    person is in a second, independent perturbation that could be averaged with the first. Facts already
    under `new` (the person screened again during the rotation) join them, so the person is counted
    once. Returns how many facts changed; a repeat changes none.
    """
    await lock_persons(session, {old, new})
    found = await session.execute(select(SCREENINGS.c.year).where(SCREENINGS.c.subject_key == old).distinct())
    years = sorted(int(year) for (year,) in found)
    if not years:
        return 0
    await bump_versions(session, years)
    result = await session.execute(update(SCREENINGS).where(SCREENINGS.c.subject_key == old).values(subject_key=new))
    await refresh_person_periods(session, years=years, person=new)
    return max(result.rowcount or 0, 0)


async def _keep_person_keys(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """A person's record keys per period as already stored, rather than recomputed from the pseudonym.

    They are the same unless the person's pseudonym was rotated: then their facts kept the keys made
    from the earlier pseudonym, and a new fact of theirs must join those (a person has one record key
    per period in every table), and a new version of a fact must keep its own.
    """
    persons = sorted({row["subject_key"] for row in rows if row.get("subject_key")})
    own: dict[str, tuple[Any, ...]] = {}
    per_year: dict[tuple[str, int], int] = {}
    per_quarter: dict[tuple[str, int, int], int] = {}
    for start in range(0, len(persons), UPSERT_CHUNK):
        found = await session.execute(
            select(
                SCREENINGS.c.fact_id,
                SCREENINGS.c.subject_key,
                SCREENINGS.c.year,
                SCREENINGS.c.quarter,
                SCREENINGS.c.rkey_year,
                SCREENINGS.c.rkey_quarter,
            )
            .where(SCREENINGS.c.subject_key.in_(persons[start : start + UPSERT_CHUNK]))
            .order_by(SCREENINGS.c.fact_id)
        )
        for fact_id, person, year, quarter, rkey_year, rkey_quarter in found:
            own[fact_id] = (person, int(year), int(quarter), int(rkey_year), int(rkey_quarter))
            per_year.setdefault((person, int(year)), int(rkey_year))
            per_quarter.setdefault((person, int(year), int(quarter)), int(rkey_quarter))
    if not own:
        return list(rows)
    out = []
    for row in rows:
        person, year, quarter = row.get("subject_key"), int(row["year"]), int(row["quarter"])
        if not person:
            out.append(row)
            continue
        mine = own.get(row["fact_id"])
        keyed = dict(row)
        if mine is not None and mine[:2] == (person, year):
            keyed["rkey_year"] = mine[3]
        else:
            keyed["rkey_year"] = per_year.get((person, year), row["rkey_year"])
        if mine is not None and mine[:3] == (person, year, quarter):
            keyed["rkey_quarter"] = mine[4]
        else:
            keyed["rkey_quarter"] = per_quarter.get((person, year, quarter), row["rkey_quarter"])
        out.append(keyed)
    return out


async def refresh_person_periods(session: AsyncSession, *, years: Sequence[int], person: str | None = None) -> None:
    """Re-mark each person's highest-status fact per year and per quarter (ties: latest month, then fact_id).

    Called after every write in the same transaction: for one person on ingest, for whole years after
    an import. On PostgreSQL a per-person advisory lock keeps two concurrent facts of one person from
    both (or neither) being marked.
    """
    if person is not None:
        await lock_persons(session, [person])
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


def _raw_expression(name: str, source: Any) -> Any:
    """A breakdown's value as stored: forms as the bit mask (expanded per form by the caller)."""
    return source.c.forms_mask if name == "forms_mask" else DIMENSIONS[name].expression(source)


def _key_column(table: str, quarterly: bool) -> Any:
    if table == "victims":
        return SCREENINGS.c.rkey_quarter if quarterly else SCREENINGS.c.rkey_year
    return (REFERRALS if table == "referrals" else SCREENINGS).c.rkey


@dataclass(frozen=True)
class KeyedCount:
    """Units of one group of stored values and the sum of their record keys."""

    values: tuple[Any, ...]
    count: int
    key_sum: int


async def count_with_keys(
    session: AsyncSession,
    table: str,
    raw_names: Sequence[str],
    periods: Sequence[Period],
    *,
    min_rank: int = VICTIM_MIN_RANK,
) -> dict[Period, list[KeyedCount]]:
    """Counts and record-key sums per group of stored values, per period, in one grouped query.

    Everything the cell key method needs: a cell's count and its cell key are sums over groups (a fact
    under each of its forms is expanded by the caller). `periods` are all years or all quarters.
    People (`victims`) are counted once per period under their highest-status fact (top_of_year /
    top_of_quarter), with their per-person-per-period record key.
    """
    quarterly = periods[0].quarter is not None
    source = REFERRALS if table == "referrals" else SCREENINGS
    years = sorted({p.year for p in periods})
    where: list[Any] = [source.c.year.in_(years)]
    if quarterly:
        # Naming the quarters lets PostgreSQL bound the (year, quarter, status_rank) index on the rank too:
        # one short range per quarter instead of every entry of the years (the quarterly series, 5 years
        # of quarters over 1,000,000 facts: 156 ms before, see docs/statistics.md "Speed").
        where.append(source.c.quarter.in_(sorted({p.quarter for p in periods})))
    if table == "victims":
        top = SCREENINGS.c.top_of_quarter if quarterly else SCREENINGS.c.top_of_year
        where += [top, SCREENINGS.c.status_rank >= min_rank]
    groups: list[Any] = [source.c.year] + ([source.c.quarter] if quarterly else [])
    groups += [_raw_expression(name, source) for name in raw_names]
    key = _key_column(table, quarterly)
    query = select(*groups, func.count(), func.sum(key)).where(*where).group_by(*groups)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        # The planner overestimates these groups: left alone it may sort instead of hashing and JIT-compile
        # the query (~50 ms alone).
        await session.execute(text("SET LOCAL jit = off"))
    result = await session.execute(query)
    wanted = set(periods)
    out: dict[Period, list[KeyedCount]] = {p: [] for p in periods}
    lead = 2 if quarterly else 1
    for row in result:
        period = Period(int(row[0]), int(row[1])) if quarterly else Period(int(row[0]))
        if period in wanted:
            out[period].append(KeyedCount(tuple(row[lead:-2]), int(row[-2]), int(row[-1] or 0)))
    return out


async def record_key_secret(session: AsyncSession) -> bytes:
    """The keyed hash's secret, created by the migration; generated here if a database lacks it."""
    found = await session.scalar(select(StatsKey.secret).where(StatsKey.name == RECORD_KEYS))
    if found is not None:
        return bytes(found)
    secret = os.urandom(32)
    insert = _insert_for(session)
    await session.execute(insert(StatsKey).values(name=RECORD_KEYS, secret=secret).on_conflict_do_nothing())
    return bytes(await session.scalar(select(StatsKey.secret).where(StatsKey.name == RECORD_KEYS)))


def with_record_keys(table: Table, rows: Sequence[dict[str, Any]], secret: bytes) -> list[dict[str, Any]]:
    """Rows with their record keys: per fact, and (screenings) per person per year and per quarter."""
    out = []
    for row in rows:
        keyed = {**row, "rkey": record_key(secret, "fact", row["fact_id"])}
        if table is SCREENINGS:
            person = row.get("subject_key") or row["fact_id"]
            keyed["rkey_year"] = record_key(secret, "person-year", person, row["year"])
            keyed["rkey_quarter"] = record_key(secret, "person-quarter", person, row["year"], row["quarter"])
        out.append(keyed)
    return out


async def release_rows(session: AsyncSession, year: int) -> list[Release]:
    result = await session.execute(select(Release).where(Release.year == year).order_by(Release.version))
    return list(result.scalars())


async def add_release(session: AsyncSession, release: Release) -> Release:
    session.add(release)
    await session.flush()
    return release


async def person_rows(session: AsyncSession, year: int, columns: Sequence[str], min_rank: int) -> list[tuple[Any, ...]]:
    """One row per person counted in the year (highest-status fact) with the stored `columns`."""
    victims = _victims(Period(year), min_rank)
    result = await session.execute(select(*(victims.c[c] for c in columns)))
    return [tuple(row) for row in result]


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
    session: AsyncSession,
    import_id: str,
    *,
    status: str,
    processed: int,
    imported: int,
    errors: list[dict[str, Any]],
    now: datetime,
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
            finished_at=now,
        )
    )
