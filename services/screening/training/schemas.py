"""Request bodies of training mode (answers are checked against the instrument like real ones)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from putokaz.schemas import StrictModel

TrainingLanguage = Literal["bs", "en"]
# A member is named by the `sub` of their token, as the identity provider issues it.
SubjectId = Annotated[str, Field(min_length=1, max_length=200)]


class PracticeCreate(StrictModel):
    vignette: str = Field(pattern=r"^[a-z][a-z0-9-]{0,63}$")
    language: TrainingLanguage = "bs"


class AskQuestion(StrictModel):
    question: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")


class PracticeAnswers(StrictModel):
    answers: dict[str, Any] = Field(min_length=1, max_length=300)


class GroupCreate(StrictModel):
    name: str = Field(min_length=1, max_length=200)
    members: list[SubjectId] = Field(min_length=1, max_length=200)
    vignettes: list[Annotated[str, Field(max_length=64)]] = Field(min_length=1, max_length=50)
