"""The directory in HSDS 3.1 shape: organizations, services (with capacities), locations, service_at_locations.

HSDS ids are UUIDs: a directory id that is one is kept, any other (slugs such as `demo-svc-…`) is
mapped to a stable UUID v5, so every export names the same record the same way. What HSDS has no field
for (service type, entity, canton, municipality, a capacity's group, a location's confidentiality)
travels as HSDS `attributes` with a `label`. Nulls and empty lists are left out, never sent as null.
A confidential location the caller may not see is left out entirely (and every service_at_location
pointing to it), not redacted: its absence is all a caller learns, and totals count only what is shown.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from putokaz.auth import Principal
from services.referral.directory import repository as repo
from services.referral.directory.visibility import unredacted_ids
from services.referral.models import Location, Organisation, Service, ServiceAtLocation, ServiceCapacity

# Namespace of the UUIDs derived from directory ids (fixed forever: changing it renames every record).
NAMESPACE = uuid.UUID("5f0c2b8e-6f1d-4c3a-9a57-3d2b1e0f4c11")


def hsds_id(kind: str, our_id: str) -> str:
    try:
        return str(uuid.UUID(our_id))
    except ValueError:
        return str(uuid.uuid5(NAMESPACE, f"{kind}:{our_id}"))


def _iso(when: datetime) -> str:
    aware = when if when.tzinfo else when.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")


def pruned(value: Any) -> Any:
    """Nulls and empty lists left out, at every depth."""
    if isinstance(value, dict):
        return {k: pruned(v) for k, v in value.items() if v is not None and v != []}
    if isinstance(value, list):
        return [pruned(v) for v in value]
    return value


def _attributes(entity: str, our_id: str, values: dict[str, Any]) -> list[dict[str, Any]]:
    link = hsds_id(entity, our_id)
    return [
        {
            "id": hsds_id("attribute", f"{entity}:{our_id}:{label}"),
            "link_id": link,
            "link_entity": entity,
            "link_type": "putokaz",
            "label": label,
            "value": value,
        }
        for label, value in values.items()
        if value not in (None, "", [], False)
    ]


def organization(o: Organisation) -> dict[str, Any]:
    return pruned(
        {
            "id": hsds_id("organization", o.id),
            "name": o.name,
            "description": o.description or o.name,
            "email": o.email,
            "website": o.website,
            "attributes": _attributes("organization", o.id, {"kind": o.kind, "directory_id": o.id}),
        }
    )


def location(loc: Location) -> dict[str, Any]:
    address = None
    # HSDS requires a postal code in an address: without one, the address is left out, never invented.
    if loc.address_1 and loc.city and loc.postal_code:
        address = {
            "id": hsds_id("address", loc.id),
            "location_id": hsds_id("location", loc.id),
            "address_1": loc.address_1,
            "city": loc.city,
            "region": str(loc.canton) if loc.canton is not None else None,
            "state_province": loc.entity,
            "postal_code": loc.postal_code,
            "country": "BA",
            "address_type": "physical",
        }
    extra = {
        "entity": loc.entity,
        "canton": str(loc.canton) if loc.canton is not None else None,
        "municipality": loc.municipality,
        "confidential": "true" if loc.confidential else None,
        "directory_id": loc.id,
    }
    return pruned(
        {
            "id": hsds_id("location", loc.id),
            "location_type": loc.location_type
            if loc.location_type in ("physical", "postal", "virtual")
            else "physical",
            "organization_id": hsds_id("organization", loc.organisation_id),
            "name": loc.name,
            "latitude": loc.latitude,
            "longitude": loc.longitude,
            "addresses": [address] if address else None,
            "attributes": _attributes("location", loc.id, extra),
        }
    )


def capacity(c: ServiceCapacity) -> dict[str, Any]:
    return pruned(
        {
            "id": hsds_id("service_capacity", c.id),
            "service_id": hsds_id("service", c.service_id),
            "unit": {"id": hsds_id("unit", c.unit), "name": c.unit},
            "unit_id": hsds_id("unit", c.unit),
            "available": c.available,
            "maximum": c.maximum,
            "description": c.description,
            "updated": _iso(c.updated),
            "attributes": _attributes("service_capacity", c.id, {"population": c.population}),
        }
    )


def service_at_location(link: ServiceAtLocation) -> dict[str, Any]:
    return {
        "id": hsds_id("service_at_location", link.id),
        "service_id": hsds_id("service", link.service_id),
        "location_id": hsds_id("location", link.location_id),
    }


def service(s: Service, capacities: Sequence[ServiceCapacity], links: Sequence[ServiceAtLocation]) -> dict[str, Any]:
    sid = hsds_id("service", s.id)
    extra = {
        "service_type": s.service_type,
        "sexes": ",".join(s.sexes) or None,
        "nationalities": ",".join(s.nationalities) or None,
        "specialisations": ",".join(s.specialisations) or None,
        "child_only": "true" if s.child_only else None,
        "lgbtqia_safe": "true" if s.lgbtqia_safe else None,
        "wheelchair_accessible": "true" if s.wheelchair_accessible else None,
        "open_24_7": "true" if s.open_24_7 else None,
        "fallback_for_entity": s.fallback_for_entity,
        "directory_id": s.id,
    }
    return pruned(
        {
            "id": sid,
            "organization_id": hsds_id("organization", s.organisation_id),
            "name": s.name,
            "description": s.description or None,
            "status": s.status,
            "minimum_age": s.minimum_age,
            "maximum_age": s.maximum_age,
            "last_modified": _iso(s.updated_at),
            "languages": [
                {"id": hsds_id("language", f"{s.id}:{code}"), "service_id": sid, "code": code} for code in s.languages
            ],
            "capacities": [capacity(c) for c in capacities],
            "service_at_locations": [service_at_location(link) for link in links],
            "attributes": _attributes("service", s.id, extra),
        }
    )


def page(items: list[dict[str, Any]], page_number: int, per_page: int) -> dict[str, Any]:
    """HSDS's paginated answer: `contents` and the page counts, over what the caller may see."""
    total = len(items)
    pages = max(1, math.ceil(total / per_page))
    contents = items[(page_number - 1) * per_page : page_number * per_page]
    return {
        "total_items": total,
        "total_pages": pages,
        "page_number": page_number,
        "size": len(contents),
        "first_page": page_number == 1,
        "last_page": page_number >= pages,
        "empty": not contents,
        "contents": contents,
    }


