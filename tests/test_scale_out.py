"""Two replicas of every service and of the gateway on one PostgreSQL and one Redis: nothing happens twice.

Gateway i proxies to replica i of each service, and the tests alternate between the gateways, so
requests are spread over both replicas of every service. Both replicas of a service run their outbox
dispatcher and their background jobs against the same database.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from deploy.stack import Stack, running_stack
from putokaz.db import create_engine
from putokaz.testing import PostgresServer
from tests.journeys import CONSENT_VERSION, PRESUMED_ADULT_ANSWERS, bearer, ok, screen, unique_person, wait_for

pytestmark = pytest.mark.xdist_group("scale_out")

REDIS_URL = "redis://127.0.0.1:6379/0"
BURST = 30
PER_MINUTE = 60


@pytest.fixture(scope="module")
def replicated(
    postgres_server: PostgresServer, kernel_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        pytest.fail(f"the scale-out test needs Redis at {REDIS_URL}: {exc}", pytrace=False)
    limits = {
        "PUTOKAZ_RATE_LIMIT_BACKEND": REDIS_URL,
        "PUTOKAZ_RATE_LIMIT_PER_MINUTE": str(PER_MINUTE),
        "PUTOKAZ_RATE_LIMIT_BURST": str(BURST),
    }
    logs = tmp_path_factory.mktemp("scale-out-logs")
    with running_stack(postgres_server, kernel_env, logs, extra_env={"gateway": limits}, replicas_each=2) as running:
        yield running


def _rows(url: str, sql: str, **params: object) -> list[Any]:
    async def run() -> list[Any]:
        engine = create_engine(url)
        async with engine.connect() as conn:
            rows = (await conn.execute(text(sql), params)).all()
        await engine.dispose()
        return [tuple(r) for r in rows]

    return asyncio.run(run())


def _count(url: str, sql: str, **params: object) -> int:
    return int(_rows(url, sql, **params)[0][0])


def clients(stack: Stack) -> list[httpx.Client]:
    return [httpx.Client(base_url=g.url, timeout=60) for g in stack.gateways]


def test_two_replicas_of_everything_are_running(replicated: Stack) -> None:
    assert len(replicated.gateways) == 2
    assert {name: len(processes) for name, processes in replicated.replicas.items()} == {
        name: 2 for name in replicated.replicas
    }
    for process in [*replicated.gateways, *replicated.all_replicas()]:
        assert httpx.get(process.url + "/healthz", timeout=10).status_code == 200


def test_every_fact_is_delivered_once_by_two_dispatchers(replicated: Stack, make_token: Callable[..., str]) -> None:
    screening_db, registry_db = replicated.database_urls["screening"], replicated.database_urls["registry"]
    gateways = itertools.cycle(clients(replicated))
    submitted = []
    for n in range(6):
        token = make_token("social_worker", org="org-scale", sub=f"scale-{uuid.uuid4().hex[:8]}-{n}")
        submitted.append(screen(next(gateways), token, unique_person(), PRESUMED_ADULT_ANSWERS))
    ids = [s["id"] for s in submitted]
    facts = [r[0] for r in _rows(screening_db, "SELECT fact_id FROM screenings WHERE id = ANY(:ids)", ids=ids)]
    assert len(facts) == 6
    these = "WHERE d.event_type = 'registry.screening_fact' AND d.aggregate_id = ANY(:f)"
    deliveries = f"FROM webhook_deliveries d {these}"
    attempts = f"FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id {these}"
    wait_for(lambda: _count(screening_db, f"SELECT count(*) {deliveries} AND d.status = 'delivered'", f=facts) == 6)
    # Nothing in flight: every claimed attempt is recorded (a claim counts attempt_count up first).
    wait_for(
        lambda: (
            _count(screening_db, f"SELECT coalesce(sum(d.attempt_count), 0) {deliveries}", f=facts)
            == _count(screening_db, f"SELECT count(*) {attempts}", f=facts)
        )
    )
    # One delivery per fact and subscription, accepted once, though two dispatchers poll the same outbox.
    assert _count(screening_db, f"SELECT count(*) {deliveries}", f=facts) == 6
    assert _count(screening_db, f"SELECT count(*) {attempts} AND a.succeeded", f=facts) == 6
    assert _count(registry_db, "SELECT count(*) FROM screening_facts WHERE fact_id = ANY(:f)", f=facts) == 6


def _safe_house(client: httpx.Client, admin: str, places: int) -> tuple[str, str]:
    """A provider organisation with one confidential safe house of `places` places, made by an admin."""

    def create(path: str, body: dict[str, Any]) -> dict[str, Any]:
        return ok(client.post(path, headers=bearer(admin), json=body), 201)

    org = f"org-house-{uuid.uuid4().hex[:8]}"
    create("/api/v1/organisations", {"id": org, "name": org, "kind": "service_provider"})
    place = {"entity": "FBIH", "canton": 4, "municipality": "Zenica", "address_1": "Secret street 7"}
    location = create("/api/v1/locations", {"organisation_id": org, "name": "House", "confidential": True, **place})
    capacity = {"available": places, "maximum": places}
    service = create(
        "/api/v1/services",
        {
            "organisation_id": org,
            "name": "Safe house",
            "service_type": "safe_house",
            "location_ids": [location["id"]],
            "capacity": capacity,
        },
    )
    return org, service["id"]


def _refer(client: httpx.Client, make_token: Callable[..., str], service_id: str, *, urgent: bool = False) -> str:
    """Screen a person (the referral service must know the screening), then refer them; the referral's id."""
    token = make_token("police", org="demo-police-una-sana", sub=f"police-{uuid.uuid4().hex[:8]}")
    screening = screen(client, token, unique_person(), PRESUMED_ADULT_ANSWERS)
    body = {
        "screening_id": screening["id"],
        "service_id": service_id,
        "urgent": urgent,
        "profile": {
            "age": 30,
            "sex": "F",
            "languages": ["bs"],
            "forms": ["sexual"],
            "place": {"entity": "FBIH", "canton": 4, "municipality": "Zenica"},
        },
        "consent": {"recorded": True, "text_version": CONSENT_VERSION},
    }

    def created() -> str | None:
        # The screening reaches the referral service as an event, a moment after it is submitted.
        answer = client.post("/api/v1/referrals", headers=bearer(token), json=body)
        return answer.json()["id"] if answer.status_code == 201 else None

    return wait_for(created, timeout=120)


