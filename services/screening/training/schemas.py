"""Request bodies of training mode (answers are checked against the instrument like real ones)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from putokaz.schemas import StrictModel

TrainingLanguage = Literal["bs", "en"]
SubjectId = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._@:|+-]+$")


class PracticeCreate(StrictModel):
    vignette: str = Field(pattern=r"^[a-z][a-z0-9-]{0,63}$")
    language: TrainingLanguage = "bs"


class AskQuestion(StrictModel):
    question: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")


class PracticeAnswers(StrictModel):
    answers: dict[str, Any] = Field(min_length=1, max_length=300)


class GroupCreate(StrictModel):
    name: str = Field(min_length=1, max_length=200)
    members: list[str] = Field(min_length=1, max_length=200)
    vignettes: list[str] = Field(min_length=1, max_length=50)
