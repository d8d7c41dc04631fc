"""Referral use cases: create behind the consent gate, move through the lifecycle, expire and escalate."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from putokaz import audit, idempotency
from putokaz.auth import Principal
from putokaz.errors import Conflict, Invalid, NotFound
from putokaz.roles import FRONTLINE
from putokaz.schemas import Page
from putokaz.vocabulary import age_band
from services.referral.directory import repository as repo
from services.referral.directory.capacity import give_back_place, take_place
from services.referral.directory.matching import ACCOMMODATION_TYPES, case_profile, rank
from services.referral.directory.schemas import PlaceRead
from services.referral.directory.visibility import render_location
from services.referral.feed import repository as feed_repo
from services.referral.models import Referral, audit_tables, idempotency_keys
from services.referral.publish import aware, capacity_changed, referral_changed
from services.referral.referrals import repository as referrals_repo
from services.referral.referrals.consent import consent_gate
from services.referral.referrals.handover import sees_handover, stored
from services.referral.referrals.lifecycle import (
    REASON_REQUIRED,
    SIDE_OF_TARGET,
    Side,
    answer_deadline,
    holds_place,
    is_legal,
)
from services.referral.referrals.schemas import (
    DestinationRead,
    HandoverRead,
    ProfileRead,
    ReferralCreate,
    ReferralFilter,
    ReferralRead,
    SenderDetails,
    TransitionRead,
)

SYSTEM_ACTOR = "putokaz-scheduler"


# --- reading ---


def render(r: Referral, principal: Principal, destination: DestinationRead | None = None) -> ReferralRead:
    p = r.profile
    handover = r.handover or {}
    sender = None
    is_sender = r.from_org == principal.org
    if is_sender:
        sender = SenderDetails(
            screening_id=r.screening_ref,
            age=p.get("age"),
            nationality=p.get("nationality"),
            place=PlaceRead.model_validate(p.get("place") or {}),
            consent_recorded=r.consent_recorded,
            consent_text_version=r.consent_text_version,
            created_by=r.from_sub,
        )
    return ReferralRead(
        id=r.id,
        status=r.status,
        from_org=r.from_org,
        to_org=r.to_org,
        service_id=r.service_id,
        service_type=r.service_type,
        urgent=r.urgent,
        profile=ProfileRead(
            age_band=age_band(p.get("age")),
            child=r.child,
            sex=p.get("sex") or "UNK",
            languages=list(p.get("languages") or ()),
            forms=list(p.get("forms") or ()),
            needs_wheelchair_access=bool(p.get("needs_wheelchair_access")),
            lgbtqia=bool(p.get("lgbtqia")),
            care_needs=list(handover.get("needs") or ()),
        ),
        reason_code=r.reason_code,
        suggested_service_id=r.suggested_service_id if r.from_org == principal.org else None,
        place_reserved=r.place_reserved,
        created_at=aware(r.created_at),
        updated_at=aware(r.updated_at),
        deadline_at=aware(r.deadline_at),
        answered_at=aware(r.answered_at) if r.answered_at else None,
        started_at=aware(r.started_at) if r.started_at else None,
        ended_at=aware(r.ended_at) if r.ended_at else None,
        sender=sender,
        handover=HandoverRead(**handover) if handover and sees_handover(r.status, sender=is_sender) else None,
        destination=destination,
    )


def brings_the_person(r: Referral, principal: Principal) -> bool:
    """The referring organisation's officers and social workers, while the person is (about to be) placed there."""
    return (
        r.from_org == principal.org
        and r.status in repo.PLACED_STATUSES
        and any(role in FRONTLINE for role in principal.roles)
    )


async def destinations(
    session: AsyncSession, principal: Principal, referrals: Sequence[Referral]
) -> dict[str, DestinationRead]:
    """Where to bring the person, for each of these referrals the caller brings someone to (docs/referral.md)."""
    shown = [r for r in referrals if brings_the_person(r, principal)]
    if not shown:
        return {}
    extras = await repo.service_extras(session, sorted({r.service_id for r in shown}))
    out = {}
    for r in shown:
        service = await repo.get_service(session, r.service_id)
        if service is None:
            continue
        organisation = await repo.get_organisation(session, service.organisation_id)
        locations = extras.locations.get(service.id, [])
        # A confidential address shown to the referrer of an accepted referral: who saw it is on record.
        for loc in locations:
            if loc.confidential:
                audit.record_for(session, audit_tables, principal, "reveal_address", "location", loc.id)
        out[r.id] = DestinationRead(
            organisation_name=organisation.name if organisation else service.organisation_id,
            service_name=service.name,
            email=organisation.email if organisation else None,
            website=organisation.website if organisation else None,
            locations=[render_location(loc, True) for loc in locations],
        )
    return out


