"""HTTP routes of partner webhooks: endpoints, secret rotation, test events, deliveries, attempts, replay."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from putokaz.auth import Authorize, Principal
from putokaz.clock import Now
from putokaz.db import DbSession
from putokaz.events.config import EventSettings
from putokaz.query import reject_unknown_query
from putokaz.schemas import Limit, Offset
from services.referral.webhooks import service as webhooks
from services.referral.webhooks.schemas import (
    AttemptRead,
    DeliveryId,
    DeliveryPage,
    DeliveryRead,
    DeliveryStatus,
    EndpointCreate,
    EndpointCreated,
    EndpointId,
    EndpointRead,
    EndpointUpdate,
    EventTypeRead,
    Items,
    ReplayFailed,
    ReplayResult,
    SecretRotated,
)

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"], dependencies=[Depends(reject_unknown_query)])
Manager = Annotated[Principal, Depends(Authorize("partner", "admin"))]


async def checked_url(request: Request, url: str) -> str:
    settings: EventSettings = request.app.state.event_settings
    return await webhooks.checked_url(
        url,
        allow_private=settings.webhook_allow_private_targets,
        require_https=settings.https_required(request.app.state.settings.environment),
    )


@router.get("/event-types", response_model=Items[EventTypeRead])
async def list_event_types(_: Manager) -> Items[EventTypeRead]:
    """Event types an endpoint may subscribe to (`referral.*` subscribes to every referral event)."""
    return webhooks.event_types()


@router.post("/endpoints", response_model=EndpointCreated, status_code=201)
async def create_endpoint(
    body: EndpointCreate, principal: Manager, session: DbSession, request: Request, now: Now
) -> EndpointCreated:
    """Register an endpoint; the answer carries its signing secret, shown this once."""
    url = await checked_url(request, body.url)
    return await webhooks.create_endpoint(session, principal, body, url, now, request.app.state.secret_box)


@router.get("/endpoints", response_model=Items[EndpointRead])
async def list_endpoints(principal: Manager, session: DbSession) -> Items[EndpointRead]:
    return await webhooks.list_endpoints(session, principal)


@router.get("/endpoints/{endpoint_id}", response_model=EndpointRead)
async def get_endpoint(endpoint_id: EndpointId, principal: Manager, session: DbSession) -> EndpointRead:
    return await webhooks.get_endpoint(session, principal, endpoint_id)


@router.patch("/endpoints/{endpoint_id}", response_model=EndpointRead)
async def update_endpoint(
    endpoint_id: EndpointId, body: EndpointUpdate, principal: Manager, session: DbSession, request: Request, now: Now
) -> EndpointRead:
    """Change URL, event types, description, or enable/disable (enabling clears the failure window)."""
    url = await checked_url(request, body.url) if body.url is not None else None
    return await webhooks.update_endpoint(session, principal, endpoint_id, body, url, now)


@router.delete("/endpoints/{endpoint_id}", status_code=204)
async def delete_endpoint(endpoint_id: EndpointId, principal: Manager, session: DbSession) -> Response:
    await webhooks.delete_endpoint(session, principal, endpoint_id)
    return Response(status_code=204)


@router.post("/endpoints/{endpoint_id}/rotate-secret", response_model=SecretRotated)
async def rotate_secret(
    endpoint_id: EndpointId, principal: Manager, session: DbSession, request: Request, now: Now
) -> SecretRotated:
    """A new secret; the old one keeps signing alongside it (two signatures per request) for the overlap."""
    settings: EventSettings = request.app.state.event_settings
    overlap = timedelta(hours=settings.webhook_rotation_overlap_hours)
    return await webhooks.rotate_secret(session, principal, endpoint_id, now, overlap, request.app.state.secret_box)


@router.post("/endpoints/{endpoint_id}/test", response_model=DeliveryRead, status_code=202)
async def send_test_event(endpoint_id: EndpointId, principal: Manager, session: DbSession, now: Now) -> DeliveryRead:
    """Queue a `webhook.test` event for this endpoint only; follow it in its deliveries."""
    return await webhooks.send_test_event(session, principal, endpoint_id, now)


@router.get("/endpoints/{endpoint_id}/deliveries", response_model=DeliveryPage)
async def list_deliveries(
    endpoint_id: EndpointId,
    principal: Manager,
    session: DbSession,
    status: DeliveryStatus | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> DeliveryPage:
    """Newest first."""
    return await webhooks.list_deliveries(session, principal, endpoint_id, status=status, limit=limit, offset=offset)


@router.get("/endpoints/{endpoint_id}/deliveries/{delivery_id}/attempts", response_model=Items[AttemptRead])
async def list_attempts(
    endpoint_id: EndpointId, delivery_id: DeliveryId, principal: Manager, session: DbSession
) -> Items[AttemptRead]:
    return await webhooks.list_attempts(session, principal, endpoint_id, delivery_id)


@router.post("/endpoints/{endpoint_id}/deliveries/{delivery_id}/replay", response_model=DeliveryRead, status_code=202)
async def replay_delivery(
    endpoint_id: EndpointId, delivery_id: DeliveryId, principal: Manager, session: DbSession, now: Now
) -> DeliveryRead:
    """Send this message again (same webhook-id), starting the retry schedule afresh."""
    return await webhooks.replay_delivery(session, principal, endpoint_id, delivery_id, now)


@router.post("/endpoints/{endpoint_id}/replay-failed", response_model=ReplayResult, status_code=202)
async def replay_failed(
    endpoint_id: EndpointId, body: ReplayFailed, principal: Manager, session: DbSession, now: Now
) -> ReplayResult:
    """Queue again every failed delivery of this endpoint created since `since`."""
    return await webhooks.replay_failed(session, principal, endpoint_id, body.since, now)
