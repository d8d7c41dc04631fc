"""The shape of an instrument (questions, types, skip logic, texts) and the checks a version must pass to publish."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_serializer, model_validator

from putokaz.vocabulary import EXPLOITATION_FORMS, LANGUAGE_ALIASES, LANGUAGES, TEXT_LANGUAGES

KINDS = ("quick", "adult", "child")
QUESTION_TYPES = ("yes_no", "yes_no_unsure", "single_choice", "multiple_choice", "number", "date", "text")
YES_NO_VALUES = {"yes_no": ("yes", "no", "declined"), "yes_no_unsure": ("yes", "no", "unsure", "declined")}
VULNERABILITY_LEVELS = ("individual", "household", "community", "structural")
FORMS = EXPLOITATION_FORMS
Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Translation(Strict):
    text: str = Field(min_length=1, max_length=2000)
    status: Literal["reviewed", "draft"] = "draft"


def _translations(value: Any) -> Any:
    """Accept `{lang: "text"}` as shorthand for `{lang: {text, status: draft}}` (English: reviewed)."""
    if isinstance(value, dict):
        return {
            lang: {"text": entry, "status": "reviewed" if lang == "en" else "draft"}
            if isinstance(entry, str)
            else entry
            for lang, entry in value.items()
        }
    return value


# The attribute holding each language's text (Python names cannot hold a hyphen).
_ATTRIBUTE = {lang: lang.replace("-", "_") for lang in TEXT_LANGUAGES}


class Texts(Strict):
    """One text in every language; each translation says whether a person has reviewed it.

    Versions published before the Ijekavian Serbian texts, Dari, French and Bengali hold `sr` (Serbian,
    Ekavian Latin) and lack the newer languages: they stay readable as published. Publication of a new
    version requires every language in TEXT_LANGUAGES (`missing_texts`).
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    en: Translation
    bs: Translation
    hr: Translation
    sr: Translation | None = None  # versions published before sr-Cyrl and sr-Latn (Ekavian Latin)
    sr_Cyrl: Translation | None = Field(default=None, alias="sr-Cyrl")
    sr_Latn: Translation | None = Field(default=None, alias="sr-Latn")
    ar: Translation
    fa: Translation
    fa_AF: Translation | None = Field(default=None, alias="fa-AF")
    ps: Translation
    ur: Translation
    fr: Translation | None = None
    bn: Translation | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return _translations(value)

    @model_serializer(mode="wrap")
    def _only_present(self, handler: Any) -> dict[str, Any]:
        # Language codes as keys, absent languages left out: a version published before a language existed
        # serialises (and checksums) exactly as it did then.
        dumped = handler(self)
        out = {}
        for lang in LANGUAGES:
            value = dumped.get(_ATTRIBUTE.get(lang, lang), dumped.get(lang))
            if value is not None:
                out[lang] = value
        return out

    def has(self, language: str) -> bool:
        return self._find(language) is not None

    def _find(self, language: str) -> Translation | None:
        found = getattr(self, _ATTRIBUTE.get(LANGUAGE_ALIASES.get(language, language), "-"), None)
        if found is None and language == "sr":
            found = self.sr  # an earlier version's Serbian
        return found

    def best(self, language: str) -> Translation:
        """The text in `language`, else its nearest (an earlier version's Serbian for sr-*), else English."""
        found = self._find(language)
        if found is None and language.startswith("sr"):
            found = self.sr
        return found or self.en

    def get(self, language: str) -> Translation:
        found = self._find(language)
        if found is None:
            raise KeyError(language)
        return found

    def languages(self) -> set[str]:
        return {lang for lang in LANGUAGES if self._find(lang) is not None}


class Option(Strict):
    code: Code
    label: Texts


class ShowIf(Strict):
    """Ask this question only when another question's answer equals one of `any_of` (or contains one)."""

    question: Code
    any_of: list[str] = Field(min_length=1, max_length=50)


