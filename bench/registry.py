"""Statistics over 1,000,000 facts on PostgreSQL: median and p99 per representative query (target median ≤ 100 ms).

Loads synthetic screening facts (plus referral facts) with COPY into a throwaway database, then calls
the registry's statistics endpoints in-process (routing, SQL, cell key perturbation and JSON included).
Each query is timed computed from the database (the explorer's answer cache emptied first) and cached
(asked again with nothing written in between); "cold" (a fresh process and connection pool) and
"repeated" differ otherwise only by PostgreSQL's own caches. The console dashboard's first view is
its 13 requests at once, computed and cached.
The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg

from bench.common import median, percentile, postgres_server, result
from putokaz.auth import issue_token, new_secret
from putokaz.db import Database
from putokaz.testing import TEST_AUDIENCE, TEST_ISSUER, app_client, auth, service_migrations, settings_kwargs
from services.registry.app import create_app
from services.registry.ckm import record_key
from services.registry.explorer import CACHE
from services.registry.facts import AGE_BANDS, FORM_BITS, SERVICE_TYPES, STATUS_RANK
from services.registry.repository import REFERRALS, SCREENINGS, refresh_person_periods
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
        series("victims", year - 2, "quarter", "status"),
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
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        facts = await conn.fetchval("SELECT count(*) FROM screening_facts WHERE year = $1", year)
    finally:
        await conn.close()
    result(f"release {year} ({facts} screening facts): computed, audited, stored", elapsed, "s", "≤ 60")
    result(
        f"release {year}: hidden figures / linear programmes",
        f"{audit['counts']['hidden']} / {audit['linear_programmes']}",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--facts", type=int, default=1_000_000)
    parser.add_argument("--referrals", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    server = postgres_server()
    try:
        url = server.create_database("bench_registry", service_migrations("registry"))
        seconds = asyncio.run(load(url, args.facts, args.referrals))
        result("load (COPY, mark top facts, CLUSTER, VACUUM)", seconds, "s")
        result("screening facts", str(args.facts))
        # Cold: a fresh process and pool; repeated: the same requests again (PostgreSQL's caches warm).
        asyncio.run(measure(url, max(5, args.repeats // 3), label="cold"))
        asyncio.run(measure(url, args.repeats, label="repeated"))
        asyncio.run(measure_release(url, 2024))
    finally:
        server.drop_all()


if __name__ == "__main__":
    main()
