"""Whole-system load: a realistic mix through the gateway at rising concurrency, registry latency, a BiH year replay.

Starts the four real processes on PostgreSQL (deploy.stack.start_stack), drives them only through the
gateway with real tokens of several demo organisations, and prints figures with `bench.common.result`.
Never asserts on timings. `--quick` is a smoke run (with a small replay); the BiH year replay (25,000
screenings, 2,200 referrals) runs only with `--replay` or PUTOKAZ_BENCH_REPLAY=1 (`make bench REPLAY=1`),
`--only-replay` runs it alone.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import aiohttp
import asyncpg

from bench.common import median, percentile, postgres_server, result
from deploy.stack import Stack, start_stack
from putokaz.app import PROFILE_DIR_VARIABLE
from putokaz.auth import issue_token, new_secret
from putokaz.db import async_url
from putokaz.testing import TEST_AUDIENCE, TEST_ISSUER, process_environment
from tests.journeys import PRESUMED_ADULT_ANSWERS

YEAR = datetime.now(UTC).year
CONSENT_VERSION = "2026-1"
ACCOMMODATION = {"safe_house", "shelter_children", "shelter_families"}
# Frontline organisations of the demo directory (services/referral/seed.py) and the role their staff hold.
FRONTLINE = [
    ("social_worker", "demo-csw-sarajevo", {"entity": "FBIH", "canton": 9, "municipality": "Sarajevo"}),
    ("social_worker", "demo-csw-bihac", {"entity": "FBIH", "canton": 1, "municipality": "Bihać"}),
    ("social_worker", "demo-csw-banja-luka", {"entity": "RS", "municipality": "Banja Luka"}),
    ("social_worker", "demo-csw-brcko", {"entity": "BD", "municipality": "Brčko"}),
    ("police", "demo-police-una-sana", {"entity": "FBIH", "canton": 1, "municipality": "Bihać"}),
]
COORDINATOR_ORG = "demo-state-coordinator"
USERS_PER_ORG = 4  # several staff per organisation, so per-user rate limits are spread as in real use

NO_INDICATORS = {"worked_for_someone": "no"}
CHILD_BEGGING = {
    "act_moved": "yes",
    "worked_for_someone": "yes",
    "ex_begging_quota": "yes",
    "ex_excessive_hours": "yes",
}
NATIONALITIES = ["BA", "BA", "BA", "RS", "AF", "PK", "SY", "MA", "UNK"]

# The mix of the rising-concurrency stages (the issue's "realistic mix").
MIX = (("screening", 0.6), ("match", 0.2), ("referral", 0.1), ("stats", 0.1))
SCREENING_ONLY = (("screening", 1.0),)
# Complete screening flows (start, answers, submit) per second through the gateway before the hot path was
# profiled and trimmed (docs/testing.md): the figure each run is printed beside, as a ratio.
BASELINE_SCREENING_FLOWS_PER_S = 80.0
# The issue's bar for the BiH year replay (25,000 screenings, 2,200 referrals through the gateway, 2 cores).
REPLAY_TARGET_SECONDS = 300.0
# The full year replay takes minutes: `make bench` runs it only with this set (make bench REPLAY=1).
REPLAY_VARIABLE = "PUTOKAZ_BENCH_REPLAY"


class Timeout(Exception):
    """The year replay ran past its bound."""


@dataclass
class Tally:
    """Every request's kind, latency and status; flows completed; submit times of screenings."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: list[int] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    flows: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    submitted: dict[str, float] = field(default_factory=dict)  # screening id -> wall time of the submit 2xx
    referrals: int = 0

    @property
    def requests(self) -> int:
        return len(self.statuses)

    @property
    def non_2xx(self) -> int:
        return sum(1 for s in self.statuses if not 200 <= s < 300)

    @property
    def server_errors(self) -> int:
        return sum(1 for s in self.statuses if s >= 500)


class FlowFailed(Exception):
    """A step answered non-2xx; the flow stops there (the answer is already tallied)."""


@dataclass
class Actors:
    """Tokens of the demo users and the directory services a referral can go to."""

    frontline: list[tuple[str, dict[str, Any]]]  # (token, place)
    coordinator: str
    provider_tokens: dict[str, str]  # organisation id -> service_provider token
    services: list[dict[str, Any]]  # non-accommodation, non-child-only, active


