"""Import of an HSDS 3.1 directory file (admin): every record valid, or nothing imported.

Each record is checked against the HSDS 3.1 schema of its kind, then against what the directory needs
that HSDS leaves open (an entity and municipality for a location, known units, references that resolve).
Every problem of every record is reported (422, one entry per record and field); only a file without
any is written, in one transaction. Records are matched by id: a record the directory has is updated.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any, get_args

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from putokaz import audit
from putokaz.auth import Principal
from putokaz.errors import Conflict, Invalid
from putokaz.gazetteer import geography_problem
from services.referral.directory import repository as repo
from services.referral.directory.schemas import SERVICE_TYPES, CapacityUnit, OrganisationKind, Population
from services.referral.hsds.service import hsds_id
from services.referral.hsds.validation import RECORD_SCHEMAS, record_errors
from services.referral.models import (
    Location,
    Organisation,
    Service,
    ServiceAtLocation,
    ServiceCapacity,
    audit_tables,
)

MAX_ERRORS = 1000
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$")
KINDS = set(get_args(OrganisationKind))
UNITS = set(get_args(CapacityUnit))
POPULATIONS = set(get_args(Population))


class ImportResult(BaseModel):
    organizations: int
    services: int
    locations: int
    service_at_locations: int
    capacities: int


def _labels(record: dict[str, Any]) -> dict[str, str]:
    return {
        str(a["label"]): str(a["value"])
        for a in record.get("attributes") or ()
        if isinstance(a, dict) and a.get("label") and a.get("value") is not None
    }


def _our_id(record: dict[str, Any]) -> str:
    """The directory id a record was exported from (round trip), else its HSDS id."""
    return _labels(record).get("directory_id") or str(record["id"])


class _Plan:
    """The file checked and turned into directory rows; `errors` holds every problem found."""

    def __init__(self) -> None:
        self.errors: list[dict[str, str]] = []
        self.rows: list[Any] = []
        self.ids: dict[tuple[str, str], str] = {}  # (kind, HSDS id) -> directory id
        self.links: set[tuple[str | None, str | None]] = set()
        self.counts = dict.fromkeys(("organizations", "services", "locations", "service_at_locations", "capacities"), 0)

    def error(self, field: str, message: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"field": field, "message": message})

    def add(self, counted_as: str, row: Any) -> None:
        self.rows.append(row)
        self.counts[counted_as] += 1

    def ref(self, kind: str, hsds: Any, field: str) -> str | None:
        found = self.ids.get((kind, str(hsds)))
        if found is None:
            self.error(field, f"refers to no {kind} in the file or the directory")
        return found


async def _known(session: AsyncSession, plan: _Plan) -> None:
    """HSDS ids of what the directory already holds, so a file may refer to it."""
    for kind, model in (
        ("organization", Organisation),
        ("service", Service),
        ("location", Location),
        ("service_capacity", ServiceCapacity),
        ("service_at_location", ServiceAtLocation),
    ):
        for our_id in await session.scalars(select(model.id)):
            plan.ids[(kind, hsds_id(kind, our_id))] = our_id
            plan.ids[(kind, our_id)] = our_id


def _check_id(plan: _Plan, our_id: str, where: str, pattern: re.Pattern[str] | None = None) -> bool:
    if len(our_id) > 64 or (pattern is not None and not pattern.match(our_id)):
        plan.error(f"{where}.id", "is not usable as a directory id (lowercase letters, digits, hyphens; ≤ 64)")
        return False
    return True


def _usable(
    plan: _Plan, records: list[Any], kind: str, pattern: re.Pattern[str] | None = None
) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(where, our id, record) of each record of `kind` whose id the directory can use; the others are errors."""
    for n, r in enumerate(records):
        where, our_id = f"body.{kind}.{n}", _our_id(r)
        if _check_id(plan, our_id, where, pattern):
            yield where, our_id, r


