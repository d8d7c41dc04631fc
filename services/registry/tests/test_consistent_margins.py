"""Tables of one period and unit asked for separately: no hidden cell recoverable from any two of them."""

from __future__ import annotations

import random
from collections import Counter
from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from services.registry.facts import FORM_BITS, VICTIM_STATUSES
from services.registry.family import dimensions_of, family_of, protect_family, table_counts
from services.registry.repository import Period, count_cells, count_pairs, covering_sets
from services.registry.statistics import Thresholds, render_table
from services.registry.tests.conftest import LAST_YEAR, referral_fact, screening_fact, send_all

THRESHOLDS = Thresholds(5, 10)
RAW = {"nationality": "citizenship", "form": "forms_mask"}


# ---------------------------------------------------------------------------------------------------
# An intruder's view, built from published answers only (independent of the module's margin naming).


def _rref_determined(equations: list[dict[Any, Fraction]]) -> set[Any]:
    """Unknowns fixed by the equations: those whose unit vector lies in the row space (exact RREF)."""
    names = sorted({name for eq in equations for name in eq}, key=repr)
    rows = [[eq.get(n, Fraction(0)) for n in names] for eq in equations]
    pivots: list[int] = []
    r = 0
    for col in range(len(names)):
        pivot = next((i for i in range(r, len(rows)) if rows[i][col] != 0), None)
        if pivot is None:
            continue
        rows[r], rows[pivot] = rows[pivot], rows[r]
        lead = rows[r][col]
        rows[r] = [v / lead for v in rows[r]]
        for i in range(len(rows)):
            if i != r and rows[i][col] != 0:
                factor = rows[i][col]
                rows[i] = [a - factor * b for a, b in zip(rows[i], rows[r], strict=True)]
        pivots.append(col)
        r += 1
    return {names[col] for i, col in enumerate(pivots) if sum(1 for v in rows[i] if v != 0) == 1}


def _quantity(name: str, breakdowns: list[str], cell: dict[str, Any]) -> Any:
    """What a cell counts, so that the same figure in two tables is one unknown."""
    margins = [b for b in breakdowns if cell[b] != "total"]
    mentions = "form" in breakdowns
    if len(margins) == len(breakdowns) and len(breakdowns) == 2:
        return (name, tuple(cell[b] for b in breakdowns))  # an interior cell: this table's own
    if not margins:
        return ("grand", mentions)
    (dim,) = margins
    value = cell[dim]
    # Domain identities an intruder knows: national = citizenship BA, unknown nationality = UNK.
    if dim == "nationality" and value in ("national", "unknown"):
        dim, value = "citizenship", "BA" if value == "national" else "UNK"
    return ("margin", dim, value, mentions and dim != "form")


def _equations(name: str, answer: dict[str, Any], known: set[Any]) -> tuple[list[dict[Any, Fraction]], set[Any]]:
    """The additive equations of one answer over its hidden cells (published ones, here or in another
    answer, are constants)."""
    breakdowns = answer["breakdowns"]
    cells = answer["cells"]
    hidden = {_quantity(name, breakdowns, c) for c in cells if not isinstance(c["count"], int)} - known
    # Each line: its cells and which coordinate is "total" on the line's own total.
    lines: list[tuple[list[dict[str, Any]], str]] = []
    if len(breakdowns) == 2:
        a, b = breakdowns
        for value in {c[a] for c in cells}:
            lines.append(([c for c in cells if c[a] == value], b))
        for value in {c[b] for c in cells}:
            lines.append(([c for c in cells if c[b] == value], a))
    elif len(breakdowns) == 1:
        lines.append((cells, breakdowns[0]))
    equations = []
    for members, along in lines:
        eq: dict[Any, Fraction] = {}
        for c in members:
            q = _quantity(name, breakdowns, c)
            if q in hidden:
                eq[q] = eq.get(q, Fraction(0)) + (Fraction(-1) if c[along] == "total" else Fraction(1))
        eq = {k: v for k, v in eq.items() if v != 0}
        if eq:
            equations.append(eq)
    return equations, hidden


def recoverable(answers: dict[str, dict[str, Any]]) -> set[Any]:
    equations: list[dict[Any, Fraction]] = []
    hidden: set[Any] = set()
    known = {
        _quantity(name, a["breakdowns"], c)
        for name, a in answers.items()
        for c in a["cells"]
        if isinstance(c["count"], int)
    }
    for name, answer in answers.items():
        eqs, h = _equations(name, answer, known)
        equations += eqs
        hidden |= h
    return _rref_determined(equations) & hidden if equations else set()


