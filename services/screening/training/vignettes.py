"""Fictional case vignettes (YAML in vignettes/) and the real engine's verdict on them.

A vignette is a story in short scenes, the answers its fictional person gives when asked (by question id;
a question not listed is answered "no"), and an expert key. The key's outcome and indicators are checked
against the scoring engine the real screenings use, so a key cannot drift from the rule.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from services.screening.answers import Evaluation, evaluate, merge_answers
from services.screening.definitions import InstrumentDefinition
from services.screening.instruments import INSTRUMENTS_DIR, resolve

VIGNETTES_DIR = Path(__file__).resolve().parent / "vignettes"
# A question the vignette does not list is answered this way when the trainee asks it.
DEFAULT_ANSWER = "no"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Strict):
    """Every training text exists in Bosnian and English at least (both drafts until reviewed)."""

    en: str = Field(min_length=1, max_length=2000)
    bs: str = Field(min_length=1, max_length=2000)

    def get(self, language: str) -> str:
        return self.bs if language in ("bs", "hr", "sr") else self.en


class Person(_Strict):
    """The vignette's fictional person: the only identity a practice screening ever holds."""

    given_name: str = Field(min_length=1, max_length=100)
    family_name: str = Field(min_length=1, max_length=100)
    age_estimate: int = Field(ge=0, le=120)
    sex: Literal["F", "M", "X", "UNK"]
    citizenship: str = Field(pattern=r"^([A-Z]{2}|UNK)$")


class Place(_Strict):
    entity: Literal["FBIH", "RS", "BD"]
    canton: int | None = Field(default=None, ge=1, le=10)
    municipality: str = Field(min_length=1, max_length=100)


class Key(_Strict):
    """The expert's answer: outcome under the ILO rule, indicators present (each with why), next steps."""

    outcome: Literal["NO_INDICATORS", "AT_RISK", "POTENTIAL_VICTIM", "PRESUMED_VICTIM"]
    indicators: tuple[str, ...]
    actions: tuple[str, ...]
    why: dict[str, Text]
    next_steps: Text


class Vignette(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9-]{0,63}$")
    status: Literal["draft", "reviewed"]
    instrument: Literal["adult", "child"]
    language: Literal["bs", "en"]
    title: Text
    person: Person
    place: Place
    scenes: tuple[Text, ...] = Field(min_length=1, max_length=12)
    answers: dict[str, Any]
    key: Key

    @property
    def child(self) -> bool:
        return self.instrument == "child"

    def answer_to(self, question_id: str) -> Any:
        return self.answers.get(question_id, DEFAULT_ANSWER)


@lru_cache(maxsize=1)
def all_vignettes() -> dict[str, Vignette]:
    out: dict[str, Vignette] = {}
    for path in sorted(VIGNETTES_DIR.glob("*.yaml")):
        vignette = Vignette.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        if vignette.id in out:
            raise ValueError(f"duplicate vignette id {vignette.id} in {path.name}")
        out[vignette.id] = vignette
    return out


@lru_cache(maxsize=4)
def builtin_definition(code: str) -> InstrumentDefinition:
    """The built-in instrument as the service publishes it (the same file, resolved the same way)."""
    return resolve(yaml.safe_load((INSTRUMENTS_DIR / f"{code}.yaml").read_text(encoding="utf-8")))


def score(definition: InstrumentDefinition, answers: dict[str, Any], *, child: bool, language: str) -> Evaluation:
    """The real engine: answers checked against the instrument (skip logic included), then the ILO rule."""
    checked = merge_answers(definition, {}, answers)
    return evaluate(definition, checked, child=child, language=language, anonymous=False)


def indicators_of(evaluation: Evaluation) -> list[str]:
    return sorted({code for d in evaluation.decision.dimensions for code in d.indicators})


def engine_verdict(vignette: Vignette) -> Evaluation:
    """What the engine computes from the person's own answers: the expert key must say the same."""
    return score(
        builtin_definition(vignette.instrument), vignette.answers, child=vignette.child, language=vignette.language
    )