def _organizations(plan: _Plan, records: list[Any], now: datetime) -> None:
    for where, our_id, r in _usable(plan, records, "organizations", SLUG):
        for name, longest in (("email", 200), ("website", 500)):
            if len(str(r.get(name) or "")) > longest:
                plan.error(f"{where}.{name}", f"must be at most {longest} characters")
        kind = _labels(r).get("kind", "other")
        if kind not in KINDS:
            plan.error(f"{where}.attributes", "kind must be one of: " + ", ".join(sorted(KINDS)))
        plan.ids[("organization", str(r["id"]))] = our_id
        plan.add(
            "organizations",
            Organisation(
                id=our_id,
                name=str(r["name"])[:200],
                description=str(r.get("description") or "")[:2000],
                kind=kind,
                email=r.get("email"),
                website=r.get("website"),
                is_demo=False,
                created_at=now,
                updated_at=now,
            ),
        )


def _locations(plan: _Plan, records: list[Any], now: datetime) -> None:
    for where, our_id, r in _usable(plan, records, "locations"):
        labels = _labels(r)
        address = (r.get("addresses") or [{}])[0]
        entity = labels.get("entity") or address.get("state_province")
        municipality = labels.get("municipality") or address.get("city")
        canton_text = labels.get("canton") or address.get("region")
        canton = int(canton_text) if canton_text and str(canton_text).isdigit() else None
        if entity not in ("FBIH", "RS", "BD"):
            plan.error(f"{where}.attributes", "needs the entity (FBIH, RS or BD): attribute `entity` or state_province")
        elif problem := geography_problem(entity, canton):
            plan.error(f"{where}.attributes", problem)
        for name, bound in (("latitude", 90), ("longitude", 180)):
            if r.get(name) is not None and not -bound <= r[name] <= bound:
                plan.error(f"{where}.{name}", f"must be between -{bound} and {bound}")
        if not municipality:
            plan.error(f"{where}.attributes", "needs the municipality: attribute `municipality` or the address's city")
        organisation = plan.ref("organization", r.get("organization_id"), f"{where}.organization_id")
        plan.ids[("location", str(r["id"]))] = our_id
        plan.add(
            "locations",
            Location(
                id=our_id,
                organisation_id=organisation,
                name=str(r.get("name") or municipality or "")[:200],
                location_type=r["location_type"],
                confidential=labels.get("confidential") == "true",
                entity=entity,
                canton=canton,
                municipality=str(municipality or "")[:100],
                latitude=r.get("latitude"),
                longitude=r.get("longitude"),
                address_1=address.get("address_1"),
                city=address.get("city"),
                postal_code=address.get("postal_code"),
                created_at=now,
                updated_at=now,
            ),
        )


def _services(plan: _Plan, records: list[Any], now: datetime) -> None:
    for where, our_id, r in _usable(plan, records, "services"):
        labels = _labels(r)
        service_type = labels.get("service_type", "other")
        if service_type not in SERVICE_TYPES:
            plan.error(f"{where}.attributes", "service_type must be one of: " + ", ".join(SERVICE_TYPES))
        organisation = plan.ref("organization", r.get("organization_id"), f"{where}.organization_id")
        plan.ids[("service", str(r["id"]))] = our_id
        for age in ("minimum_age", "maximum_age"):
            if r.get(age) is not None and not (isinstance(r[age], int) and 0 <= r[age] <= 120):
                plan.error(f"{where}.{age}", "must be a whole number of years from 0 to 120")
        languages = [str(lang.get("code")) for lang in r.get("languages") or () if lang.get("code")]
        for i, code in enumerate(languages):
            if not re.match(r"^[a-z]{2,3}$", code):
                plan.error(f"{where}.languages.{i}.code", "must be an ISO 639 code (two or three lowercase letters)")
        plan.add(
            "services",
            Service(
                id=our_id,
                organisation_id=organisation,
                name=str(r["name"])[:200],
                description=str(r.get("description") or "")[:2000],
                service_type=service_type,
                status=r["status"],
                minimum_age=r.get("minimum_age"),
                maximum_age=r.get("maximum_age"),
                sexes=[s for s in labels.get("sexes", "").split(",") if s],
                nationalities=[s for s in labels.get("nationalities", "").split(",") if s],
                languages=languages,
                specialisations=[s for s in labels.get("specialisations", "").split(",") if s],
                child_only=labels.get("child_only") == "true",
                lgbtqia_safe=labels.get("lgbtqia_safe") == "true",
                wheelchair_accessible=labels.get("wheelchair_accessible") == "true",
                open_24_7=labels.get("open_24_7") == "true",
                created_at=now,
                updated_at=now,
            ),
        )
        for i, c in enumerate(r.get("capacities") or ()):
            _capacity(plan, c, our_id, f"{where}.capacities.{i}", now)
        for i, link in enumerate(r.get("service_at_locations") or ()):
            _link(plan, link, f"{where}.service_at_locations.{i}", service=our_id)