class Question(Strict):
    id: Code
    type: Literal["yes_no", "yes_no_unsure", "single_choice", "multiple_choice", "number", "date", "text"]
    text: Texts
    help: Texts | None = None
    required: bool = False
    # What a "yes" means to the rule; at most one role per question.
    indicator: str | None = Field(default=None, pattern=r"^(DR|CR|AR|EX|CD|AD)\.[a-z_]{1,60}$")
    # Filled from the indicator catalogue at publication for the instrument's population (adult/child):
    # `strengths` per ILO/EC list (labour, sexual); `strength` is the labour-list strength (versions
    # published before the lists were held separately have only `strength`, used for every list).
    strength: Literal["S", "M", "W"] | None = None
    strengths: dict[Literal["labour", "sexual"], Literal["S", "M", "W"]] | None = None
    # A project addition (not an ILO/EC indicator): the form of exploitation it names. A "yes" establishes
    # the exploitation dimension by itself (Directive 2011/36/EU Art. 2(3) as amended by 2024/1712).
    addition: Literal["sexual", "begging", "forced_marriage"] | None = None
    vulnerability: Literal["individual", "household", "community", "structural"] | None = None
    role: Literal["quick", "act", "forms", "age"] | None = None
    urgent: bool = False
    options: list[Option] | None = Field(default=None, max_length=50)
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = Field(default=None, ge=1, le=5000)
    show_if: ShowIf | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Question:
        choice = self.type in ("single_choice", "multiple_choice")
        if choice and not self.options:
            raise ValueError(f"question {self.id}: a choice question needs options")
        if not choice and self.options:
            raise ValueError(f"question {self.id}: only choice questions have options")
        if self.options and len({o.code for o in self.options}) != len(self.options):
            raise ValueError(f"question {self.id}: option codes must be unique")
        flagged = self.indicator or self.vulnerability or self.role in ("quick", "act") or self.urgent
        if flagged and self.type not in YES_NO_VALUES:
            raise ValueError(f"question {self.id}: indicators, vulnerability, quick, act and urgent need a yes/no type")
        if sum(x is not None for x in (self.indicator, self.vulnerability, self.role)) > 1:
            raise ValueError(f"question {self.id}: at most one of indicator, vulnerability, role")
        if self.role == "forms":
            if self.type != "multiple_choice" or not self.options or {o.code for o in self.options} - set(FORMS):
                raise ValueError(f"question {self.id}: the forms question is multiple choice over {', '.join(FORMS)}")
        if (self.strengths or self.addition) and not self.indicator:
            raise ValueError(f"question {self.id}: strengths and addition belong to indicator questions")
        if self.role == "age" and self.type != "number":
            raise ValueError(f"question {self.id}: the age question is a number")
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError(f"question {self.id}: minimum is above maximum")
        return self


class Section(Strict):
    id: Code
    title: Texts
    questions: list[Question] = Field(min_length=1, max_length=200)


class ConsentText(Strict):
    version: str = Field(pattern=r"^[A-Za-z0-9._-]{1,40}$")
    text: Texts