def test_concurrent_accepts_across_replicas_never_overbook(replicated: Stack, make_token: Callable[..., str]) -> None:
    one, two = clients(replicated)
    org, service_id = _safe_house(one, make_token("admin", org="org-admin", sub=f"admin-{uuid.uuid4().hex[:8]}"), 3)
    provider = make_token("service_provider", org=org, sub=f"provider-{uuid.uuid4().hex[:8]}")
    referrals = []
    for _, client in zip(range(12), itertools.cycle((one, two)), strict=False):
        referrals.append(_refer(client, make_token, service_id))

    def accept(pair: tuple[int, str]) -> int:
        n, referral_id = pair
        client = (one, two)[n % 2]
        return client.post(
            f"/api/v1/referrals/{referral_id}/transitions", headers=bearer(provider), json={"status": "accepted"}
        ).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        codes = sorted(pool.map(accept, enumerate(referrals)))
    assert codes == [200] * 3 + [409] * 9, codes
    held = _count(
        replicated.database_urls["referral"],
        "SELECT count(*) FROM referrals WHERE service_id = :s AND status = 'accepted' AND place_reserved",
        s=service_id,
    )
    assert held == 3
    service = ok(one.get(f"/api/v1/services/{service_id}", headers=bearer(provider)))
    assert service["capacity"]["available"] == 0


