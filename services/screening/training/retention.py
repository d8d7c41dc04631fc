"""Retention of training records: practices and trainers' groups go a year after they were made.

A practice holds no real person, but it is a record about the trainee (what they answered, their
score); a group names its members. Neither is needed once the course is long over, so both are
deleted by the service's retention job, in batches, like every other purge.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from putokaz import audit
from putokaz.retention import Task
from services.screening.models import audit_tables
from services.screening.training.models import Practice, TrainingGroup

RETENTION_ACTOR = audit.Actor.system("retention")


def training_records_task(keep: timedelta) -> Task:
    """Practices started, and groups created, more than `keep` ago."""

    async def purge(session: AsyncSession, now: datetime, batch: int) -> int:
        removed = 0
        for table, column in ((Practice, Practice.started_at), (TrainingGroup, TrainingGroup.created_at)):
            ids = list(
                await session.scalars(
                    select(table.id)
                    .where(column < now - keep)
                    .order_by(column)
                    .limit(batch - removed)
                    .with_for_update(skip_locked=True)
                )
            )
            if ids:
                await session.execute(delete(table).where(table.id.in_(ids)))
                kind = "training_practice" if table is Practice else "training_group"
                audit.record(
                    session,
                    audit_tables,
                    audit.Entry(
                        RETENTION_ACTOR, "delete", kind, None, detail={"reason": "retention", "count": len(ids)}
                    ),
                )
            removed += len(ids)
            if removed >= batch:
                break
        return removed

    return Task("training_records", purge)
