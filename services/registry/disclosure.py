"""Statistical disclosure control for count tables: primary, secondary (linear and interval) suppression.

Pure functions, no I/O. A table is one or two breakdowns with their totals:

- 1-D: cells `(a,)` for each category and the total `(TOTAL,)`; one equation: cells sum to the total.
- 2-D: cells `(a, b)`, row totals `(a, TOTAL)`, column totals `(TOTAL, b)` and the grand total
  `(TOTAL, TOTAL)`; every row and every column (the total row and column included) sums to its total.

What an intruder knows is modelled explicitly: every published count, every equation above, that a
cell shown as "<t" holds 1..t-1 (primary), and that any other suppressed cell holds at least t (a
non-zero count that was not small; zeros are never suppressed). Suppression is extended to a fixed
point until no suppressed cell can be pinned to a single value:

1. **primary**: counts 1..t-1;
2. **secondary (linear)**: a suppressed cell determined by the equations. In 2-D this is exactly a
   bridge in the bipartite graph whose nodes are rows and columns (totals included) and whose edges
   are suppressed cells (a cell on a cycle can move along the cycle without changing any total);
   in 1-D it is a lone suppressed cell in the line;
3. **secondary (interval)**: a cell pinned by bounds propagation (for example `<5` next to a cell
   that must be ≥ 5 in a line whose suppressed cells sum to 6).

Rule 3 approximates what a linear-programming intruder can bound; it closes the common cases but is
not a proof for every table (see the README).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

TOTAL = "total"
Key = tuple[str, ...]
Rule = Literal["primary", "secondary", "linked", "consistent_margin"]
MIN_THRESHOLD = 3
MIN_SENSITIVE_THRESHOLD = 5


@dataclass(frozen=True)
class Suppression:
    """Why a cell is not published."""

    cell: Key
    rule: Rule
    reason: str


@dataclass(frozen=True)
class Line:
    """Cells (`parts`) that add up to `total`."""

    parts: tuple[Key, ...]
    total: Key

    @property
    def members(self) -> tuple[Key, ...]:
        return (*self.parts, self.total)


@dataclass
class ProtectedTable:
    """The counts of a table, which of them are suppressed, and why."""

    threshold: int
    values: dict[Key, int]
    lines: list[Line]
    suppressed: dict[Key, Suppression] = field(default_factory=dict)

    def is_suppressed(self, key: Key) -> bool:
        return key in self.suppressed

    def shown(self, key: Key) -> int | str:
        """The published form of a cell: its count, `"<t"` (primary) or `"x"` (any other suppression)."""
        rule = self.suppressed.get(key)
        if rule is None:
            return self.values[key]
        return f"<{self.threshold}" if rule.rule == "primary" else "x"

    def percent(self, key: Key, of: Key) -> float | None:
        """`key` as a percentage of `of`, withheld when either is suppressed (it would reveal the cell)."""
        if key in self.suppressed or of in self.suppressed or not self.values.get(of):
            return None
        return round(100.0 * self.values[key] / self.values[of], 1)


def check_threshold(value: int, minimum: int, name: str) -> int:
    """Thresholds are settings, but never below a safe floor."""
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum} (got {value})")
    return value


def transpose(table: ProtectedTable) -> ProtectedTable:
    """The same 2-D table with rows and columns swapped (`by=b,a` is the table `by=a,b` turned)."""
    flipped = ProtectedTable(
        threshold=table.threshold,
        values={(k[1], k[0]): v for k, v in table.values.items()},
        lines=[Line(tuple((p[1], p[0]) for p in line.parts), (line.total[1], line.total[0])) for line in table.lines],
    )
    flipped.suppressed = {
        (k[1], k[0]): Suppression((k[1], k[0]), s.rule, s.reason) for k, s in table.suppressed.items()
    }
    return flipped


def table_lines(rows: Sequence[str], cols: Sequence[str] | None) -> list[Line]:
    """The additive equations of a 1-D (`cols is None`) or 2-D table with margins."""
    if cols is None:
        return [Line(tuple((r,) for r in rows), (TOTAL,))]
    lines = [Line(tuple((r, c) for c in cols), (r, TOTAL)) for r in (*rows, TOTAL)]
    lines += [Line(tuple((r, c) for r in rows), (TOTAL, c)) for c in (*cols, TOTAL)]
    return lines


def table_keys(rows: Sequence[str], cols: Sequence[str] | None) -> list[Key]:
    if cols is None:
        return [(r,) for r in (*rows, TOTAL)]
    return [(r, c) for r in (*rows, TOTAL) for c in (*cols, TOTAL)]


def protect(
    rows: Sequence[str],
    cols: Sequence[str] | None,
    counts: Mapping[Key, int],
    threshold: int,
    *,
    forced: Iterable[Key] = (),
    forced_rule: Rule = "linked",
    forced_reason: str = "suppressed in a linked table with the same figure",
) -> ProtectedTable:
    """Suppress a table's small cells and every cell that would let them be recovered.

    `counts` holds the interior cells (missing = 0); totals are computed here so they always add up.
    `forced` cells are suppressed because another table suppressed the same figure; they are reported
    with `forced_rule` and `forced_reason`, and the table's own secondary suppression then runs with
    them hidden.
    """
    values = _with_totals(rows, cols, counts)
    table = ProtectedTable(threshold=threshold, values=values, lines=table_lines(rows, cols))
    for key, value in values.items():
        if 0 < value < threshold:
            table.suppressed[key] = Suppression(key, "primary", f"count below the threshold of {threshold}")
    for key in forced:
        if key in values and key not in table.suppressed and values[key] > 0:
            table.suppressed[key] = Suppression(key, forced_rule, forced_reason)
    while _add_linear_complement(table, two_dimensional=cols is not None) or _add_interval_complement(table):
        pass
    return table


def _with_totals(rows: Sequence[str], cols: Sequence[str] | None, counts: Mapping[Key, int]) -> dict[Key, int]:
    values: dict[Key, int] = {}
    if cols is None:
        for r in rows:
            values[(r,)] = int(counts.get((r,), 0))
        values[(TOTAL,)] = sum(values[(r,)] for r in rows)
        return values
    for r in rows:
        for c in cols:
            values[(r, c)] = int(counts.get((r, c), 0))
        values[(r, TOTAL)] = sum(values[(r, c)] for c in cols)
    for c in (*cols, TOTAL):
        values[(TOTAL, c)] = sum(values[(r, c)] for r in rows)
    return values


def _candidates(table: ProtectedTable, lines: Iterable[Line]) -> list[Key]:
    """Published non-zero cells of these lines, cheapest first (small interior cells before totals)."""
    seen: set[Key] = set()
    out = []
    for line in lines:
        for key in line.members:
            if key not in seen and key not in table.suppressed and table.values[key] > 0:
                seen.add(key)
                out.append(key)
    return sorted(out, key=lambda k: (TOTAL in k, table.values[k], k))


def _suppress(table: ProtectedTable, key: Key, reason: str) -> None:
    table.suppressed[key] = Suppression(key, "secondary", reason)


def _describe(key: Key) -> str:
    return "/".join(key)


def _add_linear_complement(table: ProtectedTable, *, two_dimensional: bool) -> bool:
    """Suppress one more cell if some suppressed cell is determined by the equations; True if it did."""
    for key in _determined_cells(table, two_dimensional=two_dimensional):
        lines = [line for line in table.lines if key in line.members]
        candidates = _candidates(table, lines)
        if two_dimensional:
            # Prefer a complement that closes a cycle through `key` (then `key` is protected at once).
            graph = _suppression_graph(table, exclude=key)
            row, col = _nodes(key)
            closing = [c for c in candidates if _closes_cycle(graph, c, row, col)]
            candidates = closing or candidates or _bridging_cells(table, graph, row, col)
        if candidates:
            _suppress(table, candidates[0], f"cell {_describe(key)} could be recovered from the totals")
            return True
    return False


def _determined_cells(table: ProtectedTable, *, two_dimensional: bool) -> list[Key]:
    if not two_dimensional:
        out = []
        for line in table.lines:
            hidden = [k for k in line.members if k in table.suppressed]
            if len(hidden) == 1:
                out.append(hidden[0])
        return out
    return sorted(_bridges(table))


def _nodes(key: Key) -> tuple[str, str]:
    return "r:" + key[0], "c:" + key[1]


def _suppression_graph(table: ProtectedTable, exclude: Key | None = None) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for key in table.suppressed:
        if key == exclude:
            continue
        row, col = _nodes(key)
        graph[row].add(col)
        graph[col].add(row)
    return graph


def _connected(graph: Mapping[str, set[str]], start: str, goal: str) -> bool:
    seen, stack = {start}, [start]
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        for nxt in graph.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return False


def _bridges(table: ProtectedTable) -> set[Key]:
    """Suppressed cells on no cycle of the row/column graph (Tarjan, iterative): exactly the determined ones."""
    edges: dict[str, list[tuple[str, Key]]] = defaultdict(list)
    for key in table.suppressed:
        row, col = _nodes(key)
        edges[row].append((col, key))
        edges[col].append((row, key))
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    bridges: set[Key] = set()
    for root in edges:
        if root in order:
            continue
        order[root] = low[root] = len(order)
        stack: list[tuple[str, Key | None, int]] = [(root, None, 0)]
        while stack:
            node, via, i = stack[-1]
            if i < len(edges[node]):
                stack[-1] = (node, via, i + 1)
                nxt, key = edges[node][i]
                if key == via:
                    continue
                if nxt in order:
                    low[node] = min(low[node], order[nxt])
                else:
                    order[nxt] = low[nxt] = len(order)
                    stack.append((nxt, key, 0))
            else:
                stack.pop()
                if stack:
                    parent = stack[-1][0]
                    low[parent] = min(low[parent], low[node])
                    if low[node] > order[parent] and via is not None:
                        bridges.add(via)
    return bridges


def _reachable(graph: Mapping[str, set[str]], start: str) -> set[str]:
    seen, stack = {start}, [start]
    while stack:
        for nxt in graph.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen


def _bridging_cells(table: ProtectedTable, graph: dict[str, set[str]], row: str, col: str) -> list[Key]:
    """When the determined cell's own lines hold only zeros and suppressed cells: published cells elsewhere
    that join its row's and its column's sides of the graph, closing a cycle through it."""
    side_a, side_b = _reachable(graph, row), _reachable(graph, col)
    out = []
    for key, value in table.values.items():
        if key in table.suppressed or value == 0:
            continue
        r, c = _nodes(key)
        if (r in side_a and c in side_b) or (r in side_b and c in side_a):
            out.append(key)
    return sorted(out, key=lambda k: (TOTAL in k, table.values[k], k))


def _closes_cycle(graph: dict[str, set[str]], candidate: Key, row: str, col: str) -> bool:
    c_row, c_col = _nodes(candidate)
    trial = {node: set(edges) for node, edges in graph.items()}
    trial.setdefault(c_row, set()).add(c_col)
    trial.setdefault(c_col, set()).add(c_row)
    return _connected(trial, row, col)


def attacker_bounds(table: ProtectedTable, rounds: int = 50) -> dict[Key, tuple[float, float]]:
    """Bounds an intruder can derive for each suppressed cell by propagating the line equations."""
    t = table.threshold
    bounds: dict[Key, list[float]] = {}
    for key in table.values:
        rule = table.suppressed.get(key)
        if rule is None:
            bounds[key] = [table.values[key], table.values[key]]
        elif rule.rule == "primary":
            bounds[key] = [1, t - 1]
        else:
            bounds[key] = [t, math.inf]
    for _ in range(rounds):
        changed = False
        for line in table.lines:
            parts_lo = sum(bounds[k][0] for k in line.parts)
            parts_hi = sum(bounds[k][1] for k in line.parts)
            total = bounds[line.total]
            changed |= _tighten(total, parts_lo, parts_hi)
            for key in line.parts:
                others_lo = parts_lo - bounds[key][0]
                others_hi = (
                    parts_hi - bounds[key][1] if math.isfinite(bounds[key][1]) else _sum_except(bounds, line, key)
                )
                changed |= _tighten(bounds[key], total[0] - others_hi, total[1] - others_lo)
        if not changed:
            break
    return {key: (lo, hi) for key, (lo, hi) in bounds.items() if key in table.suppressed}


def _sum_except(bounds: Mapping[Key, list[float]], line: Line, skip: Key) -> float:
    return sum(bounds[k][1] for k in line.parts if k != skip)


def _tighten(bound: list[float], lo: float, hi: float) -> bool:
    changed = False
    if lo > bound[0]:
        bound[0] = lo
        changed = True
    if hi < bound[1]:
        bound[1] = hi
        changed = True
    return changed


def _add_interval_complement(table: ProtectedTable) -> bool:
    """Suppress one more cell if bounds propagation pins some suppressed cell; True if it did."""
    for key, (lo, hi) in sorted(attacker_bounds(table).items()):
        if lo < hi:
            continue
        candidates = _candidates(table, [line for line in table.lines if key in line.members])
        if candidates:
            _suppress(table, candidates[0], f"cell {_describe(key)} could be bounded to one value")
            return True
    return False
