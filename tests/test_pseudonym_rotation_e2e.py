"""Pseudonym key rotation through the real processes: the screening service, restarted with a new key as an
operator does, feeds a real registry over the signed feed.

A person screened before the rotation and again after it started is counted once in the registry before the
background job has run and after; every fact keeps the record keys stored at its ingest (so no cell's
perturbation changes); after the job no fact carries a pseudonym under the old key, and with the old key
retired the person is still the same person.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from putokaz.db import create_engine
from putokaz.testing import PostgresServer, UvicornProcess, service_migrations
from services.screening.identity import Keyring, new_key, normalise_person
from tests.journeys import PRESUMED_ADULT_ANSWERS, bearer, ok, screen, unique_person, wait_for

SCREENING_APP = "services.screening.app:create_app"
REGISTRY_APP = "services.registry.app:create_app"


def registry_facts(url: str) -> dict[str, dict[str, Any]]:
    """Every stored screening fact with its pseudonym, record keys and whether it counts its person."""

    async def read() -> dict[str, dict[str, Any]]:
        engine = create_engine(url)
        query = text(
            "SELECT fact_id, subject_key, year, status_rank, top_of_year, rkey, rkey_year, rkey_quarter "
            "FROM screening_facts"
        )
        async with engine.connect() as conn:
            rows = {row.fact_id: dict(row._mapping) for row in await conn.execute(query)}
        await engine.dispose()
        return rows

    return asyncio.run(read())


def facts_once(url: str, ready: Any) -> dict[str, dict[str, Any]]:
    """The registry's facts once `ready(facts)` holds (the feed delivers within moments)."""

    def check() -> dict[str, dict[str, Any]] | None:
        facts = registry_facts(url)
        return facts if ready(facts) else None

    return wait_for(check)


def persons_counted(facts: dict[str, dict[str, Any]]) -> int:
    """What the victims table counts: one top-of-year fact per person whose highest status is a victim's."""
    return sum(1 for f in facts.values() if f["top_of_year"] and f["status_rank"] >= 3)


