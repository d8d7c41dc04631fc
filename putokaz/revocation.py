"""Revoked tokens, shared by the gateway and every service through one store.

An admin revokes one token (its `jti`) or every token of a subject issued before now (a lost phone).
Each process keeps the list in memory and reloads it at most every `revocation_refresh_seconds`
(default 2 s), so a revocation holds everywhere, on every replica, within that time plus one request.

The store is named by `PUTOKAZ_REVOCATION_URL`: a SQLAlchemy URL (PostgreSQL in production, or the
SQLite file `var/revocations.db` that `make run`'s processes share by default) or a `redis://` URL.
Values are kept as SHA-256 digests: the store never holds a subject id in clear. Each revocation row
records who revoked what, when and why (dropped once every token it can match has expired); a SQL store
also writes an entry into its own hash-chained audit log (the kernel's `putokaz.audit`), in the same
transaction, which is never pruned. A Redis store keeps only the revocation entries.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from putokaz.audit.chain import Actor, Entry, record
from putokaz.audit.chain import verify as verify_chain
from putokaz.audit.tables import GENESIS, define_audit_tables
from putokaz.auth import Principal
from putokaz.db import async_url
from putokaz.settings import KernelSettings

logger = logging.getLogger("putokaz.revocation")

Kind = Literal["jti", "subject"]


def digest(kind: Kind, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Revocation:
    kind: Kind
    target: str  # digest of the jti or subject
    revoked_before: float  # tokens issued before this moment (subject) or the moment of revocation (jti)
    expires_at: float  # after this no token it matches can still be valid
    actor_sub: str
    actor_org: str
    reason: str


@dataclass(frozen=True, slots=True)
class Snapshot:
    tokens: frozenset[str]
    subjects: dict[str, float]  # subject digest → tokens issued before this are revoked


class RevocationStore(Protocol):
    async def add(self, revocation: Revocation, actor: Principal | None = None) -> None: ...

    async def snapshot(self, now: float) -> Snapshot: ...

    async def recent(self, limit: int) -> list[Revocation]: ...

    async def verify_audit(self) -> dict[str, Any] | None: ...

    async def close(self) -> None: ...


_metadata = sa.MetaData()
revocations_table = sa.Table(
    "token_revocations",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("target", sa.String(64), nullable=False, index=True),
    sa.Column("revoked_before", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False, index=True),
    sa.Column("actor_sub", sa.String(255), nullable=False),
    sa.Column("actor_org", sa.String(255), nullable=False),
    sa.Column("reason", sa.String(500), nullable=False),
)
# The store's own audit chain (the kernel's hash-chained log), written in the revocation's transaction.
audit_tables = define_audit_tables(_metadata)


class SqlRevocationStore:
    """One table, created on first use (the store is shared by every process, so no one service migrates it)."""

    def __init__(self, url: str) -> None:
        self.url = async_url(url)
        self._engine: AsyncEngine | None = None
        self._ready = asyncio.Lock()

    async def _connect(self) -> AsyncEngine:
        async with self._ready:
            if self._engine is None:
                if self.url.startswith("sqlite"):
                    path = sa.engine.make_url(self.url).database
                    if path:
                        from pathlib import Path

                        Path(path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                engine = create_async_engine(self.url, pool_pre_ping=True)
                async with engine.begin() as conn:
                    await conn.run_sync(_metadata.create_all, checkfirst=True)
                    head = audit_tables.head
                    if (await conn.execute(sa.select(head.c.id))).first() is None:
                        await conn.execute(head.insert().values(id=1, seq=0, hash=GENESIS))
                self._engine = engine
        return self._engine

    async def add(self, revocation: Revocation, actor: Principal | None = None) -> None:
        engine = await self._connect()
        row = {field: getattr(revocation, field) for field in Revocation.__slots__}
        async with AsyncSession(engine) as session, session.begin():
            await session.execute(revocations_table.insert().values(**row))
            await session.execute(revocations_table.delete().where(revocations_table.c.expires_at < time.time()))
            if actor is not None:
                entry = Entry(Actor.of(actor), "revoke", f"token.{revocation.kind}", revocation.target)
                record(session, audit_tables, entry)

    async def snapshot(self, now: float) -> Snapshot:
        engine = await self._connect()
        t = revocations_table
        async with engine.connect() as conn:
            rows = (
                await conn.execute(sa.select(t.c.kind, t.c.target, t.c.revoked_before).where(t.c.expires_at >= now))
            ).all()
        return _snapshot(rows)

    async def recent(self, limit: int) -> list[Revocation]:
        engine = await self._connect()
        t = revocations_table
        columns = [t.c[field] for field in Revocation.__slots__]
        async with engine.connect() as conn:
            rows = (await conn.execute(sa.select(*columns).order_by(t.c.id.desc()).limit(limit))).all()
        return [Revocation(*row) for row in rows]

    async def verify_audit(self) -> dict[str, Any]:
        """The store's audit chain checked like a service's (`putokaz.audit.verify`): first broken row or ok."""
        engine = await self._connect()
        async with AsyncSession(engine) as session:
            return (await verify_chain(session, audit_tables)).as_dict()

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None


class RedisRevocationStore:
    """Revocations as JSON entries of one sorted set, scored by expiry (old ones trimmed on each add)."""

    KEY = "putokaz:revocations"

    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        self.client = redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)

    async def add(self, revocation: Revocation, actor: Principal | None = None) -> None:
        import json

        entry = json.dumps({field: getattr(revocation, field) for field in Revocation.__slots__}, sort_keys=True)
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.zadd(self.KEY, {entry: revocation.expires_at})
            pipe.zremrangebyscore(self.KEY, "-inf", time.time())
            await pipe.execute()

    async def _entries(self, now: float) -> list[Revocation]:
        import json

        raw = await self.client.zrangebyscore(self.KEY, now, "+inf")
        return [Revocation(**json.loads(item)) for item in raw]

    async def snapshot(self, now: float) -> Snapshot:
        return _snapshot([(r.kind, r.target, r.revoked_before) for r in await self._entries(now)])

    async def recent(self, limit: int) -> list[Revocation]:
        entries = await self._entries(0)
        return sorted(entries, key=lambda r: r.revoked_before, reverse=True)[:limit]

    async def verify_audit(self) -> dict[str, Any] | None:
        """A Redis store keeps no audit chain (module docstring): nothing to verify."""
        return None

    async def close(self) -> None:
        await self.client.aclose()


def _snapshot(rows: Any) -> Snapshot:
    tokens, subjects = set(), {}
    for kind, target, before in rows:
        if kind == "jti":
            tokens.add(target)
        else:
            subjects[target] = max(before, subjects.get(target, before))
    return Snapshot(frozenset(tokens), subjects)


def make_store(url: str) -> RevocationStore:
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisRevocationStore(url)
    return SqlRevocationStore(url)


class RevocationList:
    """The in-memory copy each process checks tokens against, reloaded at most every `refresh_seconds`.

    If the store cannot be read the last copy stays in force and the failure is logged: refusing every
    frontline worker because the revocation store blinked would be the worse outage.
    """

    def __init__(self, store: RevocationStore, refresh_seconds: float, max_lifetime: float) -> None:
        self.store = store
        self.refresh_seconds = refresh_seconds
        self.max_lifetime = max_lifetime
        self._snapshot = Snapshot(frozenset(), {})
        self._loaded_at = float("-inf")
        self._lock = asyncio.Lock()

    async def _current(self) -> Snapshot:
        if time.monotonic() - self._loaded_at < self.refresh_seconds:
            return self._snapshot
        async with self._lock:
            if time.monotonic() - self._loaded_at >= self.refresh_seconds:
                try:
                    self._snapshot = await self.store.snapshot(time.time())
                except Exception as exc:  # any store failure: keep the last list, never fail the request
                    logger.warning("revocation list not refreshed", extra={"error_type": type(exc).__name__})
                self._loaded_at = time.monotonic()
        return self._snapshot

    async def revoked(self, principal: Principal) -> bool:
        snapshot = await self._current()
        if principal.jti is not None and digest("jti", principal.jti) in snapshot.tokens:
            return True
        before = snapshot.subjects.get(digest("subject", principal.sub))
        return before is not None and (principal.issued_at is None or principal.issued_at < before)

    async def revoke(self, kind: Kind, value: str, actor: Principal, reason: str) -> Revocation:
        now = time.time()
        revocation = Revocation(
            kind=kind,
            target=digest(kind, value),
            revoked_before=now,
            expires_at=now + self.max_lifetime + 3600,  # no token it can match outlives this
            actor_sub=actor.sub,
            actor_org=actor.org,
            reason=reason,
        )
        await self.store.add(revocation, actor)
        self._loaded_at = float("-inf")  # this process sees it on its next request
        return revocation


def revocation_list(settings: KernelSettings) -> RevocationList | None:
    url = settings.resolved_revocation_url()
    if url is None:
        logger.warning("no PUTOKAZ_REVOCATION_URL: revoked tokens stay valid until they expire")
        return None
    return RevocationList(make_store(url), settings.revocation_refresh_seconds, settings.jwt_max_lifetime_seconds)
