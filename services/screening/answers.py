"""Answers checked against an instrument version, and the facts they establish for the decision rule."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from putokaz.errors import Invalid
from services.screening.definitions import YES_NO_VALUES, InstrumentDefinition, Question, is_visible
from services.screening.scoring import LISTS, Assessment, Decision, Indicator, Outcome, Strength, decide

DEFAULT_TEXT_LENGTH = 2000
LOCAL_LANGUAGES = frozenset({"bs", "hr", "sr", "sr-Cyrl", "sr-Latn"})


QUESTION_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def _field(question_id: str, prefix: str = "body.answers") -> str:
    # Only well-formed ids are echoed: a key could carry anything a caller typed.
    return f"{prefix}.{question_id}" if QUESTION_ID.match(question_id) else prefix


def check_value(question: Question, value: Any) -> Any:
    """The normalised answer, or 422 naming the question; the value itself is never echoed."""
    field = _field(question.id)
    if question.type in YES_NO_VALUES:
        allowed = YES_NO_VALUES[question.type]
        if not isinstance(value, str) or value not in allowed:
            raise Invalid(f"Answer one of: {', '.join(allowed)}", field=field)
        return value
    if question.type == "single_choice":
        codes = {o.code for o in question.options or ()}
        if not isinstance(value, str) or value not in codes:
            raise Invalid("Answer one of the question's option codes", field=field)
        return value
    if question.type == "multiple_choice":
        codes = {o.code for o in question.options or ()}
        if not isinstance(value, list) or not all(isinstance(v, str) and v in codes for v in value):
            raise Invalid("Answer a list of the question's option codes", field=field)
        if len(set(value)) != len(value):
            raise Invalid("Each option may be chosen once", field=field)
        return [o.code for o in question.options or () if o.code in value]
    if question.type == "number":
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise Invalid("Answer a number", field=field)
        if (question.minimum is not None and value < question.minimum) or (
            question.maximum is not None and value > question.maximum
        ):
            raise Invalid(f"Answer a number from {question.minimum} to {question.maximum}", field=field)
        return value
    if question.type == "date":
        if isinstance(value, str) and len(value) == 10:
            try:
                return date.fromisoformat(value).isoformat()
            except ValueError:
                pass
        raise Invalid("Answer a date as YYYY-MM-DD", field=field)
    if not isinstance(value, str) or not value.strip():
        raise Invalid("Answer a non-empty text", field=field)
    if len(value) > (question.max_length or DEFAULT_TEXT_LENGTH):
        raise Invalid("The text is too long", field=field)
    return value


def merge_answers(definition: InstrumentDefinition, current: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """Apply an update (null removes); every answered question must still be asked under the skip logic."""
    by_id = definition.question_map()
    merged = dict(current)
    errors: list[dict[str, Any]] = []
    # Every bad answer is reported at once, so the screener fixes them in one go.
    for question_id, value in update.items():
        question = by_id.get(question_id)
        if question is None:
            errors.append({"field": _field(question_id), "message": "This instrument version has no such question"})
            continue
        if value is None:
            merged.pop(question_id, None)
            continue
        try:
            merged[question_id] = check_value(question, value)
        except Invalid as exc:
            errors.extend(exc.errors or [])
    if errors:
        raise Invalid(f"{len(errors)} answer(s) are not valid", errors=errors)
    skipped = [qid for qid in merged if not is_visible(by_id[qid], merged, by_id)]
    if skipped:
        raise Invalid(
            "These questions are skipped by the answers given; remove them (send null) or change the answer they "
            "depend on",
            errors=[{"field": _field(q), "message": "question is skipped"} for q in skipped],
        )
    return merged


def missing_required(definition: InstrumentDefinition, answers: dict[str, Any]) -> list[str]:
    by_id = definition.question_map()
    return [
        q.id for q in definition.questions() if q.required and q.id not in answers and is_visible(q, answers, by_id)
    ]


def indicator_of(question: Question) -> Indicator:
    assert question.indicator and question.strength
    by_list = (
        tuple((name, Strength(value)) for name, value in question.strengths.items()) if question.strengths else None
    )
    return Indicator(
        question.indicator, question.indicator.split(".", 1)[0], Strength(question.strength), by_list, question.addition
    )


def lists_that_apply(forms: list[str], indicators: tuple[Indicator, ...]) -> tuple[str, ...]:
    """The ILO/EC lists to score: from the forms of exploitation recorded; both when none is recorded.

    A "yes" to an addition naming sexual exploitation brings in the sexual list whatever the forms say.
    """
    if not forms:
        return LISTS
    lists = {"sexual"} if "sexual" in forms else set()
    if any(form != "sexual" for form in forms):
        lists.add("labour")
    if any(i.addition == "sexual" for i in indicators):
        lists.add("sexual")
    return tuple(name for name in LISTS if name in lists)


@dataclass(frozen=True)
class Evaluation:
    decision: Decision
    act_recorded: bool
    vulnerability_factors: list[str]
    unsure: list[str]
    forms: list[str]
    urgent: bool
    recommended_service_types: list[str]
    recommended_actions: list[str]

    def as_result(self, population: str) -> dict[str, Any]:
        d = self.decision
        return {
            "outcome": d.outcome.value,
            "rule": d.rule,
            "rule_source": d.rule_source,
            "ilo_list": f"{population}_{d.list}" if d.list else None,
            "ilo_lists": [
                {"list": f"{population}_{x.list}", "outcome": x.outcome.value, "rule": x.rule} for x in d.lists
            ],
            "reasons": list(d.reasons),
            "dimensions": [
                {
                    "dimension": r.dimension,
                    "positive": r.positive,
                    "strong": r.strong,
                    "medium": r.medium,
                    "weak": r.weak,
                    "indicators": list(r.indicators),
                    "additions": list(r.additions),
                    "rule": r.rule,
                }
                for r in d.dimensions
            ],
            "act_recorded": self.act_recorded,
            "vulnerability_factors": self.vulnerability_factors,
            "unsure": self.unsure,
            "forms": self.forms,
            "urgent": self.urgent,
            "recommended_service_types": self.recommended_service_types,
            "recommended_actions": self.recommended_actions,
        }


def evaluate(
    definition: InstrumentDefinition, answers: dict[str, Any], *, child: bool, language: str, anonymous: bool
) -> Evaluation:
    """Run the rule on what the answers establish; only a "yes" counts, "unsure" is listed for follow-up."""
    by_id = definition.question_map()
    asked = [q for q in definition.questions() if q.id in answers and is_visible(q, answers, by_id)]
    yes = [q for q in asked if answers[q.id] == "yes"]
    indicators = tuple(indicator_of(q) for q in yes if q.indicator and q.strength)
    vulnerability = [f"{q.vulnerability}:{q.id}" for q in yes if q.vulnerability]
    act = any(q.role == "act" for q in yes)
    forms_q = next((q for q in asked if q.role == "forms"), None)
    forms = list(answers[forms_q.id]) if forms_q else []
    assessment = Assessment(
        kind=definition.kind,
        indicators=indicators,
        quick_yes=tuple(q.id for q in yes if q.role == "quick"),
        act_recorded=act,
        vulnerability_factors=tuple(vulnerability),
        lists=lists_that_apply(forms, indicators),
    )
    decision = decide(assessment)
    unsure = [q.indicator or q.id for q in asked if answers[q.id] == "unsure" and (q.indicator or q.role)]
    urgent = any(q.urgent for q in yes)
    services, actions = recommend(
        decision.outcome,
        child=child,
        urgent=urgent,
        language=language,
        quick=definition.kind == "quick",
        anonymous=anonymous,
    )
    return Evaluation(decision, act, vulnerability, unsure, forms, urgent, services, actions)


def recommend(
    outcome: Outcome, *, child: bool, urgent: bool, language: str, quick: bool, anonymous: bool
) -> tuple[list[str], list[str]]:
    """Service types (putokaz.vocabulary.ServiceType) and next actions; a child always goes to social welfare."""
    services: list[str] = []
    actions: list[str] = []
    flagged = outcome in (Outcome.POTENTIAL_VICTIM, Outcome.PRESUMED_VICTIM)
    if child:
        services.append("social_welfare")
        actions.append("refer_to_centre_for_social_welfare")
    if urgent:
        services.append("medical")
        actions.append("act_now_immediate_safety")
    if flagged:
        if quick:
            actions.append("full_assessment")
        else:
            services.extend(["shelter_children" if child else "safe_house", "mhpss", "legal_aid", "medical"])
            if outcome is Outcome.PRESUMED_VICTIM:
                actions.append("notify_police_for_identification")
    elif outcome is Outcome.AT_RISK and not child:
        services.append("social_welfare")
    if (flagged or child) and language not in LOCAL_LANGUAGES:
        services.append("interpretation")
    if anonymous:
        # Declined referral: counted, nothing else; the person keeps the information to come back.
        services.clear()
        actions = ["anonymous_notification", *(a for a in actions if a == "act_now_immediate_safety")]
    return list(dict.fromkeys(services)), list(dict.fromkeys(actions))
