"""`make audit-verify` checks every service's chain and names the first broken row (exit 1)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import asyncpg

from putokaz.settings import PROJECT_ROOT
from putokaz.testing import PostgresServer, service_migrations

SERVICES = ("screening", "referral", "registry")


def _audit_verify(urls: dict[str, str], revocation_url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **{f"PUTOKAZ_{name.upper()}_DATABASE_URL": url for name, url in urls.items()}}
    if revocation_url is not None:
        env["PUTOKAZ_REVOCATION_URL"] = revocation_url
    return subprocess.run(
        [sys.executable, "-m", "deploy.dev", "audit-verify"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def _sql(url: str, *statements: str) -> None:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def test_audit_verify_passes_then_names_the_edited_row(postgres_server: PostgresServer) -> None:
    urls = {name: postgres_server.create_database(f"verify_{name}", service_migrations(name)) for name in SERVICES}
    # Two rows written the way the services write them, through the kernel.
    asyncio.run(_write_two_rows(urls["referral"]))
    ok = _audit_verify(urls)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "referral: audit chain intact, 2 rows" in ok.stdout
    asyncio.run(
        _sql(
            urls["referral"],
            "SET session_replication_role = replica",
            "UPDATE audit_log SET action = 'read' WHERE seq = 2",
        )
    )
    broken = _audit_verify(urls)
    assert broken.returncode == 1
    assert "referral: audit chain BROKEN at row 2: row changed after it was written" in broken.stdout
    assert "screening: audit chain intact" in broken.stdout


async def _write_two_rows(url: str) -> None:
    from putokaz import audit
    from putokaz.db import Database, new_metadata

    tables = audit.define_audit_tables(new_metadata())
    db = Database(url)
    try:
        for action in ("create", "reveal_address"):
            async with db.sessionmaker() as session, session.begin():
                audit.record(session, tables, audit.Entry(audit.Actor.system("test"), action, "referral", "r-1"))
    finally:
        await db.dispose()


def test_audit_verify_checks_the_revocation_store_chain_and_names_its_edited_row(
    postgres_server: PostgresServer,
) -> None:
    urls = {name: postgres_server.create_database(f"verify_rv_{name}", service_migrations(name)) for name in SERVICES}
    store_url = postgres_server.create_database("verify_revocations")
    asyncio.run(_revoke_twice(store_url))
    ok = _audit_verify(urls, store_url)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "revocations: audit chain intact, 2 rows" in ok.stdout
    # Someone with database access makes the second revocation look like another admin's.
    asyncio.run(
        _sql(
            store_url,
            "SET session_replication_role = replica",
            "UPDATE audit_log SET actor_sub = 'admin-2' WHERE seq = 2",
        )
    )
    broken = _audit_verify(urls, store_url)
    assert broken.returncode == 1
    assert "revocations: audit chain BROKEN at row 2: row changed after it was written" in broken.stdout
    assert "referral: audit chain intact" in broken.stdout


async def _revoke_twice(url: str) -> None:
    from putokaz.auth import Principal
    from putokaz.revocation import RevocationList, make_store

    admin = Principal(sub="admin-1", roles=frozenset({"admin"}), org="org-admin")
    revocations = RevocationList(make_store(url), refresh_seconds=0, max_lifetime=3600)
    try:
        await revocations.revoke("subject", "officer-x", admin, "phone lost")
        await revocations.revoke("jti", "j-1", admin, "leaked")
    finally:
        await revocations.store.close()
