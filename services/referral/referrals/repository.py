"""Referral queries: every read is scoped to the caller's organisation in the query itself. Never commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from services.referral.models import Referral, ReferralTransition
from services.referral.referrals.schemas import ReferralFilter


def _received_by(org: str) -> ColumnElement[bool]:
    """A referral held until consent is known does not exist yet for its recipient."""
    return and_(Referral.to_org == org, Referral.awaiting_consent.is_(False))


def _visible_to(org: str) -> ColumnElement[bool]:
    return or_(Referral.from_org == org, _received_by(org))


async def visible_referral(session: AsyncSession, org: str, referral_id: str, *, lock: bool = False) -> Referral | None:
    """A referral `org` sent or received (None for anything else)."""
    query = select(Referral).where(Referral.id == referral_id, _visible_to(org))
    if lock:
        query = query.with_for_update()
    return await session.scalar(query)


async def sent_referral(session: AsyncSession, org: str, referral_id: str) -> Referral | None:
    return await session.scalar(select(Referral).where(Referral.id == referral_id, Referral.from_org == org))


async def list_referrals(
    session: AsyncSession,
    org: str,
    filters: ReferralFilter,
    *,
    limit: int,
    offset: int,
) -> tuple[list[Referral], int]:
    if filters.box == "sent":
        query = select(Referral).where(Referral.from_org == org)
    elif filters.box == "received":
        query = select(Referral).where(_received_by(org))
    else:
        query = select(Referral).where(_visible_to(org))
    if filters.status:
        query = query.where(Referral.status == filters.status)
    if filters.service_type:
        query = query.where(Referral.service_type == filters.service_type)
    if filters.urgent is not None:
        query = query.where(Referral.urgent == filters.urgent)
    if filters.created_from:
        query = query.where(Referral.created_at >= filters.created_from)
    if filters.created_to:
        query = query.where(Referral.created_at < filters.created_to)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(query.order_by(Referral.created_at.desc(), Referral.id).limit(limit).offset(offset))
    return list(rows), int(total or 0)


def transition(
    r: Referral, from_status: str | None, actor_org: str, actor_sub: str, now: datetime
) -> ReferralTransition:
    """The history row of the move `r` has just made from `from_status` (its sequence is the fact version)."""
    return ReferralTransition(
        id=uuid.uuid4().hex,
        referral_id=r.id,
        sequence=r.fact_version,
        from_status=from_status,
        to_status=r.status,
        actor_org=actor_org,
        actor_sub=actor_sub,
        reason_code=r.reason_code,
        at=now,
    )


async def transitions(session: AsyncSession, referral_id: str) -> list[ReferralTransition]:
    rows = await session.scalars(
        select(ReferralTransition)
        .where(ReferralTransition.referral_id == referral_id)
        .order_by(ReferralTransition.sequence)
    )
    return list(rows)


async def services_tried(session: AsyncSession, screening_ref: str, org: str) -> list[str]:
    """Every service `org` has referred this screening to, whatever became of it."""
    rows = await session.scalars(
        select(Referral.service_id).where(Referral.screening_ref == screening_ref, Referral.from_org == org)
    )
    return list(rows)


async def overdue(session: AsyncSession, now: datetime, batch: int) -> Sequence[Referral]:
    """Unanswered referrals past their deadline, locked; rows another sweep holds are skipped."""
    rows = await session.scalars(
        select(Referral)
        .where(Referral.status == "requested", Referral.awaiting_consent.is_(False), Referral.deadline_at <= now)
        .order_by(Referral.deadline_at)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    return list(rows)
