"""Request and response models of the directory (HSDS-aligned) and of matching."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from putokaz.gazetteer import KnownMunicipality, completed_place, geography_problem
from putokaz.schemas import StrictModel
from putokaz.vocabulary import Entity, ExploitationForm, ServiceType, Sex

SERVICE_TYPES: tuple[str, ...] = get_args(ServiceType)
ServiceStatus = Literal["active", "inactive", "defunct", "temporarily closed"]
OrganisationKind = Literal[
    "police", "social_welfare", "ngo", "service_provider", "international", "government", "other"
]
EntityCode = Entity
# Specialisations are forms of exploitation plus groups a service is equipped for.
Specialisation = Literal[ExploitationForm, "unaccompanied_children", "roma", "disability", "trauma"]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$")]
ObjectId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
Description = Annotated[str, StringConstraints(max_length=2000)]
Canton = Annotated[int, Field(ge=1, le=10)]
Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]


@dataclass(frozen=True)
class ServiceFilter:
    """The filters of the service list (`GET /services` query parameters, read as one dependency)."""

    service_type: ServiceType | None = None
    organisation_id: Slug | None = None
    status: ServiceStatus | None = None
    entity: EntityCode | None = None
    canton: Annotated[int | None, Query(ge=1, le=10)] = None


Age = Annotated[int, Field(ge=0, le=120)]


# --- organisations ---


class OrganisationCreate(StrictModel):
    id: Slug | None = Field(
        default=None, description="Stable slug id (the `org` claim of its users); generated if absent"
    )
    name: Name
    description: Description = ""
    kind: OrganisationKind
    email: Annotated[str, StringConstraints(max_length=200, pattern=r"^[^@\s]+@[^@\s]+$")] | None = None
    website: Annotated[str, StringConstraints(max_length=500, pattern=r"^https?://\S+$")] | None = None


class OrganisationUpdate(StrictModel):
    name: Name | None = None
    description: Description | None = None
    kind: OrganisationKind | None = None
    email: Annotated[str, StringConstraints(max_length=200, pattern=r"^[^@\s]+@[^@\s]+$")] | None = None
    website: Annotated[str, StringConstraints(max_length=500, pattern=r"^https?://\S+$")] | None = None


class OrganisationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    description: str
    kind: str
    email: str | None
    website: str | None
    is_demo: bool
    updated_at: datetime


# --- locations ---


class GeographyMixin(StrictModel):
    @model_validator(mode="before")
    @classmethod
    def _fill_from_municipality(cls, data: Any) -> Any:
        # A known municipality names its entity and canton: filled in when left out, refused when contradicted.
        return completed_place(data)

    @model_validator(mode="after")
    def _entity_and_canton_agree(self) -> GeographyMixin:
        problem = geography_problem(getattr(self, "entity", None), getattr(self, "canton", None))
        if problem:
            raise ValueError(problem)
        return self


class LocationCreate(GeographyMixin):
    organisation_id: Slug | None = Field(default=None, description="Defaults to the caller's organisation")
    name: Name
    location_type: Literal["physical", "postal", "virtual"] = "physical"
    confidential: bool = Field(default=False, description="Hide the address from everyone but those who need it")
    entity: EntityCode
    canton: Canton | None = None
    municipality: KnownMunicipality
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    address_1: Annotated[str, StringConstraints(max_length=200)] | None = None
    city: Annotated[str, StringConstraints(max_length=100)] | None = None
    postal_code: Annotated[str, StringConstraints(max_length=16)] | None = None


class LocationUpdate(StrictModel):
    name: Name | None = None
    confidential: bool | None = None
    municipality: KnownMunicipality | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    address_1: Annotated[str, StringConstraints(max_length=200)] | None = None
    city: Annotated[str, StringConstraints(max_length=100)] | None = None
    postal_code: Annotated[str, StringConstraints(max_length=16)] | None = None


class AddressRead(BaseModel):
    address_1: str | None
    city: str | None
    postal_code: str | None
    country: str = "BA"


class LocationRead(BaseModel):
    """`location_type: redacted` hides the address and exact coordinates (an HSDS extension; docs/referral.md)."""

    id: str
    organisation_id: str
    name: str
    location_type: str
    entity: str
    canton: int | None
    municipality: str
    latitude: float | None
    longitude: float | None
    address: AddressRead | None


# --- services ---


# HSDS `unit` names: what one place of a capacity is.
CapacityUnit = Literal["bed", "place", "room", "session", "slot", "appointment", "hour"]
# Who a capacity's places are for; matched against the person's profile (docs/referral.md).
Population = Literal["everyone", "women", "men", "adults", "children", "girls", "boys"]


class CapacityWrite(StrictModel):
    available: Annotated[int, Field(ge=0, le=100_000)]
    maximum: Annotated[int, Field(ge=0, le=100_000)]
    unit: CapacityUnit = Field(default="bed", description="What one place is: bed, place, room, session, slot, …")
    population: Population = Field(default="everyone", description="Who these places are for")
    description: Annotated[str, StringConstraints(max_length=200)] | None = None

    @model_validator(mode="after")
    def _within_maximum(self) -> CapacityWrite:
        if self.available > self.maximum:
            raise ValueError("available must not exceed maximum")
        return self


class CapacityRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    service_id: str
    unit: str
    population: str
    description: str | None = None
    available: int
    maximum: int
    updated: datetime


class EligibilityFields(StrictModel):
    minimum_age: Age | None = None
    maximum_age: Age | None = None
    sexes: Annotated[list[Literal["F", "M", "X"]], Field(max_length=3)] = Field(
        default_factory=list, description="Empty: every sex"
    )
    nationalities: Annotated[list[CountryCode], Field(max_length=250)] = Field(
        default_factory=list, description="Empty: every nationality"
    )
    languages: Annotated[list[LanguageCode], Field(max_length=50)] = Field(default_factory=list)
    specialisations: Annotated[list[Specialisation], Field(max_length=20)] = Field(default_factory=list)
    child_only: bool = False
    lgbtqia_safe: bool = False
    wheelchair_accessible: bool = False
    open_24_7: bool = False

    @model_validator(mode="after")
    def _age_range(self) -> EligibilityFields:
        if self.minimum_age is not None and self.maximum_age is not None and self.minimum_age > self.maximum_age:
            raise ValueError("minimum_age must not exceed maximum_age")
        return self


class ServiceCreate(EligibilityFields):
    organisation_id: Slug
    name: Name
    description: Description = ""
    service_type: ServiceType
    status: ServiceStatus = "active"
    location_ids: Annotated[list[ObjectId], Field(max_length=20)] = Field(default_factory=list)
    capacity: CapacityWrite | None = Field(
        default=None, description="One capacity (older clients); accommodation needs this or `capacities`"
    )
    capacities: Annotated[list[CapacityWrite], Field(max_length=10)] = Field(
        default_factory=list, description="Several capacities, each a unit for one target population (HSDS)"
    )
    fallback_for_entity: EntityCode | None = Field(
        default=None,
        description="Social welfare only: takes a child's automatic referral when no centre covers the municipality",
    )

    @model_validator(mode="after")
    def _fallback_is_social_welfare(self) -> ServiceCreate:
        if self.fallback_for_entity is not None and self.service_type != "social_welfare":
            raise ValueError("only a social_welfare service can be an entity's fallback authority")
        return self


class ServiceUpdate(StrictModel):
    name: Name | None = None
    description: Description | None = None
    status: ServiceStatus | None = None
    minimum_age: Age | None = None
    maximum_age: Age | None = None
    sexes: Annotated[list[Literal["F", "M", "X"]], Field(max_length=3)] | None = None
    nationalities: Annotated[list[CountryCode], Field(max_length=250)] | None = None
    languages: Annotated[list[LanguageCode], Field(max_length=50)] | None = None
    specialisations: Annotated[list[Specialisation], Field(max_length=20)] | None = None
    child_only: bool | None = None
    lgbtqia_safe: bool | None = None
    wheelchair_accessible: bool | None = None
    open_24_7: bool | None = None
    fallback_for_entity: EntityCode | None = None
    location_ids: Annotated[list[ObjectId], Field(max_length=20)] | None = None


class ServiceRead(BaseModel):
    id: str
    organisation_id: str
    name: str
    description: str
    service_type: str
    status: str
    minimum_age: int | None
    maximum_age: int | None
    sexes: list[str]
    nationalities: list[str]
    languages: list[str]
    specialisations: list[str]
    child_only: bool
    lgbtqia_safe: bool
    wheelchair_accessible: bool
    open_24_7: bool
    fallback_for_entity: str | None = None
    locations: list[LocationRead]
    capacities: list[CapacityRead] = Field(
        default_factory=list, description="HSDS service_capacity, one per unit and group"
    )
    capacity: CapacityRead | None = Field(description="The first of `capacities` (for clients that know one)")
    updated_at: datetime


# --- matching ---


class PlaceRead(StrictModel):
    """A case's place as stored (referrals made before the gazetteer may hold any municipality text)."""

    entity: EntityCode | None = None
    canton: Canton | None = None
    municipality: Annotated[str, StringConstraints(max_length=100)] | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None


