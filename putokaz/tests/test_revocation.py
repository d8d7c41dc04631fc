"""The revocation list against each real store: SQLite file, PostgreSQL and Redis."""

from __future__ import annotations

import os
import socket
import uuid

import pytest

from putokaz.auth import Principal
from putokaz.revocation import RevocationList, make_store

ADMIN = Principal(sub="admin-1", org="org-admin", roles=frozenset({"admin"}))


def _principal(sub: str, jti: str, issued_at: float) -> Principal:
    return Principal(sub=sub, org="org-a", roles=frozenset({"police"}), jti=jti, issued_at=issued_at)


def _redis_url() -> str:
    url = os.environ.get("PUTOKAZ_TEST_REDIS_URL")
    if url:
        return url
    try:
        socket.create_connection(("127.0.0.1", 6379), 0.5).close()
    except OSError:
        pytest.skip("no Redis on 127.0.0.1:6379 (CI sets PUTOKAZ_TEST_REDIS_URL and fails without one)")
    return "redis://127.0.0.1:6379/15"


@pytest.fixture(params=["sqlite", "postgresql", "redis"])
def store_url(request, tmp_path, postgres_server):
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'revocations.db'}"
    if request.param == "postgresql":
        return postgres_server.create_database("revocations")
    return _redis_url()


async def test_revocations_written_by_one_process_are_seen_by_another(store_url):
    writer = RevocationList(make_store(store_url), refresh_seconds=0, max_lifetime=3600)
    reader = RevocationList(make_store(store_url), refresh_seconds=0, max_lifetime=3600)
    sub, other = f"lost-phone-{uuid.uuid4().hex}", f"colleague-{uuid.uuid4().hex}"
    jti = uuid.uuid4().hex
    try:
        before = _principal(sub, uuid.uuid4().hex, issued_at=1.0)
        stolen = _principal(other, jti, issued_at=1.0)
        assert not await reader.revoked(before) and not await reader.revoked(stolen)

        revocation = await writer.revoke("subject", sub, ADMIN, "phone lost on duty")
        await writer.revoke("jti", jti, ADMIN, "token pasted in a chat")

        assert await reader.revoked(before)
        assert await reader.revoked(stolen)
        assert not await reader.revoked(_principal(other, uuid.uuid4().hex, issued_at=1.0))
        # A token the subject gets after the revocation (signing in again) is valid.
        assert not await reader.revoked(_principal(sub, uuid.uuid4().hex, issued_at=revocation.revoked_before + 1))
        recent = await reader.store.recent(10)
        mine = [r for r in recent if r.reason == "phone lost on duty" and r.target == revocation.target]
        assert mine and mine[0].actor_sub == "admin-1" and sub not in str(mine[0])
    finally:
        await writer.store.close()
        await reader.store.close()


async def test_an_unreachable_store_keeps_the_last_list():
    broken = RevocationList(make_store("redis://127.0.0.1:1/0"), refresh_seconds=0, max_lifetime=3600)
    try:
        assert not await broken.revoked(_principal("u", "j", 1.0))
    finally:
        await broken.store.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_url(request, tmp_path, postgres_server):
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'revocations.db'}"
    return postgres_server.create_database("revocation_audit")


async def test_sql_stores_audit_each_revocation_on_the_kernel_hash_chain(sql_url):
    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import AsyncSession

    from putokaz.audit.chain import verify
    from putokaz.revocation import audit_tables

    revocations = RevocationList(make_store(sql_url), refresh_seconds=0, max_lifetime=3600)
    try:
        first = await revocations.revoke("subject", "officer-x", ADMIN, "phone lost")
        second = await revocations.revoke("jti", "j-1", ADMIN, "leaked")
        async with AsyncSession(revocations.store._engine) as session:
            rows = (await session.execute(select(audit_tables.log).order_by(audit_tables.log.c.seq))).mappings().all()
            checked = await verify(session, audit_tables)
        assert [(r["action"], r["object_type"], r["object_id"], r["actor_sub"]) for r in rows] == [
            ("revoke", "token.subject", first.target, "admin-1"),
            ("revoke", "token.jti", second.target, "admin-1"),
        ]
        assert checked.ok and checked.rows_checked == 2
        assert "officer-x" not in str(rows)
    finally:
        await revocations.store.close()
