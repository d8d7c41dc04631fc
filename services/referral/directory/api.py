"""HTTP routes of the directory (organisations, locations, services, capacity) and of matching."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from putokaz import audit
from putokaz.auth import Authorize, Principal
from putokaz.clock import Now
from putokaz.db import DbSession
from putokaz.openapi import problem_answers
from putokaz.query import reject_unknown_query
from putokaz.roles import Admin, Anyone, Frontline
from putokaz.schemas import Limit, Offset, Page
from services.referral.directory import capacity as capacities
from services.referral.directory import service as directory
from services.referral.directory.schemas import (
    CapacityRead,
    CapacityWrite,
    EntityCode,
    LocationCreate,
    LocationRead,
    LocationUpdate,
    MatchRequest,
    MatchResponse,
    ObjectId,
    OrganisationCreate,
    OrganisationKind,
    OrganisationRead,
    OrganisationUpdate,
    ServiceCreate,
    ServiceFilter,
    ServiceRead,
    ServiceUpdate,
    Slug,
)
from services.referral.directory.visibility import render_location, render_services
from services.referral.models import audit_tables

router = APIRouter(prefix="/api/v1", dependencies=[Depends(reject_unknown_query)])

# Who keeps a service's records current: its own provider, or an administrator.
Keeper = Annotated[Principal, Depends(Authorize("admin", "service_provider"))]
CantonQuery = Annotated[int | None, Query(ge=1, le=10)]


def _audit_change(
    session: AsyncSession, principal: Principal, action: str, object_type: str, object_id: str, body: BaseModel
) -> None:
    """Directory changes are audited with the names of the fields sent (the values are in the directory itself)."""
    detail = {"fields": sorted(body.model_fields_set)}
    audit.record_for(session, audit_tables, principal, action, object_type, object_id, detail=detail)


# --- organisations ---


@router.get("/organisations", response_model=Page[OrganisationRead], tags=["directory"])
async def list_organisations(
    _: Anyone, session: DbSession, kind: OrganisationKind | None = None, limit: Limit = 50, offset: Offset = 0
) -> Page[OrganisationRead]:
    return await directory.list_organisations(session, kind=kind, limit=limit, offset=offset)


@router.post("/organisations", response_model=OrganisationRead, status_code=201, tags=["directory"])
async def create_organisation(
    body: OrganisationCreate, principal: Admin, session: DbSession, now: Now
) -> OrganisationRead:
    org = await directory.create_organisation(session, body, now)
    _audit_change(session, principal, "create_organisation", "organisation", org.id, body)
    return OrganisationRead.model_validate(org)


@router.get("/organisations/{organisation_id}", response_model=OrganisationRead, tags=["directory"])
async def get_organisation(organisation_id: Slug, _: Anyone, session: DbSession) -> OrganisationRead:
    return OrganisationRead.model_validate(await directory.get_organisation(session, organisation_id))


@router.patch("/organisations/{organisation_id}", response_model=OrganisationRead, tags=["directory"])
async def update_organisation(
    organisation_id: Slug, body: OrganisationUpdate, principal: Admin, session: DbSession, now: Now
) -> OrganisationRead:
    org = await directory.update_organisation(session, organisation_id, body, now)
    _audit_change(session, principal, "update_organisation", "organisation", org.id, body)
    return OrganisationRead.model_validate(org)


# --- locations ---


@router.get("/locations", response_model=Page[LocationRead], tags=["directory"])
async def list_locations(
    principal: Anyone,
    session: DbSession,
    organisation_id: Slug | None = None,
    entity: EntityCode | None = None,
    canton: CantonQuery = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[LocationRead]:
    return await directory.list_locations(
        session, principal, organisation_id=organisation_id, entity=entity, canton=canton, limit=limit, offset=offset
    )


@router.post("/locations", response_model=LocationRead, status_code=201, tags=["directory"])
async def create_location(body: LocationCreate, principal: Keeper, session: DbSession, now: Now) -> LocationRead:
    loc = await directory.create_location(session, principal, body, now)
    _audit_change(session, principal, "create_location", "location", loc.id, body)
    return render_location(loc, full=True)


@router.get("/locations/{location_id}", response_model=LocationRead, tags=["directory"])
async def get_location(location_id: ObjectId, principal: Anyone, session: DbSession) -> LocationRead:
    return await directory.get_location(session, principal, location_id)


@router.patch("/locations/{location_id}", response_model=LocationRead, tags=["directory"])
async def update_location(
    location_id: ObjectId, body: LocationUpdate, principal: Keeper, session: DbSession, now: Now
) -> LocationRead:
    loc = await directory.update_location(session, principal, location_id, body, now)
    _audit_change(session, principal, "update_location", "location", loc.id, body)
    return render_location(loc, full=True)


# --- services ---


@router.get("/services", response_model=Page[ServiceRead], tags=["directory"])
async def list_services(
    principal: Anyone,
    session: DbSession,
    filters: Annotated[ServiceFilter, Depends()],
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[ServiceRead]:
    return await directory.list_services(session, principal, filters, limit=limit, offset=offset)


@router.post("/services", response_model=ServiceRead, status_code=201, tags=["directory"])
async def create_service(body: ServiceCreate, principal: Admin, session: DbSession, now: Now) -> ServiceRead:
    service = await directory.create_service(session, body, now)
    _audit_change(session, principal, "create_service", "service", service.id, body)
    return (await render_services(session, principal, [service]))[0]


@router.get("/services/{service_id}", response_model=ServiceRead, tags=["directory"])
async def get_service(service_id: ObjectId, principal: Anyone, session: DbSession) -> ServiceRead:
    return await directory.get_service(session, principal, service_id)


@router.patch("/services/{service_id}", response_model=ServiceRead, tags=["directory"])
async def update_service(
    service_id: ObjectId, body: ServiceUpdate, principal: Keeper, session: DbSession, now: Now
) -> ServiceRead:
    service = await directory.update_service(session, principal, service_id, body, now)
    _audit_change(session, principal, "update_service", "service", service.id, body)
    return (await render_services(session, principal, [service]))[0]


@router.put(
    "/services/{service_id}/capacity", response_model=CapacityRead, tags=["directory"], responses=problem_answers(409)
)
async def set_capacity(
    service_id: ObjectId, body: CapacityWrite, principal: Keeper, session: DbSession, now: Now
) -> CapacityRead:
    """Set a service's only capacity (created if it has none); a service with several answers 409."""
    capacity = await capacities.set_only_capacity(session, principal, service_id, body, now)
    _audit_change(session, principal, "set_capacity", "service", service_id, body)
    return CapacityRead.model_validate(capacity)


