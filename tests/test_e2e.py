"""End-to-end journeys through the gateway on PostgreSQL with the four real processes."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from deploy.stack import Stack, own_stack
from tests.journeys import PRESUMED_ADULT_ANSWERS, adult_journey, bearer, ok, screen, unique_person, wait_for

# The module starts its own processes once (a module fixture): keep its tests on one xdist worker.
pytestmark = pytest.mark.xdist_group("e2e")


# A stack of its own, so the statistics start from zero.
journey_stack = own_stack("journey")


@pytest.fixture
def client(journey_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=journey_stack.url, timeout=30) as c:
        yield c


def test_adult_presumed_victim_is_screened_matched_referred_placed_and_counted(client, make_token):
    adult_journey(client, make_token)


def test_child_is_screened_with_the_child_instrument_and_referred_to_social_welfare_without_consent(client, make_token):
    police = make_token("police", org="demo-police-una-sana")
    child = unique_person() | {"date_of_birth": None, "age_estimate": 14, "sex": "M", "citizenship": "BA"}
    child.pop("date_of_birth")
    started = ok(
        client.post(
            "/api/v1/screenings",
            headers=bearer(police),
            json={
                "language": "bs",
                "subject": child,
                "place": {"entity": "FBIH", "canton": 1, "municipality": "Bihać"},
            },
        ),
        201,
    )
    assert started["child"] is True and started["instrument_kind"] == "child"
    # Forced begging with a quota after being moved: act + exploitation, no means needed for a child.
    answers = {"act_moved": "yes", "worked_for_someone": "yes", "ex_begging_quota": "yes", "ex_excessive_hours": "yes"}
    ok(client.patch(f"/api/v1/screenings/{started['id']}/answers", json={"answers": answers}, headers=bearer(police)))
    submitted = ok(client.post(f"/api/v1/screenings/{started['id']}/submit", headers=bearer(police)))
    assert submitted["outcome"] == "PRESUMED_VICTIM"
    assert "social_welfare" in submitted["result"]["recommended_service_types"]

    # Nobody refers the child by hand: the system does, once, to the CSW of the municipality (Bihać).
    def automatic() -> list[dict]:
        sent = ok(client.get("/api/v1/referrals?box=sent&limit=100", headers=bearer(police)))["items"]
        return [r for r in sent if r["sender"]["screening_id"] == started["id"]]

    (referral,) = wait_for(automatic, timeout=10)
    assert (referral["to_org"], referral["service_type"]) == ("demo-csw-bihac", "social_welfare")
    assert referral["urgent"] is True and referral["status"] == "requested" and referral["profile"]["child"] is True
    csw = make_token("social_worker", org="demo-csw-bihac")
    inbox = ok(client.get("/api/v1/referrals?box=received&limit=100", headers=bearer(csw)))["items"]
    assert referral["id"] in [r["id"] for r in inbox]
    seen = ok(client.get(f"/api/v1/referrals/{referral['id']}", headers=bearer(csw)))
    assert seen["sender"] is None and started["id"] not in str(seen)  # what a centre needs, no identity


def test_adult_who_declines_is_counted_anonymously_and_no_identity_is_stored_anywhere(
    client, journey_stack, make_token, postgres_server
):
    social_worker = make_token("social_worker", org="demo-csw-sarajevo")
    before = _anonymous_facts(journey_stack)
    person = unique_person()
    screening = screen(client, social_worker, person, PRESUMED_ADULT_ANSWERS, consent="declined")
    assert screening["anonymous"] is True
    assert screening["subject"] is None or not any(screening["subject"].values())

    # Counted: the anonymous fact reaches the registry (published counts are perturbed, so checked here).
    wait_for(lambda: _anonymous_facts(journey_stack) == before + 1)

    secrets = [
        person["given_name"],
        person["family_name"],
        person["documents"][0]["number"],
        person["phone"],
        person["notes"],
    ]
    dumped = _dump_databases(journey_stack)
    logs = journey_stack.logs()
    for value in secrets:
        assert value not in dumped, f"{value} stored in a database"
        assert value not in logs, f"{value} written to a log"


def _anonymous_facts(stack: Stack) -> int:
    import asyncio

    from sqlalchemy import text

    from putokaz.db import create_engine

    async def count() -> int:
        engine = create_engine(stack.database_urls["registry"])
        async with engine.connect() as conn:
            value = (await conn.execute(text("SELECT count(*) FROM screening_facts WHERE anonymous"))).scalar_one()
        await engine.dispose()
        return int(value)

    return asyncio.run(count())


def _dump_databases(stack: Stack) -> str:
    """Every text value of every table of the three databases, as one string."""
    import asyncio

    from sqlalchemy import text

    from putokaz.db import create_engine

    async def dump(url: str) -> str:
        engine = create_engine(url)
        chunks = []
        async with engine.connect() as conn:
            tables = (
                (
                    await conn.execute(
                        text("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
                    )
                )
                .scalars()
                .all()
            )
            for table in tables:
                rows = (await conn.execute(text(f'SELECT * FROM "{table}"'))).all()  # noqa: S608 - catalogue names
                chunks.extend(repr(tuple(row)) for row in rows)
        await engine.dispose()
        return "\n".join(chunks)

    return "\n".join(asyncio.run(dump(url)) for url in stack.database_urls.values())