async def render_all(session: AsyncSession, principal: Principal, referrals: Sequence[Referral]) -> list[ReferralRead]:
    """Referrals as the caller may see them, each with where to bring the person when the caller does."""
    shown = await destinations(session, principal, referrals)
    return [render(r, principal, shown.get(r.id)) for r in referrals]


async def visible_referral(
    session: AsyncSession, principal: Principal, referral_id: str, *, lock: bool = False, action: str = "read"
) -> Referral:
    """A referral the caller's organisation sent or received; anything else is simply not found (and audited)."""
    referral = await referrals_repo.visible_referral(session, principal.org, referral_id, lock=lock)
    if referral is None:
        await audit.record_refused(session, audit_tables, principal, action, "referral", referral_id)
        raise NotFound("No such referral")
    audit.record_for(session, audit_tables, principal, action, "referral", referral.id)
    return referral


async def list_referrals(
    session: AsyncSession,
    principal: Principal,
    filters: ReferralFilter,
    *,
    limit: int,
    offset: int,
) -> Page[ReferralRead]:
    rows, total = await referrals_repo.list_referrals(session, principal.org, filters, limit=limit, offset=offset)
    for r in rows:
        audit.record_for(session, audit_tables, principal, "list", "referral", r.id)
    return Page(items=await render_all(session, principal, rows), total=total, limit=limit, offset=offset)


async def history(session: AsyncSession, principal: Principal, referral_id: str) -> list[TransitionRead]:
    await visible_referral(session, principal, referral_id, action="read_history")
    rows = await referrals_repo.transitions(session, referral_id)
    return [
        TransitionRead(
            from_status=t.from_status,
            to_status=t.to_status,
            at=aware(t.at),
            actor_org=t.actor_org,
            actor_sub=t.actor_sub if t.actor_org == principal.org else None,
            reason_code=t.reason_code,
        )
        for t in rows
    ]


# --- writing ---


async def create_referral(session: AsyncSession, principal: Principal, body: ReferralCreate, now: datetime) -> Referral:
    service = await repo.get_service(session, body.service_id)
    if service is None:
        raise Invalid("No such service", field="service_id")
    if service.status != "active":
        raise Invalid("The service is not active", field="service_id")
    child, consented, held = await consent_gate(session, principal, body, service.service_type)
    known = await feed_repo.screening_of(session, body.screening_id, principal.org)
    profile = body.profile.model_dump(mode="json")
    referral = Referral(
        id=uuid.uuid4().hex,
        fact_id=str(uuid.uuid4()),
        fact_version=1,
        screening_ref=body.screening_id,
        screened_at=known.screened_at if known is not None else None,
        from_org=principal.org,
        from_sub=principal.sub,
        to_org=service.organisation_id,
        service_id=service.id,
        service_type=service.service_type,
        status="requested",
        urgent=body.urgent,
        child=child,
        consent_recorded=consented,
        consent_text_version=body.consent.text_version if body.consent else None,
        profile=profile,
        handover=stored(body.handover.model_dump(mode="json")) if body.handover else None,
        place_reserved=False,
        awaiting_consent=held,
        created_at=now,
        updated_at=now,
        deadline_at=now + answer_deadline(body.urgent),
    )
    session.add(referral)
    session.add(referrals_repo.transition(referral, None, principal.org, principal.sub, now))
    audit.record_for(session, audit_tables, principal, "create", "referral", referral.id)
    await session.flush()
    if not held:
        # A held referral is announced (to the provider, partners and the registry) once consent is known.
        await referral_changed(session, referral, occurred_at=now)
    return referral


