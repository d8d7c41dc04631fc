"""The release of a closed year: the declared tables computed once, suppressed, audited and frozen, versioned.

A release is computed from the persons counted in the year (one row each, under their highest-status
screening), never changed afterwards. Asking again after late facts makes a new version, suppressed
and audited together with every earlier version (see `audit`); asking again with nothing changed
answers the latest version.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from putokaz.errors import Conflict, Invalid, NotFound
from services.registry import repository
from services.registry.facts import MIN_YEAR, VICTIM_MIN_RANK
from services.registry.models import Release
from services.registry.release_audit import Quantity, ReleaseUnsafe, Version, primary, protect, quantities
from services.registry.release_tables import SPECS, Cell, atom_index, cells_of, person_atoms

PERSON = ("sex", "child", "citizenship", "entity", "canton", "status", "forms_mask", "quarter", "age_band")
Counts = dict[str, dict[int, int]]


@dataclass(frozen=True)
class Computed:
    tables: dict[str, Any]
    audit: dict[str, Any]
    atoms: Counts
    digest: str


def count_atoms(rows: list[tuple[Any, ...]]) -> Counts:
    counts: Counts = defaultdict(dict)
    for row in rows:
        for block, atom in person_atoms(row).items():
            index = atom_index(block)[atom]
            counts[block][index] = counts[block].get(index, 0) + 1
    return dict(counts)


def _all_cells(thresholds: tuple[int, int]) -> list[Cell]:
    return [cell for spec in SPECS for cell in cells_of(spec, thresholds)]


def _restore(version: Release, thresholds: tuple[int, int]) -> Version:
    """An earlier version as the intruder sees it: its published figures and what each marker hid."""
    stored = json.loads(version.tables)
    atoms = {block: {int(k): v for k, v in found.items()} for block, found in json.loads(version.atoms).items()}
    qs = quantities(_all_cells(thresholds), atoms)
    published_blocks = {spec.block for spec in SPECS if spec.name in stored}
    for q in qs:
        if q.block not in published_blocks:
            # A version made before this block existed (the age bands) published nothing of it.
            q.rule = "revision"
    by_cell = {(cell.table, cell.coords): q for q in qs for cell in q.cells}
    for name, table in stored.items():
        for cell in table["cells"]:
            q = by_cell.get((name, tuple(cell[d] for d in table["dims"])))
            shown = cell["count"]
            if q is None or isinstance(shown, int):
                continue
            if str(shown).startswith("<"):
                q.rule = "primary"
            else:
                # "x": a complement (at least the threshold) or a revised cell (any value): what it was.
                q.rule = "secondary" if q.value >= q.threshold else "revision"
    return Version(qs, atoms)


def compute(rows: list[tuple[Any, ...]], thresholds: tuple[int, int], earlier: list[Release]) -> Computed:
    """Suppress and audit a year's declared tables (CPU-bound: run it in a thread)."""
    started = time.perf_counter()
    atoms = count_atoms(rows)
    cells = _all_cells(thresholds)
    qs = quantities(cells, atoms)
    versions = [_restore(v, thresholds) for v in earlier]
    primary(qs, versions[-1].quantities if versions else None)
    outcome = protect(qs, atoms, versions)
    tables = _render(qs, thresholds)
    hidden = outcome.intervals
    audit = {
        "method": "linear-programming interval audit (HiGHS)",
        "passed": all(i.passes() for i in hidden),
        "versions_audited": [v.version for v in earlier] + [len(earlier) + 1],
        "rounds": outcome.rounds,
        "linear_programmes": outcome.lp_count,
        "seconds": round(time.perf_counter() - started, 2),
        "hidden": [
            {
                "cells": [{"table": c.table, "cell": _coords(c)} for c in i.quantity.cells],
                "rule": i.quantity.rule,
                "shown": i.quantity.marker(),
                "interval": [i.low, None if i.high >= 10**9 else i.high],
                "protection_width": i.quantity.required_width(),
                "protected": i.passes(),
            }
            for i in hidden
        ],
        "counts": {
            "figures": len(qs),
            "hidden": sum(q.hidden for q in qs),
            "primary": sum(q.rule == "primary" for q in qs),
            "secondary": sum(q.rule == "secondary" for q in qs),
            "revision": sum(q.rule == "revision" for q in qs),
            "margin": sum(q.rule == "margin" for q in qs),
        },
    }
    digest = hashlib.sha256(json.dumps(atoms, sort_keys=True).encode()).hexdigest()
    return Computed(tables, audit, atoms, digest)


