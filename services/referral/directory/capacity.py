"""Capacities of a service (HSDS `service_capacity`): several per service, each a unit for one target group.

The provider keeps each one current; every change goes out as `capacity.changed`. Places are taken
and given back by referrals (services/referral/referrals), one capacity row at a time.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from putokaz.auth import Principal
from putokaz.errors import Conflict, NotFound
from services.referral.directory import repository as repo
from services.referral.directory.ids import new_id
from services.referral.directory.matching import POPULATION_ORDER, CaseProfile, fits
from services.referral.directory.schemas import CapacityWrite, ServiceCreate
from services.referral.directory.visibility import owner_scope
from services.referral.models import Service, ServiceCapacity
from services.referral.publish import capacity_changed


def capacities_of(body: ServiceCreate) -> list[CapacityWrite]:
    """The capacities a new service is created with (`capacity` is the one-capacity form of older clients)."""
    return [*([body.capacity] if body.capacity is not None else []), *body.capacities]


def new_capacity(service_id: str, body: CapacityWrite, now: datetime) -> ServiceCapacity:
    return ServiceCapacity(
        id=new_id("cap"),
        service_id=service_id,
        unit=body.unit,
        population=body.population,
        description=body.description,
        available=body.available,
        maximum=body.maximum,
        updated=now,
    )


async def _kept_service(session: AsyncSession, principal: Principal, service_id: str) -> Service:
    service = await repo.owned_service(session, service_id, owner_scope(principal))
    if service is None:
        raise NotFound("No such service")
    return service


async def _saved(session: AsyncSession, capacity: ServiceCapacity) -> None:
    """Flush, answering 409 when the service already has places of this unit for this group.

    A provider's change (unit, group, maximum) is part of the candidates matching caches: it moves the
    directory version. Places taken and given back by referrals do not (they are read fresh).
    """
    try:
        async with session.begin_nested():
            await session.flush()
            await repo.bump_directory_version(session)
    except IntegrityError:
        raise Conflict("The service already has a capacity of this unit for this group", field="population") from None


async def add_capacity(
    session: AsyncSession, principal: Principal, service_id: str, body: CapacityWrite, now: datetime
) -> ServiceCapacity:
    service = await _kept_service(session, principal, service_id)
    capacity = new_capacity(service.id, body, now)
    session.add(capacity)
    await _saved(session, capacity)
    await capacity_changed(session, capacity, organisation_id=service.organisation_id, occurred_at=now)
    return capacity


async def update_capacity(
    session: AsyncSession, principal: Principal, service_id: str, capacity_id: str, body: CapacityWrite, now: datetime
) -> ServiceCapacity:
    """The provider states the current free and total places of one capacity."""
    service = await _kept_service(session, principal, service_id)
    capacity = await repo.get_capacity(session, service.id, capacity_id)
    if capacity is None:
        raise NotFound("No such capacity")
    return await _write(session, service, capacity, body, now)


async def set_only_capacity(
    session: AsyncSession, principal: Principal, service_id: str, body: CapacityWrite, now: datetime
) -> ServiceCapacity:
    """`PUT …/capacity` of clients that know one capacity per service: creates it, or sets the only one."""
    service = await _kept_service(session, principal, service_id)
    existing = await repo.service_capacities(session, service.id)
    if len(existing) > 1:
        raise Conflict(
            "The service has several capacities; set each with PUT /api/v1/services/{id}/capacities/{capacity_id}"
        )
    if not existing:
        capacity = new_capacity(service.id, body, now)
        session.add(capacity)
        await _saved(session, capacity)
        await capacity_changed(session, capacity, organisation_id=service.organisation_id, occurred_at=now)
        return capacity
    return await _write(session, service, existing[0], body, now)


async def _write(
    session: AsyncSession, service: Service, capacity: ServiceCapacity, body: CapacityWrite, now: datetime
) -> ServiceCapacity:
    capacity.unit = body.unit
    capacity.population = body.population
    if "description" in body.model_fields_set:
        capacity.description = body.description
    capacity.available = body.available
    capacity.maximum = body.maximum
    capacity.updated = now
    await _saved(session, capacity)
    await capacity_changed(session, capacity, organisation_id=service.organisation_id, occurred_at=now)
    return capacity


async def take_place(
    session: AsyncSession, service_id: str, case: CaseProfile, now: datetime
) -> ServiceCapacity | None:
    """One free place for this person: from the most specific capacity of the service whose group fits them.

    Each attempt is one conditional UPDATE of one capacity row, so concurrent accepts never overbook
    any capacity; a capacity emptied by a concurrent accept is passed over for the next fitting one.
    """
    fitting = sorted(
        (c for c in await repo.service_capacities(session, service_id) if fits(c.population, case)),
        key=lambda c: (POPULATION_ORDER.get(c.population, 9), c.id),
    )
    for capacity in fitting:
        if await repo.reserve_place(session, capacity.id, now) is not None:
            await session.refresh(capacity)
            return capacity
    return None


async def give_back_place(session: AsyncSession, capacity_id: str | None, now: datetime) -> ServiceCapacity | None:
    """Release the place a referral held, to the capacity it was taken from."""
    if capacity_id is None:
        return None
    await repo.release_place(session, capacity_id, now)
    capacity = await session.get(ServiceCapacity, capacity_id)
    if capacity is not None:
        await session.refresh(capacity)
    return capacity
