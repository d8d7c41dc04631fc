"""A screening's submission learnt after referrals of it were made: their registry facts gain the time.

The screening feed and the referrals made by hand are not ordered: an officer may refer as soon as the
screening service has told this service about the consent (`screening.consent_recorded`), before its
`screening.submitted` arrives. Those referrals were made without `screened_at`, so their registry
facts carried no `hours_from_screening` and the registry's indicators (children referred to a Centre
for Social Welfare within 24 h, median hours from screening to placement) missed them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.referral.models import Referral
from services.referral.publish import fact_changed


async def screening_time_became_known(
    session: AsyncSession, screening_id: str, org: str, screened_at: datetime, now: datetime
) -> int:
    """Give `screened_at` to this screening's referrals still without it, each fact once, in any status.

    A referral already announced gets a new fact version (the registry replaces a fact only by a higher
    one); one held until consent is known is announced later with the time. Idempotent: a second
    `screening.submitted` finds no referral left without the time and emits nothing. Returns how many
    referrals changed.
    """
    rows = await session.scalars(
        select(Referral)
        .where(Referral.screening_ref == screening_id, Referral.from_org == org, Referral.screened_at.is_(None))
        .order_by(Referral.created_at, Referral.id)
        .with_for_update()
    )
    changed = 0
    for r in rows:
        r.screened_at = screened_at
        changed += 1
        if r.awaiting_consent:
            continue
        r.fact_version += 1
        await session.flush()
        await fact_changed(session, r, occurred_at=now)
    return changed
