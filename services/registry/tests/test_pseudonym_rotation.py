"""Pseudonym rotation in the registry: a person's facts are re-keyed in place, their record keys kept."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import text

from services.registry import repository
from services.registry.tests.conftest import LAST_YEAR, screening_fact, send, send_all
from services.registry.tests.test_ingest import victims_total

ROTATED = "registry.subject_key_rotated"


def pseudonym() -> str:
    return secrets.token_hex(32)


async def facts(registry_app: Any) -> dict[str, dict[str, Any]]:
    app, _ = registry_app
    query = text(
        "SELECT fact_id, subject_key, rkey, rkey_year, rkey_quarter, top_of_year, top_of_quarter FROM screening_facts"
    )
    async with app.state.db.engine.connect() as conn:
        return {row.fact_id: dict(row._mapping) for row in await conn.execute(query)}


async def keyed_cells(registry_app: Any) -> dict[Any, Any]:
    """Every victims cell by sex and by quarter with its count and record-key sum: what its perturbation follows."""
    app, _ = registry_app
    out: dict[Any, Any] = {}
    async with app.state.db.sessionmaker() as session:
        for periods in ([repository.Period(LAST_YEAR)], [repository.Period(LAST_YEAR, q) for q in (1, 2, 3, 4)]):
            for period, cells in (await repository.count_with_keys(session, "victims", ["sex"], periods)).items():
                out[period] = sorted((c.values, c.count, c.key_sum) for c in cells)
    return out


async def rotate(client: Any, old: str, new: str, msg_id: str | None = None) -> dict[str, Any]:
    response = await send(client, ROTATED, {"old_subject_key": old, "new_subject_key": new}, msg_id=msg_id)
    assert response.status_code == 200, response.text
    return response.json()


async def test_rekeying_keeps_every_record_key_and_counts_each_person_once(registry_app, client) -> None:
    # Twelve people, each screened twice in the year (February and May: two quarters), under the old key.
    old = [pseudonym() for _ in range(12)]
    people = [[screening_fact(subject_key=key, month=month) for month in (2, 5)] for key in old]
    await send_all(client, [fact for pair in people for fact in pair])
    before = await facts(registry_app)
    cells = await keyed_cells(registry_app)
    assert await victims_total(registry_app) == 12

    new = [pseudonym() for _ in old]
    for was, now in zip(old, new, strict=True):
        assert await rotate(client, was, now) == {"status": "stored"}
    after = await facts(registry_app)
    # Only the pseudonym changed: record keys and the top-of-period marks are those stored at ingest.
    renamed = dict(zip(old, new, strict=True))
    assert after == {fid: {**row, "subject_key": renamed[row["subject_key"]]} for fid, row in before.items()}
    assert not set(old) & {row["subject_key"] for row in after.values()}
    # So every cell has the same count and the same record-key sum: the same perturbation as before.
    assert await keyed_cells(registry_app) == cells
    assert await victims_total(registry_app) == 12

    # A mapping delivered twice (a redelivery under a new message id: the job ran again) changes nothing.
    assert await rotate(client, old[0], new[0]) == {"status": "stored"}
    assert await rotate(client, old[1], new[1], msg_id="msg_rot_1") == {"status": "stored"}
    assert await rotate(client, old[1], new[1], msg_id="msg_rot_1") == {"status": "duplicate"}
    assert await facts(registry_app) == after

    # The first person screened again under the new key (May, a quarter they are already counted in) and
    # a new version of their February fact: both join the person's stored record keys, counted once.
    first = {row["rkey_year"] for fid, row in after.items() if row["subject_key"] == new[0]}
    assert len(first) == 1
    again = screening_fact(subject_key=new[0], month=5, status="identified")
    newer = {**people[0][0], "version": 2, "subject_key": new[0], "status": "identified"}
    await send_all(client, [again, newer])
    stored = await facts(registry_app)
    may = after[people[0][1]["fact_id"]]["rkey_quarter"]
    assert stored[again["fact_id"]]["rkey_year"] in first
    assert stored[again["fact_id"]]["rkey_quarter"] == may
    assert {k: stored[newer["fact_id"]][k] for k in ("rkey", "rkey_year", "rkey_quarter")} == {
        k: after[newer["fact_id"]][k] for k in ("rkey", "rkey_year", "rkey_quarter")
    }
    assert await victims_total(registry_app) == 12


async def test_facts_of_both_keys_count_the_person_once_after_the_mapping(registry_app, client) -> None:
    """Before the mapping the registry sees two pseudonyms (two people); the mapping merges them in place."""
    old, new = pseudonym(), pseudonym()
    others = [screening_fact() for _ in range(10)]
    earlier = screening_fact(subject_key=old, month=2)
    await send_all(client, [*others, earlier])
    assert await victims_total(registry_app) == 11
    assert await rotate(client, old, new) == {"status": "stored"}
    later = screening_fact(subject_key=new, month=8)
    await send_all(client, [later])
    assert await victims_total(registry_app) == 11
    stored = await facts(registry_app)
    assert stored[later["fact_id"]]["rkey_year"] == stored[earlier["fact_id"]]["rkey_year"]
    assert [stored[f["fact_id"]]["top_of_year"] for f in (earlier, later)] == [False, True]


async def test_a_rotation_message_holds_two_different_pseudonyms_and_nothing_else(registry_app, client) -> None:
    key = pseudonym()
    await send_all(client, [screening_fact(subject_key=key) for _ in range(1)])
    bad = [
        ({"old_subject_key": key, "new_subject_key": key}, {"data"}),
        ({"old_subject_key": key}, {"new_subject_key"}),
        ({"old_subject_key": "Amira Hodzic", "new_subject_key": "not hex"}, {"old_subject_key", "new_subject_key"}),
        ({"old_subject_key": key, "new_subject_key": pseudonym(), "name": "Amira Hodzic"}, {"data"}),
    ]
    for data, fields in bad:
        response = await send(client, ROTATED, data)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert {e["field"] for e in response.json()["errors"]} == fields
        assert "Amira" not in response.text
    assert {row["subject_key"] for row in (await facts(registry_app)).values()} == {key}