class Driver:
    """Runs flows through the gateway and records every answer in a Tally."""

    def __init__(
        self, http: aiohttp.ClientSession, base: str, actors: Actors, tally: Tally, rng: random.Random
    ) -> None:
        self.http = http
        self.base = base
        self.actors = actors
        self.tally = tally
        self.rng = rng
        self.pool: list[tuple[str, str]] = []  # (screening id, sender token) of submitted consenting adults

    async def call(self, kind: str, method: str, path: str, token: str, body: Any = None, **params: Any) -> Any:
        started = time.perf_counter()
        status, payload = await self._send(method, path, token, body, params)
        return self._record(kind, started, status, payload)

    async def refer(self, token: str, body: dict[str, Any]) -> Any:
        """POST a referral, waiting (untallied) while referral has not yet heard of the screening.

        Referral learns of a submitted screening through screening's event feed, usually within a
        second; until then it answers 422 naming `screening_id`. That is the designed eventual
        consistency, not a failure, so the bench retries it for up to 30 s and times only the answer
        that counts."""
        deadline = time.monotonic() + 30
        while True:
            started = time.perf_counter()
            status, payload = await self._send("POST", "/api/v1/referrals", token, body, {})
            if status == 422 and time.monotonic() < deadline and _names_screening_id(payload):
                await asyncio.sleep(0.2)
                continue
            return self._record("referral.create", started, status, payload)

    async def _send(self, method: str, path: str, token: str, body: Any, params: dict[str, Any]) -> tuple[int, bytes]:
        try:
            async with self.http.request(
                method,
                self.base + path,
                json=body,
                params=params or None,
                headers={"Authorization": f"Bearer {token}"},
            ) as response:
                payload = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError):
            status = 599  # no answer at all: counted with the server errors
            payload = b""
        return status, payload

    def _record(self, kind: str, started: float, status: int, payload: bytes) -> Any:
        self.tally.latencies[kind].append(time.perf_counter() - started)
        self.tally.statuses.append(status)
        if not 200 <= status < 300:
            self.tally.failures[f"{kind} {status}"] += 1
            raise FlowFailed(kind)
        return _json(payload)

    async def screening(self) -> None:
        token, place = self.rng.choice(self.actors.frontline)
        roll = self.rng.random()
        marker = uuid.uuid4().hex[:8]
        subject: dict[str, Any] = {
            "given_name": f"Bench{marker}",
            "family_name": f"Person{marker}",
            "sex": self.rng.choice("FFFMMX"),
            "citizenship": self.rng.choice(NATIONALITIES),
        }
        consent: dict[str, Any] | None = {"text_version": CONSENT_VERSION, "referral": "given"}
        if roll < 0.2:  # a child: the child instrument, no consent needed
            subject["age_estimate"] = self.rng.randint(9, 17)
            answers, consent = CHILD_BEGGING, None
        else:
            subject["date_of_birth"] = (
                f"{self.rng.randint(1960, 2005)}-0{self.rng.randint(1, 9)}-1{self.rng.randint(0, 9)}"
            )
            if roll < 0.55:
                answers = PRESUMED_ADULT_ANSWERS
            elif roll < 0.7:  # an adult who declines referral: counted anonymously, no identity kept
                answers = PRESUMED_ADULT_ANSWERS
                consent = {"text_version": CONSENT_VERSION, "referral": "declined"}
                subject = {k: v for k, v in subject.items() if k in ("sex", "citizenship", "date_of_birth")}
            else:
                answers = NO_INDICATORS
        body: dict[str, Any] = {"language": "bs", "subject": subject, "place": place}
        if consent is not None:
            body["consent"] = consent
        created = await self.call("screening.create", "POST", "/api/v1/screenings", token, body)
        sid = created["id"]
        await self.call("screening.answers", "PATCH", f"/api/v1/screenings/{sid}/answers", token, {"answers": answers})
        await self.call("screening.submit", "POST", f"/api/v1/screenings/{sid}/submit", token)
        self.tally.submitted[sid] = time.time()
        self.tally.flows["screening"] += 1
        if consent and consent["referral"] == "given" and answers is PRESUMED_ADULT_ANSWERS and len(self.pool) < 5000:
            self.pool.append((sid, token))

    async def match(self) -> None:
        token, place = self.rng.choice(self.actors.frontline)
        child = self.rng.random() < 0.2
        await self.call(
            "match",
            "POST",
            "/api/v1/matches",
            token,
            {
                "age": self.rng.randint(9, 17) if child else self.rng.randint(18, 60),
                "sex": self.rng.choice("FM"),
                "nationality": self.rng.choice(NATIONALITIES[:-1]),
                "languages": ["bs"],
                "forms": [self.rng.choice(["forced_labour", "sexual", "begging"])],
                "place": place,
                "needs": [
                    self.rng.choice(
                        ["social_welfare", "legal_aid", "mhpss"] if child else ["safe_house", "legal_aid", "mhpss"]
                    )
                ],
            },
        )
        self.tally.flows["match"] += 1

    async def referral(self) -> None:
        # Referral refuses a screening it has not learnt of (through screening's outbox feed, seconds at
        # most): refer a submitted consenting adult, waiting for one when none is ready yet.
        waited = 0.0
        while not self.pool and waited < 60:
            await asyncio.sleep(0.1)
            waited += 0.1
        if not self.pool:
            return
        screening_id, token = self.pool.pop(self.rng.randrange(len(self.pool)))
        service = self.rng.choice(self.actors.services)
        created = await self.refer(
            token,
            {
                "screening_id": screening_id,
                "service_id": service["id"],
                "urgent": self.rng.random() < 0.1,
                "profile": {
                    "age": self.rng.randint(18, 60),
                    "sex": "F",
                    "nationality": "BA",
                    "languages": ["bs"],
                    "forms": ["forced_labour"],
                    "place": {"entity": "FBIH", "canton": 9},
                },
                "consent": {"recorded": True, "text_version": CONSENT_VERSION},
            },
        )
        self.tally.referrals += 1
        provider = self.actors.provider_tokens[service["organisation_id"]]
        await self.call(
            "referral.accept",
            "POST",
            f"/api/v1/referrals/{created['id']}/transitions",
            provider,
            {"status": "accepted"},
        )
        self.tally.flows["referral"] += 1

    async def stats(self) -> None:
        table = self.rng.choice(["screenings", "victims", "referrals"])
        params: dict[str, Any] = {"period": "year", "year": YEAR}
        if self.rng.random() < 0.5:
            # Breakdowns every table has (sex and age bands exist only for the people tables).
            params["by"] = self.rng.choice(["entity", "status", "entity,status"])
        await self.call("stats", "GET", f"/api/v1/stats/{table}", self.actors.coordinator, **params)
        self.tally.flows["stats"] += 1

    def flow(self, name: str) -> Callable[[], Awaitable[None]]:
        return {"screening": self.screening, "match": self.match, "referral": self.referral, "stats": self.stats}[name]


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds a process has used (Linux /proc), None where that is not readable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def asyncpg_dsn(url: str) -> str:
    """A database URL of the stack as asyncpg wants it (no SQLAlchemy driver suffix)."""
    return async_url(url).replace("postgresql+asyncpg://", "postgresql://")