class PlaceIn(GeographyMixin):
    """A municipality of the gazetteer (any of its names), or a coordinate pair, or both."""

    entity: EntityCode | None = None
    canton: Canton | None = None
    municipality: KnownMunicipality | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None

    @model_validator(mode="after")
    def _both_coordinates(self) -> PlaceIn:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give both latitude and longitude, or neither")
        return self


class CaseProfileIn(StrictModel):
    """A non-identifying case profile: never a name, date of birth, document or free text."""

    age: Age | None = None
    child: bool | None = Field(default=None, description="When age is unknown: may the person be a minor?")
    sex: Sex = "UNK"
    nationality: CountryCode | None = None
    languages: Annotated[list[LanguageCode], Field(max_length=10)] = Field(default_factory=list)
    forms: Annotated[list[ExploitationForm], Field(max_length=9)] = Field(default_factory=list)
    place: PlaceIn = Field(default_factory=PlaceIn)
    needs_wheelchair_access: bool = False
    lgbtqia: bool = False


class MatchRequest(CaseProfileIn):
    needs: Annotated[list[ServiceType], Field(min_length=1, max_length=10)]
    urgent: bool = False
    limit: Annotated[int, Field(ge=1, le=50)] = 10
    exclude_service_ids: Annotated[list[ObjectId], Field(max_length=50)] = Field(default_factory=list)


class MatchRead(BaseModel):
    service_id: str
    organisation_id: str
    name: str
    service_type: str
    score: float
    parts: dict[str, float]
    reasons: list[str]
    distance_km: float | None
    location: LocationRead | None
    available: int | None


class MatchResponse(BaseModel):
    matches: list[MatchRead]
    considered: int
