"""pytest fixtures shared by every test suite: real PostgreSQL databases, tokens, apps and processes.

Registered as a plugin by the root conftest.py. PostgreSQL comes from TEST_DATABASE_URL when set,
else from testcontainers; with neither, tests fail with a clear message (never a silent skip).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from fastapi import FastAPI

from putokaz.auth import issue_token, new_secret
from putokaz.db import async_url
from putokaz.migrations import upgrade
from putokaz.openapi import api_routes as api_routes  # re-exported: route walks in tests
from putokaz.settings import PROJECT_ROOT

TEST_ISSUER = "putokaz-test"
TEST_AUDIENCE = "putokaz"


def _with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def _asyncpg_dsn(url: str) -> str:
    return async_url(url).replace("postgresql+asyncpg://", "postgresql://")


async def _admin(url: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def worker_id() -> str:
    """The pytest-xdist worker running this process (`gw0`, `gw1`, …), `main` without xdist."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


class PostgresServer:
    """Creates and drops throwaway databases on one PostgreSQL server.

    A database with migrations is copied from a template migrated once per process (one xdist worker):
    `CREATE DATABASE … TEMPLATE …` copies files, so Alembic runs once per service per worker rather than
    once per test module. Names carry the worker id, so parallel workers never share a database.
    """

    def __init__(self, admin_url: str) -> None:
        self.admin_url = async_url(admin_url)
        self.base_name = urlsplit(self.admin_url).path.lstrip("/") or "postgres"
        self.created: list[str] = []
        self.templates: dict[tuple[Path, str], str] = {}

    def _new_name(self, label: str) -> str:
        return f"{self.base_name}_{worker_id()}_{label}_{uuid.uuid4().hex[:8]}".lower()[:63]

    def _create(self, name: str, template: str | None = None) -> str:
        clause = f' TEMPLATE "{template}"' if template else ""
        asyncio.run(_admin(self.admin_url, f'CREATE DATABASE "{name}"{clause}'))
        self.created.append(name)
        return _with_database(self.admin_url, name)

    def template_for(
        self, migrations_dir: Path, prepare: Callable[[str], None] | None = None, prepared_as: str = ""
    ) -> str:
        """The name of this worker's migrated template for these migrations (migrated on first use).

        With `prepare` (e.g. loading demo data), a second template is made from the migrated one and
        prepared once under the name `prepared_as`: whole stacks copy it instead of loading data each time.
        """
        key = (migrations_dir, prepared_as if prepare else "")
        if key not in self.templates:
            if prepare is None:
                name = self._new_name(f"tpl_{migrations_dir.parent.name}")
                upgrade(migrations_dir, self._create(name))
            else:
                name = self._new_name(f"tpl_{migrations_dir.parent.name}_{prepared_as}")
                prepare(self._create(name, self.template_for(migrations_dir)))
            self.templates[key] = name
        return self.templates[key]

    def create_database(
        self,
        label: str,
        migrations_dir: Path | None = None,
        prepare: Callable[[str], None] | None = None,
        prepared_as: str = "",
    ) -> str:
        """A fresh database, copied from the migrated (and, with `prepare`, prepared) template if given."""
        template = self.template_for(migrations_dir, prepare, prepared_as) if migrations_dir is not None else None
        return self._create(self._new_name(label), template)

    def drop_all(self) -> None:
        # Copies first, templates last (a template cannot be dropped while a copy is being made).
        for name in reversed(self.created):
            with contextlib.suppress(Exception):
                asyncio.run(_admin(self.admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.created.clear()
        self.templates.clear()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    url = os.environ.get("TEST_DATABASE_URL")
    container = None
    if not url:
        try:
            from testcontainers.postgres import PostgresContainer

            container = PostgresContainer("postgres:16-alpine", driver="asyncpg")
            container.start()
            url = container.get_connection_url()
        except Exception as exc:
            pytest.fail(
                "The tests need a real PostgreSQL. Set TEST_DATABASE_URL (e.g. "
                "postgresql://postgres@127.0.0.1:5432/postgres) or run a Docker engine for testcontainers. "
                f"testcontainers failed with: {type(exc).__name__}: {exc}",
                pytrace=False,
            )
    server = PostgresServer(url)
    try:
        yield server
    finally:
        server.drop_all()
        if container is not None:
            container.stop()


def service_migrations(service: str) -> Path:
    return PROJECT_ROOT / "services" / service / "migrations"


@pytest.fixture(scope="session")
def jwt_secret() -> str:
    return new_secret()


@pytest.fixture(scope="session")
def make_token(jwt_secret: str) -> Callable[..., str]:
    """`make_token("police", org="org-a")` → a valid access token for the test secret."""

    def factory(*roles: str, org: str = "org-a", sub: str | None = None, **kw: Any) -> str:
        kw.setdefault("issuer", TEST_ISSUER)
        kw.setdefault("audience", TEST_AUDIENCE)
        return issue_token(jwt_secret, sub=sub or f"user-{'-'.join(roles)}-{org}", roles=list(roles), org=org, **kw)

    return factory


def process_environment(jwt_secret: str) -> dict[str, str]:
    """Environment for processes in tests and benchmarks (token verification with the given secret)."""
    return {
        "PUTOKAZ_ENVIRONMENT": "test",
        "PUTOKAZ_JWT_SECRET": jwt_secret,
        "PUTOKAZ_JWT_ISSUER": TEST_ISSUER,
        "PUTOKAZ_JWT_AUDIENCE": TEST_AUDIENCE,
    }


@pytest.fixture(scope="session")
def kernel_env(jwt_secret: str) -> dict[str, str]:
    return process_environment(jwt_secret)


def settings_kwargs(jwt_secret: str, database_url: str) -> dict[str, Any]:
    return {
        "environment": "test",
        "jwt_secret": jwt_secret,
        "jwt_issuer": TEST_ISSUER,
        "jwt_audience": TEST_AUDIENCE,
        "database_url": database_url,
    }


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@contextlib.asynccontextmanager
async def app_client(app: FastAPI, *, raise_app_exceptions: bool = False) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client speaking ASGI to `app`, with its lifespan run around it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def truncate_tables(engine: Any, tables: Iterable[str], *, cascade: bool = False) -> None:
    """Empty `tables` (those that exist) between tests, retrying a deadlock with the app's background jobs.

    An app under test runs its jobs (outbox dispatch, expiry, retention, overdue sweeps) while a fixture
    empties its tables; TRUNCATE's exclusive locks can then meet a job's row locks in the opposite order and
    PostgreSQL fails one side. Trying again shortly after succeeds once the job's transaction is over.
    """
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    wanted = list(tables)
    for attempt in range(5):
        try:
            async with engine.begin() as conn:
                existing = set(
                    (await conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))).scalars()
                )
                present = [table for table in wanted if table in existing]
                if present:
                    await conn.execute(text(f"TRUNCATE {', '.join(present)}{' CASCADE' if cascade else ''}"))
            return
        except DBAPIError as exc:
            if "deadlock detected" not in str(exc) or attempt == 4:
                raise
            await asyncio.sleep(0.1 * (attempt + 1))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class UvicornProcess:
    """A real uvicorn process on loopback, for cross-service and fault tests."""

    def __init__(self, app: str, env: dict[str, str], port: int | None = None, log_path: Path | None = None) -> None:
        self.app = app
        self.env = env
        self.port = port or free_port()
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0) -> UvicornProcess:
        return self.spawn().wait_healthy(timeout)

    def spawn(self) -> UvicornProcess:
        """Start the process without waiting: several processes then import and start side by side."""
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                self.app,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--no-access-log",
                "--no-server-header",
                "--no-proxy-headers",
            ],
            env={**os.environ, **self.env},
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=log,
        )
        return self

    def wait_healthy(self, timeout: float = 90.0) -> UvicornProcess:
        assert self.process is not None, "spawn() first"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.app} exited with {self.process.returncode}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.app} did not become healthy in {timeout}s")

    def stop(self, kill: bool = False) -> None:
        self.signal_stop(kill)
        self.wait_stopped()

    def signal_stop(self, kill: bool = False) -> None:
        """Ask the process to stop (SIGTERM: uvicorn's graceful shutdown; SIGKILL with `kill`)."""
        if self.process and self.process.poll() is None:
            if kill:
                self.process.kill()
            else:
                self.process.terminate()

    def wait_stopped(self, timeout: float = 10.0) -> None:
        if self.process and self.process.returncode is None:
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_all(processes: list[UvicornProcess], timeout: float = 180.0) -> None:
    """Start the processes side by side and wait until every one is healthy (all stopped if one fails)."""
    try:
        for process in processes:
            process.spawn()
        for process in processes:
            process.wait_healthy(timeout)
    except BaseException:
        stop_all(processes)
        raise


