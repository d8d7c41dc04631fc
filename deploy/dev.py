"""Developer commands behind the Makefile: secret, migrate, seed, run, token, revision, audit-verify."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, make_url

from deploy.processes import DEMO_ORGS, GATEWAY_APP, GATEWAY_PORT, SERVICES, ServiceProcess
from putokaz.audit import define_audit_tables
from putokaz.audit import verify as verify_audit
from putokaz.auth import ROLES, issue_token, new_secret
from putokaz.db import Database, new_metadata
from putokaz.events.signing import new_webhook_secret
from putokaz.migrations import alembic_config, upgrade
from putokaz.settings import DEV_SECRET_FILE, PROJECT_ROOT, VAR_DIR, KernelSettings


def database_url(service: ServiceProcess) -> str:
    """PUTOKAZ_<SERVICE>_DATABASE_URL overrides the embedded SQLite default for that service."""
    return os.environ.get(f"PUTOKAZ_{service.name.upper()}_DATABASE_URL", service.dev_database_url)


def private_var_dir() -> None:
    """var/ holds identity data (SQLite files) and secrets: 0700 for the directory, 0600 for every file.

    The umask covers what this process and its children create next (databases, their journals and WAL
    files); the chmods repair a var/ left by an earlier, laxer run.
    """
    os.umask(0o077)
    VAR_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
    VAR_DIR.chmod(0o700)
    for path in VAR_DIR.iterdir():
        if path.is_file() and not path.is_symlink():
            path.chmod(0o600)


def _ensure_secret_file(path: Path, make: Callable[[], str], what: str) -> str:
    """A secret kept in var/ (0600), generated on first run: never a constant in code."""
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_text(make() + "\n")
        path.chmod(0o600)
        print(f"generated {what} in {path}")
    return path.read_text().strip()


REGISTRY_FEED_SECRET_FILE = VAR_DIR / "registry-feed-secret"
REFERRAL_FEED_SECRET_FILE = VAR_DIR / "referral-feed-secret"


def ensure_secret() -> str:
    """The dev JWT signing secret the gateway, the services and the dev sign-in share."""
    return _ensure_secret_file(DEV_SECRET_FILE, new_secret, "a dev signing secret")


def ensure_feed_secret() -> str:
    """The registry feed's Standard Webhooks secret."""
    return _ensure_secret_file(REGISTRY_FEED_SECRET_FILE, new_webhook_secret, "a registry feed secret")


def ensure_referral_feed_secret() -> str:
    """The screening → referral feed's secret (consent states, submitted screenings)."""
    return _ensure_secret_file(REFERRAL_FEED_SECRET_FILE, new_webhook_secret, "a referral feed secret")


def event_env(
    service: ServiceProcess,
    feed_secret: str,
    port_base: int = GATEWAY_PORT,
    referral_feed_secret: str | None = None,
) -> dict[str, str]:
    """Registry: the feed secret it verifies. Screening and referral: the registry feed as an internal
    subscription; screening also feeds referral (`screening.*`), whose secret referral verifies."""
    registry = next(s for s in SERVICES if s.name == "registry")
    referral = next(s for s in SERVICES if s.name == "referral")
    if service.name == "registry":
        return {"PUTOKAZ_REGISTRY_FEED_SECRET": feed_secret}
    feeds = [
        {
            "url": f"http://127.0.0.1:{registry.port - GATEWAY_PORT + port_base}/internal/events",
            "secret": feed_secret,
            "event_types": ["registry.*"],
        }
    ]
    env: dict[str, str] = {}
    if referral_feed_secret is not None:
        if service.name == "screening":
            feeds.append(
                {
                    "url": f"http://127.0.0.1:{referral.port - GATEWAY_PORT + port_base}/internal/events",
                    "secret": referral_feed_secret,
                    "event_types": ["screening.*"],
                }
            )
        else:
            env["PUTOKAZ_REFERRAL_FEED_SECRET"] = referral_feed_secret
    return {**env, "PUTOKAZ_INTERNAL_SUBSCRIPTIONS": json.dumps(feeds)}


def migrate() -> None:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    for service in SERVICES:
        upgrade(service.migrations_dir, database_url(service))
        print(f"migrated {service.name}")


def seed() -> None:
    for service in SERVICES:
        asyncio.run(service.load_demo_data(database_url(service)))
    print("demo data loaded")


async def _verify_audit(service: ServiceProcess) -> bool:
    tables = define_audit_tables(new_metadata())
    db = Database(database_url(service))
    try:
        async with db.engine.connect() as conn:
            audited = await conn.run_sync(lambda sync: inspect(sync).has_table("audit_head"))
        if not audited:
            print(f"{service.name}: no audit trail in this database (not migrated yet?)")
            return True
        async with db.sessionmaker() as session:
            verdict = (await verify_audit(session, tables)).as_dict()
    finally:
        await db.dispose()
    return _report_chain(service.name, verdict)


def _report_chain(name: str, verdict: dict[str, Any]) -> bool:
    """Prints whether the chain holds (or its first broken row); True when it does."""
    broken = verdict["first_broken"]
    if broken is None:
        print(f"{name}: audit chain intact, {verdict['rows_checked']} rows, head {verdict['head']['hash']}")
    else:
        print(f"{name}: audit chain BROKEN at row {broken['seq']}: {broken['reason']}")
    return broken is None