def test_rate_limit_is_shared_by_the_gateways(replicated: Stack, make_token: Callable[..., str]) -> None:
    token = make_token("police", org="org-limits", sub=f"limited-{uuid.uuid4().hex}")
    answers = []
    for client in itertools.islice(itertools.cycle(clients(replicated)), 2 * BURST + 20):
        answers.append(client.get("/api/v1/questionnaires", headers=bearer(token)).status_code)
    allowed = answers.count(200)
    assert answers.count(429) > 0
    assert set(answers) <= {200, 429}
    # One bucket for both gateways: about BURST answers (plus what refills meanwhile, one a second),
    # where two separate buckets would let through about twice as many.
    assert allowed < 2 * BURST - 5, answers


def test_expiry_sweeps_running_at_once_never_expire_a_referral_twice(
    replicated: Stack, make_token: Callable[..., str]
) -> None:
    """Every replica runs the expiry job; four sweeps at once a month later each take different referrals."""
    from putokaz.clock import FakeClock
    from putokaz.db import Database
    from services.referral.referrals.scheduler import sweep_once

    one, two = clients(replicated)
    _, service_id = _safe_house(one, make_token("admin", org="org-admin", sub=f"admin-{uuid.uuid4().hex[:8]}"), 50)
    ours = [
        _refer(client, make_token, service_id, urgent=True)
        for _, client in zip(range(10), itertools.cycle((one, two)), strict=False)
    ]
    url = replicated.database_urls["referral"]

    async def four_sweeps() -> list[list[str]]:
        clock = FakeClock()
        clock.advance(days=30)
        dbs = [Database(url) for _ in range(4)]
        try:
            return list(await asyncio.gather(*(sweep_once(db, clock) for db in dbs)))
        finally:
            for db in dbs:
                await db.dispose()

    expired = [rid for sweep in asyncio.run(four_sweeps()) for rid in sweep]
    assert len(expired) == len(set(expired)), "a referral was expired by two sweeps"
    assert set(ours) <= set(expired)
    twice = _rows(
        url,
        "SELECT referral_id FROM referral_transitions WHERE to_status = 'expired' GROUP BY referral_id "
        "HAVING count(*) > 1",
    )
    assert twice == []


def _served(process_url: str, route: str) -> int:
    """How many requests of `route` this replica has answered (from its own Prometheus counters)."""
    metrics = httpx.get(process_url + "/metrics", timeout=10).text
    marker = f'route="{route}"'
    return int(
        sum(
            float(line.rsplit(" ", 1)[1])
            for line in metrics.splitlines()
            if line.startswith("putokaz_http_requests_total{") and marker in line
        )
    )


def test_one_gateway_spreads_requests_over_the_replicas_and_passes_over_one_that_is_down(
    replicated: Stack, make_token: Callable[..., str]
) -> None:
    """Runs last: it stops the second screening replica."""
    route = "/api/v1/questionnaires"
    first, second = replicated.replicas["screening"]
    before = [_served(first.url, route), _served(second.url, route)]
    token = make_token("police", org="org-balance", sub=f"balance-{uuid.uuid4().hex}")
    with httpx.Client(base_url=replicated.gateway.url, timeout=60) as client:
        for _ in range(10):
            ok(client.get(route, headers=bearer(token)))
        after = [_served(first.url, route), _served(second.url, route)]
        assert [a - b for a, b in zip(after, before, strict=True)] == [5, 5]  # taken in turn

        second.stop()
        # Every request still answered (a refused connection carried nothing: the other replica takes it),
        # and a POST too.
        assert [client.get(route, headers=bearer(token)).status_code for _ in range(10)] == [200] * 10
        started = client.post(
            "/api/v1/screenings",
            headers=bearer(token),
            json={"language": "bs", "subject": unique_person(), "place": {"entity": "FBIH", "canton": 9}},
        )
        assert started.status_code == 201, started.text
        assert _served(first.url, route) - after[0] == 10
        ready = wait_for(lambda: (r := client.get("/readyz").json())["services"]["screening"] != "ready" and r)
        assert ready["services"]["screening"] == "ready (1 of 2 replicas)"
        assert ready["status"] == "ready"
