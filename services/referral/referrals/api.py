"""HTTP routes of referrals: create, list, read, move through the lifecycle, history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from putokaz.auth import Authorize, Principal
from putokaz.clock import Now
from putokaz.db import DbSession
from putokaz.idempotency import IdempotencyKey
from putokaz.query import reject_unknown_query
from putokaz.roles import Admin, Frontline
from putokaz.schemas import Limit, Offset, Page
from services.referral.directory.schemas import ObjectId
from services.referral.referrals import service as referrals
from services.referral.referrals import subject_access
from services.referral.referrals.schemas import (
    ReferralCreate,
    ReferralFilter,
    ReferralRead,
    ReferralSubjectAccess,
    ScreeningRef,
    TransitionCreate,
    TransitionRead,
)

router = APIRouter(prefix="/api/v1", tags=["referrals"], dependencies=[Depends(reject_unknown_query)])

Reader = Annotated[Principal, Depends(Authorize("police", "social_worker", "service_provider", "partner"))]
Mover = Annotated[Principal, Depends(Authorize("police", "social_worker", "service_provider"))]


@router.post("/referrals", response_model=ReferralRead, status_code=201)
async def create_referral(
    body: ReferralCreate, principal: Frontline, session: DbSession, now: Now, idempotency_key: IdempotencyKey
) -> ReferralRead:
    """Refer a screened person to a service. Adults need recorded consent; children may go to social welfare.

    With an `Idempotency-Key`, a retry with the same key and body answers the referral created the first time.
    """
    referral = await referrals.create_referral_once(session, principal, body, now, idempotency_key)
    return referrals.render(referral, principal)


@router.get("/referrals", response_model=Page[ReferralRead])
async def list_referrals(
    principal: Reader,
    session: DbSession,
    filters: Annotated[ReferralFilter, Depends()],
    limit: Limit = 20,
    offset: Offset = 0,
) -> Page[ReferralRead]:
    """Referrals my organisation sent (`box=sent`), received (`box=received`) or both, newest first."""
    return await referrals.list_referrals(session, principal, filters, limit=limit, offset=offset)


@router.get("/referrals/{referral_id}", response_model=ReferralRead)
async def get_referral(referral_id: ObjectId, principal: Reader, session: DbSession) -> ReferralRead:
    (referral,) = await referrals.render_all(
        session, principal, [await referrals.visible_referral(session, principal, referral_id)]
    )
    return referral


@router.post("/referrals/{referral_id}/transitions", response_model=ReferralRead)
async def move_referral(
    referral_id: ObjectId, body: TransitionCreate, principal: Mover, session: DbSession, now: Now
) -> ReferralRead:
    """Accept, reject (with a reason), start, complete, fail (with a reason) or cancel (the referrer)."""
    referral = await referrals.transition(session, principal, referral_id, body.status, body.reason_code, now)
    (answer,) = await referrals.render_all(session, principal, [referral])
    return answer


@router.get("/referrals/{referral_id}/history", response_model=list[TransitionRead])
async def referral_history(referral_id: ObjectId, principal: Reader, session: DbSession) -> list[TransitionRead]:
    return await referrals.history(session, principal, referral_id)


@router.get("/subject-access/referrals/{screening_id}", response_model=ReferralSubjectAccess, tags=["data protection"])
async def subject_access_export(
    screening_id: ScreeningRef, principal: Admin, session: DbSession, now: Now
) -> dict[str, Any]:
    """The referral side of a subject access request (admin of the screening's organisation; audited).

    Every referral sent from this screening with its history, the consent as referral knows it, and who
    accessed those referrals. The identity, answers and decisions are in the screening service's export.
    """
    return await subject_access.export(session, principal, screening_id, now)
