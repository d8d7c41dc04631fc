"""Directory queries: organisations, locations, services, capacity and matching candidates. Never commits."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.referral.directory.matching import Candidate, CandidateCapacity, CandidateLocation
from services.referral.directory.schemas import ServiceFilter
from services.referral.models import (
    DirectoryVersion,
    Location,
    Organisation,
    Referral,
    Service,
    ServiceAtLocation,
    ServiceCapacity,
)

# A confidential address is shown to the referring organisation only while its person is placed there.
PLACED_STATUSES = ("accepted", "in_progress")


async def get_organisation(session: AsyncSession, organisation_id: str) -> Organisation | None:
    return await session.get(Organisation, organisation_id)


async def list_organisations(
    session: AsyncSession, *, kind: str | None, limit: int, offset: int
) -> tuple[list[Organisation], int]:
    query = select(Organisation)
    if kind:
        query = query.where(Organisation.kind == kind)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(query.order_by(Organisation.id).limit(limit).offset(offset))
    return list(rows), int(total or 0)


async def get_location(session: AsyncSession, location_id: str) -> Location | None:
    return await session.get(Location, location_id)


async def owned_location(session: AsyncSession, location_id: str, org: str | None) -> Location | None:
    """The location when `org` owns it (None: any owner, for admin)."""
    query = select(Location).where(Location.id == location_id)
    if org is not None:
        query = query.where(Location.organisation_id == org)
    return await session.scalar(query)


async def list_locations(
    session: AsyncSession,
    *,
    organisation_id: str | None,
    entity: str | None,
    canton: int | None,
    limit: int,
    offset: int,
) -> tuple[list[Location], int]:
    query = select(Location)
    if organisation_id:
        query = query.where(Location.organisation_id == organisation_id)
    if entity:
        query = query.where(Location.entity == entity)
    if canton is not None:
        query = query.where(Location.canton == canton)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(query.order_by(Location.id).limit(limit).offset(offset))
    return list(rows), int(total or 0)


async def locations_placed_for(session: AsyncSession, org: str, location_ids: Sequence[str]) -> set[str]:
    """Locations of services where `org` currently has an accepted referral (it needs the address)."""
    if not location_ids:
        return set()
    rows = await session.scalars(
        select(ServiceAtLocation.location_id)
        .join(Referral, Referral.service_id == ServiceAtLocation.service_id)
        .where(
            Referral.from_org == org,
            Referral.status.in_(PLACED_STATUSES),
            ServiceAtLocation.location_id.in_(list(location_ids)),
        )
    )
    return set(rows)


async def get_service(session: AsyncSession, service_id: str) -> Service | None:
    return await session.get(Service, service_id)


async def owned_service(
    session: AsyncSession, service_id: str, org: str | None, *, lock: bool = False
) -> Service | None:
    query = select(Service).where(Service.id == service_id)
    if org is not None:
        query = query.where(Service.organisation_id == org)
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)


async def list_services(
    session: AsyncSession, filters: ServiceFilter, *, limit: int, offset: int
) -> tuple[list[Service], int]:
    query = select(Service)
    if filters.service_type:
        query = query.where(Service.service_type == filters.service_type)
    if filters.organisation_id:
        query = query.where(Service.organisation_id == filters.organisation_id)
    if filters.status:
        query = query.where(Service.status == filters.status)
    if filters.entity or filters.canton is not None:
        at = select(ServiceAtLocation.service_id).join(Location, Location.id == ServiceAtLocation.location_id)
        if filters.entity:
            at = at.where(Location.entity == filters.entity)
        if filters.canton is not None:
            at = at.where(Location.canton == filters.canton)
        query = query.where(Service.id.in_(at))
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(query.order_by(Service.id).limit(limit).offset(offset))
    return list(rows), int(total or 0)


@dataclass
class ServiceExtras:
    locations: dict[str, list[Location]]
    capacities: dict[str, list[ServiceCapacity]]


async def service_extras(session: AsyncSession, service_ids: Sequence[str]) -> ServiceExtras:
    """Locations and capacity of several services in two queries (no N+1)."""
    ids = list(service_ids)
    locations: dict[str, list[Location]] = defaultdict(list)
    capacities: dict[str, list[ServiceCapacity]] = defaultdict(list)
    if ids:
        rows = await session.execute(
            select(ServiceAtLocation.service_id, Location)
            .join(Location, Location.id == ServiceAtLocation.location_id)
            .where(ServiceAtLocation.service_id.in_(ids))
            .order_by(Location.id)
        )
        for service_id, location in rows:
            locations[service_id].append(location)
        for capacity in await session.scalars(
            select(ServiceCapacity).where(ServiceCapacity.service_id.in_(ids)).order_by(ServiceCapacity.id)
        ):
            capacities[capacity.service_id].append(capacity)
    return ServiceExtras(locations=locations, capacities=capacities)


async def service_capacities(session: AsyncSession, service_id: str) -> list[ServiceCapacity]:
    rows = await session.scalars(
        select(ServiceCapacity).where(ServiceCapacity.service_id == service_id).order_by(ServiceCapacity.id)
    )
    return list(rows)


async def get_capacity(session: AsyncSession, service_id: str, capacity_id: str) -> ServiceCapacity | None:
    return await session.scalar(
        select(ServiceCapacity).where(ServiceCapacity.id == capacity_id, ServiceCapacity.service_id == service_id)
    )


async def reserve_place(session: AsyncSession, capacity_id: str, now: datetime) -> int | None:
    """Take one free place of this capacity atomically; None when it has none (concurrent accepts never overbook).

    The conditional UPDATE locks the row; a concurrent transaction waits, then re-checks
    `available > 0` against the committed value (PostgreSQL READ COMMITTED re-evaluation).
    """
    result = await session.execute(
        update(ServiceCapacity)
        .where(ServiceCapacity.id == capacity_id, ServiceCapacity.available > 0)
        .values(available=ServiceCapacity.available - 1, updated=now)
        .returning(ServiceCapacity.available)
    )
    return result.scalar_one_or_none()


async def release_place(session: AsyncSession, capacity_id: str, now: datetime) -> int | None:
    """Give one place back, never beyond the maximum (the provider may have lowered it meanwhile)."""
    result = await session.execute(
        update(ServiceCapacity)
        .where(ServiceCapacity.id == capacity_id, ServiceCapacity.available < ServiceCapacity.maximum)
        .values(available=ServiceCapacity.available + 1, updated=now)
        .returning(ServiceCapacity.available)
    )
    return result.scalar_one_or_none()


async def directory_version(session: AsyncSession) -> int:
    return int(await session.scalar(select(DirectoryVersion.version).where(DirectoryVersion.id == 1)) or 0)


async def bump_directory_version(session: AsyncSession) -> None:
    """Every write that can change a matching candidate calls this in its own transaction."""
    await session.execute(
        update(DirectoryVersion).where(DirectoryVersion.id == 1).values(version=DirectoryVersion.version + 1)
    )


async def capacities(session: AsyncSession, service_types: Sequence[str]) -> dict[str, tuple[CandidateCapacity, ...]]:
    """Current capacities of services of these types, per service: always read fresh, never cached."""
    if not service_types:
        return {}
    rows = await session.execute(
        select(
            ServiceCapacity.service_id,
            ServiceCapacity.id,
            ServiceCapacity.unit,
            ServiceCapacity.population,
            ServiceCapacity.available,
            ServiceCapacity.maximum,
        )
        .join(Service, Service.id == ServiceCapacity.service_id)
        .where(Service.service_type.in_(list(service_types)))
        .order_by(ServiceCapacity.service_id, ServiceCapacity.id)
    )
    out: dict[str, list[CandidateCapacity]] = defaultdict(list)
    for sid, cid, unit, population, available, maximum in rows:
        out[sid].append(CandidateCapacity(cid, unit, population, available, maximum))
    return {sid: tuple(caps) for sid, caps in out.items()}


async def free_places(session: AsyncSession) -> dict[str, int]:
    """Free places of every capacity, by capacity id: the only part of a candidate that accepts change."""
    rows = await session.execute(select(ServiceCapacity.id, ServiceCapacity.available))
    return dict(rows.tuples().all())


async def matching_candidates(session: AsyncSession, needs: Sequence[str]) -> list[Candidate]:
    """Active services of the needed types with their locations and capacity, as plain values.

    Two narrow Core queries instead of ORM objects. Requests go through `CandidateCache`, which
    calls this only when the directory version moved.
    """
    service_rows = (
        await session.execute(
            select(
                Service.id,
                Service.organisation_id,
                Service.name,
                Service.service_type,
                Service.status,
                Service.minimum_age,
                Service.maximum_age,
                Service.sexes,
                Service.nationalities,
                Service.languages,
                Service.specialisations,
                Service.child_only,
                Service.lgbtqia_safe,
                Service.wheelchair_accessible,
                Service.open_24_7,
            ).where(Service.status == "active", Service.service_type.in_(list(needs)))
        )
    ).all()
    if not service_rows:
        return []
    location_rows = (
        await session.execute(
            select(
                ServiceAtLocation.service_id,
                Location.id,
                Location.entity,
                Location.canton,
                Location.municipality,
                Location.latitude,
                Location.longitude,
                Location.confidential,
            )
            .join(Location, Location.id == ServiceAtLocation.location_id)
            .join(Service, Service.id == ServiceAtLocation.service_id)
            .where(Service.status == "active", Service.service_type.in_(list(needs)))
        )
    ).all()
    places = await capacities(session, needs)
    by_service: dict[str, list[CandidateLocation]] = defaultdict(list)
    for sid, lid, entity, canton, municipality, lat, lon, confidential in location_rows:
        by_service[sid].append(CandidateLocation(lid, entity, canton, municipality, lat, lon, bool(confidential)))
    return [
        Candidate(
            service_id=r[0],
            organisation_id=r[1],
            name=r[2],
            service_type=r[3],
            status=r[4],
            minimum_age=r[5],
            maximum_age=r[6],
            sexes=frozenset(r[7] or ()),
            nationalities=frozenset(r[8] or ()),
            languages=frozenset(r[9] or ()),
            specialisations=frozenset(r[10] or ()),
            child_only=r[11],
            lgbtqia_safe=r[12],
            wheelchair_accessible=r[13],
            open_24_7=r[14],
            capacities=places.get(r[0], ()),
            locations=tuple(sorted(by_service.get(r[0], ()), key=lambda loc: loc.location_id)),
        )
        for r in service_rows
    ]


async def fallback_services(session: AsyncSession) -> dict[str, Service]:
    """Per entity, the active social-welfare service configured to take children no local centre covers."""
    rows = await session.scalars(
        select(Service)
        .where(
            Service.status == "active",
            Service.service_type == "social_welfare",
            Service.fallback_for_entity.is_not(None),
        )
        .order_by(Service.id)
    )
    out: dict[str, Service] = {}
    for service in rows:
        out.setdefault(str(service.fallback_for_entity), service)
    return out
