"""Exact audit of two tables together: which hidden cells their joint equations determine.

Consistent margins stop a margin being published in one table and hidden in another, but one table's
equations can still determine a *combination* of hidden margins (for example RS + unknown when both
rows hold a single non-zero cell under a published column total) that, added to another table's
equations, pins a hidden cell. This module decides that exactly: Gaussian elimination modulo a large
prime (the equations have coefficients 0 and ±1, so ranks agree with those over the rationals except
with negligible probability) and a hidden cell is determined exactly when its unit vector lies in the
row space of the equations.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence

from services.registry.disclosure import Key, ProtectedTable

PRIME = (1 << 61) - 1
Unknown = Hashable
Equation = dict[Unknown, int]


def table_equations(
    name: Hashable, table: ProtectedTable, margins: Mapping[Key, Hashable], extra_hidden: Iterable[Hashable] = ()
) -> list[Equation]:
    """A table's lines over its hidden cells; a margin is named by its shared identity, so the same
    figure in two tables is one unknown. `extra_hidden` margins (or `(name, key)` cells) are treated as
    hidden too (a trial)."""
    trial = set(extra_hidden)
    out = []
    for line in table.lines:
        equation: Equation = {}
        for key, sign in [*((k, 1) for k in line.parts), (line.total, -1)]:
            margin = margins.get(key)
            if key in table.suppressed or (margin in trial if margin is not None else (name, key) in trial):
                unknown = margin if margin is not None else (name, key)
                equation[unknown] = (equation.get(unknown, 0) + sign) % PRIME
        equation = {k: v for k, v in equation.items() if v}
        if equation:
            out.append(equation)
    return out


def determined(equations: Sequence[Equation]) -> set[Unknown]:
    """Unknowns whose value the equations fix (reduced row echelon form, modulo PRIME)."""
    rows = [dict(eq) for eq in equations if eq]
    pivots: list[tuple[Unknown, Equation]] = []
    for row in rows:
        for pivot, reduced in pivots:
            factor = row.get(pivot)
            if factor:
                for k, v in reduced.items():
                    row[k] = (row.get(k, 0) - factor * v) % PRIME
                row = {k: v for k, v in row.items() if v}
        if not row:
            continue
        lead = next(iter(row))
        inverse = pow(row[lead], PRIME - 2, PRIME)
        row = {k: v * inverse % PRIME for k, v in row.items()}
        # Keep every stored row reduced against the new pivot too (full RREF).
        for i, (pivot, reduced) in enumerate(pivots):
            factor = reduced.get(lead)
            if factor:
                updated = dict(reduced)
                for k, v in row.items():
                    updated[k] = (updated.get(k, 0) - factor * v) % PRIME
                pivots[i] = (pivot, {k: v for k, v in updated.items() if v})
        pivots.append((lead, row))
    return {pivot for pivot, row in pivots if len(row) == 1}
