"""Directory rules: organisations, locations, services and matching (capacity and visibility: own modules)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from putokaz.auth import Principal
from putokaz.errors import Conflict, Invalid, found
from putokaz.gazetteer import find_municipality
from putokaz.schemas import Page
from services.referral.directory import repository as repo
from services.referral.directory.candidates import CandidateCache
from services.referral.directory.capacity import capacities_of, new_capacity
from services.referral.directory.ids import new_id
from services.referral.directory.matching import ACCOMMODATION_TYPES, case_profile, rank
from services.referral.directory.schemas import (
    LocationCreate,
    LocationRead,
    LocationUpdate,
    MatchRead,
    MatchRequest,
    MatchResponse,
    OrganisationCreate,
    OrganisationRead,
    OrganisationUpdate,
    ServiceCreate,
    ServiceFilter,
    ServiceRead,
    ServiceUpdate,
)
from services.referral.directory.visibility import is_admin, owner_scope, render_locations, render_services
from services.referral.models import Location, Organisation, Service, ServiceAtLocation

# --- organisations ---


async def list_organisations(
    session: AsyncSession, *, kind: str | None, limit: int, offset: int
) -> Page[OrganisationRead]:
    rows, total = await repo.list_organisations(session, kind=kind, limit=limit, offset=offset)
    return Page(items=[OrganisationRead.model_validate(o) for o in rows], total=total, limit=limit, offset=offset)


async def get_organisation(session: AsyncSession, organisation_id: str) -> Organisation:
    org = found(await repo.get_organisation(session, organisation_id), "organisation")
    return org


async def create_organisation(session: AsyncSession, body: OrganisationCreate, now: datetime) -> Organisation:
    org_id = body.id or new_id("org")
    if await repo.get_organisation(session, org_id) is not None:
        raise Conflict("An organisation with this id already exists", field="id")
    org = Organisation(
        id=org_id,
        name=body.name,
        description=body.description,
        kind=body.kind,
        email=body.email,
        website=body.website,
        is_demo=False,
        created_at=now,
        updated_at=now,
    )
    session.add(org)
    await session.flush()
    return org


def _changes(body: BaseModel, not_null: Collection[str]) -> dict[str, Any]:
    """The fields a PATCH sets; a null where the field cannot be null is a 422 naming every such field."""
    changes = body.model_dump(exclude_unset=True)
    nulls = [name for name, value in changes.items() if value is None and name in not_null]
    if nulls:
        errors = [{"field": name, "message": f"{name} cannot be null"} for name in nulls]
        raise Invalid(f"{', '.join(nulls)} cannot be null", errors=errors)
    return changes


async def update_organisation(
    session: AsyncSession, organisation_id: str, body: OrganisationUpdate, now: datetime
) -> Organisation:
    org = found(await repo.get_organisation(session, organisation_id), "organisation")
    for name, value in _changes(body, not_null=("name", "kind", "description")).items():
        setattr(org, name, value)
    org.updated_at = now
    await session.flush()
    return org


# --- locations ---


async def list_locations(
    session: AsyncSession,
    principal: Principal,
    *,
    organisation_id: str | None,
    entity: str | None,
    canton: int | None,
    limit: int,
    offset: int,
) -> Page[LocationRead]:
    rows, total = await repo.list_locations(
        session, organisation_id=organisation_id, entity=entity, canton=canton, limit=limit, offset=offset
    )
    items = await render_locations(session, principal, rows)
    return Page(items=items, total=total, limit=limit, offset=offset)


async def get_location(session: AsyncSession, principal: Principal, location_id: str) -> LocationRead:
    loc = found(await repo.get_location(session, location_id), "location")
    return (await render_locations(session, principal, [loc]))[0]


async def create_location(session: AsyncSession, principal: Principal, body: LocationCreate, now: datetime) -> Location:
    owner = body.organisation_id or principal.org
    if not is_admin(principal) and owner != principal.org:
        raise Invalid("A provider may add locations only to its own organisation", field="organisation_id")
    if await repo.get_organisation(session, owner) is None:
        raise Invalid("No such organisation", field="organisation_id")
    latitude, longitude = body.latitude, body.longitude
    if (latitude is None) != (longitude is None):
        raise Invalid("Give both latitude and longitude, or neither", field="latitude")
    known = find_municipality(body.municipality)
    if latitude is None and known is not None:
        latitude, longitude = known.latitude, known.longitude
    loc = Location(
        id=new_id("loc"),
        organisation_id=owner,
        name=body.name,
        location_type=body.location_type,
        confidential=body.confidential,
        entity=body.entity,
        canton=body.canton,
        municipality=body.municipality,
        latitude=latitude,
        longitude=longitude,
        address_1=body.address_1,
        city=body.city,
        postal_code=body.postal_code,
        created_at=now,
        updated_at=now,
    )
    session.add(loc)
    await session.flush()
    return loc


async def update_location(
    session: AsyncSession, principal: Principal, location_id: str, body: LocationUpdate, now: datetime
) -> Location:
    loc = found(await repo.owned_location(session, location_id, owner_scope(principal)), "location")
    for name, value in _changes(body, not_null=("name", "confidential", "municipality")).items():
        setattr(loc, name, value)
    if (loc.latitude is None) != (loc.longitude is None):
        raise Invalid("Give both latitude and longitude, or neither", field="latitude")
    loc.updated_at = now
    await repo.bump_directory_version(session)
    await session.flush()
    return loc


# --- services ---

# A service's fields a PATCH may set to null; `location_ids: null` leaves its locations as they are.
SERVICE_NULLABLE = frozenset({"minimum_age", "maximum_age", "fallback_for_entity", "location_ids"})


async def list_services(
    session: AsyncSession,
    principal: Principal,
    filters: ServiceFilter,
    *,
    limit: int,
    offset: int,
) -> Page[ServiceRead]:
    rows, total = await repo.list_services(session, filters, limit=limit, offset=offset)
    return Page(items=await render_services(session, principal, rows), total=total, limit=limit, offset=offset)


async def get_service(session: AsyncSession, principal: Principal, service_id: str) -> ServiceRead:
    service = found(await repo.get_service(session, service_id), "service")
    return (await render_services(session, principal, [service]))[0]


async def _check_locations(session: AsyncSession, organisation_id: str, location_ids: Sequence[str]) -> None:
    for location_id in location_ids:
        loc = await repo.owned_location(session, location_id, organisation_id)
        if loc is None:
            raise Invalid("Each location must exist and belong to the service's organisation", field="location_ids")


async def _link_locations(session: AsyncSession, service_id: str, location_ids: Sequence[str]) -> None:
    await session.execute(delete(ServiceAtLocation).where(ServiceAtLocation.service_id == service_id))
    for location_id in dict.fromkeys(location_ids):
        session.add(ServiceAtLocation(id=new_id("sal"), service_id=service_id, location_id=location_id))


async def create_service(session: AsyncSession, body: ServiceCreate, now: datetime) -> Service:
    if await repo.get_organisation(session, body.organisation_id) is None:
        raise Invalid("No such organisation", field="organisation_id")
    wanted = capacities_of(body)
    if body.service_type in ACCOMMODATION_TYPES and not wanted:
        raise Invalid("Accommodation services need a capacity (available, maximum)", field="capacity")
    await _check_locations(session, body.organisation_id, body.location_ids)
    fields = body.model_dump(exclude={"location_ids", "capacity", "capacities"})
    service = Service(id=new_id("svc"), created_at=now, updated_at=now, **fields)
    session.add(service)
    await session.flush()
    await _link_locations(session, service.id, body.location_ids)
    for capacity in wanted:
        session.add(new_capacity(service.id, capacity, now))
    await repo.bump_directory_version(session)
    await session.flush()
    return service


async def update_service(
    session: AsyncSession, principal: Principal, service_id: str, body: ServiceUpdate, now: datetime
) -> Service:
    service = found(await repo.owned_service(session, service_id, owner_scope(principal)), "service")
    changes = _changes(body, not_null=set(ServiceUpdate.model_fields) - SERVICE_NULLABLE)
    location_ids = changes.pop("location_ids", None)
    for name, value in changes.items():
        setattr(service, name, value)
    if (
        service.minimum_age is not None
        and service.maximum_age is not None
        and service.minimum_age > service.maximum_age
    ):
        raise Invalid("minimum_age must not exceed maximum_age", field="minimum_age")
    if service.fallback_for_entity is not None and service.service_type != "social_welfare":
        raise Invalid(
            "only a social_welfare service can be an entity's fallback authority", field="fallback_for_entity"
        )
    if location_ids is not None:
        await _check_locations(session, service.organisation_id, location_ids)
        await _link_locations(session, service.id, location_ids)
    service.updated_at = now
    await repo.bump_directory_version(session)
    await session.flush()
    return service


# --- matching ---


async def find_matches(
    session: AsyncSession, principal: Principal, body: MatchRequest, cache: CandidateCache
) -> MatchResponse:
    """Eligible services for a case profile, best first, with addresses redacted as the caller must see them."""
    case = case_profile(body.model_dump(mode="json"), body.needs, body.urgent)
    candidates = await cache.candidates(session, body.needs)
    matches = rank(case, candidates, limit=body.limit, exclude=body.exclude_service_ids)
    location_ids = [m.location_id for m in matches if m.location_id]
    locations = {loc.id: loc for loc in [await repo.get_location(session, i) for i in location_ids] if loc}
    shown = {r.id: r for r in await render_locations(session, principal, list(locations.values()))}
    return MatchResponse(
        considered=len(candidates),
        matches=[
            MatchRead(
                service_id=m.service_id,
                organisation_id=m.organisation_id,
                name=m.name,
                service_type=m.service_type,
                score=m.score,
                parts=m.parts,
                reasons=list(m.reasons),
                distance_km=m.distance_km,
                location=shown.get(m.location_id) if m.location_id else None,
                available=m.available,
            )
            for m in matches
        ],
    )
