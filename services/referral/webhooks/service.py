"""Partner webhook rules: who manages which endpoint, which URLs are acceptable, what a reply shows."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from putokaz.auth import Principal
from putokaz.errors import Forbidden, Invalid
from putokaz.events.catalogue import PARTNER_EVENT_TYPES
from putokaz.events.secrets import SecretBox
from putokaz.events.ssrf import TargetRefused, validate_target_url
from services.referral.webhooks.repository import store
from services.referral.webhooks.schemas import (
    AttemptRead,
    DeliveryPage,
    DeliveryRead,
    EndpointCreate,
    EndpointCreated,
    EndpointRead,
    EndpointUpdate,
    EventTypeRead,
    Items,
    ReplayResult,
    SecretRotated,
)


def owner_scope(principal: Principal) -> str | None:
    """Partners see their own organisation's endpoints; admins every partner endpoint."""
    return None if "admin" in principal.roles else principal.org


async def checked_url(url: str, *, allow_private: bool, require_https: bool) -> str:
    try:
        return await validate_target_url(url, allow_private=allow_private, require_https=require_https)
    except TargetRefused as exc:
        raise Invalid(f"The webhook URL is refused: {exc}", field="url") from None


def event_types() -> Items[EventTypeRead]:
    return Items(items=[EventTypeRead(type=t, description=d) for t, d in PARTNER_EVENT_TYPES.items()])


async def create_endpoint(
    session: AsyncSession, principal: Principal, body: EndpointCreate, url: str, now: datetime, box: SecretBox
) -> EndpointCreated:
    org = body.org_id or principal.org
    if org != principal.org and "admin" not in principal.roles:
        raise Forbidden("Partners register endpoints only for their own organisation")
    endpoint, secret = await store.create_endpoint(
        session, org_id=org, url=url, event_types=body.event_types, description=body.description, now=now, box=box
    )
    return EndpointCreated(**endpoint, secret=secret)


async def list_endpoints(session: AsyncSession, principal: Principal) -> Items[EndpointRead]:
    return Items(items=[EndpointRead(**e) for e in await store.list_endpoints(session, owner_scope(principal))])


async def get_endpoint(session: AsyncSession, principal: Principal, endpoint_id: str) -> EndpointRead:
    return EndpointRead(**await store.get_endpoint(session, endpoint_id, owner_scope(principal)))


async def update_endpoint(
    session: AsyncSession, principal: Principal, endpoint_id: str, body: EndpointUpdate, url: str | None, now: datetime
) -> EndpointRead:
    changes = body.model_dump(exclude_unset=True)
    if url is not None:
        changes["url"] = url
    return EndpointRead(**await store.update_endpoint(session, endpoint_id, owner_scope(principal), changes, now))


async def delete_endpoint(session: AsyncSession, principal: Principal, endpoint_id: str) -> None:
    await store.delete_endpoint(session, endpoint_id, owner_scope(principal))


async def rotate_secret(
    session: AsyncSession,
    principal: Principal,
    endpoint_id: str,
    now: datetime,
    overlap: timedelta,
    box: SecretBox,
) -> SecretRotated:
    secret, until = await store.rotate_secret(session, endpoint_id, owner_scope(principal), now, overlap, box)
    return SecretRotated(secret=secret, previous_secret_valid_until=until)


async def send_test_event(session: AsyncSession, principal: Principal, endpoint_id: str, now: datetime) -> DeliveryRead:
    return DeliveryRead(**await store.enqueue_test_event(session, endpoint_id, owner_scope(principal), now))


async def list_deliveries(
    session: AsyncSession, principal: Principal, endpoint_id: str, *, status: str | None, limit: int, offset: int
) -> DeliveryPage:
    rows = await store.list_deliveries(
        session, endpoint_id, owner_scope(principal), status=status, limit=limit, offset=offset
    )
    return DeliveryPage(items=[DeliveryRead(**r) for r in rows], limit=limit, offset=offset)


async def list_attempts(
    session: AsyncSession, principal: Principal, endpoint_id: str, delivery_id: str
) -> Items[AttemptRead]:
    rows = await store.list_attempts(session, endpoint_id, delivery_id, owner_scope(principal))
    return Items(items=[AttemptRead(**{k: v for k, v in r.items() if k != "delivery_id"}) for r in rows])


async def replay_delivery(
    session: AsyncSession, principal: Principal, endpoint_id: str, delivery_id: str, now: datetime
) -> DeliveryRead:
    return DeliveryRead(**await store.replay_delivery(session, endpoint_id, delivery_id, owner_scope(principal), now))


async def replay_failed(
    session: AsyncSession, principal: Principal, endpoint_id: str, since: datetime, now: datetime
) -> ReplayResult:
    if since > now:
        raise Invalid("since must not be in the future", field="since")
    count = await store.replay_failed_since(session, endpoint_id, owner_scope(principal), since, now)
    return ReplayResult(replayed=count)
