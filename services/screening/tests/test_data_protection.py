"""Consent withdrawal, erasure by crypto-shredding and legal hold, seen through the API and the database."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from services.screening.tests.conftest import SECRET_DOCUMENT, SECRET_FAMILY, SECRET_GIVEN
from services.screening.tests.test_privacy import IDENTITY_STRINGS, completed_screening, raw_rows
from services.screening.vault import Vault


def _pg_dump(url: str) -> str:
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    return subprocess.run(
        ["pg_dump", "--data-only", "--table=screenings", dsn], check=True, capture_output=True, text=True, timeout=60
    ).stdout


def _identity_envelope(dump: str, screening_id: str) -> str:
    """The identity ciphertext of one screening, read from the text of a pg_dump."""
    lines = dump.splitlines()
    header = next(line for line in lines if line.startswith("COPY public.screenings "))
    columns = header[header.index("(") + 1 : header.index(")")].split(", ")
    row = next(line for line in lines if line.startswith(screening_id + "\t"))
    return dict(zip(columns, row.split("\t"), strict=True))["identity_ct"]


async def test_a_dump_taken_before_erasure_cannot_be_decrypted_after(
    screening_app, screening_db_url, client, headers, org
) -> None:
    sid, _ = await completed_screening(client, headers, org)
    dump = _pg_dump(screening_db_url)
    envelope = _identity_envelope(dump, sid)
    assert envelope.startswith("dk:") and not any(secret in dump for secret in IDENTITY_STRINGS)
    vault: Vault = screening_app.state.vault
    # Before erasure the dump's ciphertext opens with the service's keys: the dump is a real copy.
    assert (await vault.open(sid, "identity", envelope))["family_name"] == SECRET_FAMILY

    admin = headers("admin", org=org)
    erased = await client.post(f"/api/v1/screenings/{sid}/erasure", json={"reason": "subject_request"}, headers=admin)
    assert erased.status_code == 200, erased.text
    assert erased.json()["erasure_reason"] == "subject_request" and erased.json()["erased_at"]

    # Everything the service still has (master keyring, key store) cannot open the old ciphertext.
    assert await vault.store.get(sid) is None
    assert await vault.open(sid, "identity", envelope) is None
    async with vault.store.db.engine.connect() as conn:
        wrapped = (
            await conn.execute(text("SELECT count(*) FROM data_keys WHERE object_id = :id"), {"id": sid})
        ).scalar()
    assert wrapped == 0
    [row] = await raw_rows(screening_app, "SELECT identity_ct, answers_ct FROM screenings WHERE id = :id", id=sid)
    assert row == {"identity_ct": None, "answers_ct": None}
    assert await raw_rows(screening_app, "SELECT * FROM screening_blind_index WHERE screening_id = :id", id=sid) == []


async def test_after_erasure_the_screening_stays_without_identity_and_lookup_forgets_the_person(
    client, headers, org
) -> None:
    sid, h = await completed_screening(client, headers, org)
    lookup = {"document_number": SECRET_DOCUMENT}
    assert [
        m["screening_id"]
        for m in (await client.post("/api/v1/screenings/lookup", json=lookup, headers=h)).json()["matches"]
    ] == [sid]
    await client.post(
        f"/api/v1/screenings/{sid}/erasure", json={"reason": "court_order"}, headers=headers("admin", org=org)
    )
    body = (await client.get(f"/api/v1/screenings/{sid}", headers=h)).json()
    assert body["subject"] is None and body["answers"] == {}
    assert body["outcome"] == "PRESUMED_VICTIM" and body["data_protection"]["erasure_reason"] == "court_order"
    assert (await client.post("/api/v1/screenings/lookup", json=lookup, headers=h)).json()["matches"] == []
    answers = await client.patch(f"/api/v1/screenings/{sid}/answers", json={"answers": {"dr_wages": "no"}}, headers=h)
    assert answers.status_code == 409


async def test_erasure_is_admin_only_needs_a_reason_and_stays_in_the_organisation(client, headers, org) -> None:
    sid, h = await completed_screening(client, headers, org)
    assert (
        await client.post(f"/api/v1/screenings/{sid}/erasure", json={"reason": "other"}, headers=h)
    ).status_code == 403
    admin = headers("admin", org=org)
    missing = await client.post(f"/api/v1/screenings/{sid}/erasure", json={}, headers=admin)
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "body.reason"
    elsewhere = headers("admin", org=org + "-other")
    assert (
        await client.post(f"/api/v1/screenings/{sid}/erasure", json={"reason": "other"}, headers=elsewhere)
    ).status_code == 404
    assert (await client.get(f"/api/v1/screenings/{sid}", headers=h)).json()["subject"]["given_name"] == SECRET_GIVEN


async def test_legal_hold_blocks_erasure_until_released_and_both_are_audited(client, headers, org) -> None:
    sid, h = await completed_screening(client, headers, org)
    admin = headers("admin", org=org)
    hold = await client.put(
        f"/api/v1/screenings/{sid}/legal-hold", json={"reason": "criminal_proceedings"}, headers=admin
    )
    assert hold.status_code == 200 and hold.json()["legal_hold"] is True
    refused = await client.post(f"/api/v1/screenings/{sid}/erasure", json={"reason": "subject_request"}, headers=admin)
    assert refused.status_code == 409
    # Consent withdrawn under hold: recorded, but the identity is kept for the proceedings.
    withdrawn = await client.post(f"/api/v1/screenings/{sid}/consent/withdraw", headers=h)
    assert withdrawn.status_code == 200 and withdrawn.json()["erased_at"] is None
    assert (await client.get(f"/api/v1/screenings/{sid}", headers=h)).json()["subject"]["given_name"] == SECRET_GIVEN
    released = await client.delete(f"/api/v1/screenings/{sid}/legal-hold", headers=admin)
    assert released.status_code == 200 and released.json()["legal_hold"] is False
    erased = await client.post(f"/api/v1/screenings/{sid}/erasure", json={"reason": "consent_withdrawn"}, headers=admin)
    assert erased.status_code == 200 and erased.json()["erased_at"] is not None
    log = await client.get(f"/api/v1/audit/screening?object_id={sid}&limit=100", headers=headers("admin", org="x"))
    actions = [(e["action"], e["detail"]) for e in reversed(log.json()["items"]) if e["outcome"] == "ok"]
    assert ("place_legal_hold", {"reason": "criminal_proceedings"}) in actions
    assert ("release_legal_hold", None) in actions
    assert actions[-1] == ("erase", {"reason": "consent_withdrawn"})


async def test_withdrawing_consent_records_who_and_when_emits_the_event_and_erases(
    screening_app, client, headers, org, make_token
) -> None:
    sid, _ = await completed_screening(client, headers, org)
    worker = {"Authorization": f"Bearer {make_token('social_worker', org=org, sub='worker-7')}"}
    response = await client.post(f"/api/v1/screenings/{sid}/consent/withdraw", headers=worker)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["consent_withdrawn_by"] == "worker-7" and body["consent_withdrawn_at"]
    assert body["erasure_reason"] == "consent_withdrawn"
    again = await client.post(f"/api/v1/screenings/{sid}/consent/withdraw", headers=worker)
    assert again.status_code == 200 and again.json()["consent_withdrawn_at"] == body["consent_withdrawn_at"]
    events = await raw_rows(
        screening_app,
        "SELECT payload FROM outbox_events WHERE event_type = 'screening.consent_withdrawn' AND aggregate_id = :id",
        id=sid,
    )
    assert len(events) == 1  # a repeated withdrawal announces nothing new
    data: dict[str, Any] = json.loads(events[0]["payload"])
    data = data.get("data", data)
    assert set(data) == {"screening_id", "org", "occurred_at"} and data["screening_id"] == sid and data["org"] == org
    assert not any(secret in events[0]["payload"] for secret in IDENTITY_STRINGS)
    other = headers("police", org=org + "-b")
    assert (await client.post(f"/api/v1/screenings/{sid}/consent/withdraw", headers=other)).status_code == 404
    admin = headers("admin", org=org)
    assert (await client.post(f"/api/v1/screenings/{sid}/consent/withdraw", headers=admin)).status_code == 403


async def test_subject_access_export_is_one_document_admin_only_and_audited(client, headers, org) -> None:
    sid, h = await completed_screening(client, headers, org)
    decision = await client.post(
        f"/api/v1/screenings/{sid}/decisions",
        json={"outcome": "IDENTIFIED_VICTIM", "authority": "SIPA", "decided_on": datetime.now(UTC).date().isoformat()},
        headers=h,
    )
    assert decision.status_code == 201, decision.text
    admin = headers("admin", org=org)
    assert (await client.get(f"/api/v1/screenings/{sid}/subject-access", headers=h)).status_code == 403
    response = await client.get(f"/api/v1/screenings/{sid}/subject-access", headers=admin)
    assert response.status_code == 200, response.text
    export = response.json()
    assert export["screening_id"] == sid and export["service"] == "screening"
    assert export["screening"]["subject"]["family_name"] == SECRET_FAMILY
    assert export["screening"]["answers"] and export["screening"]["result"]
    assert [d["outcome"] for d in export["screening"]["decisions"]] == ["IDENTIFIED_VICTIM"]
    assert [a["action"] for a in export["accesses"]][:3] == ["create", "answer", "submit"]
    log = await client.get(f"/api/v1/audit/screening?object_id={sid}&action=subject_access_export", headers=admin)
    assert [e["actor_org"] for e in log.json()["items"]] == [org]
    elsewhere = headers("admin", org=org + "-x")
    assert (await client.get(f"/api/v1/screenings/{sid}/subject-access", headers=elsewhere)).status_code == 404