async def _visible_locations(session: AsyncSession, principal: Principal) -> dict[str, Location]:
    locations = list(await session.scalars(select(Location).order_by(Location.id)))
    shown = await unredacted_ids(session, principal, locations)
    return {loc.id: loc for loc in locations if loc.id in shown}


async def organizations(session: AsyncSession, page_number: int, per_page: int) -> dict[str, Any]:
    rows = await session.scalars(select(Organisation).order_by(Organisation.id))
    return page([organization(o) for o in rows], page_number, per_page)


async def locations(session: AsyncSession, principal: Principal, page_number: int, per_page: int) -> dict[str, Any]:
    visible = await _visible_locations(session, principal)
    return page([location(loc) for loc in visible.values()], page_number, per_page)


async def service_at_locations(
    session: AsyncSession, principal: Principal, page_number: int, per_page: int
) -> dict[str, Any]:
    visible = await _visible_locations(session, principal)
    rows = await session.scalars(select(ServiceAtLocation).order_by(ServiceAtLocation.id))
    return page([service_at_location(r) for r in rows if r.location_id in visible], page_number, per_page)


async def services(session: AsyncSession, principal: Principal, page_number: int, per_page: int) -> dict[str, Any]:
    visible = await _visible_locations(session, principal)
    rows = list(await session.scalars(select(Service).order_by(Service.id)))
    shown = rows[(page_number - 1) * per_page : page_number * per_page]
    extras = await repo.service_extras(session, [s.id for s in shown])
    links: dict[str, list[ServiceAtLocation]] = {}
    for link in await session.scalars(
        select(ServiceAtLocation).where(ServiceAtLocation.service_id.in_([s.id for s in shown]))
    ):
        if link.location_id in visible:
            links.setdefault(link.service_id, []).append(link)
    answer = page([{} for _ in rows], page_number, per_page)
    answer["contents"] = [
        service(s, extras.capacities.get(s.id, []), sorted(links.get(s.id, []), key=lambda x: x.id)) for s in shown
    ]
    return answer
