"""Every query of training mode: only the training tables, always scoped to the caller's organisation."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.screening.training.models import Practice, TrainingGroup


async def get_practice(
    session: AsyncSession, org: str, trainee: str, practice_id: str, *, for_update: bool = False
) -> Practice | None:
    # A practice is its trainee's own: anyone else (same organisation or not) is told it does not exist.
    query = select(Practice).where(Practice.id == practice_id, Practice.org_id == org, Practice.trainee_sub == trainee)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def practices_of(session: AsyncSession, org: str, trainee: str) -> list[Practice]:
    query = (
        select(Practice)
        .where(Practice.org_id == org, Practice.trainee_sub == trainee)
        .order_by(Practice.started_at.desc(), Practice.id)
        .limit(200)
    )
    return list(await session.scalars(query))


async def finished_practices(
    session: AsyncSession, org: str, members: list[str], vignettes: list[str]
) -> list[Practice]:
    query = (
        select(Practice)
        .where(
            Practice.org_id == org,
            Practice.state == "finished",
            Practice.trainee_sub.in_(members),
            Practice.vignette_id.in_(vignettes),
        )
        .order_by(Practice.finished_at, Practice.id)
    )
    return list(await session.scalars(query))


async def get_group(session: AsyncSession, org: str, group_id: str) -> TrainingGroup | None:
    return await session.scalar(select(TrainingGroup).where(TrainingGroup.id == group_id, TrainingGroup.org_id == org))


async def groups_of(session: AsyncSession, org: str) -> list[TrainingGroup]:
    query = select(TrainingGroup).where(TrainingGroup.org_id == org).order_by(TrainingGroup.created_at).limit(200)
    return list(await session.scalars(query))
