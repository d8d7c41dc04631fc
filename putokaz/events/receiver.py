"""Receiving Standard Webhooks: signature and timestamp checks, and durable deduplication on webhook-id."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from sqlalchemy import Column, MetaData, String, Table, column, insert, select, table
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks.webhooks import Webhook

from putokaz.clock import SYSTEM_CLOCK
from putokaz.db import UtcDateTime
from putokaz.errors import Unauthorized

MAX_WEBHOOK_BODY_BYTES = 1_000_000


@dataclass(frozen=True)
class WebhookMessage:
    """A verified webhook: its stable id (`webhook-id`), event type, event time and data."""

    id: str
    type: str
    timestamp: datetime
    data: dict[str, Any] = field(default_factory=dict)


def define_receiver_tables(metadata: MetaData) -> Table:
    """Add `processed_webhooks` (one row per webhook-id already handled) to a receiver's MetaData."""
    return Table(
        "processed_webhooks",
        metadata,
        Column("message_id", String(64), primary_key=True),
        Column("event_type", String(100), nullable=False),
        Column("received_at", UtcDateTime, nullable=False),
    )


_processed = table("processed_webhooks", column("message_id"), column("event_type"), column("received_at"))


def _signature_matches(secret: str, message_id: str, timestamp: datetime, body: str, header: str) -> bool:
    try:
        expected = Webhook(secret).sign(msg_id=message_id, timestamp=timestamp, data=body)
    except Exception:
        # A misconfigured secret must not verify anything, nor crash the receiver.
        return False
    expected_bytes = base64.b64decode(expected.split(",", 1)[1])
    for candidate in header.split(" "):
        version, _, encoded = candidate.partition(",")
        if version != "v1" or not encoded:
            continue
        try:
            given = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
        if hmac.compare_digest(expected_bytes, given):
            return True
    return False


class WebhookSignature:
    """FastAPI dependency: verifies a Standard Webhooks request and returns the parsed message.

    `secrets(request)` gives the secrets currently accepted (several during a rotation). A bad,
    missing or stale signature → 401 problem+json; the body is never echoed.
    """

    def __init__(self, secrets: Callable[[Request], list[str]], tolerance_seconds: int = 300) -> None:
        self.secrets = secrets
        self.tolerance_seconds = tolerance_seconds

    async def __call__(self, request: Request) -> WebhookMessage:
        message_id = request.headers.get("webhook-id", "")
        raw_timestamp = request.headers.get("webhook-timestamp", "")
        signature = request.headers.get("webhook-signature", "")
        if not (message_id and raw_timestamp and signature) or len(message_id) > 64:
            raise Unauthorized("Missing or malformed webhook signature headers", headers={})
        try:
            seconds = int(raw_timestamp)
            timestamp = datetime.fromtimestamp(seconds, tz=UTC)
        except (ValueError, OverflowError, OSError):
            raise Unauthorized("Malformed webhook-timestamp", headers={}) from None
        # Real time, not the app's clock: the sender stamps the wall-clock time of its attempt
        # (putokaz.events.signing), and a test's FakeClock must not open the replay window.
        if abs(SYSTEM_CLOCK.now().timestamp() - seconds) > self.tolerance_seconds:
            # Outside the window a captured request could be replayed.
            raise Unauthorized("Webhook timestamp outside the accepted window", headers={})
        body_bytes = await request.body()
        if len(body_bytes) > MAX_WEBHOOK_BODY_BYTES:
            raise Unauthorized("Webhook body too large", headers={})
        try:
            body = body_bytes.decode()
        except UnicodeDecodeError:
            raise Unauthorized("Webhook body is not UTF-8", headers={}) from None
        if not any(_signature_matches(s, message_id, timestamp, body, signature) for s in self.secrets(request)):
            raise Unauthorized("Webhook signature does not verify", headers={})
        try:
            payload = json.loads(body)
        except ValueError:
            raise Unauthorized("Signed webhook body is not JSON", headers={}) from None
        if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
            raise Unauthorized("Signed webhook body lacks an event type", headers={})
        data = payload.get("data")
        return WebhookMessage(
            id=message_id,
            type=payload["type"],
            timestamp=_parse_event_time(payload.get("timestamp"), timestamp),
            data=data if isinstance(data, dict) else {},
        )


def _parse_event_time(value: Any, fallback: datetime) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return fallback
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return fallback


async def record_once(session: AsyncSession, message_id: str, event_type: str, now: datetime) -> bool:
    """Mark a webhook-id processed in the caller's transaction; False when it already was.

    On PostgreSQL `ON CONFLICT DO NOTHING` makes two concurrent deliveries of the same message
    race safely (the second waits for the first transaction and then sees the row).
    """
    values = {"message_id": message_id, "event_type": event_type[:100], "received_at": now}
    dialect = session.bind.dialect.name if session.bind is not None else ""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        result = await session.execute(
            pg_insert(_processed).values(**values).on_conflict_do_nothing(index_elements=["message_id"])
        )
        return bool(result.rowcount)
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        result = await session.execute(
            sqlite_insert(_processed).values(**values).on_conflict_do_nothing(index_elements=["message_id"])
        )
        return bool(result.rowcount)
    existing = await session.execute(select(_processed.c.message_id).where(_processed.c.message_id == message_id))
    if existing.first() is not None:
        return False
    try:
        async with session.begin_nested():
            await session.execute(insert(_processed).values(**values))
    except IntegrityError:
        return False
    return True