def test_a_person_screened_before_and_after_the_rotation_is_counted_once_throughout(
    postgres_server: PostgresServer, kernel_env: dict[str, str], make_token, tmp_path: Path
) -> None:
    registry_db = postgres_server.create_database("rotation_registry", service_migrations("registry"))
    feed_secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    common = {**kernel_env, "PUTOKAZ_DATABASE_POOL_SIZE": "2", "PUTOKAZ_DATABASE_MAX_OVERFLOW": "5"}
    registry = UvicornProcess(
        REGISTRY_APP,
        {**common, "PUTOKAZ_DATABASE_URL": registry_db, "PUTOKAZ_REGISTRY_FEED_SECRET": feed_secret},
        log_path=tmp_path / "registry.log",
    ).start()
    keys = {"k1": new_key()}
    blind, p0, p1 = new_key(), new_key(), new_key()
    screening_env = {
        **common,
        "PUTOKAZ_DATABASE_URL": postgres_server.create_database("rotation_screening", service_migrations("screening")),
        "PUTOKAZ_KEYSTORE_DATABASE_URL": postgres_server.create_database("rotation_keys"),
        "PUTOKAZ_INTERNAL_SUBSCRIPTIONS": json.dumps(
            [{"url": f"{registry.url}/internal/events", "secret": feed_secret, "event_types": ["registry.*"]}]
        ),
        "PUTOKAZ_IDENTITY_KEYS": json.dumps(keys),
        "PUTOKAZ_IDENTITY_ACTIVE_KEY": "k1",
        "PUTOKAZ_IDENTITY_BLIND_INDEX_KEY": blind,
        "PUTOKAZ_IDENTITY_PSEUDONYM_KEY": p0,
        # The job is held back until the check "before the job has run" is made.
        "PUTOKAZ_RETENTION_ENABLED": "false",
    }
    rotated = {"PUTOKAZ_IDENTITY_PSEUDONYM_KEYS": json.dumps({"p1": p1}), "PUTOKAZ_IDENTITY_PSEUDONYM_ACTIVE_KEY": "p1"}
    keyring = Keyring.from_config(json.dumps(keys), "k1", blind, p0, None, None, json.dumps({"p1": p1}), "p1")
    person, other = unique_person(), unique_person()
    name = normalise_person(person["given_name"], person["family_name"], person["date_of_birth"])
    assert name is not None
    old_key, new_key_ = keyring.subject_key(name, "p0"), keyring.subject_key(name)
    police = make_token("police", org="org-rotation")
    admin = make_token("admin", org="org-rotation")
    processes = [registry]

    def run_screening(label: str, env: dict[str, str]) -> httpx.Client:
        process = UvicornProcess(SCREENING_APP, env, log_path=tmp_path / f"screening-{label}.log").start()
        processes.append(process)
        return httpx.Client(base_url=process.url, timeout=30)

    try:
        # Before the rotation: the person and someone else, under p0.
        with run_screening("p0", screening_env) as client:
            screen(client, police, person, PRESUMED_ADULT_ANSWERS)
            screen(client, police, other, PRESUMED_ADULT_ANSWERS)
            before = facts_once(registry_db, lambda facts: len(facts) == 2)
        processes.pop().stop()
        assert old_key in {f["subject_key"] for f in before.values()}
        assert persons_counted(before) == 2

        # Rotation started (p1 active, restarted); the job has not run. The person is screened again.
        with run_screening("p1", {**screening_env, **rotated}) as client:
            screen(client, police, person, PRESUMED_ADULT_ANSWERS)
            during = facts_once(registry_db, lambda facts: len(facts) == 3)
            status = ok(client.get("/api/v1/screenings/pseudonym-keys", headers=bearer(admin)))
            assert status["screenings_by_key"] == {"p0": 2, "p1": 1} and status["rotation_done"] is False
        processes.pop().stop()
        mine = [f for f in during.values() if f["subject_key"] == new_key_]
        assert len(mine) == 2 and old_key not in {f["subject_key"] for f in during.values()}
        assert persons_counted(during) == 2  # counted once, before the job
        # The earlier fact kept its record keys; the new one took the person's stored key for the year.
        for fact_id, fact in before.items():
            assert {k: during[fact_id][k] for k in ("rkey", "rkey_year", "rkey_quarter")} == {
                k: fact[k] for k in ("rkey", "rkey_year", "rkey_quarter")
            }
        assert len({f["rkey_year"] for f in mine}) == 1

        # The job runs (every second here) and re-keys the rest; its progress is in /metrics.
        with run_screening(
            "job",
            {
                **screening_env,
                **rotated,
                "PUTOKAZ_RETENTION_ENABLED": "true",
                "PUTOKAZ_RETENTION_INTERVAL_SECONDS": "1",
            },
        ) as client:
            wait_for(
                lambda: ok(client.get("/api/v1/screenings/pseudonym-keys", headers=bearer(admin)))["rotation_done"]
            )
            metrics = client.get("/metrics").text
            assert 'putokaz_retention_purged_total{kind="pseudonym_rotation",service="screening"} 2.0' in metrics
            old_keys = {f["subject_key"] for f in before.values()}
            after = facts_once(registry_db, lambda facts: not old_keys & {f["subject_key"] for f in facts.values()})
            status = ok(client.get("/api/v1/screenings/pseudonym-keys", headers=bearer(admin)))
            assert status["retirable_keys"] == ["p0"] and status["screenings_by_key"] == {"p1": 3}
        processes.pop().stop()
        assert persons_counted(after) == 2  # and once after it
        for fact_id, fact in during.items():
            assert {k: after[fact_id][k] for k in ("rkey", "rkey_year", "rkey_quarter")} == {
                k: fact[k] for k in ("rkey", "rkey_year", "rkey_quarter")
            }

        # p0 retired (removed from the configuration): the person screened once more is still one person.
        retired = {**screening_env, **rotated, "PUTOKAZ_IDENTITY_PSEUDONYM_KEY": ""}
        with run_screening("retired", retired) as client:
            screen(client, police, person, PRESUMED_ADULT_ANSWERS)
            last = facts_once(registry_db, lambda facts: len(facts) == 4)
            status = ok(client.get("/api/v1/screenings/pseudonym-keys", headers=bearer(admin)))
            assert status["configured_keys"] == ["p1"] and status["rotation_done"] is True
        assert [f["subject_key"] for f in last.values()].count(new_key_) == 3
        assert persons_counted(last) == 2
    finally:
        for process in processes:
            process.stop()
