"""A child screened with any indication is referred to social welfare by the system itself, once.

The screening service never calls referral: referral learns of the submitted screening from the feed
and refers the child to the Centre for Social Welfare competent for the municipality where the child
was found (the guardianship authority). No consent is needed (best interests of the child), and the
referral carries only what a centre needs: a possible child, the forms, the place; never identity.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from putokaz.events import emit
from putokaz.gazetteer import find_municipality, same_place
from services.referral.directory import repository as directory_repo
from services.referral.directory.matching import case_profile, rank
from services.referral.models import Referral, ReferralTransition
from services.referral.publish import iso, referral_changed
from services.referral.referrals.lifecycle import answer_deadline

logger = logging.getLogger("putokaz.referral.child")

CHILD_REFERRAL_ACTOR = "putokaz-child-referral"
ENTITY_ORDER = ("FBIH", "RS", "BD")


async def _competent_centre(
    session: AsyncSession, place: dict[str, Any], forms: Sequence[str]
) -> tuple[str | None, str | None]:
    """(service id, why a fallback was used) for the child's municipality; (None, reason) when nobody is configured."""
    municipality = place.get("municipality")
    case = case_profile({"child": True, "place": place, "forms": list(forms)}, ["social_welfare"], True)
    centres = await directory_repo.matching_candidates(session, ["social_welfare"])
    local = [c for c in centres if any(same_place(loc.municipality, municipality) for loc in c.locations)]
    best = rank(case, local, limit=1)
    if best:
        return best[0].service_id, None
    fallbacks = await directory_repo.fallback_services(session)
    entity = place.get("entity")
    if entity is None and municipality:
        known = find_municipality(municipality)
        entity = known.entity if known is not None else None
    reason = "no_centre_for_municipality" if municipality else "no_municipality"
    if entity in fallbacks:
        return fallbacks[entity].id, reason
    for other in ENTITY_ORDER:  # place unknown: any configured authority rather than nobody
        if other in fallbacks:
            return fallbacks[other].id, reason + "_nor_entity_fallback"
    return None, "no_fallback_configured"


async def refer_child_to_social_welfare(
    session: AsyncSession,
    *,
    screening_id: str,
    org: str,
    place: dict[str, Any],
    forms: Sequence[str],
    now: datetime,
    screened_at: datetime | None = None,
) -> Referral | None:
    already = await session.scalar(
        select(Referral.id).where(Referral.screening_ref == screening_id, Referral.from_sub == CHILD_REFERRAL_ACTOR)
    )
    if already is not None:
        return None
    service_id, fallback_reason = await _competent_centre(session, place, forms)
    alert = {
        "screening_org": org,
        "entity": place.get("entity"),
        "municipality": place.get("municipality"),
        "reason": fallback_reason,
        "occurred_at": iso(now),
    }
    if service_id is None:
        logger.error("child referral has no social welfare centre", extra={"reason": fallback_reason})
        await emit(session, "alert.child_referral_unrouted", alert, aggregate_id=screening_id, occurred_at=now)
        return None
    service = await directory_repo.get_service(session, service_id)
    assert service is not None
    referral = Referral(
        id=uuid.uuid4().hex,
        fact_id=str(uuid.uuid4()),
        fact_version=1,
        screening_ref=screening_id,
        from_org=org,
        from_sub=CHILD_REFERRAL_ACTOR,
        to_org=service.organisation_id,
        service_id=service.id,
        service_type=service.service_type,
        status="requested",
        urgent=True,
        child=True,
        consent_recorded=False,
        screened_at=screened_at,
        profile={"child": True, "forms": list(forms), "place": {k: v for k, v in place.items() if v is not None}},
        place_reserved=False,
        awaiting_consent=False,
        created_at=now,
        updated_at=now,
        deadline_at=now + answer_deadline(True),
    )
    session.add(referral)
    session.add(
        ReferralTransition(
            id=uuid.uuid4().hex,
            referral_id=referral.id,
            sequence=1,
            from_status=None,
            to_status="requested",
            actor_org="system",
            actor_sub=CHILD_REFERRAL_ACTOR,
            reason_code=None,
            at=now,
        )
    )
    await session.flush()
    await referral_changed(session, referral, occurred_at=now, extra={"automatic": True})
    if fallback_reason is not None:
        await emit(
            session,
            "alert.child_referral_fallback",
            {**alert, "referral_id": referral.id, "to_org": referral.to_org},
            aggregate_id=referral.id,
            orgs=[org, referral.to_org],
            occurred_at=now,
        )
    return referral
