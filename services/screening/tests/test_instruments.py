"""Instruments: built-in versions loaded, localised reads, and validated, immutable publication by admins."""

from __future__ import annotations

import copy
from typing import Any

import yaml

from putokaz.vocabulary import LANGUAGES
from services.screening.definitions import InstrumentDefinition
from services.screening.instruments import (
    INSTRUMENTS_DIR,
    builtin_files,
    indicator_catalogue,
    load_builtin_instruments,
    publish,
    resolve,
)


def quick_definition(version: int, code: str = "quick_test") -> dict[str, Any]:
    raw = yaml.safe_load((INSTRUMENTS_DIR / "quick.yaml").read_text(encoding="utf-8"))
    raw["code"], raw["version"] = code, version
    return raw


def adult_definition() -> dict[str, Any]:
    return yaml.safe_load((INSTRUMENTS_DIR / "adult.yaml").read_text(encoding="utf-8"))


def error_fields(response: Any) -> set[str]:
    return {e["field"] for e in response.json().get("errors", [])}


def test_adult_and_child_instruments_ask_every_indicator_of_their_population() -> None:
    catalogue = indicator_catalogue()
    for code, population in (("adult", "adult"), ("child", "child")):
        definition = resolve(yaml.safe_load((INSTRUMENTS_DIR / f"{code}.yaml").read_text(encoding="utf-8")))
        asked = {q.indicator for q in definition.questions() if q.indicator}
        expected = {
            c
            for c, entry in catalogue.items()
            if any(entry["lists"][f"{population}_{k}"] for k in ("labour", "sexual"))
        }
        assert asked == expected, code
        assert {c.split(".")[0] for c in asked} == {"DR", "CR", "AR", "EX", "CD", "AD"}


def test_child_instrument_grades_indicators_up() -> None:
    child = resolve(yaml.safe_load((INSTRUMENTS_DIR / "child.yaml").read_text(encoding="utf-8")))
    adult = resolve(adult_definition())
    adult_strength = {q.indicator: q.strength for q in adult.questions() if q.indicator}
    child_strength = {q.indicator: q.strength for q in child.questions() if q.indicator}
    assert adult_strength["CR.debt_bondage"] == "M" and child_strength["CR.debt_bondage"] == "S"
    assert adult_strength["DR.education"] == "W" and child_strength["DR.education"] == "S"
    assert adult_strength["AD.past_difficulties"] == "W" and child_strength["AD.past_difficulties"] == "M"
    assert any(q.role == "act" for q in child.questions())


def test_quick_screen_has_four_to_six_yes_no_items_in_every_language() -> None:
    quick = resolve(yaml.safe_load((INSTRUMENTS_DIR / "quick.yaml").read_text(encoding="utf-8")))
    items = [q for q in quick.questions() if q.role == "quick"]
    assert 4 <= len(items) <= 6 and all(q.type == "yes_no" for q in items)
    for q in items:
        texts = {lang: q.text.get(lang).text for lang in LANGUAGES}
        assert len(set(texts.values())) >= 6, q.id  # real translations, not English copies
        assert q.text.en.status == "reviewed"


async def test_builtin_loading_is_idempotent(screening_app, client, headers) -> None:
    assert await load_builtin_instruments(screening_app.state.db) == 0
    listed = (await client.get("/api/v1/questionnaires", headers=headers("police", org="org-x"))).json()["items"]
    codes = {q["code"] for q in listed}
    assert {"quick", "adult", "child"} <= codes
    assert len(builtin_files()) == 3


