"""The internal feed: signature, deduplication on webhook-id, versions, and refusal of identity data."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from putokaz.errors import Invalid
from putokaz.events.receiver import WebhookMessage
from services.registry.ingest import ingest_message
from services.registry.tests.conftest import (
    LAST_YEAR,
    exact_cells,
    referral_fact,
    screening_fact,
    send,
    send_all,
    signed_event,
)


async def victims_total(registry_app) -> int:
    """The stored number of victims (published counts are perturbed; this checks what was stored)."""
    return (await exact_cells(registry_app, "victims", LAST_YEAR))[0]["count"]


async def status_counts(registry_app) -> dict[str, int]:
    return {c["status"]: c["count"] for c in await exact_cells(registry_app, "victims", LAST_YEAR, ("status",))}


async def test_fact_is_stored_and_counted(registry_app, client) -> None:
    await send_all(client, [screening_fact() for _ in range(11)])
    assert await victims_total(registry_app) == 11


async def test_same_webhook_id_twice_is_processed_once(registry_app, client) -> None:
    await send_all(client, [screening_fact() for _ in range(10)])
    first = await send(client, "registry.screening_fact", screening_fact(), msg_id="msg_dup_1")
    # Same webhook-id, even with another fact inside: a redelivery, not a new message.
    again = await send(client, "registry.screening_fact", screening_fact(), msg_id="msg_dup_1")
    assert first.json() == {"status": "stored"}
    assert again.status_code == 200 and again.json() == {"status": "duplicate"}
    assert await victims_total(registry_app) == 11


async def test_higher_version_replaces_and_lower_version_is_ignored(registry_app, client) -> None:
    people = [screening_fact(status="potential") for _ in range(10)]
    await send_all(client, people)
    for fact in people:
        newer = {**fact, "version": 2, "status": "identified"}
        assert (await send(client, "registry.screening_fact", newer)).json() == {"status": "stored"}
    stale = {**people[0], "version": 1, "status": "not_confirmed"}
    assert (await send(client, "registry.screening_fact", stale)).json() == {"status": "superseded"}
    counts = await status_counts(registry_app)
    assert counts == {"potential": 0, "presumed": 0, "identified": 10, "total": 10}


async def test_identity_carrying_facts_are_rejected_without_echo(registry_app, client, caplog) -> None:
    caplog.set_level(logging.INFO)
    attempts = [
        {**screening_fact(), "name": "Amira Hodzic"},
        {**screening_fact(), "date_of_birth": "2009-04-17"},
        {**screening_fact(), "notes": "Met at the bus station in Bihac, phone +387 61 123 456"},
        screening_fact(citizenship="Amira Hodzic"),
        screening_fact(subject_key="Amira Hodzic"),
        screening_fact(age_band="2009-04-17"),
    ]
    for fact in attempts:
        response = await send(client, "registry.screening_fact", fact)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        for secret in ("Amira", "2009-04-17", "Bihac", "+387", "name", "date_of_birth", "notes"):
            assert secret not in response.text
            assert secret not in caplog.text
    await send_all(client, [screening_fact() for _ in range(10)])
    assert await victims_total(registry_app) == 10


async def test_inconsistent_or_future_facts_are_rejected(client) -> None:
    for fact in (
        screening_fact(age_band="9-17", child=False),
        screening_fact(entity="RS", canton=3),
        screening_fact(year=LAST_YEAR + 3),
        screening_fact(year=str(LAST_YEAR)),
        screening_fact(forms=["sexual", "sexual"]),
        screening_fact(subject_key=None),
    ):
        response = await send(client, "registry.screening_fact", fact)
        assert response.status_code == 422, fact
    assert (await send(client, "registry.referral_fact", referral_fact(hours_to_answer=-1))).status_code == 422


async def test_the_clock_passed_in_decides_what_is_future_and_stamps_the_row(registry_app) -> None:
    """The feed reads the time from the service clock: a fact three years ahead is refused today, stored
    when the clock says it is that year, and its row carries the clock's time."""
    app, _ = registry_app
    fact = screening_fact(year=LAST_YEAR + 3, month=1)
    then = datetime(LAST_YEAR + 3, 2, 1, 12, tzinfo=UTC)
    async with app.state.db.sessionmaker() as session, session.begin():
        message = WebhookMessage("msg_" + uuid.uuid4().hex, "registry.screening_fact", then, fact)
        with pytest.raises(Invalid):
            await ingest_message(session, message, datetime.now(UTC))
        assert await ingest_message(session, message, then) == "stored"
        stamped = await session.scalar(
            text("SELECT updated_at FROM screening_facts WHERE fact_id = :id"), {"id": fact["fact_id"]}
        )
    assert stamped.replace(tzinfo=UTC) == then


