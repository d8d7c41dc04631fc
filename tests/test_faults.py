"""Fault suite: a service killed mid-request, the registry away for a while, a partner down for a day,
PostgreSQL restarted under load. Nothing accepted is lost; callers get clear 5xx problems, never a hang."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import text

from deploy.stack import Stack, running_stack
from putokaz.clock import FakeClock
from putokaz.db import Database, create_engine, new_metadata
from putokaz.events import define_event_tables, emit
from putokaz.events.config import EventSettings
from putokaz.events.dispatcher import Dispatcher
from putokaz.events.endpoints import EndpointStore
from putokaz.events.secrets import secret_box
from putokaz.events.testing import ScriptedAnswer, database_with_tables, loopback_receiver
from putokaz.testing import PostgresServer, UvicornProcess
from tests.journeys import PRESUMED_ADULT_ANSWERS, bearer, screen, unique_person, wait_for

# The module starts its own processes once (a module fixture): keep its tests on one xdist worker.
pytestmark = pytest.mark.xdist_group("faults")

START_BODY = {
    "language": "en",
    "place": {"entity": "FBIH", "canton": 9, "municipality": "Sarajevo"},
    "consent": {"text_version": "2026-1", "referral": "given"},
}


@pytest.fixture(scope="module")
def fault_stack(
    postgres_server: PostgresServer, kernel_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    # Load here is deliberate: lift the per-subject rate limit so faults, not 429s, are what is measured.
    lifted = {
        "gateway": {"PUTOKAZ_RATE_LIMIT_PER_MINUTE": "1000000", "PUTOKAZ_RATE_LIMIT_BURST": "100000"},
        # Feeds between our own services retry every 2 s at most here, so an outage test need not wait 5 minutes.
        "screening": {"PUTOKAZ_INTERNAL_RETRY_CAP_SECONDS": "2"},
    }
    logs = tmp_path_factory.mktemp("fault-logs")
    with running_stack(postgres_server, kernel_env, logs, extra_env=lifted) as running:
        yield running


def _restart(stack: Stack, name: str, *, kill: bool) -> None:
    old = stack.services[name]
    old.stop(kill=kill)
    stack.services[name] = UvicornProcess(old.app, old.env, port=old.port, log_path=old.log_path).start()


def _scalar(url: str, sql: str, **params: object) -> int:
    async def run() -> int:
        engine = create_engine(url)
        async with engine.connect() as conn:
            value = (await conn.execute(text(sql), params)).scalar_one()
        await engine.dispose()
        return int(value)

    return asyncio.run(run())


def _column(url: str, sql: str, **params: object) -> list[str]:
    async def run() -> list[str]:
        engine = create_engine(url)
        async with engine.connect() as conn:
            values = (await conn.execute(text(sql), params)).scalars().all()
        await engine.dispose()
        return [str(v) for v in values]

    return asyncio.run(run())


def _create_screening(base_url: str, token: str) -> tuple[int, str | None, str]:
    try:
        response = httpx.post(
            base_url + "/api/v1/screenings",
            headers=bearer(token),
            timeout=40,
            json={**START_BODY, "subject": unique_person()},
        )
    except httpx.HTTPError as exc:
        return 0, None, type(exc).__name__
    body = response.json() if response.headers.get("content-type", "").endswith("json") else {}
    return response.status_code, body.get("id"), response.headers.get("content-type", "")


def test_service_killed_mid_request_answers_502_and_loses_nothing_accepted(fault_stack, make_token):
    token = make_token("social_worker", org="org-faults")
    results: list[tuple[int, str | None, str]] = []
    killed = threading.Event()

    def worker(_: int) -> None:
        results.append(_create_screening(fault_stack.url, token))
        if len(results) == 15 and not killed.is_set():
            killed.set()
            fault_stack.services["screening"].stop(kill=True)

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(worker, range(40)))
    assert killed.is_set()
    statuses = [status for status, _, _ in results]
    assert 500 not in statuses and 0 not in statuses, statuses  # no 500, no hang or dropped connection
    assert set(statuses) <= {201, 502, 503, 504}
    assert statuses.count(502) + statuses.count(504) > 0
    assert all(ctype == "application/problem+json" for status, _, ctype in results if status != 201)

    _restart(fault_stack, "screening", kill=False)
    accepted = [sid for status, sid, _ in results if status == 201]
    with httpx.Client(base_url=fault_stack.url, headers=bearer(token), timeout=30) as client:
        for sid in accepted:
            assert client.get(f"/api/v1/screenings/{sid}").status_code == 200, "a 201 answer was lost"
        assert client.post("/api/v1/screenings", json={**START_BODY, "subject": unique_person()}).status_code == 201


# The screening service's deliveries of these facts to the registry feed (its outbox, its attempts).
FACT_DELIVERIES = (
    "FROM webhook_deliveries d WHERE d.event_type = 'registry.screening_fact' AND d.aggregate_id = ANY(:facts)"
)
FACT_ATTEMPTS = (
    "FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id "
    "WHERE d.event_type = 'registry.screening_fact' AND d.aggregate_id = ANY(:facts)"
)


def test_registry_away_for_a_while_then_every_fact_arrives_once(fault_stack, make_token):
    screening_url, registry_url = fault_stack.database_urls["screening"], fault_stack.database_urls["registry"]
    processed = "SELECT count(*) FROM processed_webhooks WHERE event_type = 'registry.screening_fact'"
    facts_before, processed_before = (
        _scalar(registry_url, "SELECT count(*) FROM screening_facts"),
        _scalar(registry_url, processed),
    )
    fault_stack.services["registry"].stop()
    token = make_token("social_worker", org="org-faults")
    with httpx.Client(base_url=fault_stack.url, timeout=30) as client:
        submitted = [screen(client, token, unique_person(), PRESUMED_ADULT_ANSWERS) for _ in range(5)]
        assert all(s["state"] == "submitted" for s in submitted)
        # The registry being away never blocks the frontline.
        assert client.get("/readyz").status_code == 503
    facts = _column(
        screening_url, "SELECT fact_id FROM screenings WHERE id = ANY(:ids)", ids=[s["id"] for s in submitted]
    )
    assert len(facts) == 5
    # The absence was seen: every fact's delivery has failed at least once before the registry returns.
    wait_for(
        lambda: (
            _scalar(
                screening_url, f"SELECT count(DISTINCT a.delivery_id) {FACT_ATTEMPTS} AND NOT a.succeeded", facts=facts
            )
            == 5
        ),
        timeout=60,
    )
    _restart(fault_stack, "registry", kill=False)
    # The next attempt comes 5 s after the first failure, or 5 min later if the registry was still
    # starting then (a loaded machine): wait past the second retry rather than race the first.
    wait_for(
        lambda: (
            _scalar(screening_url, f"SELECT count(*) {FACT_DELIVERIES} AND d.status = 'delivered'", facts=facts) == 5
        ),
        timeout=360,
    )
    # Nothing in flight: every claimed attempt has been recorded (a claim counts up attempt_count first).
    wait_for(
        lambda: (
            _scalar(screening_url, f"SELECT coalesce(sum(d.attempt_count), 0) {FACT_DELIVERIES}", facts=facts)
            == _scalar(screening_url, f"SELECT count(*) {FACT_ATTEMPTS}", facts=facts)
        )
    )
    # Exactly one accepted delivery per fact, one processed message each, one stored fact each.
    assert _scalar(screening_url, f"SELECT count(*) {FACT_ATTEMPTS} AND a.succeeded", facts=facts) == 5
    assert _scalar(registry_url, processed) == processed_before + 5
    assert _scalar(registry_url, "SELECT count(*) FROM screening_facts") == facts_before + 5


CHILD_ANSWERS = {
    "act_moved": "yes",
    "worked_for_someone": "yes",
    "ex_begging_quota": "yes",
    "ex_excessive_hours": "yes",
}


def test_referral_and_registry_down_while_a_child_is_screened_then_the_child_reaches_social_welfare_once(
    fault_stack, make_token
):
    referral_url = fault_stack.database_urls["referral"]
    token = make_token("police", org="org-faults-child")
    child = unique_person() | {"age_estimate": 15, "sex": "F"}
    child.pop("date_of_birth", None)
    place = {"entity": "FBIH", "canton": 9, "municipality": "Sarajevo Centar"}
    with httpx.Client(base_url=fault_stack.url, headers=bearer(token), timeout=30) as client:
        started = client.post("/api/v1/screenings", json={"language": "bs", "subject": child, "place": place})
        assert started.status_code == 201, started.text
        sid = started.json()["id"]
        assert client.patch(f"/api/v1/screenings/{sid}/answers", json={"answers": CHILD_ANSWERS}).status_code == 200
        known = "SELECT count(*) FROM known_screenings WHERE screening_id = :sid"
        wait_for(lambda: _scalar(referral_url, known, sid=sid) == 1, timeout=30)
        fault_stack.services["referral"].stop()
        fault_stack.services["registry"].stop()
        # Submitting never waits for referral or the registry: screening only writes its outbox.
        submitted = client.post(f"/api/v1/screenings/{sid}/submit")
        assert submitted.status_code == 200 and submitted.json()["outcome"] != "NO_INDICATORS"
    _restart(fault_stack, "referral", kill=False)
    _restart(fault_stack, "registry", kill=False)
    sql = "SELECT count(*) FROM referrals WHERE screening_ref = :sid AND service_type = 'social_welfare'"
    wait_for(lambda: _scalar(referral_url, sql, sid=sid) >= 1, timeout=60)
    with httpx.Client(base_url=fault_stack.url, timeout=30) as client:
        csw = make_token("social_worker", org="demo-csw-sarajevo")
        inbox = client.get("/api/v1/referrals?box=received&urgent=true&limit=100", headers=bearer(csw)).json()
        assert any(r["profile"]["child"] for r in inbox["items"])
    # Every screening event the feed delivered is recorded once; the referral exists once whatever was retried.
    processed = "SELECT count(*) FROM processed_webhooks WHERE event_type = 'screening.submitted'"
    assert _scalar(referral_url, processed) >= 1
    assert _scalar(referral_url, sql, sid=sid) == 1


async def test_partner_down_for_a_day_gets_every_event_in_order_when_back(postgres_server):
    """Controlled clock: 24 hours of 503s, then the partner recovers and the retries deliver everything."""
    metadata = new_metadata()
    tables = define_event_tables(metadata)
    url = await asyncio.to_thread(database_with_tables, postgres_server, "partner_day", metadata)
    db = Database(url)
    clock = FakeClock()
    async with loopback_receiver() as receiver:
        receiver.default = ScriptedAnswer(status=503, body="maintenance")
        async with db.sessionmaker() as session, session.begin():
            await EndpointStore(tables).create_endpoint(
                session,
                org_id="org-ngo",
                url=receiver.url(),
                event_types=["referral.*"],
                description="",
                now=clock.now(),
                box=secret_box({}, None, "test"),
            )
        sent = []
        async with db.sessionmaker() as session, session.begin():
            for n in range(3):
                for status in ("requested", "accepted", "in_progress", "completed"):
                    sent.append(
                        await emit(
                            session,
                            f"referral.{status}",
                            {"referral_id": f"ref-{n}", "status": status},
                            aggregate_id=f"ref-{n}",
                            orgs=["org-ngo"],
                            occurred_at=clock.now(),
                        )
                    )
        dispatcher = Dispatcher(
            db,
            tables,
            EventSettings(webhook_allow_private_targets=True, webhook_timeout_seconds=2),
            clock=clock,
            jitter=lambda: 1.0,
        )
        elapsed = timedelta()
        while elapsed < timedelta(hours=24):
            await dispatcher.run_once()
            clock.advance(timedelta(minutes=10))
            elapsed += timedelta(minutes=10)
        assert receiver.requests and all(r.path == "/hook" for r in receiver.requests)
        receiver.default = ScriptedAnswer(status=204, body="")
        back_at = len(receiver.requests)
        for _ in range(48):  # the next scheduled retries fall within the following day
            await dispatcher.run_once()
            clock.advance(timedelta(minutes=30))
        await dispatcher.close()
        successes = [r.headers["webhook-id"] for r in receiver.requests[back_at:]]
    async with db.sessionmaker() as session:
        statuses = (
            await session.execute(text("SELECT status, count(*) FROM webhook_deliveries GROUP BY status"))
        ).all()
    await db.dispose()
    assert dict(statuses) == {"delivered": len(sent)}
    assert sorted(successes) == sorted(sent), "each event delivered exactly once after the outage"
    for n in range(3):
        # Per referral, the deliveries arrived in the order the changes happened.
        assert [m for m in successes if m in sent[n * 4 : (n + 1) * 4]] == sent[n * 4 : (n + 1) * 4]


def _postgres_restart_command(url: str) -> list[str] | None:
    if urlsplit(url.replace("+asyncpg", "")).hostname not in ("127.0.0.1", "localhost"):
        return None
    if shutil.which("pg_ctlcluster") is None or not os.path.isdir("/etc/postgresql") or os.geteuid() != 0:
        return None
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    return ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"]


@pytest.mark.restarts_postgres
def test_postgres_restart_under_load_loses_nothing_accepted(fault_stack, make_token, postgres_server):
    command = _postgres_restart_command(postgres_server.admin_url)
    if command is None:
        pytest.skip("restarting PostgreSQL needs the local server, pg_ctlcluster and root (CI machines have them)")
    token = make_token("police", org="org-pg-restart")
    results: list[tuple[int, str | None, str]] = []
    stop = time.monotonic() + 8

    def worker(_: int) -> None:
        while time.monotonic() < stop:
            results.append(_create_screening(fault_stack.url, token))

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(worker, i) for i in range(4)]
        time.sleep(2)
        subprocess.run(command, check=True, capture_output=True, timeout=60)
        for future in futures:
            future.result()
    statuses = [s for s, _, _ in results]
    assert 500 not in statuses and 0 not in statuses, sorted(set(statuses))
    assert set(statuses) <= {201, 502, 503, 504}
    accepted = [sid for status, sid, _ in results if status == 201]
    assert accepted
    wait_for(lambda: httpx.get(fault_stack.services["screening"].url + "/readyz").status_code == 200, timeout=60)
    stored = _scalar(
        fault_stack.database_urls["screening"],
        "SELECT count(*) FROM screenings WHERE org_id = :org",
        org="org-pg-restart",
    )
    assert stored == len(accepted), "every 201 answer must be durable, and nothing else stored"
