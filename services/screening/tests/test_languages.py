"""Texts as written where the screening happens: BiH legal terms and scripts, one form of address for a child,
every text in every language, no known errors, honest review status."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from putokaz.vocabulary import TEXT_LANGUAGES
from services.screening.definitions import InstrumentDefinition
from services.screening.instruments import INSTRUMENTS_DIR, builtin_files, indicator_catalogue, resolve

LOCAL = ("bs", "hr", "sr-Latn", "sr-Cyrl")
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
# The formal (adult) form of address, per language, as whole words; a child is never addressed so.
FORMAL = {
    "bs": r"\b(vi|vas|vam|vama|vaš\w*|ste|biste|niste|jeste)\b",
    "hr": r"\b(vi|vas|vam|vama|vaš\w*|ste|biste|niste|jeste)\b",
    "sr-Latn": r"\b(vi|vas|vam|vama|vaš\w*|ste|biste|niste|jeste)\b",
    "sr-Cyrl": r"(?<![\w])(ви|вас|вам|вама|ваш\w*|сте|бисте|нисте|јесте)(?![\w])",
    "fr": r"\b(vous|votre|vos)\b",
    "fa": r"شما|‌تان(?![\w])",
    "fa-AF": r"شما|‌تان(?![\w])",
    "ps": r"تاسو|ستاسو",
    "ur": r"آپ",
    "bn": r"আপনি|আপনার|আপনাকে",
}


def definitions() -> dict[str, InstrumentDefinition]:
    return {path.stem: resolve(yaml.safe_load(path.read_text(encoding="utf-8"))) for path in builtin_files()}


def local_texts() -> list[tuple[str, str, Any]]:
    found = []
    for name, definition in definitions().items():
        for where, texts in definition.texts():
            for lang in LOCAL:
                found.append((f"{name}.{where}", lang, texts.get(lang)))
    return found


def test_every_text_of_every_instrument_exists_in_every_language_with_its_placeholders() -> None:
    for name, definition in definitions().items():
        assert definition.missing_texts() == [], name
        assert set(TEXT_LANGUAGES) <= set(definition.languages()), name
        for where, texts in definition.texts():
            english = sorted(PLACEHOLDER.findall(texts.get("en").text))
            for lang in TEXT_LANGUAGES:
                text = texts.get(lang).text
                assert text.strip(), (name, where, lang)
                assert sorted(PLACEHOLDER.findall(text)) == english, (name, where, lang)


def test_the_catalogue_holds_every_indicator_in_every_language_and_a_child_form_for_the_child_lists() -> None:
    for code, entry in indicator_catalogue().items():
        assert set(entry["text"]) == set(TEXT_LANGUAGES), code
        asked_of_children = entry["lists"]["child_labour"] or entry["lists"]["child_sexual"]
        if asked_of_children:
            assert set(entry["text_child"]) == set(TEXT_LANGUAGES), code


def test_serbian_is_ijekavian_in_both_scripts_and_sr_is_the_cyrillic() -> None:
    catalogue = indicator_catalogue()
    housing = catalogue["DR.housing"]["text"]
    assert "gdje ćete živjeti" in housing["sr-Latn"] and "smještaj" in housing["sr-Latn"]
    assert "гдје ћете живјети" in housing["sr-Cyrl"]
    adult = definitions()["adult"]
    for _, texts in adult.texts():
        assert texts.get("sr").text == texts.get("sr-Cyrl").text
        assert not re.search(r"[A-Za-zčćšžđ]{2,}", texts.get("sr-Cyrl").text.replace("MOR", "")), texts.get("sr-Cyrl")
    ekavian = re.compile(r"\b(mesto|mesta|gde|ovde|negde|lekar|vreme|živeti|deca|dete|uvek|pre|beleške)\b", re.I)
    offending = [(where, t.text) for where, lang, t in local_texts() if lang == "sr-Latn" and ekavian.search(t.text)]
    assert offending == []


@pytest.mark.parametrize("lang", sorted(FORMAL))
def test_the_child_instrument_addresses_the_child_in_one_form(lang: str) -> None:
    """Questions, section titles and consent read to the child use the child's form; the screener's own texts
    (description, forms of exploitation, notes) may address the screener formally."""
    child = definitions()["child"]
    formal = re.compile(FORMAL[lang], re.IGNORECASE)
    screener_facing = {"description"}
    for s_index, section in enumerate(child.sections):
        for q_index, question in enumerate(section.questions):
            if question.role == "forms" or question.type == "text":
                screener_facing.add(f"sections.{s_index}.questions.{q_index}")
        if section.id in ("forms", "context") and section.title is not None:
            screener_facing.add(f"sections.{s_index}.title")
    checked = 0
    for where, texts in child.texts():
        if any(where == s or where.startswith(f"{s}.") for s in screener_facing):
            continue
        checked += 1
        assert not formal.search(texts.get(lang).text), (where, texts.get(lang).text)
    assert checked > 60


def test_recruitment_is_vrbovanje_never_employment() -> None:
    texts = local_texts()
    assert texts
    offending = [(where, lang) for where, lang, t in texts if re.search("zaposl|запосл", t.text.lower())]
    assert offending == []
    travel = indicator_catalogue()["DR.travel"]["text"]
    assert all("vrbovani" in travel[lang] for lang in ("bs", "hr", "sr-Latn"))
    assert "врбовани" in travel["sr-Cyrl"]


def test_the_named_errors_are_gone() -> None:
    joined = "\n".join(t.text for _, _, t in local_texts()).lower()
    named = ("samo jasan da računa se", "odete u policiju ili vlastima", "ispitivač", "испитивач", "seksualne stvari")
    for wrong in named:
        assert wrong not in joined
    adult = yaml.safe_load((INSTRUMENTS_DIR / "adult.yaml").read_text(encoding="utf-8"))
    assert adult["description"]["hr"].startswith("Pročitajte svako pitanje naglas. Kao pokazatelj računa se samo")


def test_nothing_but_english_claims_to_be_reviewed() -> None:
    for name, definition in definitions().items():
        for where, texts in definition.texts():
            assert texts.get("en").status == "reviewed"
            for lang in TEXT_LANGUAGES:
                if lang != "en":
                    assert texts.get(lang).status == "draft", (name, where, lang)