def stop_all(processes: Iterable[UvicornProcess]) -> None:
    """Stop the processes side by side: each graceful shutdown runs while the others run theirs."""
    processes = list(processes)
    for process in processes:
        process.signal_stop()
    for process in processes:
        process.wait_stopped()


def schema_cases(operation: Any, count: int) -> list[Any]:
    """Up to `count` schemathesis cases for one OpenAPI operation, drawn by hypothesis.

    Drawing is synchronous; callers send the cases afterwards (on their own event loop if async).
    """
    import warnings

    from hypothesis import HealthCheck, given, settings

    cases: list[Any] = []

    @settings(max_examples=count, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def collect(case: Any) -> None:
        cases.append(case)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        collect()
    return cases


async def fuzz_app(
    app: FastAPI,
    client: httpx.AsyncClient,
    headers_for: Callable[[Any], dict[str, str] | None],
    count: int,
) -> tuple[int, list[str]]:
    """Send `count` schemathesis cases of every operation of `app`'s OpenAPI through an in-process client.

    `headers_for(operation)` gives the caller's headers (a token of the right role), or None to leave the
    operation out. Returns how many operations were fuzzed and every answer ≥ 500 as a readable line.
    """
    import schemathesis

    schema = schemathesis.openapi.from_dict(app.openapi())
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        headers = headers_for(operation)
        if headers is None:
            continue
        for case in schema_cases(operation, count):
            kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
            data = kwargs.get("data")
            response = await client.request(
                kwargs["method"],
                kwargs["url"].removeprefix("http://testserver"),
                params=kwargs.get("params"),
                headers=kwargs.get("headers"),
                content=data if isinstance(data, str | bytes) else None,
                json=kwargs.get("json"),
            )
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} {kwargs.get('params')} -> "
                    f"{response.status_code} {response.text[:200]}"
                )
        operations += 1
    return operations, failures