def _revocation_store_url() -> str | None:
    """PUTOKAZ_REVOCATION_URL, else the dev SQLite file; None when there is no store to check."""
    from putokaz.settings import KernelSettings

    url = KernelSettings().resolved_revocation_url()
    sqlite_file = make_url(url).database if url and url.startswith("sqlite") else None
    if url is None or (sqlite_file is not None and not Path(sqlite_file).exists()):
        # Opening the store would create it: a store nobody wrote to has nothing to check.
        return None
    return url


async def _verify_revocation_audit(url: str | None) -> bool:
    """The token-revocation store's own chain."""
    from putokaz.revocation import make_store

    if url is None:
        print("revocations: no revocation store configured or written yet")
        return True
    store = make_store(url)
    try:
        verdict = await store.verify_audit()
    finally:
        await store.close()
    if verdict is None:
        print("revocations: the Redis store keeps no audit chain")
        return True
    return _report_chain("revocations", verdict)


def audit_verify() -> None:
    """Exits 1 when any service's audit chain, or the revocation store's, is broken (naming its first broken row)."""
    results = [asyncio.run(_verify_audit(service)) for service in SERVICES]
    results.append(asyncio.run(_verify_revocation_audit(_revocation_store_url())))
    if not all(results):
        sys.exit(1)


def run(port_base: int = GATEWAY_PORT) -> None:
    ensure_secret()
    feed_secret = ensure_feed_secret()
    referral_feed_secret = ensure_referral_feed_secret()
    migrate()
    seed()
    env = {**os.environ, "PUTOKAZ_ENVIRONMENT": os.environ.get("PUTOKAZ_ENVIRONMENT", "dev")}
    # Local demos may point partner webhooks at a receiver on this machine.
    env.setdefault("PUTOKAZ_WEBHOOK_ALLOW_PRIVATE_TARGETS", "true")
    uvicorn = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "--host",
        "127.0.0.1",
        "--no-access-log",
        "--no-server-header",
        # uvicorn would believe X-Forwarded-For from 127.0.0.1; the gateway decides whom to trust itself.
        "--no-proxy-headers",
    ]
    children: list[subprocess.Popen[bytes]] = []
    for service in SERVICES:
        feeds = event_env(service, feed_secret, port_base, referral_feed_secret)
        child_env = {**env, "PUTOKAZ_DATABASE_URL": database_url(service), **feeds}
        port = service.port - GATEWAY_PORT + port_base
        env[f"PUTOKAZ_{service.name.upper()}_URL"] = f"http://127.0.0.1:{port}"
        children.append(subprocess.Popen([*uvicorn, service.app, "--port", str(port)], env=child_env))
    children.append(subprocess.Popen([*uvicorn, GATEWAY_APP, "--port", str(port_base)], env=env))
    print(f"Putokaz is starting: gateway http://127.0.0.1:{port_base} (docs at /docs); Ctrl-C stops everything")

    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while not stopping:
            if any(child.poll() is not None for child in children):
                print("a process stopped; stopping the others", file=sys.stderr)
                break
            time.sleep(0.5)
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()


def token(role: str, org: str | None, sub: str | None, ttl: int) -> None:
    """Print a token the running system accepts: its configured secret, issuer and audience (never production)."""
    if role not in ROLES:
        sys.exit(f"unknown role {role!r}; one of: {', '.join(ROLES)}")
    settings = KernelSettings()
    if settings.environment == "production":
        sys.exit("make token mints dev tokens; in production tokens come from the identity provider")
    secret = settings.jwt_secret or ensure_secret()
    print(
        issue_token(
            secret,
            sub=sub or f"demo-{role}",
            roles=[role],
            org=org or DEMO_ORGS[role],
            ttl_seconds=ttl,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
        )
    )


def revision(service_name: str, message: str) -> None:
    from alembic import command

    service = next((s for s in SERVICES if s.name == service_name), None)
    if service is None:
        sys.exit(f"unknown service {service_name!r}")
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    scratch = VAR_DIR / f"revision-{service.name}.db"
    scratch.unlink(missing_ok=True)
    url = f"sqlite+aiosqlite:///{scratch}"
    upgrade(service.migrations_dir, url)
    command.revision(alembic_config(service.migrations_dir, url), message=message, autogenerate=True)
    scratch.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="putokaz-dev", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("secret")
    commands.add_parser("migrate")
    commands.add_parser("seed")
    commands.add_parser("audit-verify")
    run_parser = commands.add_parser("run")
    run_parser.add_argument(
        "--port-base", type=int, default=GATEWAY_PORT, help="gateway port; the services take the next three"
    )
    token_parser = commands.add_parser("token")
    token_parser.add_argument("--role", required=True)
    token_parser.add_argument("--org")
    token_parser.add_argument("--sub")
    token_parser.add_argument("--ttl", type=int, default=8 * 3600)
    revision_parser = commands.add_parser("revision")
    revision_parser.add_argument("service")
    revision_parser.add_argument("message")
    args = parser.parse_args(argv)
    os.chdir(Path(PROJECT_ROOT))
    private_var_dir()
    if args.command == "secret":
        ensure_secret()
    elif args.command == "migrate":
        migrate()
    elif args.command == "seed":
        seed()
    elif args.command == "audit-verify":
        audit_verify()
    elif args.command == "run":
        run(args.port_base)
    elif args.command == "token":
        token(args.role, args.org, args.sub, args.ttl)
    elif args.command == "revision":
        revision(args.service, args.message)


if __name__ == "__main__":
    main()
