"""The gazetteer, read-only, for the forms that ask where a person was met (`GET /api/v1/places`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from putokaz.gazetteer import municipalities, search
from putokaz.query import reject_unknown_query
from putokaz.roles import Anyone

router = APIRouter(prefix="/api/v1", dependencies=[Depends(reject_unknown_query)])


class PlaceRead(BaseModel):
    """The public part of a gazetteer `Municipality` (its `comprises` and `notes` stay out of the API)."""

    name: str
    official_latin: str
    official_cyrillic: str
    kind: str
    entity: str
    canton: int | None
    region: str | None
    latitude: float
    longitude: float
    centroid: str
    variants: list[str]


class PlaceList(BaseModel):
    items: list[PlaceRead]
    total: int


@router.get("/places", response_model=PlaceList, tags=["places"])
async def list_places(
    _: Anyone,
    q: Annotated[str | None, Query(min_length=1, max_length=100, description="Part of a name, either script")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 200,
) -> PlaceList:
    """Municipalities and cities of BiH (docs/domain.md §2), best match first; public data, no person's."""
    found = search(q, limit=limit) if q else list(municipalities())[:limit]
    items = [PlaceRead.model_validate(p, from_attributes=True) for p in found]
    return PlaceList(items=items, total=len(items))
