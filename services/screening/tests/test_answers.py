"""Each question type accepts its own answers and refuses anything else with a 422 naming the question."""

from __future__ import annotations

from typing import Any

import pytest

from putokaz.errors import Invalid
from putokaz.vocabulary import LANGUAGES
from services.screening.answers import check_value
from services.screening.definitions import Question

TEXT = dict.fromkeys(LANGUAGES, "x")
OPTIONS = [{"code": c, "label": TEXT} for c in ("alone", "family", "group")]

QUESTIONS = {
    "yes_no": Question(id="q", type="yes_no", text=TEXT),
    "yes_no_unsure": Question(id="q", type="yes_no_unsure", text=TEXT),
    "single_choice": Question(id="q", type="single_choice", text=TEXT, options=OPTIONS),
    "multiple_choice": Question(id="q", type="multiple_choice", text=TEXT, options=OPTIONS),
    "number": Question(id="q", type="number", text=TEXT, minimum=0, maximum=120),
    "date": Question(id="q", type="date", text=TEXT),
    "text": Question(id="q", type="text", text=TEXT, max_length=20),
}


@pytest.mark.parametrize(
    ("kind", "value", "stored"),
    [
        ("yes_no", "yes", "yes"),
        ("yes_no", "declined", "declined"),
        ("yes_no_unsure", "unsure", "unsure"),
        ("single_choice", "family", "family"),
        ("multiple_choice", ["group", "alone"], ["alone", "group"]),
        ("multiple_choice", [], []),
        ("number", 17, 17),
        ("number", 0.5, 0.5),
        ("date", "2024-02-29", "2024-02-29"),
        ("text", "short note", "short note"),
    ],
)
def test_valid_answers_are_kept(kind: str, value: Any, stored: Any) -> None:
    assert check_value(QUESTIONS[kind], value) == stored


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("yes_no", "unsure"),
        ("yes_no", True),
        ("yes_no_unsure", "YES"),
        ("single_choice", "nobody"),
        ("single_choice", ["alone"]),
        ("multiple_choice", "alone"),
        ("multiple_choice", ["alone", "alone"]),
        ("multiple_choice", ["alone", 3]),
        ("number", True),
        ("number", "17"),
        ("number", 121),
        ("number", float("nan")),
        ("date", "2023-02-29"),
        ("date", "29.02.2024"),
        ("text", ""),
        ("text", "x" * 21),
        ("text", 12),
    ],
)
def test_invalid_answers_name_the_question(kind: str, value: Any) -> None:
    with pytest.raises(Invalid) as refused:
        check_value(QUESTIONS[kind], value)
    assert refused.value.errors == [{"field": "body.answers.q", "message": refused.value.detail}]