def _json(payload: bytes) -> Any:
    return json.loads(payload) if payload else None


def _names_screening_id(payload: bytes) -> bool:
    """Whether a problem answer's errors name `screening_id` (referral has not heard of it yet)."""
    try:
        problem = json.loads(payload)
    except ValueError:
        return False
    errors = problem.get("errors", []) if isinstance(problem, dict) else []
    return any(str(error.get("field", "")).endswith("screening_id") for error in errors if isinstance(error, dict))


def make_actors(secret: str, services: list[dict[str, Any]]) -> Actors:
    def token(role: str, org: str, n: int = 0) -> str:
        return issue_token(
            secret,
            sub=f"bench-{role}-{org}-{n}",
            roles=[role],
            org=org,
            issuer=TEST_ISSUER,
            audience=TEST_AUDIENCE,
            ttl_seconds=6 * 3600,
        )

    frontline = [(token(role, org, n), place) for role, org, place in FRONTLINE for n in range(USERS_PER_ORG)]
    return Actors(
        frontline=frontline,
        coordinator=token("coordinator", COORDINATOR_ORG),
        provider_tokens={s["organisation_id"]: token("service_provider", s["organisation_id"]) for s in services},
        services=services,
    )


async def referable_services(base: str, token: str) -> list[dict[str, Any]]:
    """Active, non-accommodation services for adults: acceptance never runs out of beds during the bench."""
    async with aiohttp.ClientSession() as http:
        async with http.get(
            base + "/api/v1/services", params={"limit": "100"}, headers={"Authorization": f"Bearer {token}"}
        ) as response:
            response.raise_for_status()
            page = await response.json()
    return [
        s
        for s in page["items"]
        if s["status"] == "active" and s["service_type"] not in ACCOMMODATION and not s.get("child_only")
    ]


