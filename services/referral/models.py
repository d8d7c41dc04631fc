"""SQLAlchemy tables of the referral service: HSDS-aligned directory, capacity, referrals and their history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from putokaz.audit import define_audit_tables
from putokaz.db import UtcDateTime, new_metadata
from putokaz.events import define_event_tables
from putokaz.events.receiver import define_receiver_tables
from putokaz.idempotency import define_idempotency_table

ID = String(64)


class Base(DeclarativeBase):
    metadata = new_metadata()


event_tables = define_event_tables(Base.metadata)
idempotency_keys = define_idempotency_table(Base.metadata)
# Webhook-ids of screening events already handled (the internal screening feed is delivered at least once).
processed_webhooks = define_receiver_tables(Base.metadata)
audit_tables = define_audit_tables(Base.metadata)


class Organisation(Base):
    """HSDS `organization`; the id is the `org` claim of the organisation's users' tokens."""

    __tablename__ = "organisations"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), default="")
    kind: Mapped[str] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(200), nullable=True)
    website: Mapped[str | None] = mapped_column(String(500), nullable=True)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Location(Base):
    """HSDS `location` with its one `address`; `confidential` hides the address from most callers."""

    __tablename__ = "locations"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    location_type: Mapped[str] = mapped_column(String(16), default="physical")
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    entity: Mapped[str] = mapped_column(String(8))
    canton: Mapped[int | None] = mapped_column(Integer, nullable=True)
    municipality: Mapped[str] = mapped_column(String(100))
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    address_1: Mapped[str | None] = mapped_column(String(200), nullable=True)
    city: Mapped[str | None] = mapped_column(String(100), nullable=True)
    postal_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Service(Base):
    """HSDS `service` with the eligibility fields matching needs (docs/referral.md)."""

    __tablename__ = "services"
    __table_args__ = (Index("ix_services_status_type", "status", "service_type"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(2000), default="")
    service_type: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(24), default="active")
    minimum_age: Mapped[int | None] = mapped_column(Integer, nullable=True)
    maximum_age: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sexes: Mapped[list[str]] = mapped_column(JSON, default=list)
    nationalities: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    specialisations: Mapped[list[str]] = mapped_column(JSON, default=list)
    child_only: Mapped[bool] = mapped_column(Boolean, default=False)
    lgbtqia_safe: Mapped[bool] = mapped_column(Boolean, default=False)
    wheelchair_accessible: Mapped[bool] = mapped_column(Boolean, default=False)
    open_24_7: Mapped[bool] = mapped_column(Boolean, default=False)
    # A social-welfare service that takes a child's referral when no centre is known for the municipality.
    fallback_for_entity: Mapped[str | None] = mapped_column(String(8), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DirectoryVersion(Base):
    """One row counting directory changes that matter to matching; lets each process cache candidates safely."""

    __tablename__ = "directory_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer, default=1)


class ServiceAtLocation(Base):
    """HSDS `service_at_location`: where a service is delivered."""

    __tablename__ = "service_at_location"
    __table_args__ = (UniqueConstraint("service_id", "location_id", name="uq_service_at_location_pair"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    service_id: Mapped[str] = mapped_column(ForeignKey("services.id"), index=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("locations.id"), index=True)


class ServiceCapacity(Base):
    """HSDS `service_capacity`: several per service, each a unit for one target population.

    The database refuses impossible values, and a second capacity of the same unit for the same group.
    """

    __tablename__ = "service_capacity"
    __table_args__ = (
        CheckConstraint("available >= 0", name="available_not_negative"),
        CheckConstraint("available <= maximum", name="available_within_maximum"),
        UniqueConstraint("service_id", "unit", "population", name="uq_service_capacity_unit_population"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    service_id: Mapped[str] = mapped_column(ForeignKey("services.id"), index=True)
    unit: Mapped[str] = mapped_column(String(32))
    # Who the places are for (docs/referral.md): everyone, women, men, adults, children, girls, boys.
    population: Mapped[str] = mapped_column(String(16), default="everyone", server_default="everyone")
    description: Mapped[str | None] = mapped_column(String(200), nullable=True)
    available: Mapped[int] = mapped_column(Integer)
    maximum: Mapped[int] = mapped_column(Integer)
    updated: Mapped[datetime] = mapped_column(UtcDateTime)


class Referral(Base):
    """A FHIR-Task-like referral; `profile` holds only the non-identifying case profile."""

    __tablename__ = "referrals"
    __table_args__ = (
        Index("ix_referrals_from_org_created", "from_org", "created_at"),
        Index("ix_referrals_to_org_created", "to_org", "created_at"),
        Index("ix_referrals_status_deadline", "status", "deadline_at"),
        Index("ix_referrals_screening", "screening_ref"),
        # The system refers each child's screening to social welfare once, however often the event arrives.
        Index(
            "uq_referrals_child_referral",
            "screening_ref",
            unique=True,
            postgresql_where=text("from_sub = 'putokaz-child-referral'"),
            sqlite_where=text("from_sub = 'putokaz-child-referral'"),
        ),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    fact_id: Mapped[str] = mapped_column(ID, unique=True)
    fact_version: Mapped[int] = mapped_column(Integer, default=1)
    screening_ref: Mapped[str] = mapped_column(String(64))
    from_org: Mapped[str] = mapped_column(ID)
    from_sub: Mapped[str] = mapped_column(String(200))
    to_org: Mapped[str] = mapped_column(ID)
    service_id: Mapped[str] = mapped_column(ForeignKey("services.id"), index=True)
    service_type: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    child: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_recorded: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_text_version: Mapped[str | None] = mapped_column(String(32), nullable=True)
    profile: Mapped[dict[str, Any]] = mapped_column(JSON)
    # What the provider needs at handover (the referring professional's contact, arrival, needs, a note);
    # shown to it only once it has accepted (docs/referral.md). Never the person's identity.
    handover: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    place_reserved: Mapped[bool] = mapped_column(Boolean, default=False)
    # Which of the service's capacities holds the place while `place_reserved` (released to the same one).
    capacity_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    # Held back from the provider (no inbox entry, no event, no deadline) until the person's consent is known.
    awaiting_consent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    reason_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    suggested_service_id: Mapped[str | None] = mapped_column(ID, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    deadline_at: Mapped[datetime] = mapped_column(UtcDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # When the screening behind the referral was submitted, if known when the referral was made.
    screened_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ReferralTransition(Base):
    """One line of a referral's history: who moved it from which state to which, when, and why."""

    __tablename__ = "referral_transitions"
    __table_args__ = (UniqueConstraint("referral_id", "sequence", name="uq_referral_transitions_sequence"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    referral_id: Mapped[str] = mapped_column(ForeignKey("referrals.id"), index=True)
    # 1 for the request, +1 per move: orders the history even when two moves share a timestamp.
    sequence: Mapped[int] = mapped_column(Integer, server_default="1")
    from_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_status: Mapped[str] = mapped_column(String(16))
    actor_org: Mapped[str] = mapped_column(ID)
    actor_sub: Mapped[str] = mapped_column(String(200))
    reason_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class KnownScreening(Base):
    """What the referral service has learnt about a screening from the screening service's events.

    Never identity: the screening's id, its organisation, whether the person is (possibly) a child,
    and the consent to referral as last published, with when it was learnt.
    """

    __tablename__ = "known_screenings"

    screening_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[str] = mapped_column(ID)
    child: Mapped[bool] = mapped_column(Boolean, default=False)
    # given | declined | not_required (a child) | pending (asked later) | withdrawn
    consent_referral: Mapped[str] = mapped_column(String(16))
    consent_text_version: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # Time of the screening event that set the consent; an older event arriving late never overrides it.
    consent_at: Mapped[datetime] = mapped_column(UtcDateTime)
    learnt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The screening's submission (from screening.submitted); the registry counts hours to referral from it.
    screened_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
