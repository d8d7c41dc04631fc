"""SQLAlchemy tables of the screening service."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from putokaz.audit import define_audit_tables
from putokaz.db import UtcDateTime, new_metadata
from putokaz.events import define_event_tables
from putokaz.idempotency import define_idempotency_table

PK_BIGINT = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = new_metadata()


event_tables = define_event_tables(Base.metadata)
idempotency_keys = define_idempotency_table(Base.metadata)
audit_tables = define_audit_tables(Base.metadata)


class Questionnaire(Base):
    """A published instrument version; its definition never changes once stored."""

    __tablename__ = "questionnaires"
    __table_args__ = (UniqueConstraint("code", "version", name="uq_questionnaires_code_version"),)

    id: Mapped[int] = mapped_column(PK_BIGINT, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    # Deferred: large and immutable; services/screening/instruments.py caches it parsed.
    definition: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, deferred=True)
    checksum: Mapped[str] = mapped_column(String(64), nullable=False)
    published_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    published_by: Mapped[str] = mapped_column(String(200), nullable=False)


class Screening(Base):
    __tablename__ = "screenings"
    __table_args__ = (Index("ix_screenings_org_started", "org_id", "started_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str] = mapped_column(String(200), nullable=False)
    screener_sub: Mapped[str] = mapped_column(String(200), nullable=False)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaires.id"), nullable=False)
    instrument_code: Mapped[str] = mapped_column(String(64), nullable=False)
    instrument_version: Mapped[int] = mapped_column(Integer, nullable=False)
    instrument_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    language: Mapped[str] = mapped_column(String(8), nullable=False)
    entity: Mapped[str | None] = mapped_column(String(8))
    canton: Mapped[int | None] = mapped_column(Integer)
    municipality: Mapped[str | None] = mapped_column(String(100))
    consent_text_version: Mapped[str | None] = mapped_column(String(40))
    consent_referral: Mapped[str] = mapped_column(String(16), nullable=False)
    anonymous: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    child: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    age_band: Mapped[str] = mapped_column(String(8), nullable=False)
    sex: Mapped[str] = mapped_column(String(3), nullable=False)
    citizenship: Mapped[str] = mapped_column(String(3), nullable=False)
    # AES-GCM envelopes `kid:base64`; identity is NULL for an anonymous notification.
    identity_ct: Mapped[str | None] = mapped_column(Text)
    answers_ct: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="draft")
    computed_outcome: Mapped[str | None] = mapped_column(String(24))
    outcome: Mapped[str | None] = mapped_column(String(24), index=True)
    urgent: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    forms: Mapped[list[str] | None] = mapped_column(JSON)
    subject_key: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    # Which pseudonym key made `subject_key`; NULL when it is random (anonymous, no name, erased), which no
    # key rotation can recompute. Rows under an older key are re-keyed in the background (pseudonyms.py).
    subject_key_id: Mapped[str | None] = mapped_column(String(16))
    fact_id: Mapped[str] = mapped_column(String(36), nullable=False, unique=True)
    fact_version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Data protection: who withdrew consent and when; erasure (crypto-shredding) and legal hold.
    consent_withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    consent_withdrawn_by: Mapped[str | None] = mapped_column(String(200))
    erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    erasure_reason: Mapped[str | None] = mapped_column(String(32))
    legal_hold: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    legal_hold_reason: Mapped[str | None] = mapped_column(String(32))


class BlindIndex(Base):
    """Keyed HMACs of normalised identity for "screened before?" lookups without decrypting."""

    __tablename__ = "screening_blind_index"
    __table_args__ = (Index("ix_screening_blind_index_org_digest", "org_id", "digest"),)

    id: Mapped[int] = mapped_column(PK_BIGINT, primary_key=True, autoincrement=True)
    screening_id: Mapped[str] = mapped_column(ForeignKey("screenings.id", ondelete="CASCADE"), nullable=False)
    org_id: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    digest: Mapped[str] = mapped_column(String(64), nullable=False)
    # Which blind-index key made the digest; rows under an older key are re-indexed in the background.
    key_id: Mapped[str] = mapped_column(String(16), nullable=False, default="b0", server_default="b0")


class Decision(Base):
    """An identification decision by an authorised person; never overwritten (history)."""

    __tablename__ = "screening_decisions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    screening_id: Mapped[str] = mapped_column(ForeignKey("screenings.id"), nullable=False, index=True)
    org_id: Mapped[str] = mapped_column(String(200), nullable=False)
    outcome: Mapped[str] = mapped_column(String(24), nullable=False)
    authority: Mapped[str] = mapped_column(String(200), nullable=False)
    decided_on: Mapped[date] = mapped_column(Date, nullable=False)
    recorded_by: Mapped[str] = mapped_column(String(200), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
