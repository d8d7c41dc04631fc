"""The kernel's shared shapes: the strict request model, one page of a list, the clock tests move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import Field, ValidationError

from putokaz.clock import FakeClock
from putokaz.schemas import Page, StrictModel


class Place(StrictModel):
    municipality: str = Field(max_length=50)


class Visit(StrictModel):
    place: Place
    stops: list[Place] = []
    notes: dict[str, str] = {}


def locations(exc: ValidationError) -> set[tuple[object, ...]]:
    return {tuple(error["loc"]) for error in exc.errors()}


def test_unknown_field_is_refused_by_name() -> None:
    with pytest.raises(ValidationError) as caught:
        Visit.model_validate({"place": {"municipality": "Bihać"}, "surprise": 1})
    assert ("surprise",) in locations(caught.value)


def test_nul_is_refused_at_the_innermost_field() -> None:
    with pytest.raises(ValidationError) as caught:
        Visit.model_validate({"place": {"municipality": "Banja\x00Luka"}})
    assert locations(caught.value) == {("place", "municipality")}


def test_nul_in_a_list_of_models_or_a_plain_dict_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        Visit.model_validate({"place": {"municipality": "Tuzla"}, "stops": [{"municipality": "Ze\x00nica"}]})
    assert locations(caught.value) == {("stops", 0, "municipality")}
    with pytest.raises(ValidationError) as caught:
        Visit.model_validate({"place": {"municipality": "Tuzla"}, "notes": {"k\x00": "v"}})
    assert locations(caught.value) == {("notes",)}


def test_clean_text_passes() -> None:
    visit = Visit.model_validate({"place": {"municipality": "Bosanski Petrovac"}, "notes": {"a": "b"}})
    assert visit.place.municipality == "Bosanski Petrovac"


def test_page_is_generic_and_names_its_item_schema() -> None:
    page = Page[Place](items=[Place(municipality="Mostar")], total=7, limit=1, offset=0)
    assert page.model_dump() == {"items": [{"municipality": "Mostar"}], "total": 7, "limit": 1, "offset": 0}
    schema = Page[Place].model_json_schema()
    assert schema["properties"]["items"]["items"] == {"$ref": "#/$defs/Place"}


def test_fake_clock_moves_only_when_told() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    clock = FakeClock(start)
    assert clock.now() == start
    assert clock.advance(hours=2) == start + timedelta(hours=2)
    assert clock.advance(timedelta(minutes=30)) == start + timedelta(hours=2, minutes=30)
    assert clock.now().tzinfo is UTC
