"""The screening service's retention job: identities past their period are crypto-shredded; queues purged."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from putokaz import audit
from putokaz.retention import Task, delivered_events_task, idempotency_keys_task
from services.screening.models import Screening, audit_tables, event_tables, idempotency_keys
from services.screening.protection import erase
from services.screening.pseudonyms import pseudonym_rotation_task
from services.screening.reindex import blind_index_reindex_task
from services.screening.settings import Settings
from services.screening.training.models import training_idempotency_keys
from services.screening.training.retention import training_records_task
from services.screening.vault import Vault

RETENTION_ACTOR = audit.Actor.system("retention")


def expired_identities_task(vault: Vault, settings: Settings) -> Task:
    """NO_INDICATORS after `retention_no_indicators_days` from submission; every other screening after
    `retention_identity_days` from its last activity. Screenings under legal hold are skipped."""
    no_indicators = timedelta(days=settings.retention_no_indicators_days)
    everything = timedelta(days=settings.retention_identity_days)

    async def purge(session: AsyncSession, now: datetime, batch: int) -> int:
        submitted = func.coalesce(Screening.submitted_at, Screening.updated_at)
        due = or_(
            and_(Screening.outcome == "NO_INDICATORS", submitted < now - no_indicators),
            Screening.updated_at < now - everything,
        )
        rows = (
            await session.scalars(
                select(Screening)
                .where(Screening.erased_at.is_(None), Screening.legal_hold.is_(False), due)
                .order_by(Screening.updated_at)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
        ).all()
        for row in rows:
            await erase(session, vault, row, "retention", now)
            audit.record(
                session,
                audit_tables,
                audit.Entry(RETENTION_ACTOR, "erase", "screening", row.id, detail={"reason": "retention"}),
            )
        return len(rows)

    return Task("expired_identities", purge)


def retention_tasks(vault: Vault, settings: Settings) -> list[Task]:
    return [
        expired_identities_task(vault, settings),
        blind_index_reindex_task(vault),
        pseudonym_rotation_task(vault),
        delivered_events_task(event_tables, timedelta(days=settings.retention_delivered_events_days)),
        idempotency_keys_task(idempotency_keys, timedelta(hours=settings.retention_idempotency_hours)),
        replace(
            idempotency_keys_task(training_idempotency_keys, timedelta(hours=settings.retention_idempotency_hours)),
            kind="training_idempotency_keys",
        ),
        training_records_task(timedelta(days=settings.retention_training_days)),
    ]