def new_session(concurrency: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=concurrency), timeout=aiohttp.ClientTimeout(total=60)
    )


async def run_stage(
    base: str, actors: Actors, concurrency: int, seconds: float, seed: int, mix: tuple[tuple[str, float], ...] = MIX
) -> tuple[Tally, float]:
    tally = Tally()
    names = [name for name, _ in mix]
    weights = [w for _, w in mix]
    async with new_session(concurrency) as http:
        driver = Driver(http, base, actors, tally, random.Random(seed))
        deadline = time.perf_counter() + seconds

        async def worker(n: int) -> None:
            rng = random.Random(seed * 1000 + n)
            while time.perf_counter() < deadline:
                with contextlib.suppress(FlowFailed):
                    await driver.flow(rng.choices(names, weights)[0])()

        started = time.perf_counter()
        await asyncio.gather(*(worker(n) for n in range(concurrency)))
        elapsed = time.perf_counter() - started
    return tally, elapsed


def report_stage(label: str, tally: Tally, elapsed: float) -> None:
    flows = sum(tally.flows.values())
    result(f"{label} flows/s", flows / elapsed, "flows/s")
    result(f"{label} requests/s", tally.requests / elapsed, "req/s")
    for kind in sorted(tally.latencies):
        values = tally.latencies[kind]
        shown = f"{percentile(values, 0.5) * 1000:.1f} / {percentile(values, 0.99) * 1000:.1f}"
        result(f"{label} {kind} p50 / p99 (n={len(values)})", shown, "ms")
    result(f"{label} non-2xx answers", str(tally.non_2xx), "", "0")
    result(f"{label} 5xx answers", str(tally.server_errors), "", "0")
    for what, count in sorted(tally.failures.items()):
        print(f"   {label}: {count} × {what}", flush=True)


async def registry_latencies(
    screening_url: str, submitted: dict[str, float], timeout: float
) -> tuple[list[float], int]:
    """Seconds from each submit's 2xx to the registry's 2xx for its fact (the delivery row's delivered_at).

    The dispatcher marks a delivery delivered only after the registry answered 2xx, i.e. after the registry
    committed the fact: that is the moment the registry counts it.
    """
    ids = list(submitted)
    conn = await asyncpg.connect(asyncpg_dsn(screening_url))
    try:
        deadline = time.monotonic() + timeout
        while True:
            rows = await conn.fetch(
                """
                SELECT s.id, d.delivered_at
                FROM screenings s
                JOIN webhook_deliveries d ON d.aggregate_id = s.fact_id
                WHERE s.id = ANY($1::text[]) AND d.event_type = 'registry.screening_fact'
                  AND d.status = 'delivered'
                """,
                ids,
            )
            if len(rows) >= len(ids) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
    finally:
        await conn.close()
    latencies = [max(0.0, row["delivered_at"].timestamp() - submitted[row["id"]]) for row in rows]
    return latencies, len(ids) - len(rows)


async def transactions(url: str) -> int:
    """Transactions committed or rolled back in a database so far (PostgreSQL's statistics, ~0.5 s late)."""
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await asyncio.sleep(0.6)  # the statistics collector flushes about every 0.5 s
        return int(
            await conn.fetchval(
                "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
            )
        )
    finally:
        await conn.close()


async def count_facts(registry_url: str) -> tuple[int, int]:
    conn = await asyncpg.connect(asyncpg_dsn(registry_url))
    try:
        screenings = await conn.fetchval("SELECT count(*) FROM screening_facts")
        referrals = await conn.fetchval("SELECT count(*) FROM referral_facts")
    finally:
        await conn.close()
    return screenings, referrals


