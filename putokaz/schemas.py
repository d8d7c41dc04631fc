"""Shapes every service's API shares: the strict request model, one page of a list, paging limits."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Generic, TypeVar, get_args

from fastapi import Query
from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

# One ceiling for every list: deeper pages are refused (a client walks by filters, not by offset).
MAX_LIMIT = 100
MAX_OFFSET = 100_000

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="How many items to return")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="How many items to skip")]


def has_nul(value: Any) -> bool:
    """Whether a NUL character hides anywhere in a string, or in a list's or dict's keys and values."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_nul(v) for v in value)
    return False


class StrictModel(BaseModel):
    """Base of every request body: unknown fields are refused, and so is NUL anywhere in text.

    PostgreSQL text cannot hold NUL; refusing it here names the field in a 422 instead of failing
    in the database. The check runs per field, so the problem+json points at the bad field.
    """

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul_characters(cls, value: Any, info: ValidationInfo) -> Any:
        # A nested model checks its own fields (so the error names the innermost field).
        if info.field_name and not _holds_models(cls, info.field_name) and has_nul(value):
            raise ValueError("text must not contain NUL characters")
        return value


@cache
def _holds_models(model: type[BaseModel], field: str) -> bool:
    """Whether the field's type is, or contains, a pydantic model (list[Place], Place | None, …)."""

    def walk(annotation: Any) -> bool:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return True
        return any(walk(arg) for arg in get_args(annotation))

    return walk(model.model_fields[field].annotation)


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list: the items, how many there are in all, and the window asked for."""

    items: list[T]
    total: int
    limit: int
    offset: int

    @classmethod
    def whole(cls, items: list[T]) -> Page[T]:
        """A list short enough to send in one page (every item, from the first)."""
        return cls(items=items, total=len(items), limit=len(items), offset=0)