@router.post(
    "/services/{service_id}/capacities",
    response_model=CapacityRead,
    status_code=201,
    tags=["directory"],
    responses=problem_answers(409),
)
async def add_capacity(
    service_id: ObjectId, body: CapacityWrite, principal: Keeper, session: DbSession, now: Now
) -> CapacityRead:
    """Add a capacity: places of one unit (bed, session, …) for one group (women, children, …)."""
    capacity = await capacities.add_capacity(session, principal, service_id, body, now)
    _audit_change(session, principal, "add_capacity", "service", service_id, body)
    return CapacityRead.model_validate(capacity)


@router.put(
    "/services/{service_id}/capacities/{capacity_id}",
    response_model=CapacityRead,
    tags=["directory"],
    responses=problem_answers(409),
)
async def update_capacity(
    service_id: ObjectId, capacity_id: ObjectId, body: CapacityWrite, principal: Keeper, session: DbSession, now: Now
) -> CapacityRead:
    """State one capacity's current free and total places."""
    capacity = await capacities.update_capacity(session, principal, service_id, capacity_id, body, now)
    _audit_change(session, principal, "set_capacity", "service", service_id, body)
    return CapacityRead.model_validate(capacity)


# --- matching ---


@router.post("/matches", response_model=MatchResponse, tags=["matching"])
async def find_matches(body: MatchRequest, principal: Frontline, session: DbSession, request: Request) -> MatchResponse:
    """Eligible services for a case profile, best first, each with its score parts and reasons."""
    return await directory.find_matches(session, principal, body, request.app.state.candidate_cache)
