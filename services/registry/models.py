"""SQLAlchemy tables of the registry service: anonymised facts, imports, processed webhooks, releases."""

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from putokaz.audit import define_audit_tables
from putokaz.db import UtcDateTime, new_metadata
from putokaz.events.receiver import define_receiver_tables

BREAKDOWN_COLUMNS = [
    "sex",
    "age_band",
    "child",
    "citizenship",
    "entity",
    "canton",
    "status",
    "forms_mask",
    "instrument",
]
# Record keys of the cell key method (see ckm): per fact, per person and year, per person and quarter.
SCREENING_KEYS = ["rkey", "rkey_year", "rkey_quarter"]


class Base(DeclarativeBase):
    metadata = new_metadata()


processed_webhooks = define_receiver_tables(Base.metadata)
audit_tables = define_audit_tables(Base.metadata)


class ScreeningFact(Base):
    """One screening as an anonymised fact (docs/registry.md); never a name, a date of birth or free text."""

    __tablename__ = "screening_facts"

    fact_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    # Keyed HMAC pseudonym computed by the screening service; lets a person be counted once per period.
    subject_key: Mapped[str | None] = mapped_column(String(128))
    year: Mapped[int] = mapped_column(SmallInteger)
    quarter: Mapped[int] = mapped_column(SmallInteger)
    month: Mapped[int] = mapped_column(SmallInteger)
    age_band: Mapped[str] = mapped_column(String(8))
    sex: Mapped[str] = mapped_column(String(3))
    citizenship: Mapped[str] = mapped_column(String(3))
    entity: Mapped[str | None] = mapped_column(String(4))
    canton: Mapped[int | None] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(16))
    # Orders statuses so "the highest status of a person in a period" is a MAX / ORDER BY.
    status_rank: Mapped[int] = mapped_column(SmallInteger)
    # One bit per form of exploitation (see facts.FORM_BITS): several forms per fact, no join table.
    forms_mask: Mapped[int] = mapped_column(Integer)
    instrument: Mapped[str] = mapped_column(String(8))
    child: Mapped[bool] = mapped_column(Boolean)
    anonymous: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(8))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Pre-computed "this is the person's highest-status fact of the year / of the quarter", kept current
    # on every write (repository.refresh_person_periods): counting people becomes a plain filtered count.
    top_of_year: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    top_of_quarter: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Record keys (0..255) fixed at ingest from a keyed hash: of the fact (counting screenings), of the
    # person and year, of the person and quarter (counting people once per period).
    rkey: Mapped[int] = mapped_column(SmallInteger, default=0, server_default=text("0"))
    rkey_year: Mapped[int] = mapped_column(SmallInteger, default=0, server_default=text("0"))
    rkey_quarter: Mapped[int] = mapped_column(SmallInteger, default=0, server_default=text("0"))

    __table_args__ = (
        # Covering (PostgreSQL INCLUDE): a period's counts come from index-only scans of narrow entries.
        Index("ix_screening_facts_period", "year", "quarter", postgresql_include=BREAKDOWN_COLUMNS + SCREENING_KEYS),
        Index("ix_screening_facts_person", "subject_key", "year"),
        Index(
            "ix_screening_facts_victims_year",
            "year",
            "status_rank",
            postgresql_where=text("top_of_year"),
            postgresql_include=BREAKDOWN_COLUMNS + SCREENING_KEYS,
            sqlite_where=text("top_of_year"),
        ),
        Index(
            "ix_screening_facts_victims_quarter",
            "year",
            "quarter",
            "status_rank",
            postgresql_where=text("top_of_quarter"),
            postgresql_include=BREAKDOWN_COLUMNS + SCREENING_KEYS,
            sqlite_where=text("top_of_quarter"),
        ),
    )


class ReferralFact(Base):
    """One referral as an anonymised fact: service type, outcome and how long it took."""

    __tablename__ = "referral_facts"

    fact_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    year: Mapped[int] = mapped_column(SmallInteger)
    quarter: Mapped[int] = mapped_column(SmallInteger)
    month: Mapped[int] = mapped_column(SmallInteger)
    service_type: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(16))
    hours_to_answer: Mapped[float | None] = mapped_column(Float)
    hours_to_placement: Mapped[float | None] = mapped_column(Float)
    # From the screening's submission to the referral request (none: no screening, or an older fact).
    hours_from_screening: Mapped[float | None] = mapped_column(Float)
    entity: Mapped[str | None] = mapped_column(String(4))
    canton: Mapped[int | None] = mapped_column(SmallInteger)
    child: Mapped[bool] = mapped_column(Boolean)
    urgent: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(8))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    rkey: Mapped[int] = mapped_column(SmallInteger, default=0, server_default=text("0"))

    __table_args__ = (
        Index(
            "ix_referral_facts_period",
            "year",
            "quarter",
            postgresql_include=[
                "service_type",
                "status",
                "hours_to_answer",
                "hours_to_placement",
                "entity",
                "canton",
                "child",
                "urgent",
                "rkey",
            ],
        ),
    )


class FactImport(Base):
    """A CSV import of historical facts: all rows or none, with a per-row error report."""

    __tablename__ = "fact_imports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    # Imports are visible to the organisation that made them only.
    org_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_processed: Mapped[int] = mapped_column(Integer, default=0)
    rows_imported: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    # JSON list of {"row", "field", "message"}; messages never quote the rejected value.
    errors: Mapped[str] = mapped_column(Text, default="[]")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class StatsKey(Base):
    """The secret of the record keys' keyed hash: generated once, never leaves the database."""

    __tablename__ = "stats_keys"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    secret: Mapped[bytes] = mapped_column(LargeBinary(64))


class StatsWrite(Base):
    """Writes of a year's facts, counted: the explorer's in-process answer cache is keyed by each year's
    `sum(weight)` (and `max(token)`), so a cached count is never older than the data.

    Every writing transaction adds a row of weight 1 for each year it writes (after folding the rows no
    other transaction holds into it, so a year keeps a handful of rows); it never updates a row another
    writer may touch, so concurrent writers of one year never wait for each other (repository.bump_versions).
    """

    __tablename__ = "stats_writes"
    __table_args__ = (Index("ix_stats_writes_year", "year"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    year: Mapped[int] = mapped_column(Integer)
    weight: Mapped[int] = mapped_column(BigInteger)
    token: Mapped[int] = mapped_column(BigInteger)


class Release(Base):
    """One frozen version of a closed year's official tables, with its disclosure audit."""

    __tablename__ = "releases"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # JSON: the published tables (cells as released) and the audit shown to the coordinator.
    tables: Mapped[str] = mapped_column(Text)
    audit: Mapped[str] = mapped_column(Text)
    # JSON: the true number of persons per atom (see release_tables); never answered, kept so that a
    # later version is audited together with this one.
    atoms: Mapped[str] = mapped_column(Text)
    facts_digest: Mapped[str] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("year", "version"),)
