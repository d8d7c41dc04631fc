"""Practice is never counted: through the real processes, a practice run changes no outbox, fact, delivery or list.

A real screening afterwards is the control: the same counters do move for it, so they can see a change.
"""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import text

from deploy.stack import Stack, own_stack
from putokaz.db import create_engine
from services.screening.training.vignettes import all_vignettes
from tests.journeys import PRESUMED_ADULT_ANSWERS, bearer, ok, screen, unique_person, wait_for

COUNTED = {
    "screening": ("screenings", "screening_blind_index", "outbox_events", "webhook_deliveries"),
    "referral": ("referrals", "outbox_events", "webhook_deliveries"),
    "registry": ("screening_facts", "referral_facts"),
}


# A stack of its own, so no other test's screening moves the counters.
training_stack = own_stack("training")


def counters(stack: Stack) -> dict[str, int]:
    async def count() -> dict[str, int]:
        out: dict[str, int] = {}
        for service, tables in COUNTED.items():
            engine = create_engine(stack.database_urls[service])
            async with engine.connect() as conn:
                for table in tables:
                    query = text(f"SELECT count(*) FROM {table}")  # noqa: S608 (this module's constant names)
                    out[f"{service}.{table}"] = (await conn.execute(query)).scalar_one()
            await engine.dispose()
        return out

    return asyncio.run(count())


def test_a_practice_run_touches_no_outbox_fact_referral_delivery_or_list(training_stack: Stack, make_token) -> None:
    trainee = make_token("trainee", org="demo-csw-sarajevo", sub="trainee-e2e")
    worker = make_token("social_worker", org="demo-csw-sarajevo")
    with httpx.Client(base_url=training_stack.url, timeout=30) as client:
        before = counters(training_stack)
        for case in all_vignettes().values():  # every vignette, each run to its score
            started = ok(
                client.post("/api/v1/training/practices", json={"vignette": case.id}, headers=bearer(trainee)), 201
            )
            assert started["training"] is True and started["banner"].startswith("OBUKA")
            pid = started["id"]
            ok(
                client.patch(
                    f"/api/v1/training/practices/{pid}/answers", json={"answers": case.answers}, headers=bearer(trainee)
                )
            )
            done = ok(client.post(f"/api/v1/training/practices/{pid}/finish", headers=bearer(trainee)))
            assert done["score"] == 100 and done["outcome"] == case.key.outcome
        # Facts and deliveries only ever leave through an outbox row: with none written, none can follow.
        assert counters(training_stack) == before
        assert ok(client.get("/api/v1/screenings", headers=bearer(worker)))["total"] == 0
        person = next(iter(all_vignettes().values())).person
        found = ok(
            client.post(
                "/api/v1/screenings/lookup",
                json={"given_name": person.given_name, "family_name": person.family_name},
                headers=bearer(worker),
            )
        )
        assert found["matches"] == []
        # The trainee cannot reach a real screening at all.
        assert client.get("/api/v1/screenings", headers=bearer(trainee)).status_code == 403

        # Control: one real screening moves the same counters (written, delivered, counted in the registry).
        screen(client, worker, unique_person(), PRESUMED_ADULT_ANSWERS)
        after = wait_for(
            lambda: (
                (c := counters(training_stack))["registry.screening_facts"] > before["registry.screening_facts"] and c
            )
        )
        assert after["screening.screenings"] == before["screening.screenings"] + 1
        assert after["screening.outbox_events"] > before["screening.outbox_events"]
        assert after["screening.webhook_deliveries"] > before["screening.webhook_deliveries"]