async def test_anonymous_fact_without_subject_key_counts_as_one_person(registry_app, client) -> None:
    await send_all(client, [screening_fact(subject_key=None, anonymous=True) for _ in range(10)])
    assert await victims_total(registry_app) == 10


async def test_bad_signature_is_401_and_nothing_stored(registry_app, client) -> None:
    body, headers = signed_event("registry.screening_fact", screening_fact())
    headers["webhook-signature"] = "v1,AAAA"
    response = await client.post("/internal/events", content=body, headers=headers)
    assert response.status_code == 401
    await send_all(client, [screening_fact() for _ in range(10)])
    assert await victims_total(registry_app) == 10


async def test_unknown_event_type_is_acknowledged_and_ignored(client) -> None:
    response = await send(client, "referral.accepted", {"referral_id": "r1"})
    assert response.status_code == 200 and response.json() == {"status": "ignored"}


async def test_referral_facts_are_counted(registry_app, client) -> None:
    await send_all(client, [referral_fact() for _ in range(12)], "registry.referral_fact")
    cells = await exact_cells(registry_app, "referrals", LAST_YEAR, ("service_type", "answer_time"))
    cell = next(c for c in cells if c["service_type"] == "safe_house" and c["answer_time"] == "<2h")
    assert cell["count"] == 12


async def test_withdrawn_identification_hands_the_count_to_the_persons_other_screening(registry_app, client) -> None:
    people = []
    for _ in range(10):
        key = uuid.uuid4().hex
        people.append(
            (screening_fact(subject_key=key, status="identified"), screening_fact(subject_key=key, status="potential"))
        )
    await send_all(client, [fact for pair in people for fact in pair])
    for identified, _ in people:
        await send_all(client, [{**identified, "version": 2, "status": "not_confirmed"}])
    counts = await status_counts(registry_app)
    assert counts == {"potential": 10, "presumed": 0, "identified": 0, "total": 10}


async def test_concurrent_facts_of_one_person_still_count_them_once(registry_app, client) -> None:
    import asyncio

    keys = [uuid.uuid4().hex for _ in range(10)]
    facts = [screening_fact(subject_key=k, status=s) for k in keys for s in ("potential", "presumed", "identified")]
    responses = await asyncio.gather(*(send(client, "registry.screening_fact", f) for f in facts))
    assert all(r.status_code == 200 for r in responses)
    counts = await status_counts(registry_app)
    assert counts == {"potential": 0, "presumed": 0, "identified": 10, "total": 10}


async def test_writers_of_one_year_never_wait_for_each_other_nor_leave_a_stale_answer(client, registry_app) -> None:
    """Writers commit in any order: an answer cached between two commits never outlives the earlier writer."""
    app, _ = registry_app
    identified = lambda cells: next(c["count"] for c in cells if c["status"] == "identified")  # noqa: E731
    await send_all(client, [screening_fact(status="identified") for _ in range(3)])
    async with app.state.db.sessionmaker() as slow:
        # A writer of the year whose facts are written and whose transaction is still open …
        fact = screening_fact(status="identified")
        message = WebhookMessage("msg_" + uuid.uuid4().hex, "registry.screening_fact", datetime.now(UTC), fact)
        assert await ingest_message(slow, message, datetime.now(UTC)) == "stored"
        # … while another writer of the same year commits without waiting for it (a row per year, held
        # by each writer until its commit, made this wait: the timeout fails the test).
        await asyncio.wait_for(send_all(client, [screening_fact(status="identified")]), timeout=15)
        assert identified(await exact_cells(registry_app, "victims", LAST_YEAR, ("status",))) == 4  # now cached
        await slow.commit()
    # The first writer committed last: the answer cached before its commit is not served after it.
    assert identified(await exact_cells(registry_app, "victims", LAST_YEAR, ("status",))) == 5
    # Each writer folds the rows no one else holds into its own: the two rows of the concurrent writers
    # become one with the next write, and a year keeps a handful of rows however many writes it had.
    await send_all(client, [screening_fact(status="none")])
    async with app.state.db.sessionmaker() as session:
        rows = await session.execute(
            text("SELECT count(*), sum(weight) FROM stats_writes WHERE year = :y"), {"y": LAST_YEAR}
        )
    assert tuple(rows.one()) == (1, 6)
