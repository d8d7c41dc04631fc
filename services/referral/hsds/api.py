"""HTTP routes of the HSDS 3.1 export of the directory, and of an HSDS directory file's import (admin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from putokaz.clock import Now
from putokaz.db import DbSession
from putokaz.openapi import problem_answers
from putokaz.roles import Admin, Anyone
from services.referral.hsds import importer
from services.referral.hsds import service as hsds

router = APIRouter(prefix="/api/v1/hsds", tags=["hsds"])

PageNumber = Annotated[int, Query(ge=1, le=100_000, description="HSDS page number, from 1")]
PerPage = Annotated[int, Query(ge=1, le=100, description="Records per page (at most 100)")]
HSDS_PAGE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "An HSDS 3.1 page: `contents` holds the records, nulls left out",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


@router.get("/organizations", responses=HSDS_PAGE)
async def hsds_organizations(_: Anyone, session: DbSession, page: PageNumber = 1, per_page: PerPage = 50) -> Any:
    """Organizations as HSDS 3.1 `organization` records."""
    return await hsds.organizations(session, page, per_page)


@router.get("/services", responses=HSDS_PAGE)
async def hsds_services(principal: Anyone, session: DbSession, page: PageNumber = 1, per_page: PerPage = 50) -> Any:
    """Services as HSDS 3.1 `service` records with their capacities, languages and service_at_locations.

    A confidential location the caller may not see is not in any answer, nor any link to it.
    """
    return await hsds.services(session, principal, page, per_page)


@router.get("/locations", responses=HSDS_PAGE)
async def hsds_locations(principal: Anyone, session: DbSession, page: PageNumber = 1, per_page: PerPage = 50) -> Any:
    """Locations as HSDS 3.1 `location` records; confidential ones only for those who may see them."""
    return await hsds.locations(session, principal, page, per_page)


@router.get("/service_at_locations", responses=HSDS_PAGE)
async def hsds_service_at_locations(
    principal: Anyone, session: DbSession, page: PageNumber = 1, per_page: PerPage = 50
) -> Any:
    """Where services are delivered (HSDS 3.1 `service_at_location`), without links to hidden locations."""
    return await hsds.service_at_locations(session, principal, page, per_page)


@router.post("/import", response_model=importer.ImportResult, status_code=201, responses=problem_answers(409))
async def hsds_import(
    principal: Admin,
    session: DbSession,
    now: Now,
    body: Annotated[
        dict[str, Any],
        Body(
            description="An HSDS 3.1 directory file: `organizations`, `services`, `locations` and "
            "`service_at_locations`, each a list of HSDS records. Every record is checked against the HSDS 3.1 "
            "schemas; any invalid record answers 422 naming each bad record and field, and nothing is imported."
        ),
    ],
) -> importer.ImportResult:
    return await importer.import_directory(session, principal, body, now)
