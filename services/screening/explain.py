"""A screening result in plain words for the screener: conditions, dimensions, indicators, next steps.

The screener's language (`?ui=` or Accept-Language) is separate from the person's: a police officer in
Bihać reads Bosnian while the person answered in Dari. Texts live in `instruments/explanations.yaml`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from putokaz.vocabulary import LANGUAGE_ALIASES, UI_LANGUAGES
from services.screening.definitions import InstrumentDefinition

EXPLANATIONS_FILE = Path(__file__).resolve().parent / "explanations.yaml"
ADULT_CONDITIONS = (("means", ("DR", "CR", "AR")), ("exploitation", ("EX",)), ("coercion", ("CD", "AD")))


@lru_cache(maxsize=1)
def phrases() -> dict[str, dict[str, Any]]:
    raw = yaml.safe_load(EXPLANATIONS_FILE.read_text(encoding="utf-8"))
    missing = [lang for lang in UI_LANGUAGES if LANGUAGE_ALIASES.get(lang, lang) not in raw["languages"]]
    if missing:
        raise ValueError(f"explanations.yaml lacks {', '.join(missing)}")
    return raw["languages"]


def ui_language(query: str | None, accept_language: str | None) -> str:
    """`?ui=` wins; then the first Accept-Language tag we have (sr-Latn-BA → sr-Latn, bs-BA → bs); else en."""
    if query:
        return query
    if accept_language:
        tags = []
        for part in accept_language.split(","):
            tag, _, params = part.strip().partition(";")
            weight = 1.0
            if params.strip().startswith("q="):
                try:
                    weight = float(params.strip()[2:])
                except ValueError:
                    weight = 0.0
            if tag:
                tags.append((weight, tag))
        by_lower = {lang.lower(): lang for lang in UI_LANGUAGES}
        for _, tag in sorted(tags, key=lambda t: -t[0]):
            parts = tag.lower().split("-")
            for n in range(len(parts), 0, -1):
                found = by_lower.get("-".join(parts[:n]))
                if found:
                    return found
    return "en"


def _count_phrase(words: dict[str, Any], met: int, total: int) -> str:
    """ "Three of three conditions are met" in the screener's language (0, 1, some or all met)."""
    template = words["conditions_met"]["all" if met == total else min(met, 2)]
    text = template.format(met=words["numbers"][met], total=words["numbers"][total])
    return text[:1].upper() + text[1:]


def explain(
    result: dict[str, Any], definition: InstrumentDefinition | None, language: str, *, child: bool, anonymous: bool
) -> dict[str, Any]:
    words = phrases()[LANGUAGE_ALIASES.get(language, language)]
    questions = {q.indicator: q for q in definition.questions() if q.indicator} if definition else {}
    outcome = result["outcome"]
    dimensions = []
    holding = set()
    for d in result.get("dimensions", []):
        if d["positive"]:
            holding.add(d["dimension"])
        indicators = []
        for code in d["indicators"]:
            question = questions.get(code)
            # An earlier version may lack the screener's language: its nearest text is shown instead.
            text = question.text.best(language).text if question else code
            indicators.append({"code": code, "text": text, "addition": code in d.get("additions", [])})
        dimensions.append(
            {
                "dimension": d["dimension"],
                "name": words["dimensions"][d["dimension"]],
                "holds": d["positive"],
                "indicators": indicators,
            }
        )
    conditions = []
    if result.get("ilo_list") or dimensions:
        if child:
            conditions.append({"name": words["conditions"]["act"], "met": bool(result.get("act_recorded"))})
            conditions.append({"name": words["conditions"]["exploitation"], "met": "EX" in holding})
        else:
            for key, dims in ADULT_CONDITIONS:
                conditions.append({"name": words["conditions"][key], "met": bool(holding & set(dims))})
    met = sum(c["met"] for c in conditions)
    summary = words["outcomes"][outcome]
    if conditions:
        listed = "; ".join(f"{'✓' if c['met'] else '✗'} {c['name']}" for c in conditions)
        summary = f"{_count_phrase(words, met, len(conditions))}: {listed}."
    tier = words["tier"]["ilo" if outcome == "PRESUMED_VICTIM" and conditions else "project"]
    return {
        "language": language,
        "outcome": words["outcomes"][outcome],
        "summary": summary,
        "tier": tier,
        "conditions": conditions,
        "dimensions": dimensions,
        "next_steps": next_steps(
            words, outcome, child=child, urgent=bool(result.get("urgent")), anonymous=anonymous, quick=not conditions
        ),
    }


def next_steps(
    words: dict[str, Any], outcome: str, *, child: bool, urgent: bool, anonymous: bool, quick: bool
) -> list[dict[str, Any]]:
    """Who to call and within how many hours, most urgent first."""
    keys = []
    if urgent:
        keys.append("urgent")
    if child:
        keys.append("child")
    if anonymous:
        keys.append("anonymous")
    elif outcome == "PRESUMED_VICTIM":
        keys.append("presumed")
    elif outcome == "POTENTIAL_VICTIM":
        keys.append("potential_quick" if quick else "potential")
    elif outcome == "AT_RISK" and not child:
        keys.append("at_risk")
    elif outcome == "NO_INDICATORS" and not child:
        keys.append("none")
    steps = []
    for key in keys:
        step = STEPS[key]
        steps.append({"who": step[0], "within_hours": step[1], "text": words["steps"][key]})
    return steps


# Who acts and within how many hours (0 = now); the words are per language in explanations.yaml.
STEPS = {
    "urgent": ("emergency_services", 0),
    "child": ("centre_for_social_welfare", 24),
    "presumed": ("police", 24),
    "potential": ("anti_trafficking_coordinator", 72),
    "potential_quick": ("screener", 72),
    "at_risk": ("centre_for_social_welfare", 168),
    "none": ("screener", None),
    "anonymous": ("screener", None),
}
