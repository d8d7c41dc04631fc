"""Identity protection seen from the database: encryption at rest, blind index, audit trail, clean events."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from sqlalchemy import text

from putokaz.keystore import DataKeyStore
from services.screening.identity import Keyring, KeyringError, new_key, normalise_person
from services.screening.rotate_keys import rotate
from services.screening.settings import Settings
from services.screening.tests.conftest import (
    SECRET_DOB,
    SECRET_DOCUMENT,
    SECRET_FAMILY,
    SECRET_GIVEN,
    SECRET_NOTES,
    SECRET_PHONE,
)
from services.screening.tests.test_screenings_api import PRESUMED_ADULT, answer, start
from services.screening.vault import Vault

IDENTITY_STRINGS = (SECRET_GIVEN, SECRET_FAMILY, SECRET_DOB, SECRET_PHONE, SECRET_DOCUMENT, SECRET_NOTES, "Zlatanka")


async def raw_rows(app: Any, sql: str, **params: Any) -> list[dict[str, Any]]:
    async with app.state.db.engine.connect() as conn:
        return [dict(row._mapping) for row in await conn.execute(text(sql), params)]


async def completed_screening(client, headers, org) -> tuple[str, dict[str, str]]:
    h = headers("police", org=org)
    sid = (await start(client, h))["id"]
    await answer(client, h, sid, PRESUMED_ADULT | {"screener_notes": "she mentioned Enver twice"})
    await client.post(f"/api/v1/screenings/{sid}/submit", headers=h)
    return sid, h


async def test_identity_and_answers_are_encrypted_in_the_raw_row(screening_app, client, headers, org) -> None:
    sid, h = await completed_screening(client, headers, org)
    [row] = await raw_rows(screening_app, "SELECT * FROM screenings WHERE id = :id", id=sid)
    dump = json.dumps(row, default=str)
    for secret in (*IDENTITY_STRINGS, "Enver"):
        assert secret not in dump
    # Under the screening's own data key, which lives wrapped in the separate key store.
    assert row["identity_ct"].startswith("dk:") and row["answers_ct"].startswith("dk:")
    # The API still gives the frontline worker what was recorded.
    body = (await client.get(f"/api/v1/screenings/{sid}", headers=h)).json()
    assert body["subject"]["family_name"] == SECRET_FAMILY
    assert body["subject"]["documents"] == [{"type": "passport", "number": SECRET_DOCUMENT}]
    assert body["answers"]["screener_notes"] == "she mentioned Enver twice"


async def test_swapped_ciphertext_does_not_decrypt_under_another_screening(screening_app, client, headers, org) -> None:
    keyring: Keyring = screening_app.state.keyring
    sid, _ = await completed_screening(client, headers, org)
    [row] = await raw_rows(screening_app, "SELECT identity_ct FROM screenings WHERE id = :id", id=sid)
    with pytest.raises(KeyringError):
        keyring.decrypt(row["identity_ct"], "screening:someone-else:identity")


async def test_outbox_events_carry_no_identity(screening_app, client, headers, org) -> None:
    sid, h = await completed_screening(client, headers, org)
    today = (await client.get(f"/api/v1/screenings/{sid}", headers=h)).json()["submitted_at"][:10]
    decision = {"outcome": "IDENTIFIED_VICTIM", "authority": "SIPA", "decided_on": today}
    assert (await client.post(f"/api/v1/screenings/{sid}/decisions", json=decision, headers=h)).status_code == 201

    [screening] = await raw_rows(screening_app, "SELECT fact_id FROM screenings WHERE id = :id", id=sid)
    events = await raw_rows(
        screening_app,
        "SELECT event_type, payload FROM outbox_events WHERE aggregate_id IN (:sid, :fid) ORDER BY position",
        sid=sid,
        fid=screening["fact_id"],
    )
    types = [e["event_type"] for e in events]
    assert types == [
        "screening.consent_recorded",
        "screening.submitted",
        "registry.screening_fact",
        "screening.decision_recorded",
        "registry.screening_fact",
    ]
    for event in events:
        for secret in (*IDENTITY_STRINGS, "Enver", "Bihać"):
            assert secret not in event["payload"]
    facts = [json.loads(e["payload"])["data"] for e in events if e["event_type"] == "registry.screening_fact"]
    assert [f["version"] for f in facts] == [1, 2]
    assert [f["status"] for f in facts] == ["presumed", "identified"]
    assert facts[0]["fact_id"] == facts[1]["fact_id"] != sid
    assert facts[0]["age_band"] == "30-38" and facts[0]["sex"] == "F" and facts[0]["citizenship"] == "AF"
    assert facts[0]["forms"] == ["forced_labour"] and facts[0]["instrument"] == "adult"
    assert facts[0]["child"] is False and facts[0]["anonymous"] is False
    keyring: Keyring = screening_app.state.keyring
    assert facts[0]["subject_key"] == keyring.subject_key(normalise_person(SECRET_GIVEN, SECRET_FAMILY, SECRET_DOB))
    submitted = json.loads(events[1]["payload"])
    assert submitted["type"] == "screening.submitted" and submitted["timestamp"].endswith("Z")
    assert submitted["data"]["outcome"] == "PRESUMED_VICTIM"


async def test_lookup_finds_own_organisation_matches_only(client, headers, org) -> None:
    mine = headers("police", org=org)
    other_org = org + "-b"
    theirs = headers("social_worker", org=other_org)
    sid = (await start(client, mine))["id"]
    await start(client, theirs)  # the same person screened elsewhere
    # Spelling, case and accents differ; the blind index still matches.
    by_name = {"given_name": "ZLATANKA", "family_name": "hodzic testna", "date_of_birth": SECRET_DOB}
    response = await client.post("/api/v1/screenings/lookup", json=by_name, headers=mine)
    assert response.status_code == 200
    matches = response.json()["matches"]
    assert [m["screening_id"] for m in matches] == [sid]
    assert matches[0]["matched_on"] == ["name_dob"]
    by_document = await client.post("/api/v1/screenings/lookup", json={"document_number": "zx 9876543"}, headers=mine)
    assert [m["screening_id"] for m in by_document.json()["matches"]] == [sid]
    other = await client.post("/api/v1/screenings/lookup", json=by_name, headers=theirs)
    assert sid not in {m["screening_id"] for m in other.json()["matches"]}
    nobody = await client.post("/api/v1/screenings/lookup", json={"given_name": "Nobody"}, headers=mine)
    assert nobody.json()["matches"] == []
    empty = await client.post("/api/v1/screenings/lookup", json={}, headers=mine)
    assert empty.status_code == 422


async def test_every_read_and_write_is_audited_without_identity(screening_app, client, headers, org) -> None:
    sid, h = await completed_screening(client, headers, org)
    await client.get(f"/api/v1/screenings/{sid}", headers=h)
    await client.get("/api/v1/screenings", headers=h)
    lookup = {"given_name": SECRET_GIVEN, "family_name": SECRET_FAMILY, "date_of_birth": SECRET_DOB}
    await client.post("/api/v1/screenings/lookup", json=lookup, headers=h)
    admin = headers("admin", org="demo-admin")
    response = await client.get(f"/api/v1/screenings/audit?screening_id={sid}&limit=100", headers=admin)
    assert response.status_code == 200
    entries = response.json()["items"]
    actions = [e["action"] for e in reversed(entries)]
    assert actions[:3] == ["create", "answer", "submit"]
    assert {"read", "list", "lookup_match"} <= set(actions)
    assert all(e["actor_org"] == org and e["actor_roles"] == ["police"] for e in entries)
    dump = json.dumps(entries)
    assert not any(secret in dump for secret in IDENTITY_STRINGS)
    assert (await client.get("/api/v1/screenings/audit", headers=h)).status_code == 403
    filtered = await client.get("/api/v1/screenings/audit?action=submit&limit=5", headers=admin)
    assert all(e["action"] == "submit" for e in filtered.json()["items"])


async def test_rotation_re_encrypts_under_the_new_key(screening_app, screening_settings, client, headers, org) -> None:
    sid, h = await completed_screening(client, headers, org)
    old: Keyring = screening_app.state.keyring
    rotated = Keyring.from_config(
        json.dumps({**{k: _b64(v) for k, v in old.keys.items()}, "k2": new_key()}),
        "k2",
        _b64(old.blind_index_key),
        _b64(old.pseudonym_key),
    )
    store = DataKeyStore(screening_app.state.vault.store.db, rotated)
    assert await rotate(screening_app.state.db, rotated, store=store) >= 1
    # Identity and answers stay under the screening's own data key; that key is now wrapped by k2.
    [row] = await raw_rows(screening_app, "SELECT identity_ct, answers_ct FROM screenings WHERE id = :id", id=sid)
    assert row["identity_ct"].startswith("dk:") and row["answers_ct"].startswith("dk:")
    async with store.db.engine.connect() as conn:
        wrapped = (
            await conn.execute(text("SELECT wrapped FROM data_keys WHERE object_id = :id"), {"id": sid})
        ).scalar()
    assert wrapped.startswith("k2:")
    assert (await Vault(rotated, store).open(sid, "identity", row["identity_ct"]))["given_name"] == SECRET_GIVEN
    assert await rotate(screening_app.state.db, rotated, store=store) == 0
    # As after a restart with the new configuration: the service reads rotated rows (and keeps k2 active).
    screening_app.state.keyring = rotated
    screening_app.state.vault = Vault(rotated, store)
    assert (await client.get(f"/api/v1/screenings/{sid}", headers=h)).json()["subject"]["given_name"] == SECRET_GIVEN


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def test_production_refuses_to_start_without_identity_keys(jwt_secret: str) -> None:
    with pytest.raises(ValueError, match="IDENTITY"):
        Settings(environment="production", jwt_secret=jwt_secret, database_url="sqlite+aiosqlite:///x.db")
    with pytest.raises(ValueError, match=r"base64|random bytes"):
        Settings(
            environment="production",
            jwt_secret=jwt_secret,
            database_url="sqlite+aiosqlite:///x.db",
            identity_keys=json.dumps({"k": "short"}),
            identity_active_key="k",
            identity_blind_index_key=new_key(),
            identity_pseudonym_key=new_key(),
        )


def test_dev_keys_are_generated_into_a_file_not_the_code(tmp_path) -> None:
    path = tmp_path / "keys.json"
    first = Settings(environment="dev", identity_dev_keys_file=path).keyring()
    again = Settings(environment="dev", identity_dev_keys_file=path).keyring()
    assert path.exists() and oct(path.stat().st_mode & 0o777) == "0o600"
    assert first.keys == again.keys and first.active == again.active
    other = Settings(environment="dev", identity_dev_keys_file=tmp_path / "other.json").keyring()
    assert other.keys != first.keys


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("Ana", "Đurić", "2001-02-03"), ("ana", "DJURIC", "2001-02-03")),
        (("Ana Marija", "Kovač", None), ("marija  ana", "kovac", None)),
        (("Mohammad", "Rahimi", "1999-01-01"), (" mohammad ", "rahimi.", "1999-01-01")),
        # Given and family names swapped, as between Persian and Latin records.
        (("Mohammad", "Rahimi", "1999-01-01"), ("Rahimi", "Mohammad", "1999-01-01")),
        # Full-width letters (NFKC), zero-width characters pasted from a phone, a soft hyphen, German ß.
        (("Ａｎａ", "Ko\u200bvač", "2001-02-03"), ("Ana", "Kovac", "2001-02-03")),
        (("Amir\u200c", "Nou\u00adri", None), ("amir", "nouri", None)),
        (("Groß", "Weiß", None), ("GROSS", "weiss", None)),
    ],
)
def test_normalisation_matches_spelling_variants(
    a: tuple[str, str, str | None], b: tuple[str, str, str | None]
) -> None:
    assert normalise_person(*a) == normalise_person(*b)


async def test_lookup_finds_a_person_with_names_swapped_and_invisible_characters(client, headers) -> None:
    h = headers("police", org="org-lookup-swap")
    body = {
        "language": "fa",
        "subject": {"given_name": "Zahra", "family_name": "Ahmadi", "date_of_birth": "1995-04-04"},
        "consent": {"text_version": "2026-1", "referral": "given"},
    }
    sid = (await client.post("/api/v1/screenings", json=body, headers=h)).json()["id"]
    swapped = {"given_name": "AHMADI\u200b", "family_name": "Zahrá", "date_of_birth": "1995-04-04"}
    matches = (await client.post("/api/v1/screenings/lookup", json=swapped, headers=h)).json()["matches"]
    assert [m["screening_id"] for m in matches] == [sid]


def test_normalisation_keeps_different_people_apart() -> None:
    assert normalise_person("Ana", "Kovač", "2001-02-03") != normalise_person("Ana", "Kovač", "2001-02-04")
    assert normalise_person(None, None, "2001-02-03") is None
