"""SQLAlchemy tables of the strategy monitor: plan → goals → measures → activities, indicators, reports, audit."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from putokaz.audit import define_audit_tables
from putokaz.db import UtcDateTime, new_metadata
from putokaz.events import define_event_tables

ID = String(40)
PK_BIGINT = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = new_metadata()


event_tables = define_event_tables(Base.metadata)
audit_tables = define_audit_tables(Base.metadata)


class Plan(Base):
    """One action plan of the national strategy (e.g. 2024–2027)."""

    __tablename__ = "plans"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    # draft → active → closed; only the coordinator changes it.
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    goals: Mapped[list[Goal]] = relationship(
        back_populates="plan", order_by="Goal.position", cascade="all, delete-orphan", lazy="selectin"
    )


class Goal(Base):
    """A strategic goal, in one of the four parts (prevention, protection, prosecution, partnership)."""

    __tablename__ = "goals"
    __table_args__ = (UniqueConstraint("plan_id", "code"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    part: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(Integer)

    plan: Mapped[Plan] = relationship(back_populates="goals")
    measures: Mapped[list[Measure]] = relationship(
        back_populates="goal", order_by="Measure.position", cascade="all, delete-orphan", lazy="selectin"
    )


class Measure(Base):
    """A measure of a goal: carried out by responsible institutions before a deadline."""

    __tablename__ = "measures"
    __table_args__ = (UniqueConstraint("plan_id", "code"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    goal_id: Mapped[str] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    deadline: Mapped[date] = mapped_column(Date)
    # open | completed (marked by the coordinator)
    status: Mapped[str] = mapped_column(String(16), default="open")
    position: Mapped[int] = mapped_column(Integer)

    goal: Mapped[Goal] = relationship(back_populates="measures", lazy="joined")
    organisations: Mapped[list[MeasureOrganisation]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="MeasureOrganisation.org_id"
    )
    activities: Mapped[list[Activity]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="Activity.position"
    )
    indicators: Mapped[list[Indicator]] = relationship(
        back_populates="measure", cascade="all, delete-orphan", lazy="selectin", order_by="Indicator.position"
    )

    @property
    def org_ids(self) -> list[str]:
        return sorted(o.org_id for o in self.organisations)


class MeasureOrganisation(Base):
    """A responsible institution of a measure: its reporters see and report on the measure."""

    __tablename__ = "measure_organisations"

    measure_id: Mapped[str] = mapped_column(ForeignKey("measures.id", ondelete="CASCADE"), primary_key=True)
    org_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class Activity(Base):
    __tablename__ = "activities"
    __table_args__ = (UniqueConstraint("measure_id", "code"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    measure_id: Mapped[str] = mapped_column(ForeignKey("measures.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    organisations: Mapped[list[str]] = mapped_column(JSON, default=list)
    deadline: Mapped[date] = mapped_column(Date)
    # planned | in_progress | done
    status: Mapped[str] = mapped_column(String(16), default="planned")
    position: Mapped[int] = mapped_column(Integer)


class Indicator(Base):
    """What shows a measure works: computed from the registry, or reported by a responsible institution."""

    __tablename__ = "indicators"
    __table_args__ = (UniqueConstraint("plan_id", "code"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    measure_id: Mapped[str] = mapped_column(ForeignKey("measures.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    # computed | reported
    kind: Mapped[str] = mapped_column(String(16))
    # The computed indicator's definition (see `computed.py`); None for reported ones.
    source: Mapped[str | None] = mapped_column(String(60))
    unit: Mapped[str] = mapped_column(String(40))
    baseline: Mapped[float] = mapped_column(Float)
    target: Mapped[float] = mapped_column(Float)
    # annual | semiannual | quarterly | once
    frequency: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer)

    measure: Mapped[Measure] = relationship(back_populates="indicators", lazy="joined")


class ComputedValue(Base):
    """A computed indicator's value for one period, as last read from the registry's protected tables."""

    __tablename__ = "computed_values"
    __table_args__ = (UniqueConstraint("indicator_id", "period"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    indicator_id: Mapped[str] = mapped_column(ForeignKey("indicators.id", ondelete="CASCADE"), index=True)
    period: Mapped[str] = mapped_column(String(10))
    value: Mapped[float | None] = mapped_column(Float)
    # ok | suppressed | unavailable
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(500), default="")
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Report(Base):
    """A reported indicator value for one period, with evidence; reviewed by the coordinator."""

    __tablename__ = "reports"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    indicator_id: Mapped[str] = mapped_column(ForeignKey("indicators.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[str] = mapped_column(String(64), index=True)
    period: Mapped[str] = mapped_column(String(10))
    value: Mapped[float] = mapped_column(Float)
    comment: Mapped[str] = mapped_column(Text, default="")
    evidence_url: Mapped[str | None] = mapped_column(String(2048))
    evidence_name: Mapped[str | None] = mapped_column(String(200))
    evidence_type: Mapped[str | None] = mapped_column(String(100))
    evidence_sha256: Mapped[str | None] = mapped_column(String(64))
    evidence: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    # submitted → accepted | returned
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    submitted_by: Mapped[str] = mapped_column(String(200))
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    review_comment: Mapped[str] = mapped_column(Text, default="")


class OverdueNotice(Base):
    """One `strategy.report_overdue` event per indicator and period: the chase is raised exactly once."""

    __tablename__ = "overdue_notices"
    __table_args__ = (UniqueConstraint("indicator_id", "period"),)

    id: Mapped[int] = mapped_column(PK_BIGINT, primary_key=True, autoincrement=True)
    indicator_id: Mapped[str] = mapped_column(ForeignKey("indicators.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(10))
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime)
