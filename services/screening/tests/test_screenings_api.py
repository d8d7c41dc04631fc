"""The screening flow through the API: languages, skip logic, submission, decisions, consent, isolation."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import text

from services.screening.tests.conftest import adult_subject, start_body
from services.screening.tests.test_instruments import quick_definition

PRESUMED_ADULT = {
    "dr_job_nature": "yes",
    "dr_wages": "yes",
    "worked_for_someone": "yes",
    "ex_excessive_hours": "yes",
    "ex_low_pay": "yes",
    "cd_documents": "yes",
    "cd_isolation": "yes",
    "ctx_household": "yes",
    "forms_of_exploitation": ["forced_labour"],
}


async def start(client: httpx.AsyncClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/screenings", json=start_body(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def answer(
    client: httpx.AsyncClient, headers: dict[str, str], sid: str, answers: dict[str, Any]
) -> httpx.Response:
    return await client.patch(f"/api/v1/screenings/{sid}/answers", json={"answers": answers}, headers=headers)


def error_fields(response: httpx.Response) -> set[str]:
    assert response.headers["content-type"].startswith("application/problem+json")
    return {e["field"] for e in response.json().get("errors", [])}


async def test_adult_flow_in_bosnian_reaches_presumed_victim_with_explanation(client, headers, org) -> None:
    h = headers("social_worker", org=org)
    screening = await start(client, h, language="bs")
    assert screening["state"] == "draft" and screening["direction"] == "ltr"
    sid = screening["id"]
    # Answers arrive in two increments.
    first = dict(list(PRESUMED_ADULT.items())[:3])
    assert (await answer(client, h, sid, first)).status_code == 200
    response = await answer(client, h, sid, dict(list(PRESUMED_ADULT.items())[3:]))
    assert response.status_code == 200
    assert response.json()["answers"] == PRESUMED_ADULT

    submitted = await client.post(f"/api/v1/screenings/{sid}/submit", headers=h)
    assert submitted.status_code == 200, submitted.text
    body = submitted.json()
    assert body["state"] == "submitted"
    assert body["outcome"] == body["computed_outcome"] == "PRESUMED_VICTIM"
    result = body["result"]
    assert result["rule"] == "adult: (DR ∨ CR ∨ AR) ∧ EX ∧ (CD ∨ AD)"
    dims = {d["dimension"]: d for d in result["dimensions"]}
    assert dims["DR"]["positive"] and dims["DR"]["indicators"] == ["DR.job_nature", "DR.wages"]
    assert dims["DR"]["rule"] == "1 strong + 1+ medium/weak"
    assert dims["EX"]["positive"] and dims["CD"]["positive"] and not dims["AD"]["positive"]
    assert result["forms"] == ["forced_labour"]
    assert result["vulnerability_factors"] == ["household:ctx_household"]
    assert {"safe_house", "mhpss", "legal_aid"} <= set(result["recommended_service_types"])
    assert "notify_police_for_identification" in result["recommended_actions"]
    assert result["urgent"] is False


async def test_flow_in_farsi_is_right_to_left_and_localised(client, headers, org) -> None:
    h = headers("police", org=org)
    instrument = (await client.get("/api/v1/questionnaires/quick?lang=fa", headers=h)).json()
    assert instrument["direction"] == "rtl"
    first = instrument["sections"][0]["questions"][0]
    assert first["text"].startswith("آیا") and first["text_status"] == "draft"
    english = (await client.get("/api/v1/questionnaires/quick?lang=en", headers=h)).json()
    assert english["sections"][0]["questions"][0]["text_status"] == "reviewed"

    screening = await start(client, h, language="fa", instrument="quick")
    assert screening["direction"] == "rtl"
    sid = screening["id"]
    assert (await answer(client, h, sid, {"documents_held": "yes", "danger_now": "yes"})).status_code == 200
    body = (await client.post(f"/api/v1/screenings/{sid}/submit", headers=h)).json()
    assert body["outcome"] == "POTENTIAL_VICTIM"
    assert body["urgent"] is True
    assert "full_assessment" in body["result"]["recommended_actions"]
    assert "interpretation" in body["result"]["recommended_service_types"]


async def test_quick_screen_all_no_is_no_indicators(client, headers, org) -> None:
    h = headers("police", org=org)
    sid = (await start(client, h, instrument="quick", language="hr"))["id"]
    items = [
        "unsafe_work",
        "tricked_or_forced",
        "sex_in_exchange",
        "afraid_to_leave",
        "documents_held",
        "unpayable_debt",
    ]
    await answer(client, h, sid, dict.fromkeys(items, "no"))
    body = (await client.post(f"/api/v1/screenings/{sid}/submit", headers=h)).json()
    assert body["outcome"] == "NO_INDICATORS"


async def test_bad_answers_are_422_naming_the_question(client, headers, org) -> None:
    h = headers("police", org=org)
    sid = (await start(client, h))["id"]
    wrong_type = await answer(client, h, sid, {"dr_wages": 3})
    assert wrong_type.status_code == 422 and error_fields(wrong_type) == {"body.answers.dr_wages"}
    wrong_choice = await answer(client, h, sid, {"forms_of_exploitation": ["sexual", "piracy"]})
    assert wrong_choice.status_code == 422
    unknown = await answer(client, h, sid, {"no_such_question": "yes"})
    assert unknown.status_code == 422 and error_fields(unknown) == {"body.answers.no_such_question"}
    # Every bad answer in one answer, not only the first.
    several = await answer(client, h, sid, {"cd_violence": "maybe", "nonexistent_q": "yes", "dr_wages": "yes"})
    assert several.status_code == 422
    assert error_fields(several) == {"body.answers.cd_violence", "body.answers.nonexistent_q"}
    # Nothing from the rejected updates was kept.
    current = (await client.get(f"/api/v1/screenings/{sid}", headers=h)).json()
    assert current["answers"] == {}


async def test_exploitation_questions_are_asked_of_someone_who_never_worked_for_anyone(client, headers, org) -> None:
    # Skip logic may shorten, never blind, a dimension: "no" to working for someone keeps EX open.
    h = headers("police", org=org)
    sid = (await start(client, h))["id"]
    response = await answer(
        client, h, sid, {"worked_for_someone": "no", "ex_low_pay": "yes", "ex_begging_quota": "yes"}
    )
    assert response.status_code == 200, response.text


async def gated_instrument(client: httpx.AsyncClient, headers: Any, code: str) -> None:
    """A quick screen whose debt question is asked only after documents_held is yes or unsure."""
    definition = quick_definition(1, code)
    debt = next(q for q in definition["sections"][0]["questions"] if q["id"] == "unpayable_debt")
    debt["show_if"] = {"question": "documents_held", "any_of": ["yes"]}
    published = await client.post("/api/v1/questionnaires", json=definition, headers=headers("admin", org="demo-admin"))
    assert published.status_code in (201, 409), published.text


async def test_changing_a_gate_answer_requires_clearing_dependent_answers(client, headers, org) -> None:
    await gated_instrument(client, headers, "quick_gated")
    h = headers("police", org=org)
    sid = (await start(client, h, instrument="quick_gated"))["id"]
    skipped = await answer(client, h, sid, {"documents_held": "no", "unpayable_debt": "yes"})
    assert skipped.status_code == 422 and error_fields(skipped) == {"body.answers.unpayable_debt"}
    assert (await answer(client, h, sid, {"documents_held": "yes", "unpayable_debt": "yes"})).status_code == 200
    conflict = await answer(client, h, sid, {"documents_held": "no"})
    assert conflict.status_code == 422 and error_fields(conflict) == {"body.answers.unpayable_debt"}
    cleared = await answer(client, h, sid, {"documents_held": "no", "unpayable_debt": None})
    assert cleared.status_code == 200 and cleared.json()["answers"] == {"documents_held": "no"}


async def test_required_question_must_be_answered_before_submit(client, headers, org) -> None:
    h = headers("police", org=org)
    sid = (await start(client, h))["id"]
    response = await client.post(f"/api/v1/screenings/{sid}/submit", headers=h)
    assert response.status_code == 422 and error_fields(response) == {"answers.worked_for_someone"}


async def test_submit_twice_and_answer_after_submit_are_409(client, headers, org) -> None:
    h = headers("police", org=org)
    sid = (await start(client, h))["id"]
    await answer(client, h, sid, {"worked_for_someone": "no"})
    assert (await client.post(f"/api/v1/screenings/{sid}/submit", headers=h)).status_code == 200
    assert (await client.post(f"/api/v1/screenings/{sid}/submit", headers=h)).status_code == 409
    assert (await answer(client, h, sid, {"dr_wages": "yes"})).status_code == 409


async def test_other_organisation_gets_404_everywhere(client, headers, org) -> None:
    mine = headers("police", org=org)
    theirs = headers("police", org=org + "-other")
    sid = (await start(client, mine))["id"]
    await answer(client, mine, sid, {"worked_for_someone": "no"})
    assert (await client.get(f"/api/v1/screenings/{sid}", headers=theirs)).status_code == 404
    assert (await answer(client, theirs, sid, {"dr_wages": "yes"})).status_code == 404
    assert (await client.post(f"/api/v1/screenings/{sid}/submit", headers=theirs)).status_code == 404
    decision = {"outcome": "IDENTIFIED_VICTIM", "authority": "SIPA", "decided_on": "2026-01-05"}
    assert (await client.post(f"/api/v1/screenings/{sid}/decisions", json=decision, headers=theirs)).status_code == 404
    assert (await client.get(f"/api/v1/screenings/{sid}/decisions", headers=theirs)).status_code == 404
    listed = (await client.get("/api/v1/screenings", headers=theirs)).json()
    assert all(item["id"] != sid for item in listed["items"])
    missing = "00000000-0000-4000-8000-000000000000"
    assert (await client.get(f"/api/v1/screenings/{missing}", headers=mine)).status_code == 404


async def test_child_presumption_selects_child_instrument_and_social_welfare(client, headers, org) -> None:
    h = headers("social_worker", org=org)
    unknown_age = adult_subject(date_of_birth=None, possibly_minor=None)
    screening = await start(client, h, subject=unknown_age, consent=None, language="ar")
    assert screening["instrument"] == "child" and screening["child"] is True
    assert screening["age_band"] == "unknown" and screening["consent"]["referral"] == "not_required"
    assert screening["direction"] == "rtl"
    sid = screening["id"]
    # Means are not required for a child: act + exploitation is enough.
    answers = {"act_moved": "yes", "worked_for_someone": "yes", "ex_excessive_hours": "yes", "ex_low_pay": "yes"}
    assert (await answer(client, h, sid, answers | {"alone": "yes"})).status_code == 200
    body = (await client.post(f"/api/v1/screenings/{sid}/submit", headers=h)).json()
    assert body["outcome"] == "PRESUMED_VICTIM"
    assert body["result"]["rule"].startswith("child: act ∧ EX")
    assert body["urgent"] is True
    assert body["result"]["recommended_service_types"][0] == "social_welfare"
    assert "shelter_children" in body["result"]["recommended_service_types"]


async def test_minor_cannot_be_screened_with_adult_instrument(client, headers, org) -> None:
    h = headers("police", org=org)
    minor = adult_subject(date_of_birth="2012-06-01")
    response = await client.post("/api/v1/screenings", json=start_body(subject=minor, instrument="adult"), headers=h)
    assert response.status_code == 422 and error_fields(response) == {"body.instrument"}
    # Unknown age, stated clearly adult: the adult instrument applies and the band is unknown.
    adult = adult_subject(date_of_birth=None, possibly_minor=False)
    screening = await start(client, h, subject=adult)
    assert screening["instrument"] == "adult" and screening["age_band"] == "unknown"


async def test_adult_needs_consent_with_the_instrument_consent_version(client, headers, org) -> None:
    h = headers("police", org=org)
    stale = start_body(consent={"text_version": "2019-9", "referral": "given"})
    response = await client.post("/api/v1/screenings", json=stale, headers=h)
    assert response.status_code == 422 and error_fields(response) == {"body.consent.text_version"}
    # Without consent the conversation may start, but nothing is submitted until consent is recorded.
    pending = await start(client, h, consent=None)
    assert pending["consent"]["referral"] == "pending"
    await answer(client, h, pending["id"], {"worked_for_someone": "no"})
    refused = await client.post(f"/api/v1/screenings/{pending['id']}/submit", headers=h)
    assert refused.status_code == 422 and error_fields(refused) == {"consent"}


async def test_adult_declining_referral_is_anonymous_and_keeps_no_identity(client, headers, org) -> None:
    h = headers("police", org=org)
    screening = await start(client, h, consent={"text_version": "2026-1", "referral": "declined"})
    assert screening["anonymous"] is True and screening["subject"] is None
    sid = screening["id"]
    await answer(client, h, sid, PRESUMED_ADULT)
    body = (await client.post(f"/api/v1/screenings/{sid}/submit", headers=h)).json()
    assert body["outcome"] == "PRESUMED_VICTIM"
    assert body["result"]["recommended_actions"] == ["anonymous_notification"]
    assert body["result"]["recommended_service_types"] == []
    # Not findable by name: nothing identifying was indexed.
    lookup = {"given_name": "Zlatanka", "family_name": "Hodžić-Testna", "date_of_birth": "1994-03-17"}
    matches = (await client.post("/api/v1/screenings/lookup", json=lookup, headers=h)).json()["matches"]
    assert sid not in {m["screening_id"] for m in matches}


async def test_identification_decision_history_by_police_only(client, headers, org) -> None:
    police = headers("police", org=org)
    social = headers("social_worker", org=org)
    sid = (await start(client, police))["id"]
    decision = {"outcome": "IDENTIFIED_VICTIM", "authority": "Prosecutor's Office of BiH", "decided_on": "2026-01-05"}
    # Draft screenings cannot be decided.
    assert (await client.post(f"/api/v1/screenings/{sid}/decisions", json=decision, headers=police)).status_code == 409
    await answer(client, police, sid, PRESUMED_ADULT)
    await client.post(f"/api/v1/screenings/{sid}/submit", headers=police)
    forbidden = await client.post(f"/api/v1/screenings/{sid}/decisions", json=decision, headers=social)
    assert forbidden.status_code == 403
    early = await client.post(f"/api/v1/screenings/{sid}/decisions", json=decision, headers=police)
    assert early.status_code == 422 and error_fields(early) == {"body.decided_on"}  # predates the screening
    today = (await client.get(f"/api/v1/screenings/{sid}", headers=police)).json()["submitted_at"][:10]
    first = await client.post(
        f"/api/v1/screenings/{sid}/decisions", json=decision | {"decided_on": today}, headers=police
    )
    assert first.status_code == 201, first.text
    withdrawn = decision | {"outcome": "NOT_CONFIRMED", "decided_on": today}
    assert (await client.post(f"/api/v1/screenings/{sid}/decisions", json=withdrawn, headers=police)).status_code == 201
    history = (await client.get(f"/api/v1/screenings/{sid}/decisions", headers=social)).json()["items"]
    assert [d["outcome"] for d in history] == ["IDENTIFIED_VICTIM", "NOT_CONFIRMED"]
    assert history[0]["authority"] == "Prosecutor's Office of BiH"
    current = (await client.get(f"/api/v1/screenings/{sid}", headers=social)).json()
    assert current["outcome"] == "NOT_CONFIRMED" and current["computed_outcome"] == "PRESUMED_VICTIM"
    future = decision | {"decided_on": "2999-01-01"}
    response = await client.post(f"/api/v1/screenings/{sid}/decisions", json=future, headers=police)
    assert response.status_code == 422 and error_fields(response) == {"body.decided_on"}


async def test_list_filters_and_pagination(client, headers, org) -> None:
    h = headers("police", org=org)
    ids = [(await start(client, h, instrument="quick"))["id"] for _ in range(3)]
    await start(client, h)
    await answer(client, h, ids[0], {"documents_held": "yes"})
    await client.post(f"/api/v1/screenings/{ids[0]}/submit", headers=h)

    everything = (await client.get("/api/v1/screenings", headers=h)).json()
    assert everything["total"] == 4
    quick = (await client.get("/api/v1/screenings?instrument=quick&limit=2", headers=h)).json()
    assert quick["total"] == 3 and len(quick["items"]) == 2
    rest = (await client.get("/api/v1/screenings?instrument=quick&limit=2&offset=2", headers=h)).json()
    assert len(rest["items"]) == 1
    assert {i["id"] for i in quick["items"] + rest["items"]} == set(ids)
    potential = (await client.get("/api/v1/screenings?outcome=POTENTIAL_VICTIM", headers=h)).json()
    assert [i["id"] for i in potential["items"]] == [ids[0]]
    drafts = (await client.get("/api/v1/screenings?state=draft&canton=1&entity=FBIH", headers=h)).json()
    assert drafts["total"] == 3
    assert "subject" not in everything["items"][0]  # summaries carry no identity
    bad = await client.get("/api/v1/screenings?limit=1000", headers=h)
    assert bad.status_code == 422 and error_fields(bad) == {"query.limit"}


async def test_start_validation_names_the_field(client, headers, org) -> None:
    h = headers("police", org=org)
    cases = [
        (start_body(language="de"), "body.language"),
        (start_body(place={"entity": "RS", "canton": 3}), "body.place"),
        (start_body(subject=adult_subject(citizenship="Afghanistan")), "body.subject.citizenship"),
        (start_body(subject=adult_subject(date_of_birth="2999-01-01")), "body.subject.date_of_birth"),
        (start_body(instrument="nonexistent"), "instrument"),
        (start_body(surprise=True), "body.surprise"),
        (start_body(place={"entity": "RS", "municipality": "Banja\x00Luka"}), "body.place.municipality"),
    ]
    for body, field in cases:
        response = await client.post("/api/v1/screenings", json=body, headers=h)
        assert response.status_code == 422, (field, response.text)
        assert field in error_fields(response), (field, response.json())


async def test_roles_outside_frontline_are_refused(client, headers, org) -> None:
    for role in ("coordinator", "service_provider", "partner"):
        response = await client.post("/api/v1/screenings", json=start_body(), headers=headers(role, org=org))
        assert response.status_code == 403
    assert (await client.get("/api/v1/screenings")).status_code == 401


async def test_concurrent_submits_give_one_result_and_one_conflict(screening_app, client, headers, org) -> None:
    h = headers("police", org=org)
    sid = (await start(client, h, instrument="quick"))["id"]
    await answer(client, h, sid, {"documents_held": "yes"})
    responses = await asyncio.gather(*(client.post(f"/api/v1/screenings/{sid}/submit", headers=h) for _ in range(4)))
    assert sorted(r.status_code for r in responses) == [200, 409, 409, 409]
    async with screening_app.state.db.engine.connect() as conn:
        count = await conn.scalar(
            text("SELECT count(*) FROM outbox_events WHERE aggregate_id = :id AND event_type = 'screening.submitted'"),
            {"id": sid},
        )
    assert count == 1


async def test_unknown_list_parameters_are_422_naming_them(client, headers, org) -> None:
    h = headers("police", org=org)
    for path, name in (
        ("/api/v1/screenings?created_from=2026-01-01", "created_from"),
        ("/api/v1/questionnaires?x=1", "x"),
    ):
        r = await client.get(path, headers=h)
        assert r.status_code == 422, r.text
        assert [e["field"] for e in r.json()["errors"]] == [f"query.{name}"]
