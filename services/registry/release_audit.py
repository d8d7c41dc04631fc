"""Suppression and the linear-programming interval audit of a release. Pure, no I/O.

An intruder knows every published cell of the release (and of every earlier version of the same
year), what each marker means (`<t`: 1..t−1; `x` hiding a cell chosen as a complement: at least t),
that counts are whole and non-negative, and which atoms each cell adds up. For every hidden cell the
audit computes the smallest and largest value it can take under all of that, by linear programming
(HiGHS through `highspy`, one model per block re-solved for each hidden cell), and requires the
interval to stay at least as wide as its protection range (a sliding protection range):

- a cell hidden as small (`<t`): ⌈t/2⌉ wide (3 at t = 5, 5 at t = 10);
- a non-empty cell hidden because it changed by less than t since the previous version (`revision`),
  or because it lies on a line whose exact headline total is below t (`margin`): not pinned (1 wide);
- in every case never more than the exact headline figures and the cell's own marker allow on their
  own (`prior`): what the declared-exact headlines disclose is disclosed by design.

Where a cell fails, suppression grows, chosen by the solver: of the published figures its bound
rests on (the non-zero duals of the programme), the smallest non-headline one is hidden as its
complement (failing that, the smallest on one of its lines), and the audit runs again, until every
hidden cell passes. Headline cells are never hidden.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from services.registry.release_tables import TOTAL, Cell
from services.registry.release_tables import atoms as block_atoms

MAX_ROUNDS = 60


@dataclass
class Quantity:
    """One distinct published figure: a set of atoms of one block, shown in one or more cells."""

    block: str
    members: frozenset[int]
    value: int
    threshold: int
    headline: bool
    cells: list[Cell] = field(default_factory=list)
    rule: str | None = None  # None (published), "primary", "secondary", "revision", "margin"
    previous: int | None = None  # the value published by the previous version, if it was published
    # The interval the exact headline figures alone allow (set by `priors`).
    prior: tuple[float, float] | None = None

    @property
    def hidden(self) -> bool:
        return self.rule is not None

    def marker(self) -> int | str:
        if self.rule is None:
            return self.value
        return f"<{self.threshold}" if self.rule == "primary" else "x"

    def required_width(self) -> int:
        """How wide the intruder's interval must stay: half the threshold for a small cell, 1 (not pinned)
        for a revised or small-line cell that is not empty, never wider than the exact headline figures
        and the cell's own marker already allow (`prior`)."""
        if self.rule == "primary":
            wanted = math.ceil(self.threshold / 2)
        elif self.rule in ("revision", "margin") and self.value > 0:
            wanted = 1
        else:
            return 0
        if self.prior is not None:
            low, high = self.bounds()
            room = min(high, self.prior[1]) - max(low, self.prior[0])
            wanted = min(wanted, max(0, int(room)))
        return wanted

    def bounds(self) -> tuple[float, float]:
        """What the intruder knows of a hidden figure from its marker and the rules."""
        if self.rule == "primary":
            return 1, self.threshold - 1
        if self.rule == "secondary":
            return self.threshold, math.inf
        return 0, math.inf


@dataclass(frozen=True)
class Version:
    """What an earlier version published, for the joint audit: its quantities and its true atom counts."""

    quantities: Sequence[Quantity]
    atoms: Mapping[str, Mapping[int, int]]


@dataclass
class Interval:
    quantity: Quantity
    low: int
    high: int
    # Published figures the bounds rest on (the LP's non-zero duals), smallest first.
    binding: list[Quantity] = field(default_factory=list)

    def passes(self) -> bool:
        return self.high - self.low >= self.quantity.required_width()


def quantities(cells: Sequence[Cell], counts: Mapping[str, Mapping[int, int]]) -> list[Quantity]:
    """Cells grouped by what they count (the same atoms = the same figure, however many tables show it)."""
    found: dict[tuple[str, frozenset[int]], Quantity] = {}
    for cell in cells:
        key = (cell.block, cell.members)
        # A block's own total (every person, e.g. the total of the entity or quarter table) is the year's
        # grand total, published exactly in `total`: hiding it (say, as revised) would hide nothing, and
        # the block's audit must know it.
        headline = cell.headline or len(cell.members) == len(block_atoms(cell.block))
        q = found.get(key)
        if q is None:
            value = sum(counts.get(cell.block, {}).get(a, 0) for a in cell.members)
            q = found[key] = Quantity(cell.block, cell.members, value, cell.threshold, headline)
        q.threshold = max(q.threshold, cell.threshold)
        q.headline = q.headline or headline
        q.cells.append(cell)
    return list(found.values())


