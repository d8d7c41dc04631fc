"""Training mode through the screening API on PostgreSQL: practice to a score, isolation, trainers' groups."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import text

from services.screening.training.vignettes import all_vignettes

CASE = "construction-labour"
TABLES = ("screenings", "screening_blind_index", "outbox_events", "webhook_deliveries", "idempotency_keys")


async def counts(app: Any) -> dict[str, int]:
    async with app.state.db.engine.connect() as conn:
        # The table names are this module's constants, never input.
        return {t: (await conn.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one() for t in TABLES}  # noqa: S608


async def practise(
    client: httpx.AsyncClient, h: dict[str, str], answers: dict[str, Any], vignette: str = CASE, language: str = "en"
) -> dict[str, Any]:
    started = await client.post(
        "/api/v1/training/practices", json={"vignette": vignette, "language": language}, headers=h
    )
    assert started.status_code == 201, started.text
    pid = started.json()["id"]
    if answers:
        saved = await client.patch(f"/api/v1/training/practices/{pid}/answers", json={"answers": answers}, headers=h)
        assert saved.status_code == 200, saved.text
    finished = await client.post(f"/api/v1/training/practices/{pid}/finish", headers=h)
    assert finished.status_code == 200, finished.text
    return finished.json()


async def test_a_trainee_asks_records_and_sees_their_outcome_beside_the_experts(client, headers, org) -> None:
    h = headers("trainee", org=org, sub="trainee-amra")
    case = all_vignettes()[CASE]
    started = await client.post("/api/v1/training/practices", json={"vignette": CASE, "language": "bs"}, headers=h)
    assert started.status_code == 201, started.text
    body = started.json()
    assert body["training"] is True and body["banner"].startswith("OBUKA")
    assert body["vignette"]["person"]["given_name"] == case.person.given_name
    assert "key" not in body["vignette"], "the key is shown only after finishing"
    assert body["questionnaire"]["code"] == "adult"
    pid = body["id"]

    asked = await client.post(f"/api/v1/training/practices/{pid}/ask", json={"question": "cd_documents"}, headers=h)
    assert asked.json() | {"banner": None} == {
        "training": True,
        "banner": None,
        "question": "cd_documents",
        "answer": "yes",
    }
    never = await client.post(f"/api/v1/training/practices/{pid}/ask", json={"question": "cd_violence"}, headers=h)
    assert never.json()["answer"] == "no"

    saved = await client.patch(f"/api/v1/training/practices/{pid}/answers", json={"answers": case.answers}, headers=h)
    assert saved.status_code == 200
    done = (await client.post(f"/api/v1/training/practices/{pid}/finish", headers=h)).json()
    assert done["state"] == "finished" and done["training"] is True
    feedback = done["feedback"]
    assert feedback["yours"]["outcome"] == feedback["expert"]["outcome"] == "PRESUMED_VICTIM"
    assert feedback["missed"] == [] and feedback["added"] == [] and done["score"] == 100
    assert done["vignette"]["key"]["outcome"] == "PRESUMED_VICTIM"
    again = await client.patch(
        f"/api/v1/training/practices/{pid}/answers", json={"answers": {"cd_violence": "yes"}}, headers=h
    )
    assert again.status_code == 409


async def test_missed_and_added_indicators_each_say_why_and_lower_the_score(client, headers, org) -> None:
    h = headers("police", org=org)
    answers = {  # documents and debt found, recruitment missed, violence added though the person said no
        "worked_for_someone": "yes",
        "ex_excessive_hours": "yes",
        "cd_documents": "yes",
        "cd_debt_bondage": "yes",
        "cd_violence": "yes",
    }
    done = await practise(client, h, answers)
    feedback = done["feedback"]
    assert feedback["yours"]["outcome"] == "POTENTIAL_VICTIM" and feedback["outcome_right"] is False
    assert [m["indicator"] for m in feedback["missed"]] == ["DR.job_nature", "DR.wages", "EX.bad_living", "EX.low_pay"]
    assert (
        feedback["missed"][0]["why"].startswith("Promised a welder's job")
        and "did not ask" in feedback["missed"][0]["why"]
    )
    assert feedback["added"] == [
        {"indicator": "CD.violence", "why": "The person did not say this: asked, they answered no."}
    ]
    assert done["score"] == round(60 * 3 / 8)


async def test_a_practice_writes_nothing_real(screening_app, client, headers, org) -> None:
    before = await counts(screening_app)
    h = headers("social_worker", org=org)
    case = all_vignettes()["bar-sexual-exploitation"]
    done = await practise(client, h, case.answers, vignette=case.id)
    assert done["outcome"] == "PRESUMED_VICTIM"
    assert await counts(screening_app) == before
    listed = await client.get("/api/v1/screenings", headers=h)
    assert listed.json()["total"] == 0
    lookup = await client.post(
        "/api/v1/screenings/lookup",
        json={"given_name": case.person.given_name, "family_name": case.person.family_name},
        headers=h,
    )
    assert lookup.status_code == 200 and lookup.json()["matches"] == []


async def test_a_practice_is_its_trainees_own_and_roles_are_kept(client, headers, org) -> None:
    h = headers("trainee", org=org, sub="trainee-a")
    pid = (await client.post("/api/v1/training/practices", json={"vignette": CASE}, headers=h)).json()["id"]
    for other in (
        headers("trainee", org=org, sub="trainee-b"),
        headers("trainee", org="org-elsewhere", sub="trainee-a"),
    ):
        assert (await client.get(f"/api/v1/training/practices/{pid}", headers=other)).status_code == 404
    # A trainee never touches real screenings; a provider does not practise here.
    assert (await client.get("/api/v1/screenings", headers=h)).status_code == 403
    assert (
        await client.get("/api/v1/training/practices", headers=headers("service_provider", org=org))
    ).status_code == 403
    extra = await client.post("/api/v1/training/practices", json={"vignette": CASE, "extra": 1}, headers=h)
    assert extra.status_code == 422 and [e["field"].split(".")[-1] for e in extra.json()["errors"]] == ["extra"]
    unknown = await client.post("/api/v1/training/practices", json={"vignette": "no-such-case"}, headers=h)
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "body.vignette"


async def test_a_trainer_assigns_vignettes_and_sees_the_groups_results(client, headers, org) -> None:
    trainer = headers("coordinator", org=org, sub="trainer-1")
    group = await client.post(
        "/api/v1/training/groups",
        json={"name": "Bihać course, December", "members": ["t-1", "t-2"], "vignettes": [CASE, "weak-indicators-only"]},
        headers=trainer,
    )
    assert group.status_code == 201, group.text
    gid = group.json()["id"]
    t1 = headers("trainee", org=org, sub="t-1")
    assert (await client.get("/api/v1/training/assignments", headers=t1)).json()["items"][0]["vignettes"] == [
        CASE,
        "weak-indicators-only",
    ]
    await practise(client, t1, {"worked_for_someone": "yes", "cd_documents": "yes"})
    await practise(client, t1, all_vignettes()[CASE].answers)
    # Someone outside the group and a practice at another organisation are not counted.
    await practise(client, headers("trainee", org=org, sub="t-9"), {"worked_for_someone": "yes"})
    await practise(client, headers("trainee", org="org-other", sub="t-2"), {"worked_for_someone": "yes"})

    results = (await client.get(f"/api/v1/training/groups/{gid}/results", headers=trainer)).json()
    by_member = {m["trainee"]: m["results"] for m in results["members"]}
    assert by_member["t-1"][0] | {"latest_outcome_right": None} == {
        "vignette": CASE,
        "completed": True,
        "attempts": 2,
        "latest_score": 100,
        "best_score": 100,
        "latest_outcome_right": None,
    }
    assert by_member["t-1"][1]["completed"] is False
    assert all(not r["completed"] for r in by_member["t-2"])
    assert results["most_missed"][0]["times"] == 1 and "t-9" not in by_member
    assert (
        await client.get(f"/api/v1/training/groups/{gid}/results", headers=headers("admin", org="org-x"))
    ).status_code == 404
    assert (await client.get(f"/api/v1/training/groups/{gid}/results", headers=t1)).status_code == 403
    unknown = await client.post(
        "/api/v1/training/groups", json={"name": "x", "members": ["a"], "vignettes": ["nope"]}, headers=trainer
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "body.vignettes.0"


async def test_a_retried_start_or_finish_with_its_idempotency_key_answers_the_first(client, headers, org) -> None:
    h = headers("trainee", org=org, sub="trainee-retry")
    body = {"vignette": CASE, "language": "en"}
    first = await client.post("/api/v1/training/practices", json=body, headers={**h, "Idempotency-Key": "start-1"})
    again = await client.post("/api/v1/training/practices", json=body, headers={**h, "Idempotency-Key": "start-1"})
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    listed = (await client.get("/api/v1/training/practices", headers=h)).json()["items"]
    assert [p["id"] for p in listed] == [first.json()["id"]]
    other = await client.post(
        "/api/v1/training/practices",
        json={**body, "vignette": "weak-indicators-only"},
        headers={**h, "Idempotency-Key": "start-1"},
    )
    assert other.status_code == 422 and other.json()["errors"][0]["field"] == "header.idempotency-key"

    pid = first.json()["id"]
    finish = f"/api/v1/training/practices/{pid}/finish"
    done = await client.post(finish, headers={**h, "Idempotency-Key": "finish-1"})
    retried = await client.post(finish, headers={**h, "Idempotency-Key": "finish-1"})
    assert done.status_code == retried.status_code == 200
    assert retried.json()["feedback"] == done.json()["feedback"] and retried.json()["state"] == "finished"
    # Without the key (or with another) a second finish is still refused: it is finished.
    assert (await client.post(finish, headers={**h, "Idempotency-Key": "finish-2"})).status_code == 409
    # Someone else's practice: not found, key or no key.
    stranger = headers("trainee", org=org, sub="trainee-other")
    assert (await client.post(finish, headers={**stranger, "Idempotency-Key": "finish-1"})).status_code == 404


async def test_training_actions_are_in_the_audit_trail(client, headers, org) -> None:
    h = headers("trainee", org=org, sub="trainee-audited")
    done = await practise(client, h, {"worked_for_someone": "yes"})
    trainer = headers("coordinator", org=org, sub="trainer-audit")
    group = await client.post(
        "/api/v1/training/groups",
        json={"name": "Audit", "members": ["trainee-audited"], "vignettes": [CASE]},
        headers=trainer,
    )
    gid = group.json()["id"]
    await client.get(f"/api/v1/training/groups/{gid}/results", headers=trainer)
    admin = headers("admin", org=org)
    log = (await client.get(f"/api/v1/audit/screening?object_id={done['id']}", headers=admin)).json()["items"]
    assert sorted((e["action"], e["object_type"], e["actor_sub"]) for e in log) == [
        ("finish", "training_practice", "trainee-audited"),
        ("start", "training_practice", "trainee-audited"),
    ]
    log = (await client.get(f"/api/v1/audit/screening?object_id={gid}", headers=admin)).json()["items"]
    assert sorted(e["action"] for e in log) == ["create", "read_results"]
