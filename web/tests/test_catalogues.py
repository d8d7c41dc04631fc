"""Every UI catalogue the app offers is complete: each key of the English reference and no other, the same
placeholders, its review status in its header; the console's texts in the coordinator's office languages."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from web import cyrillic

I18N = Path(__file__).resolve().parents[1] / "app" / "i18n"
# The registry's labels of its codes (what its CSV exports write); the console shows the same.
REGISTRY_LABELS = Path(__file__).resolve().parents[2] / "services" / "registry" / "labels.yaml"
ENTRY = re.compile(r'^  ([a-zA-Z_][\w]*): ("(?:[^"\\]|\\.)*"),?$', re.M)
OFFERED = re.compile(r'^\s*\["([a-zA-Z-]+)", "[^"]+"\],?$', re.M)
PLACEHOLDER = re.compile(r"\{[a-z]+\}")
# The console (coordinator, reporters) speaks the office languages; elsewhere it falls back to English.
CONSOLE_LANGUAGES = {"en", "bs", "hr", "sr-Latn", "sr-Cyrl"}
CONSOLE = "console_"
RTL_SCRIPT = re.compile(r"[\u0600-\u06ff]")


def catalogue(language: str) -> dict[str, str]:
    return {key: json.loads(text) for key, text in ENTRY.findall((I18N / f"{language}.js").read_text())}


def offered() -> list[str]:
    return OFFERED.findall((I18N.parent / "i18n.js").read_text())


def expected_keys(language: str) -> set[str]:
    english = set(catalogue("en"))
    return english if language in CONSOLE_LANGUAGES else {k for k in english if not k.startswith(CONSOLE)}


def test_the_languages_offered_each_have_a_catalogue() -> None:
    assert offered() == ["en", "bs", "hr", "sr-Latn", "sr-Cyrl", "ar", "fa", "fa-AF", "ps", "ur", "fr", "bn"]
    assert sorted(p.stem for p in I18N.glob("*.js")) == sorted(offered())
    # Each catalogue's entries are all it has: a line the pattern misses would be a key the test never sees.
    for language in offered():
        text = (I18N / f"{language}.js").read_text()
        lines = text[text.index("export default {") :].splitlines()[1:-1]
        body = [line for line in lines if not line.strip().startswith("//")]
        assert len(body) == len(catalogue(language)), language


@pytest.mark.parametrize("language", [lang for lang in offered() if lang != "en"])
def test_a_catalogue_has_every_key_with_the_same_placeholders(language: str) -> None:
    english, other = catalogue("en"), catalogue(language)
    assert len(english) > 200
    assert sorted(expected_keys(language) - set(other)) == [], "missing keys"
    assert sorted(set(other) - expected_keys(language)) == [], "keys it should not have"
    differ = [k for k in other if sorted(PLACEHOLDER.findall(english[k])) != sorted(PLACEHOLDER.findall(other[k]))]
    assert differ == []
    assert all(text.strip() for text in other.values())
    # Translated, not copied: only names and loan words (PIN, Partner, Administrator…) may equal English.
    same = [k for k in other if other[k] == english[k] and not PLACEHOLDER.fullmatch(other[k])]
    assert len(same) <= 12, same


@pytest.mark.parametrize("language", [lang for lang in offered() if lang != "en"])
def test_a_catalogue_says_it_is_a_draft(language: str) -> None:
    header = (I18N / f"{language}.js").read_text().split("export default", 1)[0]
    words = " ".join(header.replace("//", " ").split())
    assert "status: draft" in words and "not yet reviewed by a native-speaking practitioner" in words


@pytest.mark.parametrize("language", ["ar", "fa", "fa-AF", "ps", "ur"])
def test_the_right_to_left_catalogues_are_written_in_their_script(language: str) -> None:
    texts = catalogue(language).values()
    assert sum(bool(RTL_SCRIPT.search(text)) for text in texts) >= 0.95 * len(texts)


def test_the_cyrillic_catalogue_is_the_latin_one_transliterated() -> None:
    assert (I18N / "sr-Cyrl.js").read_text() == cyrillic.render((I18N / "sr-Latn.js").read_text())
    assert cyrillic.to_cyrillic("Ljubljana, džep, {name}, API, SOS") == "Љубљана, џеп, {name}, API, SOS"


@pytest.mark.parametrize("language", sorted(CONSOLE_LANGUAGES))
def test_the_consoles_labels_of_registry_codes_are_the_registrys(language: str) -> None:
    labels = yaml.safe_load(REGISTRY_LABELS.read_text())
    wanted = {
        f"console_{dimension}_{code}": names[language]
        for dimension, codes in labels["values"].items()
        for code, names in codes.items()
    } | {f"console_common_{code}": names[language] for code, names in labels["common"].items()}
    texts = catalogue(language)
    assert {key: texts.get(key) for key in wanted} == {key: text[:1].upper() + text[1:] for key, text in wanted.items()}