def _capacity(plan: _Plan, c: dict[str, Any], service_id: str, where: str, now: datetime) -> None:
    unit = str((c.get("unit") or {}).get("name", ""))
    population = _labels(c).get("population", "everyone")
    available, maximum = c["available"], c.get("maximum", c["available"])
    if unit not in UNITS:
        plan.error(f"{where}.unit.name", "must be one of: " + ", ".join(sorted(UNITS)))
    if population not in POPULATIONS:
        plan.error(f"{where}.attributes", "population must be one of: " + ", ".join(sorted(POPULATIONS)))
    if not (isinstance(available, int) and isinstance(maximum, int) and 0 <= available <= maximum <= 100_000):
        plan.error(f"{where}.available", "must be a whole number from 0 to the maximum")
    plan.add(
        "capacities",
        ServiceCapacity(
            id=plan.ids.get(("service_capacity", str(c["id"]))) or _our_id(c)[:64],
            service_id=service_id,
            unit=unit,
            population=population,
            description=c.get("description"),
            available=available,
            maximum=maximum,
            updated=now,
        ),
    )


def _link(plan: _Plan, link: dict[str, Any], where: str, service: str | None = None) -> None:
    service_id = service or plan.ref("service", link.get("service_id"), f"{where}.service_id")
    location_id = plan.ref("location", link.get("location_id"), f"{where}.location_id")
    link_id = plan.ids.get(("service_at_location", str(link["id"]))) or _our_id(link)[:64]
    if (service_id, location_id) in plan.links:
        return  # the same link nested in its service and listed on its own
    plan.links.add((service_id, location_id))
    plan.add("service_at_locations", ServiceAtLocation(id=link_id, service_id=service_id, location_id=location_id))


async def import_directory(
    session: AsyncSession, principal: Principal, body: dict[str, Any], now: datetime
) -> ImportResult:
    plan = _Plan()
    for key, records in body.items():
        if key not in RECORD_SCHEMAS:
            plan.error(f"body.{key[:40]}", "not part of an HSDS directory file")
        elif not isinstance(records, list):
            plan.error(f"body.{key}", "must be a list of records")
    if plan.errors:
        raise Invalid("The file is not an HSDS directory file; nothing was imported", errors=plan.errors)
    for key, schema_file in RECORD_SCHEMAS.items():
        for n, record in enumerate(body.get(key) or ()):
            for problem in record_errors(schema_file, record, f"body.{key}.{n}"):
                plan.error(problem["field"], problem["message"])
    if plan.errors:
        raise Invalid("Some records are not valid HSDS 3.1; nothing was imported", errors=plan.errors)
    await _known(session, plan)
    _organizations(plan, body.get("organizations") or [], now)
    _locations(plan, body.get("locations") or [], now)
    _services(plan, body.get("services") or [], now)
    for n, link in enumerate(body.get("service_at_locations") or ()):
        _link(plan, link, f"body.service_at_locations.{n}")
    if plan.errors:
        raise Invalid("Some records do not fit the directory; nothing was imported", errors=plan.errors)
    try:
        async with session.begin_nested():
            for row in plan.rows:
                await session.merge(row)
                await session.flush()
    except IntegrityError:
        # e.g. a second capacity of one unit for one group, or a link the directory already has under another id
        raise Conflict("The file conflicts with the directory's records; nothing was imported") from None
    except DataError:
        raise Invalid("A value does not fit the directory (too long or out of range); nothing was imported") from None
    await repo.bump_directory_version(session)
    audit.record_for(session, audit_tables, principal, "import_hsds", "directory", "hsds", detail=plan.counts)
    return ImportResult(**plan.counts)
