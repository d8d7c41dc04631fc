"""The trainee's screening beside the expert's: missed and added indicators with a one-line why, and a score."""

from __future__ import annotations

from typing import Any

from services.screening.answers import Evaluation
from services.screening.training.vignettes import Text, Vignette, builtin_definition, indicators_of

# Score out of 100: the outcome is worth 40, finding exactly the key's indicators 60 (by overlap).
OUTCOME_POINTS = 40
INDICATOR_POINTS = 60

ADDED_NO = Text(
    en="The person did not say this: asked, they answered no.",
    bs="Osoba to nije rekla: na ovo pitanje je odgovorila ne.",
)
ADDED_OTHER = Text(
    en="The person's own answer does not establish this indicator.",
    bs="Odgovor same osobe ne potvrđuje ovaj indikator.",
)
MISSED_UNASKED = Text(en="You did not ask this question.", bs="Niste postavili ovo pitanje.")


def score_of(outcome_right: bool, found: set[str], key: set[str]) -> int:
    union = found | key
    overlap = len(found & key) / len(union) if union else 1.0
    return round((OUTCOME_POINTS if outcome_right else 0) + INDICATOR_POINTS * overlap)


def compare(vignette: Vignette, evaluation: Evaluation, asked: list[str], language: str) -> dict[str, Any]:
    found = set(indicators_of(evaluation))
    key = set(vignette.key.indicators)
    question_of = _questions_by_indicator(vignette)
    missed = []
    for code in sorted(key - found):
        why = vignette.key.why[code].get(language)
        question = question_of.get(code)
        if question is not None and question not in asked:
            why = f"{why} {MISSED_UNASKED.get(language)}"
        missed.append({"indicator": code, "why": why})
    added = []
    for code in sorted(found - key):
        said = vignette.answers.get(question_of.get(code, ""), "no")
        added.append({"indicator": code, "why": (ADDED_NO if said == "no" else ADDED_OTHER).get(language)})
    outcome = evaluation.decision.outcome.value
    return {
        "training": True,
        "yours": {
            "outcome": outcome,
            "rule": evaluation.decision.rule,
            "indicators": sorted(found),
            "recommended_actions": evaluation.recommended_actions,
        },
        "expert": {
            "outcome": vignette.key.outcome,
            "indicators": sorted(key),
            "recommended_actions": list(vignette.key.actions),
            "next_steps": vignette.key.next_steps.get(language),
        },
        "outcome_right": outcome == vignette.key.outcome,
        "found": sorted(found & key),
        "missed": missed,
        "added": added,
        "score": score_of(outcome == vignette.key.outcome, found, key),
    }


def _questions_by_indicator(vignette: Vignette) -> dict[str, str]:
    return {q.indicator: q.id for q in builtin_definition(vignette.instrument).questions() if q.indicator}
