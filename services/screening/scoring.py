"""The ILO/EC decision rule (DESIGN.md §6): pure functions from answered indicators to an explained outcome."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum


class Strength(StrEnum):
    STRONG = "S"
    MEDIUM = "M"
    WEAK = "W"


class Outcome(StrEnum):
    NO_INDICATORS = "NO_INDICATORS"
    AT_RISK = "AT_RISK"
    POTENTIAL_VICTIM = "POTENTIAL_VICTIM"
    PRESUMED_VICTIM = "PRESUMED_VICTIM"
    IDENTIFIED_VICTIM = "IDENTIFIED_VICTIM"
    NOT_CONFIRMED = "NOT_CONFIRMED"


COMPUTED_OUTCOMES = (Outcome.NO_INDICATORS, Outcome.AT_RISK, Outcome.POTENTIAL_VICTIM, Outcome.PRESUMED_VICTIM)
DECISION_OUTCOMES = (Outcome.IDENTIFIED_VICTIM, Outcome.NOT_CONFIRMED)

DIMENSIONS = ("DR", "CR", "AR", "EX", "CD", "AD")
RECRUITMENT = ("DR", "CR", "AR")
COERCION_AT_DESTINATION = ("CD", "AD")


@dataclass(frozen=True)
class Indicator:
    """One indicator answered "yes": its code, dimension and strength for this instrument's population."""

    code: str
    dimension: str
    strength: Strength


@dataclass(frozen=True)
class DimensionResult:
    dimension: str
    positive: bool
    strong: int
    medium: int
    weak: int
    indicators: tuple[str, ...]
    rule: str | None


@dataclass(frozen=True)
class Assessment:
    """What the rule needs: the kind of instrument and the facts the answers establish."""

    kind: str  # quick | adult | child
    indicators: tuple[Indicator, ...] = ()
    quick_yes: tuple[str, ...] = ()
    act_recorded: bool = False
    vulnerability_factors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    rule: str
    dimensions: tuple[DimensionResult, ...] = field(default_factory=tuple)
    reasons: tuple[str, ...] = ()


def dimension_rule(strong: int, medium: int, weak: int) -> str | None:
    """The clause that makes a dimension positive, or None: weak indicators alone never do."""
    if strong >= 2:
        return "2+ strong"
    if strong == 1 and medium + weak >= 1:
        return "1 strong + 1+ medium/weak"
    if medium >= 3:
        return "3+ medium"
    if medium == 2 and weak >= 1:
        return "2 medium + 1+ weak"
    return None


def score_dimension(dimension: str, indicators: Iterable[Indicator]) -> DimensionResult:
    mine = sorted((i for i in indicators if i.dimension == dimension), key=lambda i: i.code)
    strong = sum(1 for i in mine if i.strength is Strength.STRONG)
    medium = sum(1 for i in mine if i.strength is Strength.MEDIUM)
    weak = sum(1 for i in mine if i.strength is Strength.WEAK)
    rule = dimension_rule(strong, medium, weak)
    return DimensionResult(dimension, rule is not None, strong, medium, weak, tuple(i.code for i in mine), rule)


def decide(assessment: Assessment) -> Decision:
    """Apply the rule; the result names every dimension, its triggering indicators and the clause that fired."""
    if assessment.kind == "quick":
        if assessment.quick_yes:
            return Decision(
                Outcome.POTENTIAL_VICTIM,
                "quick: any yes",
                reasons=tuple(f"yes: {q}" for q in assessment.quick_yes),
            )
        if assessment.vulnerability_factors:
            return Decision(Outcome.AT_RISK, "quick: vulnerability factors only")
        return Decision(Outcome.NO_INDICATORS, "quick: no yes")

    dimensions = tuple(score_dimension(d, assessment.indicators) for d in DIMENSIONS)
    positive = {d.dimension for d in dimensions if d.positive}
    if assessment.kind == "child":
        if assessment.act_recorded and "EX" in positive:
            return Decision(Outcome.PRESUMED_VICTIM, "child: act ∧ EX (means not required)", dimensions)
    elif positive & set(RECRUITMENT) and "EX" in positive and positive & set(COERCION_AT_DESTINATION):
        return Decision(Outcome.PRESUMED_VICTIM, "adult: (DR ∨ CR ∨ AR) ∧ EX ∧ (CD ∨ AD)", dimensions)

    strong = sorted(i.code for i in assessment.indicators if i.strength is Strength.STRONG)
    if positive or strong:
        reasons = tuple(f"positive dimension: {d}" for d in DIMENSIONS if d in positive) + tuple(
            f"strong indicator: {c}" for c in strong
        )
        return Decision(Outcome.POTENTIAL_VICTIM, "any positive dimension or strong indicator", dimensions, reasons)
    if assessment.indicators or assessment.vulnerability_factors:
        reasons = tuple(f"indicator: {i.code}" for i in assessment.indicators) + tuple(
            f"vulnerability: {v}" for v in assessment.vulnerability_factors
        )
        return Decision(Outcome.AT_RISK, "isolated indicators or vulnerability factors", dimensions, reasons)
    return Decision(Outcome.NO_INDICATORS, "no indicators", dimensions)
