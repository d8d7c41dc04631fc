"""Every UI catalogue the app offers is complete: each key of the English reference, the same placeholders."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

I18N = Path(__file__).resolve().parents[1] / "app" / "i18n"
ENTRY = re.compile(r'^  ([a-zA-Z_][\w]*): ("(?:[^"\\]|\\.)*"),?$', re.M)
OFFERED = re.compile(r'^\s*\["([a-z-]+)", "[^"]+"\],?$', re.M)


def catalogue(language: str) -> dict[str, str]:
    return {key: json.loads(text) for key, text in ENTRY.findall((I18N / f"{language}.js").read_text())}


def offered() -> list[str]:
    return OFFERED.findall((I18N.parent / "i18n.js").read_text())


def test_the_languages_offered_each_have_a_catalogue() -> None:
    assert {"en", "bs", "fa"} <= set(offered())
    assert all((I18N / f"{language}.js").is_file() for language in offered())


@pytest.mark.parametrize("language", [lang for lang in offered() if lang != "en"])
def test_a_catalogue_has_every_key_with_the_same_placeholders(language: str) -> None:
    english, other = catalogue("en"), catalogue(language)
    assert len(english) > 200
    assert sorted(set(english) - set(other)) == [], "missing keys"
    assert sorted(set(other) - set(english)) == [], "keys English does not have"
    placeholders = re.compile(r"\{[a-z]+\}")
    differ = [k for k in english if sorted(placeholders.findall(english[k])) != sorted(placeholders.findall(other[k]))]
    assert differ == []
