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


async def screening_of(
    session: AsyncSession, screening_id: str, org: str, *, share: bool = False
) -> KnownScreening | None:
    """The screening when `org` owns it: another organisation's screening is as unknown as a missing one.

    `share` holds it (FOR SHARE) until the caller commits: a feed event about the screening, which
    updates it FOR UPDATE and then the referrals made of it, waits for a referral being made, so it
    sees that referral, and the referral sees the screening as the feed leaves it (never in between).
    """
    query = select(KnownScreening).where(KnownScreening.screening_id == screening_id, KnownScreening.org_id == org)
    if share:
        query = query.with_for_update(read=True)
    return await session.scalar(query)
