"""Subject access on the referral side: everything referral holds on the person of one screening, as one document.

The screening service exports the identity, answers and decisions (`GET /api/v1/screenings/{id}/subject-access`);
referral holds what was sent on from that screening: its referrals (profile without name, the services, the
lifecycle and who moved it), the consent as the screening feed told it, and who read those referrals.
Only an admin of the organisation that screened the person (the referrals' sender) may export it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from putokaz import audit
from putokaz.auth import Principal
from putokaz.errors import NotFound
from services.referral.feed import repository as feed_repo
from services.referral.models import Referral, audit_tables
from services.referral.publish import aware
from services.referral.referrals import repository as referrals_repo
from services.referral.referrals.service import render

ACTION = "subject_access_export"


async def export(session: AsyncSession, principal: Principal, screening_id: str, now: datetime) -> dict[str, Any]:
    known = await feed_repo.screening_of(session, screening_id, principal.org)
    sent = list(
        await session.scalars(
            select(Referral)
            .where(Referral.screening_ref == screening_id, Referral.from_org == principal.org)
            .order_by(Referral.created_at, Referral.id)
        )
    )
    if known is None and not sent:
        # Another organisation's screening is as unknown as a missing one; the probe is on record.
        await audit.record_refused(session, audit_tables, principal, ACTION, "screening", screening_id)
        raise NotFound("No screening of your organisation with this id is known to the referral service")
    audit.record_for(session, audit_tables, principal, ACTION, "screening", screening_id, {"referrals": len(sent)})
    referrals = []
    for r in sent:
        history = await referrals_repo.transitions(session, r.id)
        referrals.append(
            {
                "referral": render(r, principal),
                "history": [
                    {
                        "from_status": t.from_status,
                        "to_status": t.to_status,
                        "at": aware(t.at),
                        "actor_org": t.actor_org,
                        "reason_code": t.reason_code,
                    }
                    for t in history
                ],
            }
        )
    log = audit_tables.log
    ids = [r.id for r in sent]
    rows = (
        (
            await session.execute(
                select(log.c.at, log.c.actor_org, log.c.action, log.c.outcome, log.c.object_id)
                .where(log.c.object_type == "referral", log.c.object_id.in_(ids))
                .order_by(log.c.seq)
            )
        ).all()
        if ids
        else []
    )
    return {
        "generated_at": now,
        "service": "referral",
        "screening_id": screening_id,
        "consent": None
        if known is None
        else {
            "consent_referral": known.consent_referral,
            "consent_text_version": known.consent_text_version,
            "recorded_at": aware(known.consent_at),
            "child": known.child,
        },
        "referrals": referrals,
        "accesses": [
            {"at": aware(at), "actor_org": org, "action": action, "outcome": outcome, "referral_id": object_id}
            for at, org, action, outcome, object_id in rows
        ],
    }
