"""Partner endpoints, deliveries and attempts of this service: the kernel's endpoint store on our tables.

Every query is scoped by `owner_org` (None: any partner, for admins) and raises `NotFound` outside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from putokaz.events import endpoints as store
from putokaz.events.secrets import SecretBox
from services.referral.models import event_tables as T


async def create_endpoint(
    session: AsyncSession,
    *,
    org_id: str,
    url: str,
    event_types: Sequence[str],
    description: str,
    now: datetime,
    box: SecretBox,
) -> tuple[dict[str, Any], str]:
    return await store.create_endpoint(
        session, T, org_id=org_id, url=url, event_types=event_types, description=description, now=now, box=box
    )


async def list_endpoints(session: AsyncSession, owner_org: str | None) -> list[dict[str, Any]]:
    return await store.list_endpoints(session, T, owner_org)


async def get_endpoint(session: AsyncSession, endpoint_id: str, owner_org: str | None) -> dict[str, Any]:
    return await store.get_endpoint(session, T, endpoint_id, owner_org)


async def update_endpoint(
    session: AsyncSession, endpoint_id: str, owner_org: str | None, changes: dict[str, Any], now: datetime
) -> dict[str, Any]:
    return await store.update_endpoint(session, T, endpoint_id, owner_org, changes, now)


async def delete_endpoint(session: AsyncSession, endpoint_id: str, owner_org: str | None) -> None:
    await store.delete_endpoint(session, T, endpoint_id, owner_org)


async def rotate_secret(
    session: AsyncSession, endpoint_id: str, owner_org: str | None, now: datetime, overlap: timedelta, box: SecretBox
) -> tuple[str, datetime]:
    return await store.rotate_secret(session, T, endpoint_id, owner_org, now, overlap, box)


async def enqueue_test_event(
    session: AsyncSession, endpoint_id: str, owner_org: str | None, now: datetime
) -> dict[str, Any]:
    return await store.enqueue_test_event(session, T, endpoint_id, owner_org, now)


async def list_deliveries(
    session: AsyncSession, endpoint_id: str, owner_org: str | None, *, status: str | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    return await store.list_deliveries(session, T, endpoint_id, owner_org, status=status, limit=limit, offset=offset)


async def list_attempts(
    session: AsyncSession, endpoint_id: str, delivery_id: str, owner_org: str | None
) -> list[dict[str, Any]]:
    return await store.list_attempts(session, T, endpoint_id, delivery_id, owner_org)


async def replay_delivery(
    session: AsyncSession, endpoint_id: str, delivery_id: str, owner_org: str | None, now: datetime
) -> dict[str, Any]:
    return await store.replay_delivery(session, T, endpoint_id, delivery_id, owner_org, now)


async def replay_failed_since(
    session: AsyncSession, endpoint_id: str, owner_org: str | None, since: datetime, now: datetime
) -> int:
    return await store.replay_failed_since(session, T, endpoint_id, owner_org, since, now)
