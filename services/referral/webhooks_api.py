"""HTTP routes of partner webhooks: endpoints, secret rotation, test events, deliveries, attempts, replay."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from putokaz.auth import Authorize, Principal
from putokaz.db import DbSession
from putokaz.errors import Forbidden, Invalid
from putokaz.events import endpoints as repo
from putokaz.events.catalogue import PARTNER_EVENT_TYPES
from putokaz.events.config import EventSettings
from putokaz.events.ssrf import TargetRefused, validate_target_url
from services.referral.clock import Now
from services.referral.models import event_tables
from services.referral.webhook_schemas import (
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

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])
Manager = Annotated[Principal, Depends(Authorize("partner", "admin"))]
T = event_tables


def owner_scope(principal: Principal) -> str | None:
    """Partners see their own organisation's endpoints; admins every partner endpoint."""
    return None if "admin" in principal.roles else principal.org


async def checked_url(request: Request, url: str) -> str:
    settings: EventSettings = request.app.state.event_settings
    try:
        return await validate_target_url(
            url,
            allow_private=settings.webhook_allow_private_targets,
            require_https=settings.https_required(request.app.state.settings.environment),
        )
    except TargetRefused as exc:
        raise Invalid(f"The webhook URL is refused: {exc}", field="url") from None


@router.get("/event-types", response_model=Items[EventTypeRead])
async def list_event_types(_: Manager) -> Items[EventTypeRead]:
    """Event types an endpoint may subscribe to (`referral.*` subscribes to every referral event)."""
    return Items(items=[EventTypeRead(type=t, description=d) for t, d in PARTNER_EVENT_TYPES.items()])


@router.post("/endpoints", response_model=EndpointCreated, status_code=201)
async def create_endpoint(
    body: EndpointCreate, principal: Manager, session: DbSession, request: Request, now: Now
) -> EndpointCreated:
    """Register an endpoint; the answer carries its signing secret, shown this once."""
    org = body.org_id or principal.org
    if org != principal.org and "admin" not in principal.roles:
        raise Forbidden("Partners register endpoints only for their own organisation")
    url = await checked_url(request, body.url)
    endpoint, secret = await repo.create_endpoint(
        session, T, org_id=org, url=url, event_types=body.event_types, description=body.description, now=now
    )
    return EndpointCreated(**endpoint, secret=secret)


@router.get("/endpoints", response_model=Items[EndpointRead])
async def list_endpoints(principal: Manager, session: DbSession) -> Items[EndpointRead]:
    return Items(items=[EndpointRead(**e) for e in await repo.list_endpoints(session, T, owner_scope(principal))])


@router.get("/endpoints/{endpoint_id}", response_model=EndpointRead)
async def get_endpoint(endpoint_id: EndpointId, principal: Manager, session: DbSession) -> EndpointRead:
    return EndpointRead(**await repo.get_endpoint(session, T, endpoint_id, owner_scope(principal)))


@router.patch("/endpoints/{endpoint_id}", response_model=EndpointRead)
async def update_endpoint(
    endpoint_id: EndpointId, body: EndpointUpdate, principal: Manager, session: DbSession, request: Request, now: Now
) -> EndpointRead:
    """Change URL, event types, description, or enable/disable (enabling clears the failure window)."""
    changes = body.model_dump(exclude_unset=True)
    if "url" in changes:
        changes["url"] = await checked_url(request, changes["url"])
    return EndpointRead(**await repo.update_endpoint(session, T, endpoint_id, owner_scope(principal), changes, now))


@router.delete("/endpoints/{endpoint_id}", status_code=204)
async def delete_endpoint(endpoint_id: EndpointId, principal: Manager, session: DbSession) -> Response:
    await repo.delete_endpoint(session, T, endpoint_id, owner_scope(principal))
    return Response(status_code=204)


@router.post("/endpoints/{endpoint_id}/rotate-secret", response_model=SecretRotated)
async def rotate_secret(
    endpoint_id: EndpointId, principal: Manager, session: DbSession, request: Request, now: Now
) -> SecretRotated:
    """A new secret; the old one keeps signing alongside it (two signatures per request) for the overlap."""
    settings: EventSettings = request.app.state.event_settings
    overlap = timedelta(hours=settings.webhook_rotation_overlap_hours)
    secret, until = await repo.rotate_secret(session, T, endpoint_id, owner_scope(principal), now, overlap)
    return SecretRotated(secret=secret, previous_secret_valid_until=until)


@router.post("/endpoints/{endpoint_id}/test", response_model=DeliveryRead, status_code=202)
async def send_test_event(endpoint_id: EndpointId, principal: Manager, session: DbSession, now: Now) -> DeliveryRead:
    """Queue a `webhook.test` event for this endpoint only; follow it in its deliveries."""
    return DeliveryRead(**await repo.enqueue_test_event(session, T, endpoint_id, owner_scope(principal), now))


@router.get("/endpoints/{endpoint_id}/deliveries", response_model=DeliveryPage)
async def list_deliveries(
    endpoint_id: EndpointId,
    principal: Manager,
    session: DbSession,
    status: DeliveryStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> DeliveryPage:
    """Newest first."""
    rows = await repo.list_deliveries(
        session, T, endpoint_id, owner_scope(principal), status=status, limit=limit, offset=offset
    )
    return DeliveryPage(items=[DeliveryRead(**r) for r in rows], limit=limit, offset=offset)


@router.get("/endpoints/{endpoint_id}/deliveries/{delivery_id}/attempts", response_model=Items[AttemptRead])
async def list_attempts(
    endpoint_id: EndpointId, delivery_id: DeliveryId, principal: Manager, session: DbSession
) -> Items[AttemptRead]:
    rows = await repo.list_attempts(session, T, endpoint_id, delivery_id, owner_scope(principal))
    return Items(items=[AttemptRead(**{k: v for k, v in r.items() if k != "delivery_id"}) for r in rows])


@router.post("/endpoints/{endpoint_id}/deliveries/{delivery_id}/replay", response_model=DeliveryRead, status_code=202)
async def replay_delivery(
    endpoint_id: EndpointId, delivery_id: DeliveryId, principal: Manager, session: DbSession, now: Now
) -> DeliveryRead:
    """Send this message again (same webhook-id), starting the retry schedule afresh."""
    row = await repo.replay_delivery(session, T, endpoint_id, delivery_id, owner_scope(principal), now)
    return DeliveryRead(**row)


@router.post("/endpoints/{endpoint_id}/replay-failed", response_model=ReplayResult, status_code=202)
async def replay_failed(
    endpoint_id: EndpointId, body: ReplayFailed, principal: Manager, session: DbSession, now: Now
) -> ReplayResult:
    """Queue again every failed delivery of this endpoint created since `since`."""
    if body.since > now:
        raise Invalid("since must not be in the future", field="since")
    count = await repo.replay_failed_since(session, T, endpoint_id, owner_scope(principal), body.since, now)
    return ReplayResult(replayed=count)
