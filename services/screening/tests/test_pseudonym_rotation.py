"""Pseudonym key rotation in screening: new screenings under the new key at once, the person's earlier
pseudonym announced, a background job re-keying the rest, and the old key retired."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from putokaz.clock import FakeClock
from putokaz.db import async_url
from putokaz.migrations import upgrade
from putokaz.retention import RetentionJob
from putokaz.testing import auth, service_migrations
from services.screening.identity import Keyring, KeyringError, new_key, normalise_person
from services.screening.pseudonyms import SUBJECT_KEY_ROTATED, pseudonym_rotation_task
from services.screening.tests.conftest import SECRET_DOB, SECRET_FAMILY, SECRET_GIVEN, adult_subject
from services.screening.tests.test_privacy import IDENTITY_STRINGS, raw_rows
from services.screening.tests.test_screenings_api import PRESUMED_ADULT, answer, start
from services.screening.vault import Vault

PERSON = normalise_person(SECRET_GIVEN, SECRET_FAMILY, SECRET_DOB)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def with_pseudonym_keys(old: Keyring, first: bytes | None, extra: dict[str, bytes], active: str) -> Keyring:
    """`old` with the pseudonym keys replaced: `first` is "p0" (None: retired), `extra` the others."""
    return Keyring.from_config(
        json.dumps({k: _b64(v) for k, v in old.keys.items()}),
        old.active,
        _b64(old.blind_index_key),
        _b64(first) if first is not None else "",
        None,
        None,
        json.dumps({k: _b64(v) for k, v in extra.items()}) if extra else None,
        active,
    )


async def screened(client: httpx.AsyncClient, h: dict[str, str], **subject: Any) -> str:
    sid = (await start(client, h, subject=adult_subject(**subject)))["id"]
    assert (await answer(client, h, sid, PRESUMED_ADULT)).status_code == 200
    assert (await client.post(f"/api/v1/screenings/{sid}/submit", headers=h)).status_code == 200
    return sid


async def registry_events(app: Any, after: int = 0) -> list[tuple[int, str, dict[str, Any]]]:
    rows = await raw_rows(
        app,
        "SELECT position, event_type, payload FROM outbox_events WHERE event_type LIKE 'registry.%' "
        "AND position > :after ORDER BY position",
        after=after,
    )
    return [(r["position"], r["event_type"], json.loads(r["payload"])["data"]) for r in rows]


async def keys_of(app: Any) -> dict[str, tuple[str, str | None]]:
    rows = await raw_rows(app, "SELECT id, subject_key, subject_key_id FROM screenings")
    return {r["id"]: (r["subject_key"], r["subject_key_id"]) for r in rows}


async def test_rotating_the_pseudonym_key_rekeys_every_screening_and_announces_only_pseudonyms(
    own_app, make_token
) -> None:
    client: httpx.AsyncClient = own_app.state.test_client
    org = "org-pseudonym"
    police = auth(make_token("police", org=org))
    admin = auth(make_token("admin", org=org))
    old: Keyring = own_app.state.vault.keyring
    first = await screened(client, police)  # the person, screened before the rotation
    other = await screened(client, police, given_name="Mirsada", family_name="Kovač")
    unnamed = await screened(client, police, given_name=None, family_name=None)
    s0 = old.subject_key(PERSON)
    keys = await keys_of(own_app)
    assert keys[first] == (s0, "p0") and keys[other][1] == "p0"
    assert keys[unnamed][1] is None  # random from the start: nothing a rotation could recompute

    # Rotate: add p1 and make it active (as after a restart with the new configuration).
    rotated = with_pseudonym_keys(old, old.pseudonym_key, {"p1": base64.b64decode(new_key())}, "p1")
    own_app.state.vault = Vault(rotated, own_app.state.vault.store)
    s1 = rotated.subject_key(PERSON)
    assert s1 != s0
    mark = (await registry_events(own_app))[-1][0]
    second = await screened(client, police)  # the same person, screened again
    events = await registry_events(own_app, mark)
    # Their earlier pseudonym is announced first, then their new fact comes under the new key only.
    assert [(t, d.get("subject_key")) for _, t, d in events] == [
        (SUBJECT_KEY_ROTATED, None),
        ("registry.screening_fact", s1),
    ]
    assert events[0][2] == {"old_subject_key": s0, "new_subject_key": s1}
    assert (await keys_of(own_app))[second] == (s1, "p1")

    status = await client.get("/api/v1/screenings/pseudonym-keys", headers=admin)
    assert status.status_code == 200, status.text
    assert status.json() == {
        "active_key": "p1",
        "configured_keys": ["p0", "p1"],
        "screenings_by_key": {"p0": 2, "p1": 1},
        "random_pseudonyms": 1,
        "rotation_done": False,
        "retirable_keys": [],
    }
    assert (await client.get("/api/v1/screenings/pseudonym-keys", headers=police)).status_code == 403
    refused = await client.get("/api/v1/screenings/pseudonym-keys?org=x", headers=admin)
    assert refused.status_code == 422 and {e["field"] for e in refused.json()["errors"]} == {"query.org"}

    # A fact sent for a screening still under p0 (a decision on the other person) is re-keyed first.
    mark = events[-1][0]
    decision = {"outcome": "IDENTIFIED_VICTIM", "authority": "SIPA", "decided_on": datetime.now(UTC).date().isoformat()}
    assert (
        await client.post(f"/api/v1/screenings/{other}/decisions", json=decision, headers=police)
    ).status_code == 201
    other_old, other_new = keys[other][0], (await keys_of(own_app))[other][0]
    announced, fact = await registry_events(own_app, mark)
    assert announced[1:] == (SUBJECT_KEY_ROTATED, {"old_subject_key": other_old, "new_subject_key": other_new})
    assert fact[1] == "registry.screening_fact" and fact[2]["subject_key"] == other_new != other_old

    # The background job re-keys the rest (the first screening), once: a second run finds nothing.
    mark = (await registry_events(own_app))[-1][0]
    job = RetentionJob(
        own_app.state.db, [pseudonym_rotation_task(own_app.state.vault)], own_app.state.metrics, FakeClock()
    )
    assert await job.run_once() == {"pseudonym_rotation": 1}
    assert await job.run_once() == {"pseudonym_rotation": 0}
    assert [d for _, _, d in await registry_events(own_app, mark)] == [{"old_subject_key": s0, "new_subject_key": s1}]
    keys = await keys_of(own_app)
    assert keys[first] == keys[second] == (s1, "p1") and keys[other] == (other_new, "p1")
    metrics = (await client.get("/metrics")).text
    assert 'putokaz_retention_purged_total{kind="pseudonym_rotation",service="screening"} 1.0' in metrics
    status = (await client.get("/api/v1/screenings/pseudonym-keys", headers=admin)).json()
    assert status["rotation_done"] is True and status["retirable_keys"] == ["p0"]
    assert status["screenings_by_key"] == {"p1": 3}

    # Nothing announced ever held more than two pseudonyms: no identity, no screening id, no key id.
    for _, event_type, data in await registry_events(own_app):
        if event_type == SUBJECT_KEY_ROTATED:
            assert set(data) == {"old_subject_key", "new_subject_key"}
        dump = json.dumps(data)
        assert not any(secret in dump for secret in IDENTITY_STRINGS)
        assert first not in dump and second not in dump

    # p0 retired: only p1 configured. The person screened again: their pseudonym, nothing announced.
    retired = with_pseudonym_keys(old, None, {"p1": rotated.pseudonym_key}, "p1")
    assert retired.pseudonym_keys == {"p1": rotated.pseudonym_key}
    own_app.state.vault = Vault(retired, own_app.state.vault.store)
    mark = (await registry_events(own_app))[-1][0]
    third = await screened(client, police)
    assert [(t, d.get("subject_key")) for _, t, d in await registry_events(own_app, mark)] == [
        ("registry.screening_fact", s1)
    ]
    assert (await keys_of(own_app))[third] == (s1, "p1")


def test_pseudonym_keys_are_checked_at_start() -> None:
    old = Keyring.from_config(json.dumps({"k1": new_key()}), "k1", new_key(), new_key())
    assert old.pseudonym_active == "p0" and list(old.pseudonym_keys) == ["p0"]
    with pytest.raises(KeyringError, match="names no pseudonym key"):
        with_pseudonym_keys(old, old.pseudonym_key, {"p1": base64.b64decode(new_key())}, "p2")
    with pytest.raises(KeyringError, match="must differ"):
        with_pseudonym_keys(old, old.pseudonym_key, {"p1": old.blind_index_key}, "p1")
    with pytest.raises(KeyringError, match="PSEUDONYM_KEYS is not JSON"):
        Keyring.from_config(json.dumps({"k1": new_key()}), "k1", new_key(), new_key(), None, None, "{", "p0")


async def test_two_replicas_share_the_rotation_and_announce_each_screening_once(own_app, make_token) -> None:
    client: httpx.AsyncClient = own_app.state.test_client
    police = auth(make_token("police", org="org-pseudonym-replicas"))
    people = [await screened(client, police, given_name=f"Osoba{n}") for n in range(7)]
    old: Keyring = own_app.state.vault.keyring
    rotated = with_pseudonym_keys(old, old.pseudonym_key, {"p1": base64.b64decode(new_key())}, "p1")
    vault = Vault(rotated, own_app.state.vault.store)
    mark = (await registry_events(own_app))[-1][0]

    # Two replicas' jobs at once, in small batches, on the same database (SKIP LOCKED between them).
    def replica() -> RetentionJob:
        return RetentionJob(
            own_app.state.db, [pseudonym_rotation_task(vault)], own_app.state.metrics, FakeClock(), batch=2
        )

    first, second = await asyncio.gather(replica().run_once(), replica().run_once())
    assert first["pseudonym_rotation"] + second["pseudonym_rotation"] == len(people)
    names = [normalise_person(f"Osoba{n}", SECRET_FAMILY, SECRET_DOB) or "" for n in range(len(people))]
    # Each screening announced exactly once (none twice, none missed), and stored under p1.
    announced = [d["old_subject_key"] for _, t, d in await registry_events(own_app, mark) if t == SUBJECT_KEY_ROTATED]
    assert sorted(announced) == sorted(old.subject_key(name) for name in names)
    keys = await keys_of(own_app)
    assert [keys[sid] for sid in people] == [(rotated.subject_key(name), "p1") for name in names]
    assert await replica().run_once() == {"pseudonym_rotation": 0}


def test_migration_gives_keyed_pseudonyms_p0_and_random_ones_no_key(postgres_server) -> None:
    """Screenings written before key ids existed: a stored identity means the pseudonym came from the first
    key; no identity (anonymous, erased) means it is random, and no rotation may announce it."""
    url = postgres_server.create_database("pseudonym_migration")
    migrations = service_migrations("screening")
    upgrade(migrations, url, "c3d4e5f6a716")
    now = datetime.now(UTC)
    row = (
        "INSERT INTO screenings (id, org_id, screener_sub, questionnaire_id, instrument_code, instrument_version,"
        " instrument_kind, language, consent_referral, anonymous, child, age_band, sex, citizenship, identity_ct,"
        " state, urgent, subject_key, fact_id, fact_version, started_at, updated_at, erased_at) VALUES"
        " (:id, 'org', 'u', 1, 'adult', 1, 'adult', 'en', 'given', :anonymous, false, '24-26', 'F', 'BA',"
        " :identity, 'submitted', false, :id, :id, 1, :now, :now, :erased)"
    )

    async def write() -> None:
        engine = create_async_engine(async_url(url))
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO questionnaires (id, code, version, kind, definition, checksum, published_at,"
                    " published_by) VALUES (1, 'adult', 1, 'adult', '{}', 'x', :now, 'test')"
                ),
                {"now": now},
            )
            for sid, anonymous, identity, erased in (
                ("named", False, "dk:sealed", None),
                ("anonymous", True, None, None),
                ("erased", False, None, now),
            ):
                params = {"id": sid, "anonymous": anonymous, "identity": identity, "erased": erased, "now": now}
                await conn.execute(text(row), params)
        await engine.dispose()

    async def read() -> dict[str, str | None]:
        engine = create_async_engine(async_url(url))
        async with engine.connect() as conn:
            found = dict((await conn.execute(text("SELECT id, subject_key_id FROM screenings"))).all())
        await engine.dispose()
        return found

    asyncio.run(write())
    upgrade(migrations, url)
    assert asyncio.run(read()) == {"named": "p0", "anonymous": None, "erased": None}