async def test_questionnaire_is_served_in_each_language_with_direction(client, headers) -> None:
    h = headers("social_worker", org="org-x")
    version = resolve(adult_definition()).version
    for lang in LANGUAGES:
        response = await client.get(f"/api/v1/questionnaires/adult/versions/{version}?lang={lang}", headers=h)
        assert response.status_code == 200
        body = response.json()
        assert body["language"] == lang and set(body["languages"]) == set(LANGUAGES)
        assert body["direction"] == ("rtl" if lang in ("ar", "fa", "fa-AF", "ps", "ur") else "ltr")
        assert body["consent"]["version"] == "2026-1"
        question = body["sections"][1]["questions"][0]
        assert question["indicator"] == {
            "code": "DR.job_nature",
            "strength": "S",
            "strengths": {"labour": "S", "sexual": "S"},
            "source": "ilo_ec_2009",
        }
    assert (await client.get("/api/v1/questionnaires/adult?lang=xx", headers=h)).status_code == 422
    assert (await client.get("/api/v1/questionnaires/nothing", headers=h)).status_code == 404


async def test_sr_is_served_as_ijekavian_cyrillic_and_the_child_is_addressed_as_a_child(client, headers) -> None:
    h = headers("social_worker", org="org-x")
    alias = (await client.get("/api/v1/questionnaires/adult?lang=sr", headers=h)).json()
    cyrillic = (await client.get("/api/v1/questionnaires/adult?lang=sr-Cyrl", headers=h)).json()
    latin = (await client.get("/api/v1/questionnaires/adult?lang=sr-Latn", headers=h)).json()
    housing = next(q for s in latin["sections"] for q in s["questions"] if q["id"] == "dr_housing")
    assert housing["text"] == "Da li su vas lagali o tome gdje ćete živjeti ili kakav će biti smještaj?"
    assert alias["sections"] == cyrillic["sections"] and alias["language"] == "sr"
    assert cyrillic["consent"]["text"].startswith("Поставићу вам")
    child = (await client.get("/api/v1/questionnaires/child?lang=bs&also=fr", headers=h)).json()
    wages = next(q for s in child["sections"] for q in s["questions"] if q["id"] == "dr_wages")
    assert wages["text"].startswith("Da li si dobio/la") and wages["also"]["text"].startswith("As-tu reçu")
    assert wages["text_status"] == "draft" and wages["also"]["language"] == "fr"
    dari = (await client.get("/api/v1/questionnaires/child?lang=fa-AF", headers=h)).json()
    assert dari["direction"] == "rtl" and dari["consent"]["text_status"] == "draft"


async def test_an_earlier_version_without_the_new_languages_stays_readable_and_refuses_the_others(
    screening_app, client, headers
) -> None:
    """Versions published before sr-Cyrl/sr-Latn, Dari, French and Bengali hold `sr` (Ekavian Latin)."""
    raw = quick_definition(1, "quick_legacy")
    legacy = InstrumentDefinition.model_validate(raw).model_dump(mode="json")

    def strip(node: Any) -> None:
        if isinstance(node, dict):
            if "sr-Latn" in node and "en" in node:
                node["sr"] = node["sr-Latn"] | {"text": node["sr-Latn"]["text"].replace("gdje", "gde")}
                for lang in ("sr-Cyrl", "sr-Latn", "fa-AF", "fr", "bn"):
                    node.pop(lang)
            for value in node.values():
                strip(value)
        elif isinstance(node, list):
            for value in node:
                strip(value)

    strip(legacy)
    async with screening_app.state.db.sessionmaker() as session:
        await publish(
            session,
            InstrumentDefinition.model_validate(legacy),
            published_by="test",
            now=screening_app.state.clock.now(),
        )
        await session.commit()
    h = headers("police", org="org-x")
    old = await client.get("/api/v1/questionnaires/quick_legacy?lang=sr", headers=h)
    assert old.status_code == 200 and old.json()["languages"] == ["en", "bs", "hr", "sr", "ar", "fa", "ps", "ur"]
    for lang in ("fr", "sr-Latn", "fa-AF"):
        refused = await client.get(f"/api/v1/questionnaires/quick_legacy?lang={lang}", headers=h)
        assert refused.status_code == 422 and error_fields(refused) == {"query.lang"}
    body = {
        "instrument": "quick_legacy",
        "language": "bn",
        "place": {"entity": "FBIH", "canton": 1},
        "subject": {"given_name": "Old", "family_name": "Version", "date_of_birth": "1990-01-01"},
        "consent": {"text_version": "2026-1", "referral": "given"},
    }
    started = await client.post("/api/v1/screenings", json=body, headers=h)
    assert started.status_code == 422 and error_fields(started) == {"body.language"}
    started = await client.post("/api/v1/screenings", json=body | {"language": "sr"}, headers=h)
    assert started.status_code == 201, started.text
    assert started.json()["consent"]["text"] == legacy["consent"]["text"]["sr"]["text"]


