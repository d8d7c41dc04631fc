"""Blind-index key rotation: a new key id, a background re-index, and lookups that work throughout."""

from __future__ import annotations

import base64

import httpx

from putokaz.clock import FakeClock
from putokaz.retention import RetentionJob
from putokaz.testing import auth
from services.screening.identity import Keyring, new_key
from services.screening.reindex import blind_index_reindex_task
from services.screening.tests.conftest import (
    SECRET_DOB,
    SECRET_DOCUMENT,
    SECRET_FAMILY,
    SECRET_GIVEN,
)
from services.screening.tests.test_privacy import completed_screening, raw_rows
from services.screening.vault import Vault


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _with_blind_keys(old: Keyring, extra: dict[str, str], active: str, *, keep_b0: bool = True) -> Keyring:
    import json

    b0 = old.blind_index_keys["b0"] if keep_b0 else base64.b64decode(new_key())
    return Keyring.from_config(
        json.dumps({k: _b64(v) for k, v in old.keys.items()}),
        old.active,
        _b64(b0),
        _b64(old.pseudonym_key),
        json.dumps(extra),
        active,
    )


async def _lookup(client: httpx.AsyncClient, h: dict[str, str]) -> list[tuple[str, list[str]]]:
    by_name = {"given_name": SECRET_GIVEN, "family_name": SECRET_FAMILY, "date_of_birth": SECRET_DOB}
    names = (await client.post("/api/v1/screenings/lookup", json=by_name, headers=h)).json()["matches"]
    documents = await client.post("/api/v1/screenings/lookup", json={"document_number": SECRET_DOCUMENT}, headers=h)
    return [(m["screening_id"], m["matched_on"]) for m in names + documents.json()["matches"]]


async def test_rotating_the_blind_index_key_keeps_lookups_working_throughout(own_app, make_token) -> None:
    client: httpx.AsyncClient = own_app.state.test_client

    def headers(*roles: str, org: str, sub: str | None = None) -> dict[str, str]:
        return auth(make_token(*(roles or ("police",)), org=org, sub=sub))

    org = "org-blind"
    first, h = await completed_screening(client, headers, org)
    before = await _lookup(client, h)
    assert before == [(first, ["name_dob"]), (first, ["document"])]

    # Rotate: add b1 and make it active (as after a restart with the new configuration).
    old: Keyring = own_app.state.vault.keyring
    rotated = _with_blind_keys(old, {"b1": new_key()}, "b1")
    own_app.state.vault = Vault(rotated, own_app.state.vault.store)
    second, _ = await completed_screening(client, headers, org)  # written under b1 at once
    rows = await raw_rows(own_app, "SELECT screening_id, key_id FROM screening_blind_index ORDER BY key_id")
    assert {(r["screening_id"], r["key_id"]) for r in rows} == {(first, "b0"), (second, "b1")}
    # Mid-rotation: both screenings are found, the old one through b0.
    assert sorted(await _lookup(client, h)) == sorted(
        [(first, ["name_dob"]), (second, ["name_dob"]), (first, ["document"]), (second, ["document"])]
    )

    job = RetentionJob(
        own_app.state.db, [blind_index_reindex_task(own_app.state.vault)], own_app.state.metrics, FakeClock()
    )
    assert await job.run_once() == {"blind_index_reindex": 1}
    assert await job.run_once() == {"blind_index_reindex": 0}
    rows = await raw_rows(own_app, "SELECT DISTINCT key_id FROM screening_blind_index")
    assert rows == [{"key_id": "b1"}]

    # The old key retired: only b1 (and a new, unrelated b0) remain configured; lookups still find both.
    retired = _with_blind_keys(old, {"b1": _b64(rotated.blind_index_keys["b1"])}, "b1", keep_b0=False)
    own_app.state.vault = Vault(retired, own_app.state.vault.store)
    assert sorted(await _lookup(client, h)) == sorted(
        [(first, ["name_dob"]), (second, ["name_dob"]), (first, ["document"]), (second, ["document"])]
    )
