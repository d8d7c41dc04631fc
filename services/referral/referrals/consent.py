"""The consent gate: a referral needs the person's consent as the screening service recorded it.

Referral never asks the screening service synchronously: it keeps what the screening feed told it
(`known_screenings`). A child may always be referred to social welfare (best interests of the child).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from putokaz.auth import Principal
from putokaz.errors import Invalid
from services.referral.directory.capacity import give_back_place
from services.referral.directory.schemas import CaseProfileIn
from services.referral.feed import repository as feed_repo
from services.referral.models import KnownScreening, Referral
from services.referral.publish import capacity_changed, referral_changed
from services.referral.referrals.lifecycle import answer_deadline, holds_place
from services.referral.referrals.repository import transition
from services.referral.referrals.schemas import ReferralCreate

SYSTEM_ACTOR = "putokaz-consent"
OPEN_STATUSES = ("requested", "accepted", "in_progress")


def presumed_child(profile: CaseProfileIn) -> bool:
    """Presumption of minority: unknown age counts as a child unless the caller says otherwise."""
    if profile.age is not None:
        return profile.age < 18
    return profile.child is not False


async def consent_gate(
    session: AsyncSession, principal: Principal, body: ReferralCreate, service_type: str
) -> tuple[bool, bool, bool]:
    """(child, consent recorded, held until consent is known) for a new referral, or a 422 naming the field."""
    known = await feed_repo.screening_of(session, body.screening_id, principal.org, share=True)
    if known is None:
        # Missing, another organisation's, or started a moment ago and not yet learnt: the same answer.
        raise Invalid(
            "No screening of your organisation with this id is known to the referral service "
            "(a screening started a moment ago may take a few seconds to arrive)",
            field="screening_id",
        )
    child = known.child or presumed_child(body.profile)
    state = known.consent_referral
    if child and service_type == "social_welfare":
        return child, state == "given", False
    if state in ("declined", "withdrawn"):
        raise Invalid(f"The person's consent to referral is {state} in the screening", field="consent")
    if child and state == "not_required" and not (body.consent and body.consent.recorded):
        # A child's other referrals follow the guardian's (social welfare's) consent, recorded by the referrer.
        raise Invalid("A child may be referred without consent only to social welfare", field="consent")
    if body.consent is not None and not body.consent.recorded:
        raise Invalid("The referral is marked as not consented", field="consent")
    return child, True, state == "pending"


async def _open_referrals(session: AsyncSession, screening_id: str, org: str) -> list[Referral]:
    rows = await session.scalars(
        select(Referral)
        .where(Referral.screening_ref == screening_id, Referral.from_org == org, Referral.status.in_(OPEN_STATUSES))
        .order_by(Referral.created_at, Referral.id)
        .with_for_update()
    )
    return list(rows)


async def _cancel(session: AsyncSession, r: Referral, reason: str, now: datetime) -> None:
    was, held = r.status, r.awaiting_consent
    r.status, r.reason_code, r.updated_at, r.ended_at = "cancelled", reason, now, now
    r.awaiting_consent = False
    r.fact_version += 1
    released = None
    if holds_place(was) and r.place_reserved:
        released = await give_back_place(session, r.capacity_id, now)
        r.place_reserved = False
    session.add(transition(r, was, "system", SYSTEM_ACTOR, now))
    await session.flush()
    if held:
        # The provider never heard of it: tell only the sender; the registry counts it like any cancellation.
        await referral_changed(session, r, occurred_at=now, orgs=[r.from_org])
    else:
        await referral_changed(session, r, occurred_at=now)
    if released is not None:
        await capacity_changed(session, released, organisation_id=r.to_org, occurred_at=now)


async def consent_became_known(session: AsyncSession, known: KnownScreening, now: datetime) -> None:
    """Release referrals held for this screening once consent is given; cancel them when it is refused."""
    state = known.consent_referral
    if state == "pending":
        return
    for r in await _open_referrals(session, known.screening_id, known.org_id):
        if not r.awaiting_consent:
            continue
        if state in ("given", "not_required"):
            r.awaiting_consent = False
            r.consent_recorded = state == "given"
            r.updated_at = now
            r.deadline_at = now + answer_deadline(r.urgent)  # the provider's time to answer starts now
            await session.flush()
            await referral_changed(session, r, occurred_at=now)
        else:
            await _cancel(session, r, "consent_declined" if state == "declined" else "consent_withdrawn", now)


async def cancel_for_withdrawn_consent(session: AsyncSession, screening_id: str, org: str, now: datetime) -> int:
    """Consent withdrawn: every open referral of the screening ends `cancelled` (reason `consent_withdrawn`)."""
    open_ = await _open_referrals(session, screening_id, org)
    for r in open_:
        await _cancel(session, r, "consent_withdrawn", now)
    return len(open_)