class InstrumentDefinition(Strict):
    """A complete, self-contained instrument version: what is stored and never changed once published."""

    code: Code
    version: int = Field(ge=1, le=1_000_000)
    kind: Literal["quick", "adult", "child"]
    title: Texts
    description: Texts | None = None
    consent: ConsentText
    sections: list[Section] = Field(min_length=1, max_length=50)
    _languages: tuple[str, ...] | None = PrivateAttr(default=None)

    @field_validator("sections")
    @classmethod
    def _unique_sections(cls, sections: list[Section]) -> list[Section]:
        if len({s.id for s in sections}) != len(sections):
            raise ValueError("section ids must be unique")
        return sections

    @model_validator(mode="after")
    def _check_questions(self) -> InstrumentDefinition:
        questions = self.questions()
        ids = [q.id for q in questions]
        if len(set(ids)) != len(ids):
            raise ValueError("question ids must be unique across sections")
        by_id = {q.id: q for q in questions}
        for q in questions:
            if q.show_if is not None:
                target = by_id.get(q.show_if.question)
                if target is None:
                    raise ValueError(f"question {q.id}: show_if names an unknown question")
                allowed = _answer_codes(target)
                if allowed is not None and set(q.show_if.any_of) - allowed:
                    raise ValueError(f"question {q.id}: show_if values are not answers of {target.id}")
        _check_acyclic(by_id)
        codes = [q.indicator for q in questions if q.indicator]
        if len(set(codes)) != len(codes):
            raise ValueError("each indicator is asked at most once")
        if self.kind == "quick" and not any(q.role == "quick" for q in questions):
            raise ValueError("a quick instrument needs yes/no items with role quick")
        if self.kind != "quick" and not codes:
            raise ValueError("an adult or child instrument needs indicator questions")
        if self.kind == "child" and not any(q.role == "act" for q in questions):
            raise ValueError("a child instrument needs a question recording the act (role act)")
        if sum(q.role == "forms" for q in questions) > 1:
            raise ValueError("at most one forms question")
        return self

    def questions(self) -> list[Question]:
        return [q for s in self.sections for q in s.questions]

    def texts(self) -> list[tuple[str, Texts]]:
        """Every text of the version with its field path (`sections.0.questions.3.text`)."""
        found: list[tuple[str, Texts]] = [("title", self.title), ("consent.text", self.consent.text)]
        if self.description is not None:
            found.append(("description", self.description))
        for s_index, section in enumerate(self.sections):
            found.append((f"sections.{s_index}.title", section.title))
            for q_index, q in enumerate(section.questions):
                path = f"sections.{s_index}.questions.{q_index}"
                found.append((f"{path}.text", q.text))
                if q.help is not None:
                    found.append((f"{path}.help", q.help))
                for o_index, option in enumerate(q.options or []):
                    found.append((f"{path}.options.{o_index}.label", option.label))
        return found

    def languages(self) -> tuple[str, ...]:
        """The languages every text of this version exists in (in LANGUAGES order; `sr` with sr-Cyrl)."""
        if self._languages is None:
            common = set(LANGUAGES)
            for _, texts in self.texts():
                common &= texts.languages()
            self._languages = tuple(lang for lang in LANGUAGES if lang in common)
        return self._languages

    def missing_texts(self) -> list[str]:
        """Field paths of texts lacking a language that a new version must have."""
        return [f"{path}.{lang}" for path, texts in self.texts() for lang in TEXT_LANGUAGES if not texts.has(lang)]

    def question_map(self) -> dict[str, Question]:
        return {q.id: q for q in self.questions()}


def _answer_codes(question: Question) -> set[str] | None:
    if question.type in YES_NO_VALUES:
        return set(YES_NO_VALUES[question.type])
    if question.options:
        return {o.code for o in question.options}
    return None


def _check_acyclic(by_id: dict[str, Question]) -> None:
    """Skip logic must form no cycle, or no answer could ever make a question visible."""
    state: dict[str, int] = {}  # 1 visiting, 2 done
    for start in by_id:
        path = start
        while path is not None and state.get(path) is None:
            state[path] = 1
            cond = by_id[path].show_if
            path = cond.question if cond else None
        if path is not None and state.get(path) == 1:
            raise ValueError(f"skip logic has a cycle through question {path}")
        # Mark the walked chain as finished.
        node: str | None = start
        while node is not None and state.get(node) == 1:
            state[node] = 2
            cond = by_id[node].show_if
            node = cond.question if cond else None


def is_visible(question: Question, answers: dict[str, Any], by_id: dict[str, Question]) -> bool:
    """A question is asked when its condition holds and the question it depends on is itself asked."""
    seen: set[str] = set()
    current: Question | None = question
    while current is not None and current.show_if is not None:
        if current.id in seen:
            return False
        seen.add(current.id)
        cond = current.show_if
        answer = answers.get(cond.question)
        values = answer if isinstance(answer, list) else [answer]
        if not any(isinstance(v, str) and v in cond.any_of for v in values):
            return False
        current = by_id.get(cond.question)
    return True
