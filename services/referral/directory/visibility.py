"""Who may see a confidential address, and directory records rendered as the caller may see them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from putokaz import audit
from putokaz.auth import Principal
from services.referral.directory import repository as repo
from services.referral.directory.schemas import AddressRead, CapacityRead, LocationRead, ServiceRead
from services.referral.models import Location, Service, audit_tables


def is_admin(principal: Principal) -> bool:
    return "admin" in principal.roles


def owner_scope(principal: Principal) -> str | None:
    """Admins act on any organisation's records; everyone else only on their own."""
    return None if is_admin(principal) else principal.org


async def unredacted_ids(session: AsyncSession, principal: Principal, locations: Sequence[Location]) -> set[str]:
    """Which of these locations the caller may see in full (docs/referral.md)."""
    visible = {loc.id for loc in locations if not loc.confidential}
    if is_admin(principal):
        for loc in locations:
            if loc.confidential and loc.organisation_id != principal.org:
                audit.record_for(session, audit_tables, principal, "reveal_address", "location", loc.id)
        return {loc.id for loc in locations}
    visible |= {loc.id for loc in locations if loc.organisation_id == principal.org}
    hidden = [loc.id for loc in locations if loc.id not in visible]
    if hidden:
        revealed = await repo.locations_placed_for(session, principal.org, hidden)
        # A confidential address shown to an organisation that placed someone there: who saw it is on record.
        for location_id in sorted(revealed):
            audit.record_for(session, audit_tables, principal, "reveal_address", "location", location_id)
        visible |= revealed
    return visible


def render_location(loc: Location, full: bool) -> LocationRead:
    if full:
        return LocationRead(
            id=loc.id,
            organisation_id=loc.organisation_id,
            name=loc.name,
            location_type=loc.location_type,
            entity=loc.entity,
            canton=loc.canton,
            municipality=loc.municipality,
            latitude=loc.latitude,
            longitude=loc.longitude,
            address=AddressRead(address_1=loc.address_1, city=loc.city, postal_code=loc.postal_code),
        )
    # Municipality stays: matching and the referrer need the region, never the door.
    return LocationRead(
        id=loc.id,
        organisation_id=loc.organisation_id,
        name=loc.name,
        location_type="redacted",
        entity=loc.entity,
        canton=loc.canton,
        municipality=loc.municipality,
        latitude=None,
        longitude=None,
        address=None,
    )


async def render_locations(
    session: AsyncSession, principal: Principal, locations: Sequence[Location]
) -> list[LocationRead]:
    full = await unredacted_ids(session, principal, locations)
    return [render_location(loc, loc.id in full) for loc in locations]


async def render_services(
    session: AsyncSession, principal: Principal, services: Sequence[Service]
) -> list[ServiceRead]:
    extras = await repo.service_extras(session, [s.id for s in services])
    all_locations = {loc.id: loc for locs in extras.locations.values() for loc in locs}
    full = await unredacted_ids(session, principal, list(all_locations.values()))
    out = []
    for s in services:
        capacities = [CapacityRead.model_validate(c) for c in extras.capacities.get(s.id, [])]
        out.append(
            ServiceRead(
                id=s.id,
                organisation_id=s.organisation_id,
                name=s.name,
                description=s.description,
                service_type=s.service_type,
                status=s.status,
                minimum_age=s.minimum_age,
                maximum_age=s.maximum_age,
                sexes=list(s.sexes),
                nationalities=list(s.nationalities),
                languages=list(s.languages),
                specialisations=list(s.specialisations),
                child_only=s.child_only,
                lgbtqia_safe=s.lgbtqia_safe,
                wheelchair_accessible=s.wheelchair_accessible,
                open_24_7=s.open_24_7,
                fallback_for_entity=s.fallback_for_entity,
                locations=[render_location(loc, loc.id in full) for loc in extras.locations.get(s.id, [])],
                capacities=capacities,
                capacity=capacities[0] if capacities else None,
                updated_at=s.updated_at,
            )
        )
    return out
