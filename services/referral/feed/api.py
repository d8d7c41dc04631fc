"""The internal receiver of the screening feed (Standard Webhooks, PUTOKAZ_REFERRAL_FEED_SECRET); never public."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from putokaz.clock import Now
from putokaz.db import DbSession
from putokaz.events.receiver import WebhookMessage, WebhookSignature
from services.referral.feed import service as feed
from services.referral.feed.schemas import FeedAnswer
from services.referral.settings import Settings

internal_router = APIRouter(prefix="/internal", include_in_schema=False)


def _feed_secrets(request: Request) -> list[str]:
    settings: Settings = request.app.state.settings
    return settings.feed_secrets()


@internal_router.post("/events", response_model=FeedAnswer)
async def receive_event(
    session: DbSession, now: Now, message: Annotated[WebhookMessage, Depends(WebhookSignature(_feed_secrets))]
) -> FeedAnswer:
    """Each webhook-id is handled once; a redelivery answers `duplicate` and changes nothing."""
    return FeedAnswer(status=await feed.handle(session, message, now))