async def create_referral_once(
    session: AsyncSession, principal: Principal, body: ReferralCreate, now: datetime, key: str | None
) -> Referral:
    """`create_referral`, unless this caller already created one with this Idempotency-Key: then that one."""
    if key is None:
        return await create_referral(session, principal, body, now)
    print_ = idempotency.fingerprint(body.model_dump(mode="json"))
    earlier = await idempotency.claim(session, idempotency_keys, principal, key, print_, now)
    if earlier is None:
        referral = await create_referral(session, principal, body, now)
        await idempotency.remember(session, idempotency_keys, principal, key, referral.id)
        return referral
    referral = await referrals_repo.sent_referral(session, principal.org, earlier)
    if referral is None:
        raise Conflict("The referral created with this Idempotency-Key no longer exists")
    return referral


async def transition(
    session: AsyncSession,
    principal: Principal,
    referral_id: str,
    target: str,
    reason_code: str | None,
    now: datetime,
) -> Referral:
    # The row lock serialises moves of one referral; the capacity UPDATE serialises places.
    r = await visible_referral(session, principal, referral_id, lock=True, action=f"transition.{target}")
    side = SIDE_OF_TARGET[target]
    allowed_org = r.to_org if side is Side.RECIPIENT else r.from_org
    if principal.org != allowed_org:
        # The other side may see the referral but not make this move: as if it did not exist.
        await audit.record_refused(session, audit_tables, principal, f"transition.{target}", "referral", r.id)
        raise NotFound("No such referral")
    if target in REASON_REQUIRED and reason_code is None:
        raise Invalid(f"A reason is required to mark a referral {target}", field="reason_code")
    current = r.status
    if not is_legal(current, target):
        raise Conflict(
            f"The referral is {current}; it cannot become {target}", current_status=current, requested_status=target
        )
    changed_capacity = None
    if target == "accepted" and r.service_type in ACCOMMODATION_TYPES:
        taken = await take_place(session, r.service_id, case_profile(r.profile, [r.service_type], r.urgent), now)
        if taken is None:
            raise Conflict(
                "The service has no free place left for this person; update its capacity first", current_status=current
            )
        r.place_reserved, r.capacity_id, changed_capacity = True, taken.id, taken
    if holds_place(current) and not holds_place(target) and r.place_reserved:
        changed_capacity = await give_back_place(session, r.capacity_id, now)
        r.place_reserved = False
    r.status = target
    r.reason_code = reason_code
    r.updated_at = now
    r.fact_version += 1
    if target in ("accepted", "rejected"):
        r.answered_at = now
    elif target == "in_progress":
        r.started_at = now
    else:
        r.ended_at = now
    if target == "rejected":
        r.suggested_service_id = await suggest_next(session, r)
    session.add(referrals_repo.transition(r, current, principal.org, principal.sub, now))
    await session.flush()
    extra = {"suggested_service_id": r.suggested_service_id} if target == "rejected" else None
    await referral_changed(session, r, occurred_at=now, extra=extra)
    if changed_capacity is not None:
        await capacity_changed(session, changed_capacity, organisation_id=r.to_org, occurred_at=now)
    return r


async def suggest_next(session: AsyncSession, r: Referral) -> str | None:
    """The best other service of the same type, skipping every service already tried for this screening."""
    tried = await referrals_repo.services_tried(session, r.screening_ref, r.from_org)
    case = case_profile(r.profile, [r.service_type], r.urgent)
    candidates = await repo.matching_candidates(session, [r.service_type])
    best = rank(case, candidates, limit=1, exclude=[r.service_id, *tried])
    return best[0].service_id if best else None


async def expire_overdue(session: AsyncSession, now: datetime, *, batch: int = 100) -> list[str]:
    """Expire unanswered referrals past their deadline, each with an escalation and a next suggestion.

    Safe to run in several processes: rows are locked and skipped when another sweep holds them.
    """
    expired = []
    for r in await referrals_repo.overdue(session, now, batch):
        r.status = "expired"
        r.reason_code = None
        r.updated_at = now
        r.ended_at = now
        r.fact_version += 1
        r.suggested_service_id = await suggest_next(session, r)
        session.add(referrals_repo.transition(r, "requested", "system", SYSTEM_ACTOR, now))
        await session.flush()
        await referral_changed(
            session,
            r,
            occurred_at=now,
            extra={
                "escalation": True,
                "deadline_at": aware(r.deadline_at).isoformat().replace("+00:00", "Z"),
                "suggested_service_id": r.suggested_service_id,
            },
        )
        expired.append(r.id)
    return expired
