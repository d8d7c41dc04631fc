"""Matching among 2,000 services on PostgreSQL: candidate loading + ranking, median and p99 (target ≤ 20 ms).

Each run is what `POST /api/v1/matches` does: a fresh session, the directory-version check, fresh
free places, then ranking (the static candidate data comes from the per-process cache after the
first, excluded, warm-up run).
"""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime

from sqlalchemy import insert

from bench.common import median, percentile, postgres_server, result
from putokaz.db import Database
from putokaz.gazetteer import find_municipality, municipalities
from putokaz.testing import service_migrations
from services.referral.directory.candidates import CandidateCache
from services.referral.directory.matching import CaseProfile, Place, exclusion, rank, score
from services.referral.models import Location, Organisation, Service, ServiceAtLocation, ServiceCapacity

SERVICES = 2_000
BIHAC = find_municipality("Bihać")
assert BIHAC is not None
RUNS = 300
TYPES = ["safe_house", "shelter_children", "shelter_families", "medical", "mhpss", "legal_aid", "social_welfare"]
LANGS = ["bs", "hr", "sr", "en", "ar", "fa", "ps", "ur"]
FORMS = ["sexual", "forced_labour", "begging", "forced_criminality", "forced_marriage", "domestic_servitude"]


async def fill(db: Database, rng: random.Random) -> None:
    now = datetime.now(UTC)
    orgs, locations, services, links, capacities = [], [], [], [], []
    for i in range(SERVICES):
        org, place = f"bench-org-{i // 4}", rng.choice(municipalities())
        if i % 4 == 0:
            orgs.append(
                {
                    "id": org,
                    "name": org,
                    "description": "",
                    "kind": "ngo",
                    "is_demo": True,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        service_type = rng.choice(TYPES)
        locations.append(
            {
                "id": f"loc-{i}",
                "organisation_id": org,
                "name": "x",
                "location_type": "physical",
                "confidential": service_type == "safe_house",
                "entity": place.entity,
                "canton": place.canton,
                "municipality": place.name,
                "latitude": place.latitude + rng.uniform(-0.05, 0.05),
                "longitude": place.longitude + rng.uniform(-0.05, 0.05),
                "created_at": now,
                "updated_at": now,
            }
        )
        services.append(
            {
                "id": f"svc-{i}",
                "organisation_id": org,
                "name": f"service {i}",
                "description": "",
                "service_type": service_type,
                "status": "active",
                "minimum_age": rng.choice([None, None, 18]),
                "maximum_age": None,
                "sexes": rng.choice([[], [], ["F"]]),
                "nationalities": [],
                "languages": rng.sample(LANGS, 3),
                "specialisations": rng.sample(FORMS, 2),
                "child_only": service_type == "shelter_children",
                "lgbtqia_safe": rng.random() < 0.2,
                "wheelchair_accessible": rng.random() < 0.5,
                "open_24_7": rng.random() < 0.3,
                "created_at": now,
                "updated_at": now,
            }
        )
        links.append({"id": f"sal-{i}", "service_id": f"svc-{i}", "location_id": f"loc-{i}"})
        if service_type in ("safe_house", "shelter_children", "shelter_families"):
            maximum = rng.randint(2, 20)
            capacities.append(
                {
                    "id": f"cap-{i}",
                    "service_id": f"svc-{i}",
                    "unit": "bed",
                    "population": {"safe_house": "everyone", "shelter_children": "girls"}.get(service_type, "adults"),
                    "available": rng.randint(0, maximum),
                    "maximum": maximum,
                    "updated": now,
                }
            )
            if service_type != "safe_house":
                # Shelters count children's beds apart (several capacities per service, HSDS).
                capacities.append(
                    {
                        "id": f"cap-{i}-2",
                        "service_id": f"svc-{i}",
                        "unit": "bed",
                        "population": "boys" if service_type == "shelter_children" else "children",
                        "available": rng.randint(0, 4),
                        "maximum": 4,
                        "updated": now,
                    }
                )
    async with db.engine.begin() as conn:
        for model, rows in (
            (Organisation, orgs),
            (Location, locations),
            (Service, services),
            (ServiceAtLocation, links),
            (ServiceCapacity, capacities),
        ):
            await conn.execute(insert(model), rows)


async def main() -> None:
    server = postgres_server()
    url = await asyncio.to_thread(server.create_database, "bench_matching", service_migrations("referral"))
    db = Database(url)
    rng = random.Random(7)
    try:
        await fill(db, rng)
        # Worst case: the person needs every type, so all 2,000 services are candidates.
        needs = TYPES
        case = CaseProfile(
            needs=frozenset(needs),
            age=24,
            sex="F",
            languages=frozenset({"fa", "en"}),
            forms=frozenset({"sexual"}),
            urgent=True,
            place=Place(
                entity="FBIH", canton=1, municipality=BIHAC.name, latitude=BIHAC.latitude, longitude=BIHAC.longitude
            ),
        )
        cache = CandidateCache()
        end_to_end, ranking, every_reason = [], [], []
        for run in range(RUNS + 20):
            started = time.perf_counter()
            async with db.sessionmaker() as session:
                candidates = await cache.candidates(session, needs)
            loaded = time.perf_counter()
            matches = rank(case, candidates, limit=10)
            done = time.perf_counter()
            # Interleaved, for the ratio: the earlier ranking, which wrote the reasons of every candidate.
            before = time.perf_counter()
            scored = sorted(
                (score(case, c) for c in candidates if exclusion(case, c) is None),
                key=lambda m: (-m.score, m.distance_km if m.distance_km is not None else float("inf"), m.service_id),
            )[:10]
            after = time.perf_counter()
            assert [m.service_id for m in scored] == [m.service_id for m in matches]
            if run >= 20:  # warm-up excluded
                end_to_end.append((done - started) * 1000)
                ranking.append((done - loaded) * 1000)
                every_reason.append((after - before) * 1000)
        assert len(candidates) == SERVICES and matches
        print(f"{len(candidates)} candidates, {RUNS} runs; best match: {matches[0].reasons}")
        result("matching_median_ms", median(end_to_end), "ms", "<= 20")
        # The figure against its target: below 1.0 the target is met on this machine at this moment.
        result("matching_median_to_target_ratio", median(end_to_end) / 20, "x", "<= 1")
        result("matching_p99_ms", percentile(end_to_end, 0.99), "ms")
        result("ranking_only_median_ms", median(ranking), "ms")
        result("ranking_with_every_reason_median_ms", median(every_reason), "ms")
        result("ranking_to_every_reason_ratio", median(ranking) / median(every_reason), "x")
    finally:
        await db.dispose()
        await asyncio.to_thread(server.drop_all)


if __name__ == "__main__":
    asyncio.run(main())
