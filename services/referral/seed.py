"""Demo directory: a BiH-shaped set of FICTIONAL organisations (marked [DEMO]) at real places. Idempotent."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from putokaz.clock import SYSTEM_CLOCK
from putokaz.db import Database
from putokaz.gazetteer import find_municipality
from services.referral.directory.matching import ACCOMMODATION_TYPES
from services.referral.directory.repository import bump_directory_version
from services.referral.models import Location, Organisation, Service, ServiceAtLocation, ServiceCapacity

EVERY_FORM = ["sexual", "forced_labour", "begging", "forced_criminality", "forced_marriage", "domestic_servitude"]
MIGRANT_LANGUAGES = ["ar", "fa", "ps", "ur", "en"]
LOCAL_LANGUAGES = ["bs", "hr", "sr"]


@dataclass
class DemoService:
    slug: str
    name: str
    service_type: str
    place: str
    confidential: bool = False
    capacity: int | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    # Further capacities beside the one for everyone: (unit, population, places).
    extra_capacities: tuple[tuple[str, str, int], ...] = ()


# (org slug, name, kind, services). Slugs of the first six are the dev token defaults (deploy/processes.py).
DEMO_DIRECTORY: list[tuple[str, str, str, list[DemoService]]] = [
    ("demo-police-una-sana", "[DEMO] Una-Sana Canton Police", "police", []),
    (
        "demo-csw-sarajevo",
        "[DEMO] Centre for Social Welfare Sarajevo",
        "social_welfare",
        [
            DemoService(
                "csw-sarajevo",
                "Child and family protection",
                "social_welfare",
                "Centar Sarajevo",
                fields={
                    "languages": [*LOCAL_LANGUAGES, "en"],
                    "open_24_7": True,
                    "specialisations": ["unaccompanied_children", "roma"],
                    # Takes a child's automatic referral where no centre covers the municipality.
                    "fallback_for_entity": "FBIH",
                },
            )
        ],
    ),
    (
        "demo-safe-house-zenica",
        "[DEMO] Safe House Zenica",
        "service_provider",
        [
            DemoService(
                "safe-house-zenica",
                "Safe house for women",
                "safe_house",
                "Zenica",
                True,
                8,
                {
                    "sexes": ["F"],
                    "minimum_age": 18,
                    "languages": [*LOCAL_LANGUAGES, "en"],
                    "specialisations": ["sexual", "forced_marriage", "trauma"],
                    "open_24_7": True,
                },
            ),
            DemoService(
                "children-zenica",
                "Safe house for children",
                "shelter_children",
                "Zenica",
                True,
                6,
                {
                    "child_only": True,
                    "maximum_age": 17,
                    "languages": [*LOCAL_LANGUAGES, "en", "ar"],
                    "specialisations": ["unaccompanied_children", "begging", "sexual"],
                    "open_24_7": True,
                },
            ),
        ],
    ),
    ("demo-state-coordinator", "[DEMO] Office of the State Coordinator", "government", []),
    (
        "demo-partner-ngo",
        "[DEMO] Partner NGO Tuzla",
        "ngo",
        [
            DemoService(
                "legal-aid-tuzla",
                "Free legal aid",
                "legal_aid",
                "Tuzla",
                fields={"languages": [*LOCAL_LANGUAGES, "en"], "specialisations": ["forced_labour"]},
            ),
            DemoService(
                "mhpss-tuzla",
                "Psychosocial support",
                "mhpss",
                "Tuzla",
                fields={"languages": [*LOCAL_LANGUAGES, "en"], "specialisations": ["trauma", "sexual"]},
            ),
        ],
    ),
    ("demo-admin", "[DEMO] Putokaz administration", "other", []),
    (
        "demo-csw-bihac",
        "[DEMO] Centre for Social Welfare Bihać",
        "social_welfare",
        [
            DemoService(
                "csw-bihac",
                "Child protection and guardianship",
                "social_welfare",
                "Bihać",
                fields={
                    "languages": [*LOCAL_LANGUAGES, "en"],
                    "open_24_7": True,
                    "specialisations": ["unaccompanied_children"],
                },
            )
        ],
    ),
    (
        "demo-csw-banja-luka",
        "[DEMO] Centre for Social Work Banja Luka",
        "social_welfare",
        [
            DemoService(
                "csw-banja-luka",
                "Social protection",
                "social_welfare",
                "Banja Luka",
                fields={"languages": LOCAL_LANGUAGES, "open_24_7": True, "fallback_for_entity": "RS"},
            )
        ],
    ),
    (
        "demo-csw-brcko",
        "[DEMO] Sub-department for Social Protection Brčko",
        "social_welfare",
        [
            DemoService(
                "csw-brcko",
                "Social protection",
                "social_welfare",
                "Brčko",
                fields={"languages": LOCAL_LANGUAGES, "fallback_for_entity": "BD"},
            )
        ],
    ),
    (
        "demo-safe-house-banja-luka",
        "[DEMO] Safe House Banja Luka",
        "service_provider",
        [
            DemoService(
                "safe-house-banja-luka",
                "Safe house",
                "safe_house",
                "Banja Luka",
                True,
                10,
                {
                    "minimum_age": 18,
                    "languages": [*LOCAL_LANGUAGES, "en"],
                    "lgbtqia_safe": True,
                    "specialisations": ["sexual", "forced_labour", "domestic_servitude"],
                    "open_24_7": True,
                },
            )
        ],
    ),
    (
        "demo-family-shelter-sarajevo",
        "[DEMO] Family Shelter Ilidža",
        "service_provider",
        [
            DemoService(
                "family-shelter-ilidza",
                "Shelter for families",
                "shelter_families",
                "Ilidža",
                True,
                12,
                {
                    "languages": [*LOCAL_LANGUAGES, *MIGRANT_LANGUAGES],
                    "wheelchair_accessible": True,
                    "specialisations": ["forced_labour", "begging"],
                },
                # A family shelter counts children's beds apart from the adults' (HSDS: several capacities).
                extra_capacities=(("bed", "children", 8),),
            )
        ],
    ),
    (
        "demo-shelter-mostar",
        "[DEMO] Shelter Mostar",
        "service_provider",
        [
            DemoService(
                "safe-house-mostar",
                "Safe house Herzegovina",
                "safe_house",
                "Mostar",
                True,
                5,
                {"minimum_age": 18, "languages": [*LOCAL_LANGUAGES, "en", "ar"], "specialisations": EVERY_FORM},
            )
        ],
    ),
    (
        "demo-medical-tuzla",
        "[DEMO] Medical Centre Tuzla",
        "service_provider",
        [
            DemoService(
                "medical-tuzla",
                "Emergency and general medicine",
                "medical",
                "Tuzla",
                fields={"languages": [*LOCAL_LANGUAGES, "en"], "open_24_7": True, "wheelchair_accessible": True},
            )
        ],
    ),
    (
        "demo-health-bihac",
        "[DEMO] Health Centre Bihać",
        "service_provider",
        [
            DemoService(
                "medical-bihac",
                "Primary care and mobile team",
                "medical",
                "Bihać",
                fields={"languages": [*LOCAL_LANGUAGES, "en", "ar", "fa"], "open_24_7": True},
            )
        ],
    ),
    (
        "demo-mhpss-mostar",
        "[DEMO] Counselling Centre Mostar",
        "ngo",
        [
            DemoService(
                "mhpss-mostar",
                "Trauma counselling",
                "mhpss",
                "Mostar",
                fields={
                    "languages": [*LOCAL_LANGUAGES, "en"],
                    "specialisations": ["trauma", "sexual"],
                    "lgbtqia_safe": True,
                },
            )
        ],
    ),
    (
        "demo-legal-aid-sarajevo",
        "[DEMO] Legal Aid Sarajevo",
        "ngo",
        [
            DemoService(
                "legal-aid-sarajevo",
                "Legal aid and residence",
                "legal_aid",
                "Centar Sarajevo",
                fields={"languages": [*LOCAL_LANGUAGES, "en", "fa"], "specialisations": EVERY_FORM},
            )
        ],
    ),
    (
        "demo-return-sarajevo",
        "[DEMO] Return Assistance Office",
        "international",
        [
            DemoService(
                "avrr-sarajevo",
                "Assisted voluntary return",
                "avrr",
                "Centar Sarajevo",
                fields={"languages": [*MIGRANT_LANGUAGES, "fr"]},
            )
        ],
    ),
    (
        "demo-interpreters-bihac",
        "[DEMO] Interpreters' Network Una-Sana",
        "ngo",
        [
            DemoService(
                "interpretation-bihac",
                "Interpretation",
                "interpretation",
                "Bihać",
                fields={"languages": [*MIGRANT_LANGUAGES, "fr", "bn"], "open_24_7": True},
            )
        ],
    ),
    (
        "demo-csw-livno",
        "[DEMO] Centre for Social Welfare Livno",
        "social_welfare",
        [
            DemoService(
                "csw-livno", "Social protection", "social_welfare", "Livno", fields={"languages": LOCAL_LANGUAGES}
            )
        ],
    ),
    (
        "demo-csw-trebinje",
        "[DEMO] Centre for Social Work Trebinje",
        "social_welfare",
        [
            DemoService(
                "csw-trebinje", "Social protection", "social_welfare", "Trebinje", fields={"languages": LOCAL_LANGUAGES}
            )
        ],
    ),
]


def demo_rows(now: datetime) -> list[Any]:
    """Every demo row, in insertion order (organisations before what refers to them)."""
    rows: list[Any] = []
    for org_id, name, kind, services in DEMO_DIRECTORY:
        rows.append(
            Organisation(
                id=org_id,
                name=name,
                description="Fictional demo organisation; not a real body.",
                kind=kind,
                is_demo=True,
                created_at=now,
                updated_at=now,
            )
        )
        for s in services:
            place = find_municipality(s.place)
            assert place is not None, s.place
            location_id = f"demo-loc-{s.slug}"
            rows.append(
                Location(
                    id=location_id,
                    organisation_id=org_id,
                    name=s.name,
                    location_type="physical",
                    confidential=s.confidential,
                    entity=place.entity,
                    canton=place.canton,
                    municipality=place.name,
                    latitude=place.latitude,
                    longitude=place.longitude,
                    address_1="[DEMO] Confidential address 1" if s.confidential else "[DEMO] Main street 1",
                    city=place.name,
                    postal_code=None,
                    created_at=now,
                    updated_at=now,
                )
            )
            service_id = f"demo-svc-{s.slug}"
            rows.append(
                Service(
                    id=service_id,
                    organisation_id=org_id,
                    name=s.name,
                    service_type=s.service_type,
                    status="active",
                    description="[DEMO]",
                    created_at=now,
                    updated_at=now,
                    **{"sexes": [], "nationalities": [], "languages": [], "specialisations": [], **s.fields},
                )
            )
            rows.append(ServiceAtLocation(id=f"demo-sal-{s.slug}", service_id=service_id, location_id=location_id))
            if s.capacity is not None:
                # Places that lodge someone are beds; a counselling or legal service's are sessions.
                unit = "bed" if s.service_type in ACCOMMODATION_TYPES else "session"
                rows.append(
                    ServiceCapacity(
                        id=f"demo-cap-{s.slug}",
                        service_id=service_id,
                        unit=unit,
                        population="everyone",
                        available=s.capacity,
                        maximum=s.capacity,
                        updated=now,
                    )
                )
            for unit, population, places in s.extra_capacities:
                rows.append(
                    ServiceCapacity(
                        id=f"demo-cap-{s.slug}-{population}",
                        service_id=service_id,
                        unit=unit,
                        population=population,
                        available=places,
                        maximum=places,
                        updated=now,
                    )
                )
    return rows


async def load_demo_data(db: Database) -> None:
    """Insert each demo row that is not there yet; never overwrites what users changed since."""
    now = SYSTEM_CLOCK.now()  # run by the deployment before any service (and its clock) is up
    async with db.sessionmaker() as session, session.begin():
        for row in demo_rows(now):
            if await session.get(type(row), row.id) is None:
                session.add(row)
                await session.flush()
        await bump_directory_version(session)