def answer_of(family: dict, breakdowns: tuple[str, ...]) -> dict[str, Any]:
    chosen = family[breakdowns]
    cells, _ = render_table(chosen.table, list(breakdowns), chosen.rows, chosen.cols)
    return {"breakdowns": list(breakdowns), "cells": cells, "threshold": chosen.table.threshold}


# ---------------------------------------------------------------------------------------------------
# Random fact sets, counted as the repository does (stored values per pair of breakdowns).

FORM_MASKS = (0, FORM_BITS["sexual"], FORM_BITS["begging"], FORM_BITS["sexual"] | FORM_BITS["begging"])
fact = st.fixed_dictionaries(
    {
        "sex": st.sampled_from(["F", "F", "M", "X"]),
        "age_band": st.sampled_from(["9-17", "18-20", "24-26", "unknown"]),
        "citizenship": st.sampled_from(["BA", "BA", "AF", "UNK"]),
        "forms_mask": st.sampled_from(FORM_MASKS),
        "entity": st.sampled_from(["FBIH", "RS", "unknown"]),
        "canton": st.sampled_from(["1", "9"]),
        "status": st.sampled_from(VICTIM_STATUSES),
    }
)
# Skewed: a few large groups and many small ones is where disclosure happens.
fact_sets = st.lists(st.tuples(fact, st.sampled_from([1, 1, 2, 3, 7, 12])), max_size=14)


def pair_counts(table: str, groups: list[tuple[dict[str, Any], int]]) -> dict[tuple[str, str], dict]:
    raw = list(dict.fromkeys(RAW.get(d, d) for d in dimensions_of(table)))
    pairs: dict[tuple[str, str], Counter] = {(a, b): Counter() for i, a in enumerate(raw) for b in raw[i + 1 :]}
    for attributes, n in groups:
        row = {**attributes, "child": "child" if attributes["age_band"] == "9-17" else "adult"}
        if row["entity"] != "FBIH":
            row["canton"] = "none"
        for a, b in pairs:
            pairs[(a, b)][(row[a], row[b])] += n
    return {k: dict(v) for k, v in pairs.items()}


def victims_family(groups: list[tuple[dict[str, Any], int]]) -> dict:
    return protect_family("victims", table_counts("victims", pair_counts("victims", groups)), THRESHOLDS.for_breakdowns)


TABLES = family_of("victims")


@settings(max_examples=40, deadline=None)
@given(groups=fact_sets, data=st.data())
def test_no_hidden_cell_is_recoverable_from_any_two_tables_of_a_period(groups, data) -> None:
    family = victims_family(groups)
    for name, protected in family.items():
        for key in protected.table.values:
            shown = protected.table.shown(key)
            assert not (isinstance(shown, int) and 0 < shown < protected.table.threshold), (name, key)
    for _ in range(6):
        first, second = data.draw(st.sampled_from(TABLES)), data.draw(st.sampled_from(TABLES))
        if first == second:
            continue
        answers = {"A": answer_of(family, first), "B": answer_of(family, second)}
        assert recoverable(answers) == set(), (first, second)


def test_every_pair_of_tables_of_one_period_for_a_fixed_data_set() -> None:
    rng = random.Random(7)
    keys = ["sex", "age_band", "citizenship", "forms_mask", "entity", "canton", "status"]
    choices = {k: fact.wrapped_strategy.mapping[k].elements for k in keys}  # type: ignore[attr-defined]
    groups = [({k: rng.choice(choices[k]) for k in keys}, rng.choice([1, 2, 3, 12, 40])) for _ in range(25)]
    family = victims_family(groups)
    answers = {t: answer_of(family, t) for t in TABLES}
    for i, first in enumerate(TABLES):
        for second in TABLES[i + 1 :]:
            assert recoverable({"A": answers[first], "B": answers[second]}) == set(), (first, second)


