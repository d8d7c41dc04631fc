"""The whole system as real local processes on PostgreSQL: every service and the gateway, for tests and benches.

The kernel's test helpers know nothing of the services; this module wires them together from
deploy.processes (the one list of processes, ports and apps).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from deploy.processes import GATEWAY_APP, SERVICES, ServiceProcess
from putokaz.testing import PostgresServer, UvicornProcess, free_port, start_all, stop_all


@dataclass
class Stack:
    """Running processes: the services (by name), the gateway, their databases and log files.

    With replicas, `services` and `gateway` are the first replica; `replicas[name]` lists every process
    of a service and `gateways` every gateway (each gateway balances over every replica of each service).
    """

    gateway: UvicornProcess
    services: dict[str, UvicornProcess]
    database_urls: dict[str, str]
    log_dir: Path
    feed_secret: str
    replicas: dict[str, list[UvicornProcess]] = field(default_factory=dict)
    gateways: list[UvicornProcess] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.gateway.url

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.log_dir.glob("*.log")))

    def stop(self) -> None:
        # `services` may hold a replacement (a fault test restarts a process); stopping twice is harmless.
        stop_all({*self.gateways, self.gateway, *self.services.values(), *self.all_replicas()})

    def all_replicas(self) -> list[UvicornProcess]:
        return [process for processes in self.replicas.values() for process in processes]


def _demo_loader(service: ServiceProcess) -> Callable[[str], None]:
    return lambda url: asyncio.run(service.load_demo_data(url))


def start_stack(
    postgres_server: PostgresServer,
    base_env: dict[str, str],
    log_dir: Path,
    extra_env: dict[str, dict[str, str]] | None = None,
    replicas_each: int = 1,
) -> Stack:
    """Migrate a fresh database per service, load the demo data, start every service, then the gateway.

    `replicas_each=2` starts every service and the gateway twice, all replicas on the same databases.
    """
    extra_env = extra_env or {}
    log_dir.mkdir(parents=True, exist_ok=True)
    feed_secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    ports = {service.name: free_port() for service in SERVICES}
    registry_feed = json.dumps(
        [
            {
                "url": f"http://127.0.0.1:{ports['registry']}/internal/events",
                "secret": feed_secret,
                "event_types": ["registry.*"],
            }
        ]
    )
    # Screening also feeds referral (consent states, submitted screenings, withdrawals) with its own secret.
    referral_feed_secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    screening_feeds = json.dumps(
        [
            *json.loads(registry_feed),
            {
                "url": f"http://127.0.0.1:{ports['referral']}/internal/events",
                "secret": referral_feed_secret,
                "event_types": ["screening.*"],
            },
        ]
    )
    # Each worker migrates and loads the demo data once per service, into a template every stack copies.
    urls = {
        s.name: postgres_server.create_database(
            f"stack_{s.name}", s.migrations_dir, prepare=_demo_loader(s), prepared_as="demo"
        )
        for s in SERVICES
    }
    # Few idle connections (a test run starts several stacks on one PostgreSQL, max_connections often 100),
    # room for bursts (twelve concurrent accepts wait on one row lock, each holding a connection).
    common = {
        "PUTOKAZ_DATABASE_POOL_SIZE": "2",
        "PUTOKAZ_DATABASE_MAX_OVERFLOW": "20",
        **base_env,
        "PUTOKAZ_WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
    }
    replicas: dict[str, list[UvicornProcess]] = {service.name: [] for service in SERVICES}
    gateways: list[UvicornProcess] = []
    for n in range(replicas_each):
        for service in SERVICES:
            env = {
                **common,
                "PUTOKAZ_DATABASE_URL": urls[service.name],
                "PUTOKAZ_REGISTRY_FEED_SECRET": feed_secret,
                "PUTOKAZ_INTERNAL_SUBSCRIPTIONS": screening_feeds if service.name == "screening" else registry_feed,
                "PUTOKAZ_REFERRAL_FEED_SECRET": referral_feed_secret,
                # The strategy service reads the registry's statistics directly (service to service).
                "PUTOKAZ_REGISTRY_URL": f"http://127.0.0.1:{ports['registry']}",
                **extra_env.get(service.name, {}),
            }
            port = ports[service.name] if n == 0 else free_port()
            log = log_dir / f"{service.name}{'' if n == 0 else f'-{n + 1}'}.log"
            replicas[service.name].append(UvicornProcess(service.app, env, port=port, log_path=log))
    # Every gateway balances over every replica of each service (comma-separated URLs).
    gateway_env = {
        **common,
        **{f"PUTOKAZ_{name.upper()}_URL": ",".join(p.url for p in ps) for name, ps in replicas.items()},
        **extra_env.get("gateway", {}),
    }
    for n in range(replicas_each):
        log = log_dir / f"gateway{'' if n == 0 else f'-{n + 1}'}.log"
        gateways.append(UvicornProcess(GATEWAY_APP, gateway_env, log_path=log))
    # Side by side: a service that starts before another only retries its deliveries (the outbox keeps them),
    # and the gateway answers 502/503 for a replica not yet up — but nothing is used before all are healthy.
    start_all([*(p for processes in replicas.values() for p in processes), *gateways])
    return Stack(
        gateway=gateways[0],
        services={name: processes[0] for name, processes in replicas.items()},
        database_urls=urls,
        log_dir=log_dir,
        feed_secret=feed_secret,
        replicas=replicas,
        gateways=gateways,
    )


@contextlib.contextmanager
def running_stack(
    postgres_server: PostgresServer,
    base_env: dict[str, str],
    log_dir: Path,
    extra_env: dict[str, dict[str, str]] | None = None,
    replicas_each: int = 1,
) -> Iterator[Stack]:
    """`start_stack` for a fixture's lifetime: every process is stopped however the tests end."""
    running = start_stack(postgres_server, base_env, log_dir, extra_env=extra_env, replicas_each=replicas_each)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def stack(
    postgres_server: PostgresServer, kernel_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """The whole system, started once per test session for cross-service tests.

    Not an xdist group: each worker starts its own (one stack start more per worker, ~10 s of CPU), so the
    cross-service and browser tests spread over every worker instead of queueing on one.
    """
    with running_stack(postgres_server, kernel_env, tmp_path_factory.mktemp("stack-logs")) as running:
        yield running


def own_stack(label: str) -> Callable[..., Iterator[Stack]]:
    """A module fixture: a whole stack of the module's own (its counters and statistics start from zero).

    Used as `journey_stack = own_stack("journey")`; keep the module's tests on one xdist worker.
    """

    @pytest.fixture(scope="module")
    def fixture(
        postgres_server: PostgresServer, kernel_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[Stack]:
        with running_stack(postgres_server, kernel_env, tmp_path_factory.mktemp(f"{label}-logs")) as running:
            yield running

    return fixture


def _module_weight(items: list[pytest.Item]) -> int:
    """How early a module's tests should start: own processes first, then the shared stack's, then the rest."""
    if any(item.get_closest_marker("xdist_group") for item in items):
        return 2
    if any({"stack", "web"} & set(getattr(item, "fixturenames", ())) for item in items):
        return 1
    return 0


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under `--dist loadgroup` a module's tests run on one worker (its module fixtures — databases, browsers,
    processes — are set up once, not once per worker), and the modules that take longest start first so
    that short ones fill the end of the run. Runs before pytest-xdist reads the groups.
    """
    modules: dict[str, list[pytest.Item]] = {}
    for item in items:
        modules.setdefault(item.nodeid.split("::")[0], []).append(item)
    weights = {module: _module_weight(module_items) for module, module_items in modules.items()}
    for module, module_items in modules.items():
        for item in module_items:
            if item.get_closest_marker("xdist_group") is None:
                item.add_marker(pytest.mark.xdist_group(module))
    items.sort(key=lambda item: -weights[item.nodeid.split("::")[0]])


def pytest_configure(config: pytest.Config) -> None:
    """Refuse `--dist loadgroup` where it cannot group: pytest-xdist names a group by rewriting an item's
    `_nodeid`, which pytest 9.2 no longer reads (it keeps `_id`); every group would be silently ignored."""
    from _pytest.nodes import Node

    grouping = config.getoption("dist", None) == "loadgroup" and not hasattr(config, "workerinput")
    if grouping and "_nodeid" not in Node.nodeid.fget.__code__.co_names:  # type: ignore[attr-defined]
        raise pytest.UsageError(
            "--dist loadgroup would ignore every xdist_group with this pytest (node ids no longer read from "
            "`_nodeid`): install the versions pyproject.toml pins (make install)"
        )


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Fail the run if xdist groups are not applied: modules that start their own stack (faults, scale-out,
    journeys, `make run`) would each start it once per worker, and tests that must share one would not.

    pytest-xdist names a group by suffixing the node id (`…::test@faults`) while collecting on a worker; a
    pytest that stores node ids differently (9.2 with xdist 3.8) silently drops the suffix.
    """
    config = session.config
    if not getattr(config.option, "loadgroup", False):
        return
    lost = [item.nodeid for item in session.items if item.get_closest_marker("xdist_group") and "@" not in item.nodeid]
    if lost:
        raise pytest.UsageError(
            f"--dist loadgroup is not grouping: {len(lost)} tests marked xdist_group carry no group "
            f"(e.g. {lost[0]}); check the pytest / pytest-xdist versions (pyproject.toml)"
        )
