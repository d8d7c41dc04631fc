"""Idempotency-Key for creates (draft-ietf-httpapi-idempotency-key-header): a retried create answers the first result.

A key is scoped to (caller organisation, caller sub, key) and stored in the same transaction as the
resource it created, so a retry after a lost answer (gateway 502/504) finds the committed resource.
The key row is claimed BEFORE the resource is created: on PostgreSQL a concurrent request with the
same key waits on the unique index until the winner commits, then answers the winner's resource.
Keys are honoured for at least 24 hours; each service's retention job purges older ones.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Header
from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, String, Table, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from putokaz.auth import Principal
from putokaz.db import UtcDateTime
from putokaz.errors import Conflict, Invalid

FIELD = "header.idempotency-key"
KEY_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


def define_idempotency_table(metadata: MetaData, name: str = "idempotency_keys") -> Table:
    """The `idempotency_keys` table (or another of the same shape, e.g. training's own) on a service's MetaData."""
    return Table(
        name,
        metadata,
        Column("org_id", String(200), nullable=False),
        Column("sub", String(200), nullable=False),
        Column("key", String(64), nullable=False),
        # sha256 of the canonical JSON body: the same key with another body is refused.
        Column("fingerprint", String(64), nullable=False),
        # NULL only while the claiming transaction has not created its resource yet (never visible once committed).
        Column("resource_id", String(64), nullable=True),
        Column("created_at", UtcDateTime, nullable=False),
        PrimaryKeyConstraint("org_id", "sub", "key"),
    )


async def _idempotency_key(
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="idempotency-key",  # header names are case-insensitive; the error names `header.idempotency-key`
            pattern=KEY_PATTERN,
            description="Optional; 1–64 characters [A-Za-z0-9_-]. Retrying with the same key and body "
            "answers the resource created the first time instead of creating another.",
        ),
    ] = None,
) -> str | None:
    return idempotency_key


IdempotencyKey = Annotated[str | None, Depends(_idempotency_key)]
"""The validated `Idempotency-Key` header (malformed → 422 naming `header.idempotency-key`), or None."""


def fingerprint(body: Any, secret: bytes | None = None) -> str:
    """sha256 of the canonical JSON of the (parsed) request body; keyed (HMAC) when the body carries identity
    data, so a stored fingerprint cannot be used to confirm a guessed name and date of birth."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()
    if secret is not None:
        return hmac.new(secret, canonical, hashlib.sha256).hexdigest()
    return hashlib.sha256(canonical).hexdigest()


def _scope(table: Table, principal: Principal, key: str) -> Any:
    return (table.c.org_id == principal.org) & (table.c.sub == principal.sub) & (table.c.key == key)


async def lookup(session: AsyncSession, table: Table, principal: Principal, key: str, print_: str) -> str | None:
    """The resource id created earlier with this key, None if the key is new."""
    row = (
        await session.execute(select(table.c.fingerprint, table.c.resource_id).where(_scope(table, principal, key)))
    ).first()
    if row is None:
        return None
    if row.fingerprint != print_:
        raise Invalid("Idempotency-Key reused with a different request", field=FIELD)
    if row.resource_id is None:
        raise Conflict("A request with this Idempotency-Key is still being processed; retry shortly")
    return str(row.resource_id)


async def claim(
    session: AsyncSession, table: Table, principal: Principal, key: str, print_: str, now: datetime
) -> str | None:
    """Claim the key for this transaction (None: go on and create) or return the earlier resource id.

    INSERT … ON CONFLICT DO NOTHING: on PostgreSQL a concurrent claim of the same key blocks until the
    first transaction ends, then either inserts (the first rolled back) or sees its committed row.
    """
    earlier = await lookup(session, table, principal, key, print_)
    if earlier is not None:
        return earlier
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (
        dialect.insert(table)
        .values(org_id=principal.org, sub=principal.sub, key=key, fingerprint=print_, created_at=now)
        .on_conflict_do_nothing()
    )
    result = await session.execute(statement)
    if result.rowcount == 1:  # type: ignore[attr-defined]
        return None
    earlier = await lookup(session, table, principal, key, print_)
    if earlier is None:  # pragma: no cover - the conflicting row vanished (purged) between two statements
        raise Conflict("A request with this Idempotency-Key is still being processed; retry shortly")
    return earlier


async def remember(session: AsyncSession, table: Table, principal: Principal, key: str, resource_id: str) -> None:
    """Record the resource created under a claimed key (same transaction as the resource)."""
    await session.execute(update(table).where(_scope(table, principal, key)).values(resource_id=resource_id))