def primary(qs: Sequence[Quantity], previous: Sequence[Quantity] | None) -> None:
    """Hide small non-headline figures; every cell (zeros too) on a line whose total is below the
    threshold (else a zero beside it would give that line's few persons away); and, in a revision,
    figures that moved by less than their threshold."""
    before = {(q.block, q.members): q for q in previous or ()}
    shown = {(cell.table, cell.coords): q for q in qs for cell in q.cells}
    for q in qs:
        if q.headline:
            continue
        if _on_small_line(q, shown):
            q.rule = "margin"
            continue
        if 0 < q.value < q.threshold:
            q.rule = "primary"
            continue
        old = before.get((q.block, q.members))
        if old is not None and not old.hidden:
            q.previous = old.value
            if 0 < abs(q.value - old.value) < q.threshold:
                q.rule = "revision"


def priors(qs: Sequence[Quantity], counts: Mapping[str, Mapping[int, int]], earlier: Sequence[Version] = ()) -> None:
    """Set each non-headline figure's `prior`: its interval given the exact headline figures alone (and,
    in a revision, everything the earlier versions published: what this version cannot take back)."""
    shadows = {}
    for q in qs:
        shadow = Quantity(q.block, q.members, q.value, q.threshold, q.headline, q.cells)
        shadow.rule = None if q.headline else "unknown"
        shadows[id(shadow)] = (shadow, q)
    view = [shadow for shadow, _ in shadows.values()]
    for block in sorted({q.block for q in qs}):
        for interval in Auditor(block, view, counts.get(block, {}), earlier).intervals():
            _, original = shadows[id(interval.quantity)]
            original.prior = (interval.low, interval.high)


def _on_small_line(q: Quantity, shown: Mapping[tuple[str, tuple[str, ...]], Quantity]) -> bool:
    for cell in q.cells:
        if len(cell.coords) != 2 or TOTAL in cell.coords:
            continue
        a, b = cell.coords
        for total in (shown.get((cell.table, (a, TOTAL))), shown.get((cell.table, (TOTAL, b)))):
            if total is not None and 0 < total.value < q.threshold:
                return True
    return False


class Auditor:
    """The intruder's linear programme for one block: current atoms, and one copy per earlier version."""

    def __init__(
        self, block: str, qs: Sequence[Quantity], counts: Mapping[int, int], earlier: Sequence[Version] = ()
    ) -> None:
        self.block = block
        self.copies: list[tuple[list[Quantity], Mapping[int, int]]] = [([q for q in qs if q.block == block], counts)]
        self.copies += [([q for q in v.quantities if q.block == block], v.atoms.get(block, {})) for v in earlier]
        self.lp_count = 0

    @staticmethod
    def _variables(qs: Sequence[Quantity]) -> list[int]:
        """Atoms not inside a published zero (those are known to be empty)."""
        zero: set[int] = set()
        every: set[int] = set()
        for q in qs:
            every |= q.members
            if not q.hidden and q.value == 0:
                zero |= q.members
        return sorted(every - zero)

    def _system(self) -> tuple[list[dict[int, float]], list[tuple[float, float]], dict[tuple[int, int], int]]:
        """Rows ({column: coefficient}) with bounds, over the current copy (0) and earlier copies (1..)."""
        column: dict[tuple[int, int], int] = {}
        for c, (qs, _) in enumerate(self.copies):
            for atom in self._variables(qs):
                column[(c, atom)] = len(column)
        rows: list[dict[int, float]] = []
        bounds: list[tuple[float, float]] = []
        for c, (qs, _) in enumerate(self.copies):
            for q in qs:
                rows.append({column[(c, a)]: 1.0 for a in q.members if (c, a) in column})
                bounds.append((q.value, q.value) if not q.hidden else q.bounds())
        # Between versions the intruder is granted the direction of every atom's change (more than a
        # real intruder knows: the audit errs on the safe side).
        current = self.copies[0][1]
        for c, (qs, atoms) in enumerate(self.copies[1:], start=1):
            for atom in self._variables(qs):
                if (0, atom) not in column:
                    continue
                delta = current.get(atom, 0) - atoms.get(atom, 0)
                rows.append({column[(0, atom)]: 1.0, column[(c, atom)]: -1.0})
                bounds.append((0, math.inf) if delta >= 0 else (-math.inf, 0))
        return rows, bounds, column

    def intervals(self, only: set[int] | None = None) -> list[Interval]:
        """Bounds of the hidden figures (of those whose id is in `only`, if given); a failing figure's
        interval names the published figures its bounds rest on (non-zero duals), its candidates."""
        hidden = [q for q in self.copies[0][0] if q.hidden and (only is None or id(q) in only)]
        if not hidden:
            return []
        import highspy  # imported when a release is audited: it costs seconds of start-up otherwise
        import numpy as np

        rows, bounds, column = self._system()
        if not column:
            # Every atom lies in a published zero: every hidden figure is known to be 0.
            return [Interval(q, 0, 0) for q in hidden]
        highs = highspy.Highs()
        highs.setOptionValue("output_flag", False)
        width = len(column)
        highs.addVars(width, np.zeros(width), np.full(width, highspy.kHighsInf))
        starts, indices, values = [], [], []
        for row in rows:
            starts.append(len(indices))
            indices.extend(row.keys())
            values.extend(row.values())
        lower = np.array([b[0] if math.isfinite(b[0]) else -highspy.kHighsInf for b in bounds])
        upper = np.array([b[1] if math.isfinite(b[1]) else highspy.kHighsInf for b in bounds])
        highs.addRows(
            len(rows),
            lower,
            upper,
            len(indices),
            np.array(starts, dtype=np.int32),
            np.array(indices, dtype=np.int32),
            np.array(values, dtype=float),
        )
        out = []
        everything = np.arange(width, dtype=np.int32)
        for q in hidden:
            costs = np.zeros(width)
            for atom in q.members:
                if (0, atom) in column:
                    costs[column[(0, atom)]] = 1.0
            highs.changeColsCost(width, everything, costs)
            ends = []
            binding: dict[int, Quantity] = {}
            for sense in (highspy.ObjSense.kMinimize, highspy.ObjSense.kMaximize):
                self.lp_count += 1
                highs.changeObjectiveSense(sense)
                highs.run()
                status = highs.getModelStatus()
                if status == highspy.HighsModelStatus.kUnbounded:
                    ends.append(math.inf)
                    continue
                if status != highspy.HighsModelStatus.kOptimal:
                    raise RuntimeError(f"release audit LP failed: {highs.modelStatusToString(status)}")
                ends.append(highs.getInfo().objective_function_value)
                duals = highs.getSolution().row_dual
                for r, other in enumerate(self.copies[0][0]):
                    if abs(duals[r]) > 1e-9 and not other.hidden and not other.headline and other.value > 0:
                        binding[id(other)] = other
            high = math.floor(ends[1] + 1e-6) if math.isfinite(ends[1]) else UNBOUNDED
            interval = Interval(q, math.ceil(ends[0] - 1e-6), high)
            interval.binding = sorted(binding.values(), key=lambda x: (x.value, len(x.members)))
            out.append(interval)
        return out


