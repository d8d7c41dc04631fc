"""Statistics over 1,000,000 facts on PostgreSQL: median and p99 per representative query (target median ≤ 100 ms).

Loads synthetic screening facts (plus referral facts) with COPY into a throwaway database, then calls
the registry's statistics endpoints in-process (routing, SQL, cell key perturbation and JSON included).
Each query is timed computed from the database (the explorer's answer cache emptied first) and cached
(asked again with nothing written in between); "cold" (a fresh process and connection pool) and
"repeated" differ otherwise only by PostgreSQL's own caches. The console dashboard's first view is
its 13 requests at once, computed and cached.
Then concurrent ingest: N writers (1, 4, 16) each storing facts of the current year through the feed's
ingest path, one transaction per fact, facts/s with the year's count of writes kept now (`stats_writes`,
never waited on) and, interleaved in the same run, with the previous commit's counter row per year
(upserted by each writer and held until its commit). `--only ingest` runs that part alone on an empty
database.
The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import statistics
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bench.common import median, percentile, postgres_server, result
from putokaz.auth import issue_token, new_secret
from putokaz.db import Database
from putokaz.events.receiver import WebhookMessage
from putokaz.testing import TEST_AUDIENCE, TEST_ISSUER, app_client, auth, service_migrations, settings_kwargs
from services.registry import repository
from services.registry.app import create_app
from services.registry.ckm import record_key
from services.registry.explorer import CACHE
from services.registry.facts import AGE_BANDS, FORM_BITS, SERVICE_TYPES, STATUS_RANK
from services.registry.ingest import ingest_message
from services.registry.repository import REFERRALS, SCREENINGS, Period, refresh_person_periods
from services.registry.settings import Settings

YEARS = (2021, 2022, 2023, 2024, 2025)
STATUSES = ("none", "at_risk", "potential", "presumed", "identified", "not_confirmed")
STATUS_WEIGHTS = (50, 20, 15, 8, 5, 2)
CITIZENSHIPS = ("BA", "AF", "PK", "BI", "IN", "MA", "TR", "CU", "RS", "HR", "UNK")
CITIZENSHIP_WEIGHTS = (30, 25, 10, 8, 6, 5, 4, 3, 3, 3, 3)
REFERRAL_STATUSES = ("requested", "accepted", "rejected", "in_progress", "completed", "failed", "cancelled", "expired")

# Tuples below follow the tables' column order (record keys last); the top-of-period flags are computed
# after loading.
KEYS = ("rkey", "rkey_year", "rkey_quarter")
SCREENING_COLUMNS = [c.name for c in SCREENINGS.columns if not c.name.startswith("top_of_") and c.name not in KEYS]
SCREENING_COLUMNS += KEYS
REFERRAL_COLUMNS = [c.name for c in REFERRALS.columns]

QUERIES: list[tuple[str, str, dict[str, Any]]] = [
    ("screenings by sex", "/api/v1/stats/screenings", {"year": 2024, "by": "sex"}),
    ("victims (once per person)", "/api/v1/stats/victims", {"year": 2024}),
    ("victims by sex x age band", "/api/v1/stats/victims", {"year": 2024, "by": "sex,age_band"}),
    (
        "victims by form x nationality, quarter",
        "/api/v1/stats/victims",
        {"year": 2023, "period": "quarter", "quarter": 3, "by": "form,nationality"},
    ),
    ("victims by citizenship x canton", "/api/v1/stats/victims", {"year": 2024, "by": "citizenship,canton"}),
    (
        "referrals by service type x answer time",
        "/api/v1/stats/referrals",
        {"year": 2024, "by": "service_type,answer_time"},
    ),
    ("eurostat annual report", "/api/v1/reports/eurostat", {"year": 2024}),
    (
        "victims series by sex, 5 years by quarter",
        "/api/v1/stats/victims/series",
        {"from": 2021, "to": 2025, "step": "quarter", "by": "sex"},
    ),
]


SERIES_PATH, SERIES_PARAMS = QUERIES[-1][1], QUERIES[-1][2]


# The console's dashboard: the requests of its first view, as web/app/console/dashboard.js makes them
# (dashboardRequests), all at once as the browser sends them.
def dashboard_requests(year: int) -> list[tuple[str, dict[str, Any]]]:
    def stats(table: str, by: str) -> tuple[str, dict[str, Any]]:
        return f"/api/v1/stats/{table}", {"year": year, "by": by}

    def series(table: str, start: int, step: str, by: str | None = None) -> tuple[str, dict[str, Any]]:
        params: dict[str, Any] = {"from": start, "to": year, "step": step}
        if by:
            params["by"] = by
        return f"/api/v1/stats/{table}/series", params

    return [
        series("screenings", year - 1, "year"),
        series("victims", year - 1, "year", "status"),
        series("referrals", year - 1, "year", "status"),
        series("victims", year - 2, "quarter"),
        series("screenings", year - 2, "quarter"),
        *(stats("victims", by) for by in ("sex", "age_band", "form", "citizenship", "entity", "canton")),
        stats("referrals", "answer_time"),
        stats("referrals", "status"),
    ]


def screening_rows(count: int, people: int, rng: random.Random, secret: bytes) -> list[tuple[Any, ...]]:
    keys = [uuid.UUID(int=rng.getrandbits(128)).hex * 2 for _ in range(people)]
    forms = list(FORM_BITS.values())
    now = datetime.now(UTC)
    rows = []
    for _ in range(count):
        status = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
        band = rng.choice(AGE_BANDS)
        child = band in ("0-8", "9-17") or (band == "unknown" and rng.random() < 0.5)
        entity = rng.choice(("FBIH", "FBIH", "RS", "BD"))
        month = rng.randint(1, 12)
        year = rng.choice(YEARS)
        fact_id = str(uuid.UUID(int=rng.getrandbits(128)))
        person = rng.choice(keys)
        mask = 0
        if STATUS_RANK[status] >= STATUS_RANK["potential"]:
            for _ in range(rng.choice((1, 1, 1, 2))):
                mask |= rng.choice(forms)
        rows.append(
            (
                fact_id,
                1,
                person,
                year,
                (month - 1) // 3 + 1,
                month,
                band,
                rng.choice(("F", "M", "F", "M", "X", "UNK")),
                rng.choices(CITIZENSHIPS, CITIZENSHIP_WEIGHTS)[0],
                entity,
                rng.randint(1, 10) if entity == "FBIH" else None,
                status,
                STATUS_RANK[status],
                mask,
                rng.choice(("quick", "adult", "child")),
                child,
                False,
                "import",
                now,
                record_key(secret, "fact", fact_id),
                record_key(secret, "person-year", person, year),
                record_key(secret, "person-quarter", person, year, (month - 1) // 3 + 1),
            )
        )
    return rows


def referral_rows(count: int, rng: random.Random) -> list[tuple[Any, ...]]:
    now = datetime.now(UTC)
    rows = []
    for _ in range(count):
        month = rng.randint(1, 12)
        entity = rng.choice(("FBIH", "RS", "BD"))
        answered = rng.random() < 0.85
        key = rng.randrange(256)
        rows.append(
            (
                str(uuid.UUID(int=rng.getrandbits(128))),
                1,
                rng.choice(YEARS),
                (month - 1) // 3 + 1,
                month,
                rng.choice(SERVICE_TYPES),
                rng.choice(REFERRAL_STATUSES),
                rng.expovariate(1 / 12) if answered else None,
                rng.expovariate(1 / 48) if answered and rng.random() < 0.6 else None,
                rng.expovariate(1 / 20) if rng.random() < 0.85 else None,  # hours from the screening
                entity,
                rng.randint(1, 10) if entity == "FBIH" else None,
                rng.random() < 0.6,
                rng.random() < 0.3,
                "import",
                now,
                key,
            )
        )
    return rows


async def load(url: str, facts: int, referrals: int) -> float:
    started = time.perf_counter()
    rng = random.Random(20261124)
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        # Facts reach the registry in time order; loading them that way keeps a period's rows together
        # on disk as on a live system (a random order would scatter every year over every page).
        secret = bytes(await conn.fetchval("SELECT secret FROM stats_keys WHERE name = 'record_keys'"))
        every = screening_rows(facts, people=max(1, facts * 6 // 10), rng=rng, secret=secret)
        every.sort(key=lambda row: (row[3], row[5]))
        chunk = 200_000
        for start in range(0, facts, chunk):
            rows = every[start : start + chunk]
            await conn.copy_records_to_table(
                "screening_facts",
                records=rows,
                columns=SCREENING_COLUMNS,
            )
        await conn.copy_records_to_table(
            "referral_facts",
            records=sorted(referral_rows(referrals, rng), key=lambda row: (row[2], row[4])),
            columns=REFERRAL_COLUMNS,
        )
        await conn.execute("ANALYZE screening_facts")
    finally:
        await conn.close()
    # Mark each person's top fact per period with the registry's own code, as an import does.
    db = Database(url)
    try:
        async with db.sessionmaker() as session, session.begin():
            await refresh_person_periods(session, years=YEARS)
    finally:
        await db.dispose()
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        # Fresh statistics and a visibility map, as autovacuum would leave them on a live system.
        # The flag update above wrote new row versions at the end of the table; a live registry receives
        # facts in time order, so put a period's rows back together, then set the visibility map
        # (index-only scans) and statistics as autovacuum would.
        await conn.execute("CLUSTER screening_facts USING ix_screening_facts_period")
        await conn.execute("VACUUM ANALYZE screening_facts")
        await conn.execute("VACUUM ANALYZE referral_facts")
    finally:
        await conn.close()
    return time.perf_counter() - started


async def measure(url: str, repeats: int, *, label: str) -> None:
    """Each query computed from the database (the explorer's answer cache emptied before every call), then
    answered again with nothing written in between (from the cache, after one small query of the years'
    counters); then the console dashboard's first view, computed and cached."""
    secret = new_secret()
    settings = Settings(**settings_kwargs(secret, url), log_level="WARNING")
    token = issue_token(
        secret, sub="bench", roles=["coordinator"], org="bench", issuer=TEST_ISSUER, audience=TEST_AUDIENCE
    )
    app = create_app(settings)

    async def timed(path: str, params: dict[str, Any]) -> float:
        started = time.perf_counter()
        response = await client.get(path, params=params, headers=auth(token))
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{path}: {response.status_code} {response.text[:300]}")
        return elapsed

    async with app_client(app) as client:
        for name, path, params in QUERIES:
            computed, cached = [], []
            for i in range(repeats + 2):
                CACHE.entries.clear()
                elapsed = await timed(path, params)
                if i >= 2:  # the first calls warm the pool and PostgreSQL's caches
                    computed.append(elapsed)
                cached.append(await timed(path, params))
            result(f"{name} ({label}): median", median(computed), "ms", "≤ 100")
            result(f"{name} ({label}): p99", percentile(computed, 0.99), "ms")
            result(f"{name} ({label}, answer cached): median", median(cached), "ms", "≤ 100")
        # Where the computed series' time goes: its one grouped query alone (the same statement through the
        # same pool), interleaved with the whole answer.
        periods = [Period(year, quarter) for year in YEARS for quarter in range(1, 5)]
        whole, alone = [], []
        for i in range(repeats + 2):
            CACHE.entries.clear()
            answered = await timed(SERIES_PATH, SERIES_PARAMS)
            started = time.perf_counter()
            async with app.state.db.sessionmaker() as session, session.begin():
                await repository.count_with_keys(session, "victims", ["sex"], periods)
            if i >= 2:
                whole.append(answered)
                alone.append((time.perf_counter() - started) * 1000)
        result(
            f"series by sex, 5 years by quarter ({label}): whole answer / its grouped query alone",
            f"{median(whole):.1f} / {median(alone):.1f}",
            "ms",
        )
        # The dashboard's first view: its requests at once, as the browser sends them, the registry warm.
        requests = dashboard_requests(2025)
        computed, cached = [], []
        for _ in range(max(3, repeats // 3)):
            CACHE.entries.clear()
            for views in (computed, cached):
                started = time.perf_counter()
                answers = await asyncio.gather(*(client.get(p, params=q, headers=auth(token)) for p, q in requests))
                views.append((time.perf_counter() - started) * 1000)
                if any(a.status_code != 200 for a in answers):
                    raise SystemExit(f"dashboard: {[a.status_code for a in answers]}")
        n = len(requests)
        result(
            f"console dashboard first view, {n} requests at once ({label}): median", median(computed), "ms", "≤ 1000"
        )
        result(
            f"console dashboard, {n} requests at once ({label}, answers cached): median", median(cached), "ms", "≤ 1000"
        )


async def measure_release(url: str, year: int) -> None:
    """Close a year: the release computed, suppressed, audited and stored (the first call computes)."""
    secret = new_secret()
    settings = Settings(**settings_kwargs(secret, url), log_level="WARNING")
    token = issue_token(
        secret, sub="bench", roles=["coordinator"], org="bench", issuer=TEST_ISSUER, audience=TEST_AUDIENCE
    )
    app = create_app(settings)
    async with app_client(app) as client:
        started = time.perf_counter()
        response = await client.post("/api/v1/releases", json={"year": year}, headers=auth(token))
        elapsed = time.perf_counter() - started
        if response.status_code not in (200, 201):
            raise SystemExit(f"release: {response.status_code} {response.text[:300]}")
        audit = response.json()["audit"]
        # A released year's victims are read from its release (one small query), not counted again.
        released = []
        for _ in range(20):
            started_read = time.perf_counter()
            answer = await client.get(
                "/api/v1/stats/victims", params={"year": year, "by": "canton"}, headers=auth(token)
            )
            released.append((time.perf_counter() - started_read) * 1000)
            if answer.status_code != 200 or answer.json()["perturbed"] is not False:
                raise SystemExit(f"released year: {answer.status_code} {answer.text[:300]}")
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        facts = await conn.fetchval("SELECT count(*) FROM screening_facts WHERE year = $1", year)
    finally:
        await conn.close()
    result(f"release {year} ({facts} screening facts): computed, audited, stored", elapsed, "s", "≤ 60")
    result(f"victims by canton of the released year {year} (from its release): median", median(released), "ms", "≤ 100")
    result(
        f"release {year}: hidden figures / linear programmes",
        f"{audit['counts']['hidden']} / {audit['linear_programmes']}",
    )


INGEST_WRITERS = (1, 4, 16)


async def previous_bump_versions(session: AsyncSession, years: set[int] | Sequence[int]) -> None:
    """The previous commit's bump: a counter row per year, upserted by the writer and held until its commit."""
    for year in sorted(set(years)):
        await session.execute(
            text(
                "INSERT INTO bench_stats_versions (year, version) VALUES (:year, :version)"
                " ON CONFLICT (year) DO UPDATE SET version = excluded.version"
            ),
            {"year": year, "version": secrets.randbits(62) + 1},
        )


def feed_fact(rng: random.Random, year: int) -> dict[str, Any]:
    status = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
    return {
        "fact_id": str(uuid.UUID(int=rng.getrandbits(128))),
        "version": 1,
        "subject_key": uuid.UUID(int=rng.getrandbits(128)).hex * 2,
        "year": year,
        "month": 1,
        "age_band": "24-26",
        "sex": rng.choice(("F", "M")),
        "citizenship": rng.choices(CITIZENSHIPS, CITIZENSHIP_WEIGHTS)[0],
        "entity": "FBIH",
        "canton": rng.randint(1, 10),
        "status": status,
        "forms": [rng.choice(list(FORM_BITS))] if STATUS_RANK[status] >= STATUS_RANK["potential"] else [],
        "instrument": "adult",
        "child": False,
        "anonymous": False,
    }


async def ingest_round(
    db: Database, url: str, writers: int, seconds: float, rng: random.Random
) -> tuple[float, list[float], float]:
    """`writers` concurrent writers, each storing one fact per transaction for `seconds`: facts/s, latencies,
    and how many writers were waiting on a lock, on average (pg_stat_activity sampled every 20 ms)."""
    year = datetime.now(UTC).year
    stop = time.perf_counter() + seconds
    latencies: list[float] = []
    waiting: list[int] = []

    async def sampler() -> None:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            while time.perf_counter() < stop:
                waiting.append(
                    await conn.fetchval(
                        "SELECT count(*) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    )
                )
                await asyncio.sleep(0.02)
        finally:
            await conn.close()

    async def writer() -> None:
        while time.perf_counter() < stop:
            message = WebhookMessage(
                "msg_" + uuid.uuid4().hex, "registry.screening_fact", datetime.now(UTC), feed_fact(rng, year)
            )
            started = time.perf_counter()
            async with db.sessionmaker() as session, session.begin():
                if await ingest_message(session, message, message.timestamp) != "stored":
                    raise SystemExit("ingest: a fact was not stored")
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(sampler(), *(writer() for _ in range(writers)))
    return len(latencies) / (time.perf_counter() - started), latencies, statistics.mean(waiting or [0])


async def measure_ingest(url: str, seconds: float, rounds: int) -> None:
    """Facts/s of N concurrent ingest writers of one year, the previous counter row and now, interleaved."""
    db = Database(url, pool_size=max(INGEST_WRITERS) + 2)
    now_bump = repository.bump_versions
    rng = random.Random(20261201)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE bench_stats_versions (year integer PRIMARY KEY, version bigint)"))
        for writers in INGEST_WRITERS:
            rates: dict[str, list[float]] = {"previous": [], "now": []}
            latencies: dict[str, list[float]] = {"previous": [], "now": []}
            blocked: dict[str, list[float]] = {"previous": [], "now": []}
            for _ in range(rounds):
                for variant in ("previous", "now"):
                    repository.bump_versions = previous_bump_versions if variant == "previous" else now_bump  # type: ignore[assignment]
                    rate, times, waits = await ingest_round(db, url, writers, seconds, rng)
                    rates[variant].append(rate)
                    blocked[variant].append(waits)
                    latencies[variant].extend(times)
            repository.bump_versions = now_bump  # type: ignore[assignment]
            before, after = median(rates["previous"]), median(rates["now"])
            result(f"ingest, {writers} writers, counter row per year held (previous): facts/s", before, "facts/s")
            result(f"ingest, {writers} writers, stats_writes (now): facts/s", after, "facts/s")
            result(f"ingest, {writers} writers: now / previous", after / before, "x")
            result(
                f"ingest, {writers} writers: median latency previous / now",
                f"{median(latencies['previous']):.1f} / {median(latencies['now']):.1f}",
                "ms",
            )
            result(
                f"ingest, {writers} writers: writers waiting on a lock, mean, previous / now",
                f"{statistics.mean(blocked['previous']):.2f} / {statistics.mean(blocked['now']):.2f}",
            )
    finally:
        repository.bump_versions = now_bump  # type: ignore[assignment]
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--facts", type=int, default=1_000_000)
    parser.add_argument("--referrals", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--only", choices=("all", "ingest"), default="all")
    parser.add_argument("--ingest-seconds", type=float, default=5.0)
    parser.add_argument("--ingest-rounds", type=int, default=3)
    args = parser.parse_args()
    server = postgres_server()
    try:
        url = server.create_database("bench_registry", service_migrations("registry"))
        if args.only == "ingest":
            asyncio.run(measure_ingest(url, args.ingest_seconds, args.ingest_rounds))
            return
        seconds = asyncio.run(load(url, args.facts, args.referrals))
        result("load (COPY, mark top facts, CLUSTER, VACUUM)", seconds, "s")
        result("screening facts", str(args.facts))
        # Cold: a fresh process and pool; repeated: the same requests again (PostgreSQL's caches warm).
        asyncio.run(measure(url, max(5, args.repeats // 3), label="cold"))
        asyncio.run(measure(url, args.repeats, label="repeated"))
        asyncio.run(measure_release(url, 2024))
        asyncio.run(measure_ingest(url, args.ingest_seconds, args.ingest_rounds))
    finally:
        server.drop_all()


if __name__ == "__main__":
    main()
