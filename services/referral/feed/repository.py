"""What referral keeps of screenings it learnt from the feed. Never commits."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.referral.models import KnownScreening


async def known_screening(session: AsyncSession, screening_id: str, *, lock: bool = False) -> KnownScreening | None:
    query = select(KnownScreening).where(KnownScreening.screening_id == screening_id)
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)


async def screening_of(session: AsyncSession, screening_id: str, org: str) -> KnownScreening | None:
    """The screening when `org` owns it: another organisation's screening is as unknown as a missing one."""
    return await session.scalar(
        select(KnownScreening).where(KnownScreening.screening_id == screening_id, KnownScreening.org_id == org)
    )