UNBOUNDED = 10**9


def complements(q: Quantity, qs: Sequence[Quantity]) -> list[Quantity]:
    """Published non-headline non-zero figures on a line through `q` (same table, same row or column),
    smallest first; if none, any such figure of a table showing `q`."""
    lines: dict[int, Quantity] = {}
    anywhere: dict[int, Quantity] = {}
    tables = {cell.table: cell for cell in q.cells}
    for other in qs:
        if other.hidden or other.headline or other.value == 0 or other is q:
            continue
        for shown in other.cells:
            cell = tables.get(shown.table)
            if cell is None:
                continue
            anywhere[id(other)] = other
            if len(cell.coords) <= 1 or any(a == b for a, b in zip(shown.coords, cell.coords, strict=True)):
                lines[id(other)] = other
    if not lines and not anywhere:
        # The figures pinning `q` are elsewhere: any published figure sharing persons with it.
        for other in qs:
            if not (other.hidden or other.headline or other.value == 0) and other.block == q.block:
                if other.members & q.members:
                    anywhere[id(other)] = other
    pool = lines or anywhere
    return sorted(pool.values(), key=lambda x: (x.value, len(x.members)))


@dataclass
class Outcome:
    intervals: list[Interval]
    rounds: int
    lp_count: int


def protect(
    qs: Sequence[Quantity], counts: Mapping[str, Mapping[int, int]], earlier: Sequence[Version] = ()
) -> Outcome:
    """Add secondary suppressions until every hidden figure's interval covers its protection range."""
    blocks = sorted({q.block for q in qs})
    priors(qs, counts, earlier)
    lp_count = 0
    settled: dict[int, Interval] = {}
    only: set[int] | None = None
    for rounds in range(1, MAX_ROUNDS + 1):
        intervals: list[Interval] = []
        for block in blocks:
            auditor = Auditor(block, qs, counts.get(block, {}), earlier)
            intervals += auditor.intervals(only)
            lp_count += auditor.lp_count
        # Hiding more only relaxes the intruder's programme: a figure that passed keeps passing, so
        # later rounds audit the failing ones (and the final report re-audits every hidden figure).
        for interval in intervals:
            settled[id(interval.quantity)] = interval
        failing = [i for i in intervals if not i.passes()]
        if not failing:
            final: list[Interval] = []
            for block in blocks:
                auditor = Auditor(block, qs, counts.get(block, {}), earlier)
                final += auditor.intervals()
                lp_count += auditor.lp_count
            return Outcome(final, rounds, lp_count)
        added = False
        for interval in failing:
            choices = interval.binding or complements(interval.quantity, qs)
            if choices and not choices[0].hidden:
                choices[0].rule = "secondary"
                added = True
        if not added:
            break
        only = {id(i.quantity) for i in failing}
    raise ReleaseUnsafe("no suppression pattern found that protects every hidden cell")


class ReleaseUnsafe(RuntimeError):
    """The release cannot be protected with the declared tables (never published)."""
