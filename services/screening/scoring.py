"""The ILO/EC decision rule (docs/domain.md §3): pure functions from answered indicators to an explained outcome."""

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


# The ILO/EC lists a screening can be scored against (per population: adult or child).
LISTS = ("labour", "sexual")
SEVERITY = {o: n for n, o in enumerate(COMPUTED_OUTCOMES)}
# Who states each tier: only the presumption is the ILO/EC rule; the lower tiers are this project's.
RULE_SOURCE = {
    Outcome.PRESUMED_VICTIM: "ILO/EC 2009 operational indicators (combination rule)",
    Outcome.POTENTIAL_VICTIM: "Putokaz tier (not an ILO/EC category)",
    Outcome.AT_RISK: "Putokaz tier (not an ILO/EC category)",
    Outcome.NO_INDICATORS: "Putokaz tier (not an ILO/EC category)",
}


@dataclass(frozen=True)
class Indicator:
    """One indicator answered "yes": its code, dimension and strength per ILO/EC list for this population."""

    code: str
    dimension: str
    strength: Strength
    # Strength per list; None means `strength` holds in every list. A list missing here does not count it.
    by_list: tuple[tuple[str, Strength], ...] | None = None
    # A project addition names a form of exploitation (EU Directive); a yes establishes EX by itself.
    addition: str | None = None

    def strength_in(self, list_name: str) -> Strength | None:
        if self.by_list is None:
            return self.strength
        return dict(self.by_list).get(list_name)


@dataclass(frozen=True)
class DimensionResult:
    dimension: str
    positive: bool
    strong: int
    medium: int
    weak: int
    indicators: tuple[str, ...]
    rule: str | None
    additions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Assessment:
    """What the rule needs: the kind of instrument, the lists that apply and the facts the answers establish."""

    kind: str  # quick | adult | child
    indicators: tuple[Indicator, ...] = ()
    quick_yes: tuple[str, ...] = ()
    act_recorded: bool = False
    vulnerability_factors: tuple[str, ...] = ()
    lists: tuple[str, ...] = ("labour",)


@dataclass(frozen=True)
class ListDecision:
    """The rule applied with one list's strengths."""

    list: str
    outcome: Outcome
    rule: str
    dimensions: tuple[DimensionResult, ...]


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    rule: str
    dimensions: tuple[DimensionResult, ...] = field(default_factory=tuple)
    reasons: tuple[str, ...] = ()
    list: str | None = None  # the list whose scoring produced the outcome
    lists: tuple[ListDecision, ...] = ()

    @property
    def rule_source(self) -> str:
        if self.list is None:
            return "Putokaz quick screen (not an ILO/EC instrument)"
        return RULE_SOURCE[self.outcome]


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


EXPLOITATION_FORM_RULE = "a form of exploitation named by the EU Directive (project addition)"


def score_dimension(dimension: str, indicators: Iterable[Indicator], list_name: str = "labour") -> DimensionResult:
    """Count the dimension's indicators with the list's strengths; an addition in EX establishes EX by itself."""
    mine = sorted(
        (i for i in indicators if i.dimension == dimension and i.strength_in(list_name) is not None),
        key=lambda i: i.code,
    )
    by_strength = [i.strength_in(list_name) for i in mine]
    strong = by_strength.count(Strength.STRONG)
    medium = by_strength.count(Strength.MEDIUM)
    weak = by_strength.count(Strength.WEAK)
    additions = tuple(i.code for i in mine if i.addition)
    rule = dimension_rule(strong, medium, weak)
    if rule is None and dimension == "EX" and additions:
        rule = EXPLOITATION_FORM_RULE
    return DimensionResult(
        dimension, rule is not None, strong, medium, weak, tuple(i.code for i in mine), rule, additions
    )


def _decide_list(assessment: Assessment, list_name: str) -> tuple[ListDecision, tuple[str, ...]]:
    dimensions = tuple(score_dimension(d, assessment.indicators, list_name) for d in DIMENSIONS)
    positive = {d.dimension for d in dimensions if d.positive}
    counted = [i for i in assessment.indicators if i.strength_in(list_name) is not None]
    if assessment.kind == "child":
        if assessment.act_recorded and "EX" in positive:
            rule = "child: act ∧ EX (means not required)"
            return ListDecision(list_name, Outcome.PRESUMED_VICTIM, rule, dimensions), ()
    elif positive & set(RECRUITMENT) and "EX" in positive and positive & set(COERCION_AT_DESTINATION):
        return ListDecision(
            list_name, Outcome.PRESUMED_VICTIM, "adult: (DR ∨ CR ∨ AR) ∧ EX ∧ (CD ∨ AD)", dimensions
        ), ()
    strong = sorted(i.code for i in counted if i.strength_in(list_name) is Strength.STRONG)
    if positive or strong:
        extra = tuple(f"strong indicator: {c}" for c in strong)
        rule = "any positive dimension or strong indicator"
        return ListDecision(list_name, Outcome.POTENTIAL_VICTIM, rule, dimensions), extra
    if counted or assessment.vulnerability_factors:
        extra = tuple(f"indicator: {i.code}" for i in counted) + tuple(
            f"vulnerability: {v}" for v in assessment.vulnerability_factors
        )
        rule = "isolated indicators or vulnerability factors"
        return ListDecision(list_name, Outcome.AT_RISK, rule, dimensions), extra
    return ListDecision(list_name, Outcome.NO_INDICATORS, "no indicators", dimensions), ()


def dimension_reasons(dimensions: Iterable[DimensionResult]) -> tuple[str, ...]:
    """One line per dimension: whether it holds, by which clause, and the indicators behind it."""
    lines = []
    for d in dimensions:
        found = ", ".join(d.indicators) or "no indicator"
        if d.positive:
            lines.append(f"{d.dimension} holds ({d.rule}): {found}")
        else:
            lines.append(f"{d.dimension} does not hold: {found}")
    return tuple(lines)


def decide(assessment: Assessment) -> Decision:
    """Apply the rule with each list that applies; the most serious outcome wins and names its list."""
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

    lists = tuple(name for name in LISTS if name in assessment.lists) or ("labour",)
    scored = [_decide_list(assessment, name) for name in lists]
    # Most serious outcome; on a tie the first list in LISTS order (labour) is named.
    best, extra = max(scored, key=lambda pair: (SEVERITY[pair[0].outcome], -lists.index(pair[0].list)))
    reasons = dimension_reasons(best.dimensions) + extra
    return Decision(
        best.outcome,
        best.rule,
        best.dimensions,
        reasons,
        best.list,
        tuple(pair[0] for pair in scored),
    )
