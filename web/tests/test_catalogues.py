"""Every UI catalogue the app offers is complete: each key of the English reference and no other, the same
placeholders, its review status in its header; the console's texts (i18n/console/) likewise in the
coordinator's office languages, with the registry's own labels of its codes."""

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
CONSOLE_LANGUAGES = ["en", "bs", "hr", "sr-Latn", "sr-Cyrl"]
RTL_SCRIPT = re.compile(r"[\u0600-\u06ff]")


def catalogue(language: str) -> dict[str, str]:
    return {key: json.loads(text) for key, text in ENTRY.findall((I18N / f"{language}.js").read_text())}


def offered() -> list[str]:
    return OFFERED.findall((I18N.parent / "i18n.js").read_text())


def reference(language: str) -> str:
    """The English catalogue one is checked against: en.js, or console/en.js for a console one."""
    folder = language.rpartition("/")[0]
    return f"{folder}/en" if folder else "en"


def console_texts(language: str) -> dict[str, str]:
    return catalogue(f"console/{language}")


def test_the_languages_offered_each_have_a_catalogue() -> None:
    assert offered() == ["en", "bs", "hr", "sr-Latn", "sr-Cyrl", "ar", "fa", "fa-AF", "ps", "ur", "fr", "bn"]
    assert sorted(p.stem for p in I18N.glob("*.js")) == sorted(offered())
    assert sorted(p.stem for p in (I18N / "console").glob("*.js")) == sorted(CONSOLE_LANGUAGES)
    # Each catalogue's entries are all it has: a line the pattern misses would be a key the test never sees.
    for language in [*offered(), *(f"console/{lang}" for lang in CONSOLE_LANGUAGES)]:
        text = (I18N / f"{language}.js").read_text()
        lines = text[text.index("export default {") :].splitlines()[1:-1]
        body = [line for line in lines if not line.strip().startswith("//")]
        assert len(body) == len(catalogue(language)), language


@pytest.mark.parametrize(
    "language", [*(lang for lang in offered() if lang != "en"), *(f"console/{lang}" for lang in CONSOLE_LANGUAGES[1:])]
)
def test_a_catalogue_has_every_key_with_the_same_placeholders(language: str) -> None:
    english, other = catalogue(reference(language)), catalogue(language)
    assert len(english) > 200
    assert sorted(set(english) - set(other)) == [], "missing keys"
    assert sorted(set(other) - set(english)) == [], "keys English does not have"
    differ = [k for k in other if sorted(PLACEHOLDER.findall(english[k])) != sorted(PLACEHOLDER.findall(other[k]))]
    assert differ == []
    assert all(text.strip() for text in other.values())
    # Translated, not copied: only names and loan words (PIN, Partner, Administrator…) may equal English.
    same = [k for k in other if other[k] == english[k] and not PLACEHOLDER.fullmatch(other[k])]
    assert len(same) <= 12, same


@pytest.mark.parametrize(
    "language", [*(lang for lang in offered() if lang != "en"), *(f"console/{lang}" for lang in CONSOLE_LANGUAGES[1:])]
)
def test_a_catalogue_says_it_is_a_draft(language: str) -> None:
    header = (I18N / f"{language}.js").read_text().split("export default", 1)[0]
    words = " ".join(header.replace("//", " ").split())
    assert "status: draft" in words and "not yet reviewed by a native-speaking practitioner" in words


@pytest.mark.parametrize("language", ["ar", "fa", "fa-AF", "ps", "ur"])
def test_the_right_to_left_catalogues_are_written_in_their_script_and_mirror_the_page(language: str) -> None:
    texts = catalogue(language).values()
    assert sum(bool(RTL_SCRIPT.search(text)) for text in texts) >= 0.95 * len(texts)
    # One path for all five: the code is in the set `dirOf` reads (test_app_shell shows it for ar).
    rtl = re.search(r"export const RTL = new Set\(\[([^\]]*)\]\)", (I18N.parent / "i18n.js").read_text())
    assert f'"{language}"' in rtl.group(1)


@pytest.mark.parametrize("folder", [I18N, I18N / "console"])
def test_the_cyrillic_catalogue_is_the_latin_one_transliterated(folder: Path) -> None:
    assert (folder / "sr-Cyrl.js").read_text() == cyrillic.render((folder / "sr-Latn.js").read_text())
    assert cyrillic.to_cyrillic("Ljubljana, džep, {name}, API, SOS") == "Љубљана, џеп, {name}, API, SOS"


def test_the_consoles_texts_are_apart_from_the_frontlines() -> None:
    # A screener's phone never loads the console's texts: none of them is in a frontline catalogue.
    assert [key for lang in offered() for key in catalogue(lang) if key.startswith("console_")] == []
    assert all(key.startswith("console_") for key in console_texts("en"))


@pytest.mark.parametrize("language", CONSOLE_LANGUAGES)
def test_the_consoles_labels_of_registry_codes_are_the_registrys(language: str) -> None:
    labels = yaml.safe_load(REGISTRY_LABELS.read_text())
    wanted = {
        f"console_{dimension}_{code}": names[language]
        for dimension, codes in labels["values"].items()
        for code, names in codes.items()
    } | {f"console_common_{code}": names[language] for code, names in labels["common"].items()}
    texts = console_texts(language)
    assert {key: texts.get(key) for key in wanted} == {key: text[:1].upper() + text[1:] for key, text in wanted.items()}
