"""Texts as written where the screening happens: BiH legal terms, no known errors, honest review status."""

from __future__ import annotations

from typing import Any

import yaml

from services.screening.instruments import INSTRUMENTS_DIR, builtin_files, indicator_catalogue, resolve

LOCAL = ("bs", "hr", "sr")


def local_texts() -> list[tuple[str, str, Any]]:
    found = []
    for path in builtin_files():
        definition = resolve(yaml.safe_load(path.read_text(encoding="utf-8")))
        raw = definition.model_dump(mode="json")

        def walk(node: Any, where: str) -> None:
            if isinstance(node, dict):
                for lang in LOCAL:
                    if isinstance(node.get(lang), dict) and "text" in node[lang]:
                        found.append((where, lang, node[lang]))
                for key, value in node.items():
                    walk(value, f"{where}.{key}")
            elif isinstance(node, list):
                for n, value in enumerate(node):
                    walk(value, f"{where}.{n}")

        walk(raw, path.stem)
    return found


def test_recruitment_is_vrbovanje_never_employment() -> None:
    texts = local_texts()
    assert texts
    offending = [(where, lang) for where, lang, t in texts if "zaposl" in t["text"].lower()]
    assert offending == []
    travel = indicator_catalogue()["DR.travel"]["text"]
    assert all("vrbovani" in travel[lang] for lang in LOCAL)


def test_the_named_errors_are_gone() -> None:
    joined = "\n".join(t["text"] for _, _, t in local_texts())
    for wrong in ("Samo jasan da računa se", "odete u policiju ili vlastima", "Ispitivač", "seksualne stvari"):
        assert wrong not in joined
    adult = yaml.safe_load((INSTRUMENTS_DIR / "adult.yaml").read_text(encoding="utf-8"))
    assert adult["description"]["hr"].startswith("Pročitajte svako pitanje naglas. Kao pokazatelj računa se samo")


def test_nothing_but_english_claims_to_be_reviewed() -> None:
    for where, lang, t in local_texts():
        assert t["status"] == "draft", (where, lang)
