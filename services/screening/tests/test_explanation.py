"""What a police officer reads: the result in plain words in their language, two-language questionnaires
and consent recorded or changed after the start."""

from __future__ import annotations

from services.screening.tests.conftest import adult_subject
from services.screening.tests.test_screenings_api import PRESUMED_ADULT, answer, error_fields, start


async def submitted(client, h, sid, **params):
    response = await client.post(f"/api/v1/screenings/{sid}/submit", headers=h, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_presumed_adult_is_explained_in_bosnian_with_who_to_call(client, headers, org) -> None:
    h = headers("police", org=org)
    sid = (await start(client, h, language="fa"))["id"]
    await answer(client, h, sid, PRESUMED_ADULT)
    body = await submitted(client, h, sid, ui="bs")
    explanation = body["explanation"]
    assert explanation["language"] == "bs"
    assert explanation["outcome"] == "Pretpostavljena žrtva trgovine ljudima"
    assert explanation["summary"].startswith("Tri od tri uslova su ispunjena: ✓ vrbovanje prevarom")
    dims = {d["dimension"]: d for d in explanation["dimensions"]}
    assert dims["DR"]["name"] == "vrbovanje prevarom" and dims["DR"]["holds"]
    # The indicator in words, in the screener's language (the person answered in Dari/Persian).
    assert dims["DR"]["indicators"][0]["text"].startswith("Da li su posao, mjesto ili poslodavac")
    assert not dims["AD"]["holds"] and dims["AD"]["indicators"] == []
    police = next(step for step in explanation["next_steps"] if step["who"] == "police")
    assert police["within_hours"] == 24 and "SIPA" in police["text"]
    assert "MOR" in explanation["tier"]
    # The codes stay in the result, with a reason per dimension.
    assert body["result"]["reasons"][0].startswith("DR holds")


async def test_the_screener_language_comes_from_accept_language_or_defaults_to_english(client, headers, org) -> None:
    h = headers("police", org=org)
    sid = (await start(client, h))["id"]
    await answer(client, h, sid, {"worked_for_someone": "no", "dr_wages": "yes"})
    await submitted(client, h, sid)
    read = await client.get(f"/api/v1/screenings/{sid}", headers=h | {"Accept-Language": "sr-Latn-BA,sr;q=0.8"})
    explanation = read.json()["explanation"]
    assert explanation["language"] == "sr-Latn"
    assert explanation["summary"].startswith("Nijedan od tri uslova nije ispunjen")
    assert "nije kategorija" not in explanation["tier"] and "Putokaz" in explanation["tier"]
    cyrillic = (await client.get(f"/api/v1/screenings/{sid}", headers=h | {"Accept-Language": "sr"})).json()
    assert cyrillic["explanation"]["language"] == "sr" and "Путоказ" in cyrillic["explanation"]["tier"]
    english = (await client.get(f"/api/v1/screenings/{sid}", headers=h)).json()["explanation"]
    assert english["outcome"].startswith("At risk") and english["next_steps"][0]["within_hours"] == 168
    bad = await client.get(f"/api/v1/screenings/{sid}?ui=xx", headers=h)
    assert bad.status_code == 422 and error_fields(bad) == {"query.ui"}


async def test_child_explanation_counts_two_conditions_and_calls_social_welfare_first(client, headers, org) -> None:
    h = headers("social_worker", org=org)
    child = adult_subject(date_of_birth="2012-03-01")
    sid = (await start(client, h, subject=child, consent=None, language="ar"))["id"]
    await answer(client, h, sid, {"act_moved": "yes", "worked_for_someone": "no", "ex_commercial_sex_child": "yes"})
    body = await submitted(client, h, sid, ui="hr")
    assert body["outcome"] == "PRESUMED_VICTIM"
    explanation = body["explanation"]
    assert explanation["summary"].startswith("Dva od dva uvjeta su ispunjena")
    ex = next(d for d in explanation["dimensions"] if d["dimension"] == "EX")
    assert ex["indicators"][0]["addition"] is True
    assert explanation["next_steps"][0]["who"] == "centre_for_social_welfare"


async def test_questionnaire_in_two_languages_question_by_question(client, headers) -> None:
    h = headers("police", org="org-x")
    body = (await client.get("/api/v1/questionnaires/adult?lang=fa&also=bs", headers=h)).json()
    assert body["language"] == "fa" and body["direction"] == "rtl"
    assert body["also"] == {"language": "bs", "direction": "ltr", "title": "Skrining odraslih (indikatori MOR/EK)"}
    assert body["consent"]["also"]["language"] == "bs"
    question = body["sections"][1]["questions"][0]
    assert question["text"].startswith("آیا") and question["also"]["text"].startswith("Da li su posao")
    assert body["sections"][1]["also"]["title"]
    forms = next(q for s in body["sections"] for q in s["questions"] if q["id"] == "forms_of_exploitation")
    assert forms["also"]["options"][0]["label"] == "Seksualno iskorištavanje"
    single = (await client.get("/api/v1/questionnaires/adult?lang=fa", headers=h)).json()
    assert "also" not in single["sections"][1]["questions"][0]


async def test_consent_recorded_after_the_start_and_changed_before_submit(client, headers, org) -> None:
    h = headers("police", org=org)
    screening = await start(client, h, consent=None, language="fa")
    sid = screening["id"]
    await answer(client, h, sid, {"dr_wages": "yes", "worked_for_someone": "yes"})
    given = await client.put(
        f"/api/v1/screenings/{sid}/consent", json={"text_version": "2026-1", "referral": "given"}, headers=h
    )
    assert given.status_code == 200, given.text
    consent = given.json()["consent"]
    assert consent["referral"] == "given" and consent["text_version"] == "2026-1"
    assert consent["text"].startswith("چند سؤال") and consent["text_status"] == "draft"
    assert given.json()["subject"]["family_name"]
    stale = await client.put(
        f"/api/v1/screenings/{sid}/consent", json={"text_version": "2019-1", "referral": "given"}, headers=h
    )
    assert stale.status_code == 422 and error_fields(stale) == {"body.text_version"}
    # Changing to "declined" erases the identity at once: an anonymous notification.
    declined = await client.put(
        f"/api/v1/screenings/{sid}/consent", json={"text_version": "2026-1", "referral": "declined"}, headers=h
    )
    assert declined.status_code == 200
    assert declined.json()["anonymous"] is True and declined.json()["subject"] is None
    lookup = await client.post(
        "/api/v1/screenings/lookup",
        json={k: adult_subject()[k] for k in ("given_name", "family_name", "date_of_birth")},
        headers=h,
    )
    assert all(m["screening_id"] != sid for m in lookup.json()["matches"])
    again = await client.put(
        f"/api/v1/screenings/{sid}/consent", json={"text_version": "2026-1", "referral": "given"}, headers=h
    )
    assert again.status_code == 409
    body = await submitted(client, h, sid, ui="en")
    assert body["result"]["recommended_actions"] == ["anonymous_notification"]
    late = await client.put(
        f"/api/v1/screenings/{sid}/consent", json={"text_version": "2026-1", "referral": "declined"}, headers=h
    )
    assert late.status_code == 409
    audit = await client.get(
        f"/api/v1/screenings/audit?screening_id={sid}&action=consent", headers=headers("admin", org="demo-admin")
    )
    assert audit.json()["total"] == 2  # the refused change rolled back with its audit row


async def test_a_child_screening_asks_no_consent(client, headers, org) -> None:
    h = headers("social_worker", org=org)
    sid = (await start(client, h, subject=adult_subject(date_of_birth="2013-01-01"), consent=None))["id"]
    response = await client.put(
        f"/api/v1/screenings/{sid}/consent", json={"text_version": "2026-1-child", "referral": "given"}, headers=h
    )
    assert response.status_code == 422 and error_fields(response) == {"consent"}
