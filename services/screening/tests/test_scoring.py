"""The ILO decision rule against an independent restatement (hypothesis) and the edge cases (tables)."""

from __future__ import annotations

from collections import Counter
from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.screening.scoring import (
    DIMENSIONS,
    Assessment,
    Indicator,
    Outcome,
    Strength,
    decide,
    dimension_rule,
    score_dimension,
)

S, M, W = Strength.STRONG, Strength.MEDIUM, Strength.WEAK

# The rule restated as the minimal indicator combinations the ILO guidance lists: a dimension is
# positive exactly when its indicators contain one of these as a sub-multiset.
QUALIFYING_PATTERNS = (
    Counter({S: 2}),
    Counter({S: 1, M: 1}),
    Counter({S: 1, W: 1}),
    Counter({M: 3}),
    Counter({M: 2, W: 1}),
)


def independently_positive(strengths: list[Strength]) -> bool:
    have = Counter(strengths)
    return any(all(have[k] >= n for k, n in pattern.items()) for pattern in QUALIFYING_PATTERNS)


def independent_outcome(kind: str, by_dimension: dict[str, list[Strength]], act: bool, vulnerable: bool) -> Outcome:
    positive = {d for d, strengths in by_dimension.items() if independently_positive(strengths)}
    if kind == "adult":
        presumed = bool({"DR", "CR", "AR"} & positive) and "EX" in positive and bool({"CD", "AD"} & positive)
    else:
        presumed = act and "EX" in positive
    if presumed:
        return Outcome.PRESUMED_VICTIM
    if positive or any(S in strengths for strengths in by_dimension.values()):
        return Outcome.POTENTIAL_VICTIM
    if any(by_dimension.values()) or vulnerable:
        return Outcome.AT_RISK
    return Outcome.NO_INDICATORS


def assessment_from(kind: str, by_dimension: dict[str, list[Strength]], act: bool, vulnerable: bool) -> Assessment:
    indicators = tuple(
        Indicator(f"{d}.i{n}", d, strength)
        for d, strengths in by_dimension.items()
        for n, strength in enumerate(strengths)
    )
    return Assessment(
        kind=kind, indicators=indicators, act_recorded=act, vulnerability_factors=("household:x",) if vulnerable else ()
    )


strengths = st.lists(st.sampled_from([S, M, W]), max_size=6)
dimension_answers = st.fixed_dictionaries({d: strengths for d in DIMENSIONS})


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([S, M, W]), max_size=10))
def test_dimension_rule_matches_qualifying_patterns(found: list[Strength]) -> None:
    result = score_dimension("EX", [Indicator(f"EX.i{n}", "EX", s) for n, s in enumerate(found)])
    assert result.positive == independently_positive(found)
    assert (result.rule is not None) == result.positive


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["adult", "child"]), dimension_answers, st.booleans(), st.booleans())
def test_outcome_matches_independent_statement(
    kind: str, by_dimension: dict[str, list[Strength]], act: bool, vulnerable: bool
) -> None:
    decision = decide(assessment_from(kind, by_dimension, act, vulnerable))
    assert decision.outcome == independent_outcome(kind, by_dimension, act, vulnerable)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["adult", "child"]), dimension_answers, st.booleans())
def test_result_names_the_triggering_indicators(kind: str, by_dimension: dict[str, list[Strength]], act: bool) -> None:
    decision = decide(assessment_from(kind, by_dimension, act, False))
    for result in decision.dimensions:
        assert len(result.indicators) == len(by_dimension[result.dimension])
        assert result.strong + result.medium + result.weak == len(result.indicators)


@pytest.mark.parametrize("weak_count", range(0, 8))
def test_weak_indicators_alone_never_make_a_dimension_or_a_victim(weak_count: int) -> None:
    assert dimension_rule(0, 0, weak_count) is None
    by_dimension = {d: [W] * weak_count for d in DIMENSIONS}
    for kind in ("adult", "child"):
        outcome = decide(assessment_from(kind, by_dimension, act=True, vulnerable=False)).outcome
        assert outcome in (Outcome.NO_INDICATORS, Outcome.AT_RISK)


@pytest.mark.parametrize(
    ("strong", "medium", "weak", "positive"),
    [
        (2, 0, 0, True),
        (1, 1, 0, True),
        (1, 0, 1, True),
        (1, 0, 0, False),
        (0, 3, 0, True),
        (0, 2, 1, True),
        (0, 2, 0, False),
        (0, 1, 5, False),
        (0, 0, 9, False),
    ],
)
def test_dimension_thresholds(strong: int, medium: int, weak: int, positive: bool) -> None:
    assert (dimension_rule(strong, medium, weak) is not None) is positive


def test_child_is_presumed_victim_without_any_means() -> None:
    # Recruitment/movement act + exploitation, nothing on deception, coercion or abuse of vulnerability.
    by_dimension = {d: [] for d in DIMENSIONS} | {"EX": [S, M]}
    decision = decide(assessment_from("child", by_dimension, act=True, vulnerable=False))
    assert decision.outcome is Outcome.PRESUMED_VICTIM
    assert "means not required" in decision.rule


def test_child_exploitation_without_the_act_is_potential_not_presumed() -> None:
    by_dimension = {d: [] for d in DIMENSIONS} | {"EX": [S, M]}
    assert (
        decide(assessment_from("child", by_dimension, act=False, vulnerable=False)).outcome is Outcome.POTENTIAL_VICTIM
    )


def test_adult_needs_recruitment_exploitation_and_coercion() -> None:
    full = {d: [] for d in DIMENSIONS} | {"DR": [S, M], "EX": [M, M, M], "CD": [S, S]}
    assert decide(assessment_from("adult", full, False, False)).outcome is Outcome.PRESUMED_VICTIM
    for missing in ("DR", "EX", "CD"):
        partial = full | {missing: []}
        assert decide(assessment_from("adult", partial, False, False)).outcome is Outcome.POTENTIAL_VICTIM


def test_a_single_strong_indicator_is_potential_victim() -> None:
    by_dimension = {d: [] for d in DIMENSIONS} | {"CD": [S]}
    decision = decide(assessment_from("adult", by_dimension, False, False))
    assert decision.outcome is Outcome.POTENTIAL_VICTIM
    assert "strong indicator: CD.i0" in decision.reasons


def test_vulnerability_alone_is_at_risk_and_nothing_is_no_indicators() -> None:
    empty = {d: [] for d in DIMENSIONS}
    assert decide(assessment_from("adult", empty, False, True)).outcome is Outcome.AT_RISK
    assert decide(assessment_from("adult", empty, False, False)).outcome is Outcome.NO_INDICATORS


def test_quick_screen_any_yes_is_potential_victim() -> None:
    items = ("unsafe_work", "tricked_or_forced", "sex_in_exchange", "afraid_to_leave", "documents_held")
    for n in range(1, 3):
        for chosen in combinations(items, n):
            assert decide(Assessment(kind="quick", quick_yes=chosen)).outcome is Outcome.POTENTIAL_VICTIM
    assert decide(Assessment(kind="quick")).outcome is Outcome.NO_INDICATORS
