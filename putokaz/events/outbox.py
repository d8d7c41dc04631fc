"""The outbox and delivery tables, and `emit`, which writes an event inside the caller's transaction."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    column,
    event,
    insert,
    table,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql.dml import Insert

from putokaz.clock import SYSTEM_CLOCK
from putokaz.db import UtcDateTime

PK_BIGINT = BigInteger().with_variant(Integer(), "sqlite")
# Events emitted in a session's transaction, written at its commit (see `emit`).
PENDING_EVENTS = "putokaz.events.pending"


@dataclass(frozen=True)
class EventTables:
    """A service's event tables: the outbox and the webhook endpoints, deliveries and attempts."""

    outbox: Table
    endpoints: Table
    deliveries: Table
    attempts: Table


def define_event_tables(metadata: MetaData) -> EventTables:
    """Add the outbox and delivery tables to a service's own MetaData (each service owns its own copy)."""
    outbox = Table(
        "outbox_events",
        metadata,
        # `position` orders delivery; `message_id` is the stable webhook-id across retries.
        Column("position", PK_BIGINT, primary_key=True, autoincrement=True),
        Column("message_id", String(64), nullable=False, unique=True),
        Column("event_type", String(100), nullable=False),
        Column("aggregate_id", String(64), nullable=True, index=True),
        Column("payload", Text, nullable=False),
        Column("occurred_at", UtcDateTime, nullable=False),
        # JSON list of organisation ids whose partner endpoints may receive the event.
        Column("orgs", Text, nullable=True),
        # Set once the dispatcher has created this event's deliveries; NULL rows are its work queue.
        Column("fanned_out_at", UtcDateTime, nullable=True, index=True),
    )
    endpoints = Table(
        "webhook_endpoints",
        metadata,
        Column("id", String(40), primary_key=True),
        # "partner": managed through the API by `org_id`; "internal": from configuration (the registry feed).
        Column("kind", String(16), nullable=False),
        Column("org_id", String(64), nullable=True, index=True),
        Column("url", String(2048), nullable=False),
        Column("event_types", Text, nullable=False),
        Column("description", String(500), nullable=False, default=""),
        Column("enabled", Boolean, nullable=False, default=True),
        Column("disabled_reason", String(200), nullable=True),
        # Sealed (`enc:<kid>:…`, putokaz/events/secrets.py): longer than the secret itself.
        Column("secret", String(255), nullable=False),
        # During a rotation the previous secret still signs until it expires (both signatures are sent).
        Column("previous_secret", String(255), nullable=True),
        Column("previous_secret_expires_at", UtcDateTime, nullable=True),
        Column("failing_since", UtcDateTime, nullable=True),
        Column("created_at", UtcDateTime, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
    )
    deliveries = Table(
        "webhook_deliveries",
        metadata,
        Column("id", String(40), primary_key=True),
        Column("endpoint_id", String(40), ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), nullable=False),
        Column("message_position", PK_BIGINT, ForeignKey("outbox_events.position"), nullable=False),
        Column("message_id", String(64), nullable=False),
        Column("event_type", String(100), nullable=False),
        Column("aggregate_id", String(64), nullable=True),
        # pending → delivered | failed (retries exhausted, 410, or endpoint disabled mid-way).
        Column("status", String(16), nullable=False),
        Column("attempt_count", Integer, nullable=False, default=0),
        # Also the lease: a claimed delivery is pushed past the timeout, so a crashed dispatcher's
        # claim simply expires and another dispatcher retries it.
        Column("next_attempt_at", UtcDateTime, nullable=True),
        Column("created_at", UtcDateTime, nullable=False),
        Column("last_attempt_at", UtcDateTime, nullable=True),
        Column("delivered_at", UtcDateTime, nullable=True),
        UniqueConstraint("endpoint_id", "message_id"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_order", "endpoint_id", "aggregate_id", "message_position"),
    )
    attempts = Table(
        "webhook_attempts",
        metadata,
        Column("id", PK_BIGINT, primary_key=True, autoincrement=True),
        Column(
            "delivery_id",
            String(40),
            ForeignKey("webhook_deliveries.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        Column("attempted_at", UtcDateTime, nullable=False),
        Column("succeeded", Boolean, nullable=False),
        Column("response_status", Integer, nullable=True),
        # The first 2 KB of the receiver's answer, for the partner's own debugging.
        Column("response_body", Text, nullable=True),
        Column("error", String(200), nullable=True),
        Column("duration_ms", Integer, nullable=False),
    )
    return EventTables(outbox=outbox, endpoints=endpoints, deliveries=deliveries, attempts=attempts)


# A metadata-free view of the same table so `emit` works in any service's session.
_outbox = table(
    "outbox_events",
    column("message_id"),
    column("event_type"),
    column("aggregate_id"),
    column("payload"),
    column("occurred_at"),
    column("orgs"),
)


def new_message_id() -> str:
    return "msg_" + uuid.uuid4().hex


def event_body(event_type: str, data: dict[str, Any], when: datetime) -> str:
    """The exact bytes every receiver gets (and that the signature covers)."""
    body = {"type": event_type, "timestamp": when.isoformat().replace("+00:00", "Z"), "data": data}
    return json.dumps(body, separators=(",", ":"), sort_keys=True, default=str)


async def emit(
    session: AsyncSession,
    event_type: str,
    data: dict[str, Any],
    *,
    aggregate_id: str | None = None,
    occurred_at: datetime | None = None,
    orgs: Iterable[str] | None = None,
) -> str:
    """Write an event in the caller's transaction: no event without its change, no change without its event.

    `data` must be non-identifying (ids, statuses, times, anonymised facts). `orgs` names the
    organisations whose partner endpoints may receive it; `registry.*` events never go to partners.

    The row is written when the transaction commits (in the same transaction, just before COMMIT): every
    event of a transaction in one INSERT, on PostgreSQL in the audit chain's own statement when the
    transaction also audits (putokaz.audit.chain), instead of one round trip per event. A transaction that
    rolls back, or ends without committing, writes none. Inside a savepoint the row is written at once, so
    that rolling back to the savepoint takes the event with it.
    """
    message_id = new_message_id()
    # Callers pass their clock's now as `occurred_at`; the default is the real time of the emit.
    when = (occurred_at or SYSTEM_CLOCK.now()).astimezone(UTC)
    org_list = sorted({o for o in orgs if o}) if orgs is not None else None
    row = {
        "message_id": message_id,
        "event_type": event_type,
        "aggregate_id": aggregate_id,
        "payload": event_body(event_type, data, when),
        "occurred_at": when,
        "orgs": json.dumps(org_list) if org_list else None,
    }
    if session.in_nested_transaction():
        # No autoflush: the caller's pending changes are flushed once at commit, not once per event.
        with session.no_autoflush:
            await session.execute(insert(_outbox).values(row))
    else:
        session.info.setdefault(PENDING_EVENTS, []).append(row)
    return message_id


def take_pending_events(session: Session) -> list[dict[str, Any]]:
    """The events emitted in this session's transaction and not yet written (they are the caller's now)."""
    return session.info.pop(PENDING_EVENTS, None) or []


def insert_events(rows: list[dict[str, Any]]) -> Insert:
    """One INSERT of several outbox rows, in the order they were emitted (their positions follow it)."""
    return insert(_outbox).values(rows)


def _write_pending(session: Session) -> None:
    rows = take_pending_events(session)
    if rows:
        session.execute(insert_events(rows))


def _forget_pending(session: Session, transaction: SessionTransaction) -> None:
    # The outermost transaction ended: a commit wrote its events already; a rollback or close drops them.
    if transaction.parent is None:
        session.info.pop(PENDING_EVENTS, None)


event.listen(Session, "before_commit", _write_pending)
event.listen(Session, "after_transaction_end", _forget_pending)