def _coords(cell: Cell) -> dict[str, str]:
    spec = next(s for s in SPECS if s.name == cell.table)
    return dict(zip(spec.dims, cell.coords, strict=True))


def _render(qs: list[Quantity], thresholds: tuple[int, int]) -> dict[str, Any]:
    shown = {(cell.table, cell.coords): q for q in qs for cell in q.cells}
    tables: dict[str, Any] = {}
    for spec in SPECS:
        if not spec.shown:
            continue
        cells = []
        for cell in cells_of(spec, (0, 0)):
            q = shown[(spec.name, cell.coords)]
            entry: dict[str, Any] = dict(zip(spec.dims, cell.coords, strict=True))
            entry["count"] = q.marker()
            cells.append(entry)
        tables[spec.name] = {
            "title": spec.title,
            "dims": list(spec.dims),
            "headline": spec.headline,
            "unit": "persons" if not spec.registered_only else "registered victims (persons)",
            "threshold": thresholds[1] if spec.sensitive else thresholds[0],
            "cells": cells,
        }
    return tables


def _closed_year(year: int, now: datetime) -> None:
    if year < MIN_YEAR:
        raise Invalid(f"The registry holds no data before {MIN_YEAR}", field="body.year")
    if year >= now.year:
        raise Invalid("Only a closed year can be released; this year has not ended", field="body.year")


async def release_year(
    session: AsyncSession, year: int, thresholds: tuple[int, int], *, now: datetime
) -> tuple[Release, bool]:
    """The latest release of `year`, computed now if none exists or the facts changed; (release, created)."""
    _closed_year(year, now)
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        # One release computation per year at a time: the second waits, then finds the first's version.
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('registry-release'), :year)"), {"year": year})
    earlier = await repository.release_rows(session, year)
    rows = await repository.person_rows(session, year, PERSON, VICTIM_MIN_RANK)
    digest = hashlib.sha256(json.dumps(count_atoms(rows), sort_keys=True).encode()).hexdigest()
    if earlier and earlier[-1].facts_digest == digest:
        return earlier[-1], False
    try:
        computed = await asyncio.to_thread(compute, rows, thresholds, earlier)
    except ReleaseUnsafe:
        raise Conflict("The release cannot be protected with the declared tables; nothing was released") from None
    release = Release(
        id=str(uuid.uuid4()),
        year=year,
        version=len(earlier) + 1,
        created_at=now,
        tables=json.dumps(computed.tables),
        audit=json.dumps(computed.audit),
        atoms=json.dumps(computed.atoms),
        facts_digest=computed.digest,
    )
    return await repository.add_release(session, release), True


async def get_release(session: AsyncSession, year: int, version: int | None = None) -> tuple[Release, int]:
    """A version of a year's release (the latest by default) and how many versions exist."""
    found = await repository.release_rows(session, year)
    if not found:
        raise NotFound("No release of this year")
    if version is None:
        return found[-1], len(found)
    chosen = next((r for r in found if r.version == version), None)
    if chosen is None:
        raise NotFound("No such version of this year's release")
    return chosen, len(found)


def release_read(release: Release, versions: int) -> dict[str, Any]:
    return {
        "year": release.year,
        "version": release.version,
        "versions": versions,
        "created_at": release.created_at,
        "exact": True,
        "tables": json.loads(release.tables),
        "audit": json.loads(release.audit),
    }