async def replay_year(
    base: str, actors: Actors, screenings: int, referrals: int, concurrency: int, bound: float, seed: int
) -> tuple[Tally, float, bool]:
    """Every screening flow and referral flow of a year, interleaved, as fast as the system takes them."""
    jobs = ["screening"] * screenings + ["referral"] * referrals
    rng = random.Random(seed)
    rng.shuffle(jobs)
    tally = Tally()
    queue: asyncio.Queue[str] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)
    finished = True
    async with new_session(concurrency) as http:
        driver = Driver(http, base, actors, tally, rng)
        deadline = time.perf_counter() + bound
        last_report = time.perf_counter()
        done = 0

        async def worker() -> None:
            nonlocal done, finished, last_report
            while True:
                try:
                    job = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                if time.perf_counter() > deadline:
                    finished = False
                    return
                with contextlib.suppress(FlowFailed):
                    await driver.flow(job)()
                done += 1
                if time.perf_counter() - last_report > 30:
                    last_report = time.perf_counter()
                    print(f"   year replay: {done}/{len(jobs)} flows", flush=True)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return tally, elapsed, finished


async def wait_until_counted(registry_url: str, screenings: int, referrals: int, timeout: float) -> float | None:
    """Seconds until the registry holds at least these many facts, or None if it did not within the timeout."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        have_s, have_r = await count_facts(registry_url)
        if have_s >= screenings and have_r >= referrals:
            return time.perf_counter() - started
        await asyncio.sleep(0.25)
    return None


def bench(stack: Stack, secret: str, args: argparse.Namespace) -> None:
    admin = issue_token(
        secret, sub="bench-admin", roles=["admin"], org="demo-admin", issuer=TEST_ISSUER, audience=TEST_AUDIENCE
    )
    services = asyncio.run(referable_services(stack.url, admin))
    if not services:
        raise SystemExit("the demo directory has no referable service; cannot run the referral flows")
    actors = make_actors(secret, services)
    stages = [int(c) for c in args.stages.split(",") if c.strip()]

    # 0. Screening flows alone (the frontline path), printed beside the figure before it was trimmed.
    if args.screening_seconds > 0 and not args.only_replay:
        label = f"screening only c={args.screening_concurrency}"
        print(f"== {label}: {args.screening_seconds:.0f} s", flush=True)
        screening_pid = stack.services["screening"].process.pid
        gateway_pid = stack.gateway.process.pid
        cpu_before = cpu_seconds(screening_pid), cpu_seconds(gateway_pid)
        transactions_before = asyncio.run(transactions(stack.database_urls["screening"]))
        tally, elapsed = asyncio.run(
            run_stage(stack.url, actors, args.screening_concurrency, args.screening_seconds, args.seed, SCREENING_ONLY)
        )
        cpu_after = cpu_seconds(screening_pid), cpu_seconds(gateway_pid)
        transactions_after = asyncio.run(transactions(stack.database_urls["screening"]))
        report_stage(label, tally, elapsed)
        flows = tally.flows["screening"]
        if flows:
            # Requests, key store and event dispatcher together (the key store shares the database here).
            result(
                f"{label} screening database transactions per flow", (transactions_after - transactions_before) / flows
            )
        # CPU the processes used, which a busy machine inflates far less than wall time: flows per CPU-second
        # of the screening process is its flows/s at 100 % of one core.
        if flows and None not in (cpu_before[0], cpu_after[0]):
            screening_cpu = cpu_after[0] - cpu_before[0]
            result(f"{label} screening process CPU per flow", 1000 * screening_cpu / flows, "ms")
            result(f"{label} flows per CPU-second of the screening process", flows / max(screening_cpu, 1e-9), "flows")
        if flows and None not in (cpu_before[1], cpu_after[1]):
            result(f"{label} gateway CPU per flow", 1000 * (cpu_after[1] - cpu_before[1]) / flows, "ms")
        print(f"   load average during the stage: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
        rate = flows / elapsed
        result(f"{label} screening flows/s", rate, "flows/s", f">= {2 * BASELINE_SCREENING_FLOWS_PER_S:.0f}")
        result(f"{label} baseline (before trimming)", BASELINE_SCREENING_FLOWS_PER_S, "flows/s")
        result(f"{label} ratio to baseline", f"{rate / BASELINE_SCREENING_FLOWS_PER_S:.2f}", "×", ">= 2")
    if args.only_screening:
        return

    # 1. Rising concurrency with the realistic mix.
    everything: dict[str, float] = {}
    per_stage_latency: list[tuple[str, dict[str, float]]] = []
    for n, concurrency in enumerate([] if args.only_replay else stages):
        label = f"mix c={concurrency}"
        print(f"== {label}: {args.stage_seconds:.0f} s", flush=True)
        tally, elapsed = asyncio.run(run_stage(stack.url, actors, concurrency, args.stage_seconds, args.seed + n))
        report_stage(label, tally, elapsed)
        per_stage_latency.append((label, tally.submitted))
        everything.update(tally.submitted)

    # 2. Screening → registry latency of the stages' submitted screenings.
    url = stack.database_urls["screening"]
    for label, submitted in per_stage_latency:
        if not submitted:
            continue
        latencies, missing = asyncio.run(registry_latencies(url, submitted, args.registry_timeout))
        result(
            f"{label} screening→registry p50 / p99 (n={len(latencies)})",
            f"{median(latencies):.3f} / {percentile(latencies, 0.99):.3f}",
            "s",
            "p99 <= 2",
        )
        if missing:
            result(f"{label} screenings not in the registry after {args.registry_timeout:.0f} s", str(missing), "", "0")

    # 3. The year replay: the full year only when asked (it takes minutes); --quick replays a small one.
    if not args.replay:
        print(f"== year replay skipped: set {REPLAY_VARIABLE}=1 (make bench REPLAY=1) or pass --replay", flush=True)
        return
    before_s, before_r = asyncio.run(count_facts(stack.database_urls["registry"]))
    sizes = f"{args.screenings} screenings, {args.referrals} referrals"
    print(f"== year replay: {sizes}, concurrency {args.replay_concurrency}", flush=True)
    tally, elapsed, finished = asyncio.run(
        replay_year(
            stack.url, actors, args.screenings, args.referrals, args.replay_concurrency, args.replay_bound, args.seed
        )
    )
    if not finished:
        print(
            f"!! year replay stopped after {args.replay_bound:.0f} s (--replay-bound) with "
            f"{tally.flows['screening']}/{args.screenings} screenings and {tally.flows['referral']}/{args.referrals} "
            "referrals done: the figures below are for the part that ran",
            flush=True,
        )
    result("year replay finished", "yes" if finished else "no (bounded)", "", "yes")
    result("year replay screenings submitted", str(tally.flows["screening"]), "", str(args.screenings))
    result("year replay referrals accepted", str(tally.flows["referral"]), "", str(args.referrals))
    result("year replay wall time", elapsed, "s", f"<= {REPLAY_TARGET_SECONDS:.0f}" if finished else "")
    year = elapsed
    if not finished and tally.flows:
        # What the whole year would take at the rate the bounded part ran (an estimate, said so).
        year = elapsed * (args.screenings + args.referrals) / sum(tally.flows.values())
        result("year replay whole year at this rate (estimate)", year, "s", f"<= {REPLAY_TARGET_SECONDS:.0f}")
    shown = f"{year / REPLAY_TARGET_SECONDS:.2f}" + ("" if finished else " (estimate)")
    result("year replay ratio to the 5-minute bar", shown, "×", "<= 1")
    print(f"   load average at the end of the replay: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    result("year replay flows/s", sum(tally.flows.values()) / elapsed, "flows/s")
    result("year replay requests/s", tally.requests / elapsed, "req/s")
    for kind in sorted(tally.latencies):
        values = tally.latencies[kind]
        result(
            f"year replay {kind} p50 / p99",
            f"{percentile(values, 0.5) * 1000:.1f} / {percentile(values, 0.99) * 1000:.1f}",
            "ms",
        )
    result("year replay non-2xx answers", str(tally.non_2xx), "", "0")
    result("year replay 5xx answers", str(tally.server_errors), "", "0")
    for what, count in sorted(tally.failures.items()):
        print(f"   year replay: {count} × {what}", flush=True)
    # A referral fact is written when the referral is created, so every created one must arrive.
    counted = asyncio.run(
        wait_until_counted(
            stack.database_urls["registry"],
            before_s + len(tally.submitted),
            before_r + tally.referrals,
            args.registry_timeout,
        )
    )
    if counted is None:
        have_s, have_r = asyncio.run(count_facts(stack.database_urls["registry"]))
        result(
            f"year replay facts missing in the registry after {args.registry_timeout:.0f} s",
            f"{before_s + len(tally.submitted) - have_s} screenings, {before_r + tally.referrals - have_r} referrals",
            "",
            "0",
        )
    else:
        result("year replay registry caught up after the last answer", counted, "s")
        result("year replay total until all counted", elapsed + counted, "s")
    if tally.submitted:
        latencies, _ = asyncio.run(registry_latencies(url, tally.submitted, args.registry_timeout))
        result(
            f"year replay screening→registry p50 / p99 (n={len(latencies)})",
            f"{median(latencies):.3f} / {percentile(latencies, 0.99):.3f}",
            "s",
            "p99 <= 2",
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smoke run: 500 screenings, 50 referrals, short stages")
    parser.add_argument("--screenings", type=int, help="year replay screenings (default 25000, quick 500)")
    parser.add_argument("--referrals", type=int, help="year replay referrals (default 2200, quick 50)")
    parser.add_argument("--stages", help="comma-separated concurrencies (default 1,4,16,32; quick 1,8)")
    parser.add_argument("--stage-seconds", type=float, help="seconds per stage (default 12, quick 4)")
    parser.add_argument("--screening-seconds", type=float, help="screening-only seconds (default 20, quick 4)")
    parser.add_argument("--screening-concurrency", type=int, default=16)
    parser.add_argument("--only-screening", action="store_true", help="run the screening-only stage and stop")
    parser.add_argument(
        "--replay",
        action="store_true",
        default=os.environ.get(REPLAY_VARIABLE) == "1",
        help=f"run the BiH year replay ({REPLAY_VARIABLE}=1 does too; --quick always replays a small one)",
    )
    parser.add_argument("--only-replay", action="store_true", help="the year replay alone (implies --replay)")
    parser.add_argument("--replay-concurrency", type=int, default=16)
    parser.add_argument("--replay-bound", type=float, default=20 * 60, help="stop the year replay after this many s")
    parser.add_argument("--registry-timeout", type=float, default=120, help="wait this long for the registry")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--profile", type=Path, help="write a cProfile of the screening process to this directory (costs CPU)"
    )
    args = parser.parse_args(argv)
    quick = args.quick
    args.replay = args.replay or args.only_replay or quick
    args.screenings = args.screenings if args.screenings is not None else (500 if quick else 25_000)
    args.referrals = args.referrals if args.referrals is not None else (50 if quick else 2_200)
    args.stages = args.stages or ("1,8" if quick else "1,4,16,32")
    args.stage_seconds = args.stage_seconds if args.stage_seconds is not None else (4.0 if quick else 12.0)
    if args.screening_seconds is None:
        args.screening_seconds = 4.0 if quick else 20.0

    # SIGTERM (e.g. a timeout in a runner) cleans up like Ctrl-C does.
    def interrupted(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    server = postgres_server()
    secret = new_secret()
    env = {**process_environment(secret), "PUTOKAZ_LOG_LEVEL": "WARNING"}
    logs = Path(tempfile.mkdtemp(prefix="bench-load-"))
    rate = {"PUTOKAZ_RATE_LIMIT_PER_MINUTE": "100000000", "PUTOKAZ_RATE_LIMIT_BURST": "1000000"}
    # The screening process sized for the bench's peak, as a deployment would be (the test stacks keep 2 idle
    # connections and open the rest per burst, which measures connection set-up instead of the flow).
    screening_pools = {
        "PUTOKAZ_DATABASE_POOL_SIZE": "20",
        "PUTOKAZ_DATABASE_MAX_OVERFLOW": "10",
        "PUTOKAZ_KEYSTORE_POOL_SIZE": "8",
    }
    extra_env = {"gateway": rate, "screening": screening_pools}
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
        extra_env["screening"] |= {PROFILE_DIR_VARIABLE: str(args.profile.resolve())}
    stack: Stack | None = None
    try:
        print(f"starting the stack on PostgreSQL (logs in {logs})", flush=True)
        stack = start_stack(server, env, logs, extra_env=extra_env)
        bench(stack, secret, args)
    except KeyboardInterrupt:
        print("interrupted: stopping the stack and dropping the databases", file=sys.stderr, flush=True)
        return 130
    finally:
        if stack is not None:
            stack.stop()
        server.drop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