async def test_admin_publishes_a_new_version_and_it_cannot_change(client, headers) -> None:
    admin = headers("admin", org="demo-admin")
    code = "quick_publish"
    first = await client.post("/api/v1/questionnaires", json=quick_definition(1, code), headers=admin)
    assert first.status_code == 201, first.text
    changed = quick_definition(1, code)
    changed["title"]["en"] = "Changed after publication"
    again = await client.post("/api/v1/questionnaires", json=changed, headers=admin)
    assert again.status_code == 409
    stored = (await client.get(f"/api/v1/questionnaires/{code}/versions/1", headers=admin)).json()
    assert stored["title"] == "Quick screen"
    second = await client.post("/api/v1/questionnaires", json=quick_definition(2, code), headers=admin)
    assert second.status_code == 201
    assert (await client.get(f"/api/v1/questionnaires/{code}", headers=admin)).json()["version"] == 2
    older = await client.post("/api/v1/questionnaires", json=quick_definition(1, code) | {"version": 1}, headers=admin)
    assert older.status_code == 409
    police = headers("police", org="org-x")
    assert (
        await client.post("/api/v1/questionnaires", json=quick_definition(3, code), headers=police)
    ).status_code == 403


async def test_publication_is_validated_and_names_the_field(client, headers) -> None:
    admin = headers("admin", org="demo-admin")

    unknown_indicator = adult_definition() | {"code": "adult_bad", "version": 1}
    unknown_indicator["sections"][1]["questions"][0]["indicator"] = "DR.made_up"
    response = await client.post("/api/v1/questionnaires", json=unknown_indicator, headers=admin)
    assert response.status_code == 422
    assert error_fields(response) == {"body.sections.1.questions.0.indicator"}

    wrong_strength = adult_definition() | {"code": "adult_bad", "version": 1}
    wrong_strength["sections"][1]["questions"][0]["strength"] = "W"
    response = await client.post("/api/v1/questionnaires", json=wrong_strength, headers=admin)
    assert response.status_code == 422

    missing_language = quick_definition(1, "quick_bad")
    del missing_language["sections"][0]["questions"][0]["text"]["ps"]
    response = await client.post("/api/v1/questionnaires", json=missing_language, headers=admin)
    assert response.status_code == 422
    assert error_fields(response) == {"body.sections.0.questions.0.text.ps"}

    cyclic = quick_definition(1, "quick_bad")
    questions = cyclic["sections"][0]["questions"]
    questions[0]["show_if"] = {"question": questions[1]["id"], "any_of": ["yes"]}
    questions[1]["show_if"] = {"question": questions[0]["id"], "any_of": ["yes"]}
    response = await client.post("/api/v1/questionnaires", json=cyclic, headers=admin)
    assert response.status_code == 422 and "cycle" in response.json()["detail"]

    dangling = quick_definition(1, "quick_bad")
    dangling["sections"][0]["questions"][0]["show_if"] = {"question": "nowhere", "any_of": ["yes"]}
    assert (await client.post("/api/v1/questionnaires", json=dangling, headers=admin)).status_code == 422

    child_only_in_adult = copy.deepcopy(adult_definition()) | {"code": "adult_bad", "version": 1}
    child_only_in_adult["sections"][2]["questions"][1]["indicator"] = "EX.commercial_sex_child"
    response = await client.post("/api/v1/questionnaires", json=child_only_in_adult, headers=admin)
    assert response.status_code == 422

    # Nothing of the refused versions was stored.
    listed = (await client.get("/api/v1/questionnaires", headers=admin)).json()["items"]
    assert not any(q["code"] in ("adult_bad", "quick_bad") for q in listed)
