"""Partner webhook endpoints: create, change, rotate, test, list deliveries and attempts, replay.

Every function is scoped: `owner_org` is the caller's organisation (a partner) or None (an admin,
who sees every partner endpoint). Another organisation's endpoint is simply not found (404).
Nothing here commits; the caller's request transaction does.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from sqlalchemy import ColumnElement, Row, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from putokaz.errors import Conflict, NotFound
from putokaz.events.dispatcher import FAILED, PENDING, aware, new_delivery_id
from putokaz.events.outbox import EventTables, event_body, new_message_id
from putokaz.events.secrets import SecretBox
from putokaz.events.signing import new_webhook_secret

PARTNER = "partner"


def new_endpoint_id() -> str:
    return "ep_" + uuid4().hex


def _scope(t: EventTables, owner_org: str | None) -> list[ColumnElement[bool]]:
    e = t.endpoints
    conditions: list[ColumnElement[bool]] = [e.c.kind == PARTNER]
    if owner_org is not None:
        conditions.append(e.c.org_id == owner_org)
    return conditions


def _times(values: dict[str, Any]) -> dict[str, Any]:
    return {k: aware(v) if isinstance(v, datetime) else v for k, v in values.items()}


def endpoint_dict(row: Row[Any]) -> dict[str, Any]:
    m = row._mapping
    return _times(
        {
            "id": m["id"],
            "org_id": m["org_id"],
            "url": m["url"],
            "event_types": json.loads(m["event_types"]),
            "description": m["description"],
            "enabled": m["enabled"],
            "disabled_reason": m["disabled_reason"],
            "failing_since": m["failing_since"],
            "created_at": m["created_at"],
            "updated_at": m["updated_at"],
        }
    )


def delivery_dict(row: Row[Any]) -> dict[str, Any]:
    m = row._mapping
    return _times({key: m[key] for key in DELIVERY_FIELDS})


DELIVERY_FIELDS = (
    "id",
    "endpoint_id",
    "message_id",
    "event_type",
    "status",
    "attempt_count",
    "next_attempt_at",
    "created_at",
    "last_attempt_at",
    "delivered_at",
)


class EndpointStore:
    """The partner endpoint operations on one service's event tables (bound once: `EndpointStore(event_tables)`)."""

    def __init__(self, tables: EventTables) -> None:
        self.tables = tables

    async def create_endpoint(
        self,
        session: AsyncSession,
        *,
        org_id: str,
        url: str,
        event_types: Sequence[str],
        description: str,
        now: datetime,
        box: SecretBox,
    ) -> tuple[dict[str, Any], str]:
        """A new enabled endpoint and its secret (returned once; only the endpoint's owner sees it; stored sealed)."""
        endpoint_id, secret = new_endpoint_id(), new_webhook_secret()
        await session.execute(
            insert(self.tables.endpoints).values(
                id=endpoint_id,
                kind=PARTNER,
                org_id=org_id,
                url=url,
                event_types=json.dumps(list(dict.fromkeys(event_types))),
                description=description,
                enabled=True,
                secret=box.seal(secret, endpoint_id),
                created_at=now,
                updated_at=now,
            )
        )
        return await self.get_endpoint(session, endpoint_id, org_id), secret

    async def list_endpoints(self, session: AsyncSession, owner_org: str | None) -> list[dict[str, Any]]:
        e = self.tables.endpoints
        rows = await session.execute(select(e).where(*_scope(self.tables, owner_org)).order_by(e.c.created_at, e.c.id))
        return [endpoint_dict(r) for r in rows]

    async def get_endpoint(self, session: AsyncSession, endpoint_id: str, owner_org: str | None) -> dict[str, Any]:
        e = self.tables.endpoints
        row = (await session.execute(select(e).where(e.c.id == endpoint_id, *_scope(self.tables, owner_org)))).first()
        if row is None:
            raise NotFound("No such webhook endpoint")
        return endpoint_dict(row)

    async def update_endpoint(
        self,
        session: AsyncSession,
        endpoint_id: str,
        owner_org: str | None,
        changes: dict[str, Any],
        now: datetime,
    ) -> dict[str, Any]:
        """Apply the given fields; re-enabling clears the disabled reason and the failure window."""
        e = self.tables.endpoints
        await self.get_endpoint(session, endpoint_id, owner_org)
        values: dict[str, Any] = {"updated_at": now}
        for key in ("url", "description"):
            if key in changes:
                values[key] = changes[key]
        if "event_types" in changes:
            values["event_types"] = json.dumps(list(dict.fromkeys(changes["event_types"])))
        if "enabled" in changes:
            values["enabled"] = changes["enabled"]
            values["disabled_reason"] = None if changes["enabled"] else "disabled by its owner"
            if changes["enabled"]:
                values["failing_since"] = None
        await session.execute(update(e).where(e.c.id == endpoint_id, *_scope(self.tables, owner_org)).values(**values))
        return await self.get_endpoint(session, endpoint_id, owner_org)

    async def delete_endpoint(self, session: AsyncSession, endpoint_id: str, owner_org: str | None) -> None:
        e, d, a = self.tables.endpoints, self.tables.deliveries, self.tables.attempts
        await self.get_endpoint(session, endpoint_id, owner_org)
        # Explicit deletes rather than relying on ON DELETE CASCADE being enforced by every engine.
        delivery_ids = select(d.c.id).where(d.c.endpoint_id == endpoint_id).scalar_subquery()
        await session.execute(delete(a).where(a.c.delivery_id.in_(delivery_ids)))
        await session.execute(delete(d).where(d.c.endpoint_id == endpoint_id))
        await session.execute(delete(e).where(e.c.id == endpoint_id))

    async def rotate_secret(
        self,
        session: AsyncSession,
        endpoint_id: str,
        owner_org: str | None,
        now: datetime,
        overlap: timedelta,
        box: SecretBox,
    ) -> tuple[str, datetime]:
        """A new secret signs from now on; the previous one also signs until `now + overlap`."""
        e = self.tables.endpoints
        await self.get_endpoint(session, endpoint_id, owner_org)
        secret, until = new_webhook_secret(), now + overlap
        await session.execute(
            update(e)
            .where(e.c.id == endpoint_id)
            .values(
                # The sealed value moves as it is: it is bound to the endpoint, not to the column.
                previous_secret=e.c.secret,
                previous_secret_expires_at=until,
                secret=box.seal(secret, endpoint_id),
                updated_at=now,
            )
        )
        return secret, until

    async def enqueue_test_event(
        self, session: AsyncSession, endpoint_id: str, owner_org: str | None, now: datetime
    ) -> dict[str, Any]:
        """A `webhook.test` message for this endpoint only (written straight into its deliveries)."""
        endpoint = await self.get_endpoint(session, endpoint_id, owner_org)
        if not endpoint["enabled"]:
            raise Conflict("The endpoint is disabled; enable it before sending a test event")
        o, d = self.tables.outbox, self.tables.deliveries
        message_id = new_message_id()
        data = {"endpoint_id": endpoint_id, "occurred_at": now.isoformat().replace("+00:00", "Z")}
        position = await session.scalar(
            insert(o)
            .values(
                message_id=message_id,
                event_type="webhook.test",
                aggregate_id=None,
                payload=event_body("webhook.test", data, now),
                occurred_at=now,
                orgs=json.dumps([endpoint["org_id"]]),
                fanned_out_at=now,
            )
            .returning(o.c.position)
        )
        delivery_id = new_delivery_id()
        await session.execute(
            insert(d).values(
                id=delivery_id,
                endpoint_id=endpoint_id,
                message_position=position,
                message_id=message_id,
                event_type="webhook.test",
                aggregate_id=None,
                status=PENDING,
                attempt_count=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
        return await self.get_delivery(session, endpoint_id, delivery_id, owner_org)

    async def list_deliveries(
        self,
        session: AsyncSession,
        endpoint_id: str,
        owner_org: str | None,
        *,
        status: str | None,
        limit: int,
        offset: int,
    ) -> list[dict[str, Any]]:
        d = self.tables.deliveries
        await self.get_endpoint(session, endpoint_id, owner_org)
        query = select(*(d.c[f] for f in DELIVERY_FIELDS)).where(d.c.endpoint_id == endpoint_id)
        if status is not None:
            query = query.where(d.c.status == status)
        query = query.order_by(d.c.message_position.desc()).limit(limit).offset(offset)
        return [delivery_dict(r) for r in await session.execute(query)]

    async def get_delivery(
        self, session: AsyncSession, endpoint_id: str, delivery_id: str, owner_org: str | None
    ) -> dict[str, Any]:
        d = self.tables.deliveries
        await self.get_endpoint(session, endpoint_id, owner_org)
        row = (
            await session.execute(
                select(*(d.c[f] for f in DELIVERY_FIELDS)).where(d.c.id == delivery_id, d.c.endpoint_id == endpoint_id)
            )
        ).first()
        if row is None:
            raise NotFound("No such delivery for this endpoint")
        return delivery_dict(row)

    async def list_attempts(
        self, session: AsyncSession, endpoint_id: str, delivery_id: str, owner_org: str | None
    ) -> list[dict[str, Any]]:
        a = self.tables.attempts
        await self.get_delivery(session, endpoint_id, delivery_id, owner_org)
        rows = await session.execute(select(a).where(a.c.delivery_id == delivery_id).order_by(a.c.id))
        return [_times(dict(r._mapping)) for r in rows]

    async def replay_delivery(
        self,
        session: AsyncSession,
        endpoint_id: str,
        delivery_id: str,
        owner_org: str | None,
        now: datetime,
    ) -> dict[str, Any]:
        """Send one message again, as a fresh run of the retry schedule (same webhook-id)."""
        endpoint = await self.get_endpoint(session, endpoint_id, owner_org)
        if not endpoint["enabled"]:
            raise Conflict("The endpoint is disabled; enable it before replaying")
        await self.get_delivery(session, endpoint_id, delivery_id, owner_org)
        d = self.tables.deliveries
        await session.execute(
            update(d)
            .where(d.c.id == delivery_id)
            .values(status=PENDING, attempt_count=0, next_attempt_at=now, delivered_at=None)
        )
        return await self.get_delivery(session, endpoint_id, delivery_id, owner_org)

    async def replay_failed_since(
        self,
        session: AsyncSession,
        endpoint_id: str,
        owner_org: str | None,
        since: datetime,
        now: datetime,
    ) -> int:
        """Queue again every failed delivery of this endpoint created at or after `since`."""
        endpoint = await self.get_endpoint(session, endpoint_id, owner_org)
        if not endpoint["enabled"]:
            raise Conflict("The endpoint is disabled; enable it before replaying")
        d = self.tables.deliveries
        result = await session.execute(
            update(d)
            .where(d.c.endpoint_id == endpoint_id, d.c.status == FAILED, d.c.created_at >= since)
            .values(status=PENDING, attempt_count=0, next_attempt_at=now)
        )
        return int(result.rowcount or 0)
