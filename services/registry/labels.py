"""Labels of statistics codes in the five languages of the CSV exports (bs, hr, sr-Latn, sr-Cyrl, en).

Codes stay in the files beside the labels: a label is for reading, a code for joining. The labels
live in labels.yaml; a code without a label there (a citizenship code, a time band) is its own label.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

LANGUAGES = ("bs", "hr", "sr-Latn", "sr-Cyrl", "en")


@cache
def _labels() -> dict[str, Any]:
    return yaml.safe_load((Path(__file__).with_name("labels.yaml")).read_text(encoding="utf-8"))


def label(dimension: str, code: str, lang: str) -> str:
    """The label of a code in `lang` (the code itself when it has none)."""
    data = _labels()
    names = data["values"].get(dimension, {}).get(code) or data["common"].get(code)
    return names[lang] if names else code


def marker(name: str, lang: str, **values: object) -> str:
    return _labels()["markers"][name][lang].format(**values)