def test_the_checker_finds_the_reported_gap() -> None:
    # The gap as reported: sex × child (threshold 10) hides F-child = 3 and the F total but shows
    # F-adult = 12, and the sex table shows F = 15, so F-child = 15 - 12 = 3.
    def cells(breakdowns: list[str], rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
        return [{**dict(zip(breakdowns, r[:-1], strict=True)), "count": r[-1]} for r in rows]

    two_way = [
        ("F", "child", "<10"), ("F", "adult", 12), ("F", "total", "x"),
        ("M", "child", "x"), ("M", "adult", 30), ("M", "total", "x"),
        ("total", "child", 20), ("total", "adult", 42), ("total", "total", 62),
    ]  # fmt: skip
    answers = {
        "A": {"breakdowns": ["sex", "child"], "cells": cells(["sex", "child"], two_way)},
        "B": {"breakdowns": ["sex"], "cells": cells(["sex"], [("F", 15), ("M", 47), ("total", 62)])},
    }
    assert ("A", ("F", "child")) in recoverable(answers)
    assert recoverable({"A": answers["A"]}) == set()


async def test_the_reported_example_through_the_api(client, coordinator) -> None:
    facts = [screening_fact(sex="F", child=True, age_band="9-17") for _ in range(3)]
    facts += [screening_fact(sex="F") for _ in range(12)]
    facts += [screening_fact(sex="M", child=True, age_band="9-17") for _ in range(17)]
    facts += [screening_fact(sex="M") for _ in range(30)]
    await send_all(client, facts)
    answers = {}
    for by in ("sex,child", "sex", "child,sex"):
        response = await client.get("/api/v1/stats/victims", params={"year": LAST_YEAR, "by": by}, headers=coordinator)
        assert response.status_code == 200, response.text
        answers[by] = response.json()
    two_way = answers["sex,child"]
    f_child = next(c for c in two_way["cells"] if c["sex"] == "F" and c["child"] == "child")
    assert f_child["count"] == "<10"
    f_total = next(c for c in two_way["cells"] if c["sex"] == "F" and c["child"] == "total")
    f_one_way = next(c for c in answers["sex"]["cells"] if c["sex"] == "F")
    # The F total is hidden in both tables or published in both, never one of each.
    assert (f_total["count"] == "x") == (f_one_way["count"] == "x")
    for first, second in (("sex,child", "sex"), ("child,sex", "sex"), ("sex,child", "child,sex")):
        assert recoverable({"A": answers[first], "B": answers[second]}) == set()
    assert {s["rule"] for a in answers.values() for s in a["suppressions"]} <= {
        "primary", "secondary", "consistent_margin"
    }  # fmt: skip


@given(st.integers(min_value=0, max_value=11), st.integers(min_value=2, max_value=5))
@settings(max_examples=60, deadline=None)
def test_covering_sets_hold_every_pair_once_summed(count: int, size: int) -> None:
    names = [f"d{i}" for i in range(count)]
    cover = covering_sets(names, size)
    assert all(len(c) == min(size, count) and len(set(c)) == len(c) for c in cover)
    covered = {frozenset((a, b)) for c in cover for i, a in enumerate(c) for b in c[i + 1 :]}
    assert covered == {frozenset((a, b)) for i, a in enumerate(names) for b in names[i + 1 :]}


async def test_family_counts_equal_the_per_table_queries(client, registry_app) -> None:
    rng = random.Random(3)
    facts = [
        screening_fact(
            sex=rng.choice(["F", "M", "X"]),
            citizenship=rng.choice(["BA", "AF", "UNK"]),
            forms=rng.choice([[], ["sexual"], ["begging", "sexual"]]),
            status=rng.choice(["potential", "presumed", "none"]),
            entity=(entity := rng.choice(["FBIH", "RS", None])),
            canton=rng.choice([1, 9]) if entity == "FBIH" else None,
        )
        for _ in range(40)
    ]
    await send_all(client, facts)
    await send_all(client, [referral_fact(urgent=rng.random() < 0.5) for _ in range(15)], "registry.referral_fact")
    app, _ = registry_app
    period = Period(LAST_YEAR)
    async with app.state.db.sessionmaker() as session:
        for table in ("screenings", "victims", "referrals"):
            raw = list(dict.fromkeys(RAW.get(d, d) for d in dimensions_of(table)))
            family = table_counts(table, await count_pairs(session, table, raw, period))
            for breakdowns in family_of(table):
                expected = await count_cells(session, table, breakdowns, period)
                got = {k: v for k, v in family[breakdowns].items() if v}
                assert got == {k: v for k, v in expected.items() if v}, (table, breakdowns)
