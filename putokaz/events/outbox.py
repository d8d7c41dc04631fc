"""The outbox table and `emit`, which writes an event inside the caller's transaction."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Integer, MetaData, String, Table, Text, column, insert, table
from sqlalchemy.ext.asyncio import AsyncSession

PK_BIGINT = BigInteger().with_variant(Integer(), "sqlite")


@dataclass(frozen=True)
class EventTables:
    outbox: Table


def define_event_tables(metadata: MetaData) -> EventTables:
    """Add the outbox to a service's own MetaData (each service owns its own copy)."""
    outbox = Table(
        "outbox_events",
        metadata,
        # `position` orders delivery; `message_id` is the stable webhook-id across retries.
        Column("position", PK_BIGINT, primary_key=True, autoincrement=True),
        Column("message_id", String(64), nullable=False, unique=True),
        Column("event_type", String(100), nullable=False),
        Column("aggregate_id", String(64), nullable=True, index=True),
        Column("payload", Text, nullable=False),
        Column("occurred_at", DateTime(timezone=True), nullable=False),
    )
    return EventTables(outbox=outbox)


# A metadata-free view of the same table so `emit` works in any service's session.
_outbox = table(
    "outbox_events",
    column("message_id"),
    column("event_type"),
    column("aggregate_id"),
    column("payload"),
    column("occurred_at"),
)


def new_message_id() -> str:
    return "msg_" + uuid.uuid4().hex


async def emit(
    session: AsyncSession,
    event_type: str,
    data: dict[str, Any],
    *,
    aggregate_id: str | None = None,
    occurred_at: datetime | None = None,
) -> str:
    """Write an event in the caller's transaction: no event without its change, no change without its event.

    `data` must be non-identifying (ids, statuses, times, anonymised facts).
    """
    message_id = new_message_id()
    when = occurred_at or datetime.now(UTC)
    body = {"type": event_type, "timestamp": when.isoformat().replace("+00:00", "Z"), "data": data}
    await session.execute(
        insert(_outbox).values(
            message_id=message_id,
            event_type=event_type,
            aggregate_id=aggregate_id,
            payload=json.dumps(body, separators=(",", ":"), sort_keys=True, default=str),
            occurred_at=when,
        )
    )
    return message_id
