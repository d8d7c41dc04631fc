"""Tables of training mode, apart from the real screening tables so practice can never be counted.

Nothing here is encrypted, indexed for lookup, pseudonymised or written to the outbox: a practice
record holds only a vignette's fictional person (by the vignette's id) and what the trainee recorded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from putokaz.db import UtcDateTime
from putokaz.idempotency import define_idempotency_table
from services.screening.models import Base

# Idempotency-Keys of practice starts and finishes, apart from real ones (same shape, own table): a
# retried start answers the same practice, a retried finish the same feedback.
training_idempotency_keys = define_idempotency_table(Base.metadata, "training_idempotency_keys")


class Practice(Base):
    """One practice screening of one vignette by one trainee."""

    __tablename__ = "training_practices"
    __table_args__ = (
        Index("ix_training_practices_org_trainee", "org_id", "trainee_sub"),
        Index("ix_training_practices_started_at", "started_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str] = mapped_column(String(200), nullable=False)
    trainee_sub: Mapped[str] = mapped_column(String(200), nullable=False)
    vignette_id: Mapped[str] = mapped_column(String(64), nullable=False)
    instrument_code: Mapped[str] = mapped_column(String(64), nullable=False)
    instrument_version: Mapped[int] = mapped_column(Integer, nullable=False)
    language: Mapped[str] = mapped_column(String(8), nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="open")  # open | finished
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    asked: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    outcome: Mapped[str | None] = mapped_column(String(24))
    score: Mapped[int | None] = mapped_column(Integer)
    feedback: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class TrainingGroup(Base):
    """A trainer's group at one organisation: its members (token subjects) and the vignettes assigned."""

    __tablename__ = "training_groups"
    __table_args__ = (
        Index("ix_training_groups_org", "org_id"),
        Index("ix_training_groups_created_at", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    org_id: Mapped[str] = mapped_column(String(200), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    members: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    vignettes: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
