"""Handling the screening feed: keep each screening's consent, refer children, stop referrals on withdrawal."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TypeVar

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from putokaz.errors import Invalid
from putokaz.events.receiver import WebhookMessage, record_once
from services.referral.feed import repository as repo
from services.referral.feed.schemas import ConsentRecorded, ConsentWithdrawn, FeedEvent, Submitted
from services.referral.models import KnownScreening
from services.referral.publish import aware
from services.referral.referrals.child_referral import refer_child_to_social_welfare
from services.referral.referrals.consent import cancel_for_withdrawn_consent, consent_became_known
from services.referral.referrals.screening_time import screening_time_became_known

logger = logging.getLogger("putokaz.referral.feed")

# Outcomes after which a child is referred to social welfare by the system itself.
NO_INDICATORS = "NO_INDICATORS"

E = TypeVar("E", bound=FeedEvent)


def _parse(model: type[E], message: WebhookMessage) -> E:
    try:
        return model.model_validate(message.data)
    except ValidationError:
        # The data are never echoed: a malformed internal event is the sender's bug, not input to show.
        raise Invalid(f"Malformed {message.type} event") from None


async def learn_consent(
    session: AsyncSession,
    event: FeedEvent,
    *,
    child: bool,
    consent: str | None,
    text_version: str | None,
    at: datetime,
    now: datetime,
    screened_at: datetime | None = None,
) -> KnownScreening:
    """Keep the newest consent state per screening; an event older than what is kept changes only `child`."""
    known = await repo.known_screening(session, event.screening_id, lock=True)
    if known is None:
        known = KnownScreening(
            screening_id=event.screening_id,
            org_id=event.org,
            child=child,
            consent_referral=consent or "pending",
            consent_text_version=text_version,
            consent_at=at,
            learnt_at=now,
            screened_at=screened_at,
        )
        session.add(known)
        await session.flush()
    else:
        known.child = known.child or child
        known.screened_at = screened_at or known.screened_at
        if consent is not None and at >= aware(known.consent_at) and known.consent_referral != "withdrawn":
            known.consent_referral = consent
            known.consent_text_version = text_version or known.consent_text_version
            known.consent_at = at
            known.learnt_at = now
    return known


async def handle(session: AsyncSession, message: WebhookMessage, now: datetime) -> str:
    if message.type not in ("screening.consent_recorded", "screening.submitted", "screening.consent_withdrawn"):
        return "ignored"
    if not await record_once(session, message.id, message.type, now):
        return "duplicate"
    at = message.timestamp
    if message.type == "screening.consent_recorded":
        event = _parse(ConsentRecorded, message)
        known = await learn_consent(
            session,
            event,
            child=event.child,
            consent=event.consent_referral,
            text_version=event.consent_text_version,
            at=event.occurred_at or at,
            now=now,
        )
        await consent_became_known(session, known, now)
    elif message.type == "screening.submitted":
        submitted = _parse(Submitted, message)
        screened_at = submitted.submitted_at or at
        known = await learn_consent(
            session,
            submitted,
            child=submitted.child,
            consent=submitted.consent_referral,
            text_version=None,
            at=screened_at,
            now=now,
            screened_at=screened_at,
        )
        # Before releasing held referrals, so that their first fact carries the time too.
        await screening_time_became_known(session, submitted.screening_id, submitted.org, screened_at, now)
        await consent_became_known(session, known, now)
        if submitted.child and submitted.outcome != NO_INDICATORS:
            await refer_child_to_social_welfare(
                session,
                screening_id=submitted.screening_id,
                org=submitted.org,
                place=submitted.place.model_dump(),
                forms=submitted.forms,
                now=now,
                screened_at=screened_at,
            )
    else:
        withdrawn = _parse(ConsentWithdrawn, message)
        known = await learn_consent(
            session,
            withdrawn,
            child=False,
            consent="withdrawn",
            text_version=None,
            at=withdrawn.occurred_at or at,
            now=now,
        )
        # Withdrawal is final, whatever order events arrive in.
        known.consent_referral = "withdrawn"
        await cancel_for_withdrawn_consent(session, withdrawn.screening_id, withdrawn.org, now)
    return "processed"
