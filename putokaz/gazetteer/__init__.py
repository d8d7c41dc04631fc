"""The gazetteer of Bosnia and Herzegovina: every municipality and city, looked up by any of its names.

One data file (bih_municipalities.json, built by build.py from the files in sources/; docs/domain.md §2)
shared by screening and referral. Names match without regard to case, diacritics, script (Latin or
Cyrillic), punctuation or word order: "Centar Sarajevo" = "Sarajevo - Centar" = "Центар Сарајево".
"""

from __future__ import annotations

import difflib
import json
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, StringConstraints, WithJsonSchema
from pydantic_core import PydanticCustomError

DATA_FILE = Path(__file__).with_name("bih_municipalities.json")

# FBiH cantons by their official number (docs/domain.md §2): number -> (name, seat).
CANTONS: dict[int, tuple[str, str]] = {
    1: ("Una-Sana", "Bihać"),
    2: ("Posavina", "Orašje"),
    3: ("Tuzla", "Tuzla"),
    4: ("Zenica-Doboj", "Zenica"),
    5: ("Bosnian-Podrinje", "Goražde"),
    6: ("Central Bosnia", "Travnik"),
    7: ("Herzegovina-Neretva", "Mostar"),
    8: ("West Herzegovina", "Široki Brijeg"),
    9: ("Sarajevo", "Sarajevo"),
    10: ("Canton 10", "Livno"),
}

# Bosnia and Herzegovina's bounding box (WGS84), with a little slack for the border's simplification.
BIH_BOUNDS = {"south": 42.55, "north": 45.28, "west": 15.72, "east": 19.63}

# Gaj's Latin -> Serbian Cyrillic, one letter for one letter; the digraphs are single letters.
_DIGRAPHS = {"dž": "џ", "lj": "љ", "nj": "њ", "Dž": "Џ", "Lj": "Љ", "Nj": "Њ", "DŽ": "Џ", "LJ": "Љ", "NJ": "Њ"}
_LETTERS = dict(
    zip(
        "abcčćdđefghijklmnoprsštuvzžABCČĆDĐEFGHIJKLMNOPRSŠTUVZŽ",
        "абцчћдђефгхијклмнопрсштувзжАБЦЧЋДЂЕФГХИЈКЛМНОПРСШТУВЗЖ",
        strict=True,
    )
)
_CYRILLIC_TO_LATIN = {c: lat for lat, c in _LETTERS.items()} | {
    "џ": "dž", "љ": "lj", "њ": "nj", "Џ": "Dž", "Љ": "Lj", "Њ": "Nj",
}  # fmt: skip
_DIGRAPH_RE = re.compile("|".join(sorted(_DIGRAPHS, key=len, reverse=True)))
# Words that only say what kind of unit a name is ("Općina Centar", "Grad Mostar", "City of Sarajevo").
_KIND_WORDS = frozenset({"opcina", "opstina", "grad", "city", "of", "municipality", "the"})


def latin_to_cyrillic(text: str) -> str:
    """Serbian Cyrillic spelling of a name written in Gaj's Latin alphabet."""
    out = []
    for part in re.split(f"({_DIGRAPH_RE.pattern})", text):
        out.append(_DIGRAPHS[part] if part in _DIGRAPHS else "".join(_LETTERS.get(ch, ch) for ch in part))
    return "".join(out)


def fold(name: str) -> str:
    """A name without case, diacritics, script or punctuation: 'Центар Сарајево' -> 'centar sarajevo'."""
    latin = "".join(_CYRILLIC_TO_LATIN.get(ch, ch) for ch in name)
    latin = latin.replace("đ", "dj").replace("Đ", "Dj")
    decomposed = unicodedata.normalize("NFKD", latin)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", plain).split())


def name_key(name: str) -> str:
    """`fold`, and word order ignored too ('Sarajevo - Centar' = 'Centar Sarajevo')."""
    return " ".join(sorted(fold(name).split()))


@dataclass(frozen=True, slots=True)
class Municipality:
    """A local self-government unit: a municipality or city, Brčko District, or a city made of municipalities."""

    name: str
    official_latin: str
    official_cyrillic: str
    kind: str
    entity: str
    canton: int | None
    region: str | None
    latitude: float
    longitude: float
    centroid: str
    variants: tuple[str, ...] = ()
    comprises: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def area(self) -> str | None:
        """The canton (FBiH) or region (RS) it lies in, by name; None for Brčko District."""
        return canton_name(self.canton) if self.canton is not None else self.region


@dataclass(frozen=True, slots=True)
class _Index:
    places: tuple[Municipality, ...]
    by_key: dict[str, Municipality]
    ambiguous: dict[str, tuple[str, ...]]
    # Folded labels, computed once: label -> unit name (suggestions), and per unit (search).
    label_to_names: dict[str, tuple[str, ...]]
    labels: tuple[tuple[Municipality, tuple[str, ...]], ...]


@lru_cache(maxsize=1)
def _index() -> _Index:
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    places = tuple(
        Municipality(
            **{k: v for k, v in p.items() if k not in {"variants", "comprises", "notes"}},
            variants=tuple(p.get("variants", ())),
            comprises=tuple(p.get("comprises", ())),
            notes=tuple(p.get("notes", ())),
        )
        for p in data["places"]
    )
    claims: dict[str, set[str]] = {}
    by_name = {p.name: p for p in places}
    for p in places:
        for label in (p.name, p.official_latin, p.official_cyrillic, *p.variants):
            claims.setdefault(name_key(label), set()).add(p.name)
    by_key = {k: by_name[next(iter(v))] for k, v in claims.items() if len(v) == 1}
    # An official name two units share ("Trnovo", "Kupres") is never guessed: the caller must say which.
    ambiguous = {k: tuple(sorted(v)) for k, v in claims.items() if len(v) > 1}
    label_to_names: dict[str, tuple[str, ...]] = {}
    for p in places:
        for label in {fold(x) for x in (p.name, p.official_latin, *p.variants)}:
            label_to_names[label] = (*label_to_names.get(label, ()), p.name)
    labels = tuple(
        (p, tuple(fold(label) for label in (p.name, p.official_latin, p.official_cyrillic, *p.variants)))
        for p in places
    )
    return _Index(places, by_key, ambiguous, label_to_names, labels)


def municipalities() -> tuple[Municipality, ...]:
    return _index().places


def _without_kind_words(key: str) -> str:
    return " ".join(w for w in key.split() if w not in _KIND_WORDS)


@lru_cache(maxsize=4096)
def find_municipality(name: str | None) -> Municipality | None:
    """The unit a name (official, Cyrillic, a variant, in any case or word order) stands for, or None."""
    if not name:
        return None
    idx = _index()
    key = name_key(name)
    found = idx.by_key.get(key)
    if found is None and key not in idx.ambiguous:
        found = idx.by_key.get(_without_kind_words(key))
    return found


def suggestions(name: str, limit: int = 3) -> list[str]:
    """Up to `limit` gazetteer names the caller may have meant (for "did you mean")."""
    idx = _index()
    key = name_key(name)
    if key in idx.ambiguous:
        return list(idx.ambiguous[key][:limit])
    out: list[str] = []
    folded = fold(name)
    candidates = idx.label_to_names
    for close in difflib.get_close_matches(folded, list(candidates), n=limit * 4, cutoff=0.6):
        out.extend(n for n in candidates[close] if n not in out)
    if len(out) < limit:  # "sarajevo centr" or "novo sar": names that contain what was typed
        for label, names in candidates.items():
            if folded and all(word in label for word in folded.split()):
                out.extend(n for n in names if n not in out)
    return out[:limit]


def search(query: str, limit: int = 10) -> list[Municipality]:
    """Units whose name or a variant starts with (or contains) what was typed, best first (autocomplete)."""
    folded = fold(query)
    if not folded:
        return []
    starts: list[Municipality] = []
    contains: list[Municipality] = []
    for p, labels in _index().labels:
        if any(label.startswith(folded) for label in labels):
            starts.append(p)
        elif any(folded in label for label in labels):
            contains.append(p)
    return (starts + contains)[:limit]


def canton_name(code: int | None) -> str | None:
    return CANTONS[code][0] if code in CANTONS else None


EARTH_RADIUS_KM = 6371.0088


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def unknown_municipality_message(name: str) -> tuple[str, list[str]]:
    """The error text for a municipality the gazetteer does not know, and its suggestions.

    The text never repeats what was typed (a free-text field may hold anything, even identity data).
    """
    hints = suggestions(name)
    if find_municipality(name) is None and name_key(name) in _index().ambiguous:
        return "two municipalities have this name; say which: " + ", ".join(hints), hints
    if hints:
        return "unknown municipality; did you mean: " + ", ".join(hints), hints
    return "unknown municipality of Bosnia and Herzegovina (GET /api/v1/places?q= lists them)", hints


def same_place(a: str | None, b: str | None) -> bool:
    """Whether two names are one unit, or one is a city made of municipalities that includes the other."""
    known_a, known_b = find_municipality(a), find_municipality(b)
    if known_a is None or known_b is None:
        return False
    return known_a.name == known_b.name or known_a.name in known_b.comprises or known_b.name in known_a.comprises


def geography_problem(entity: str | None, canton: int | None) -> str | None:
    """Why an entity/canton pair is impossible (cantons exist only in FBiH), or None."""
    if canton is not None and entity not in (None, "FBIH"):
        return "cantons exist only in the Federation of BiH (entity FBIH)"
    if canton is not None and canton not in CANTONS:
        return "canton must be 1-10"
    return None


def place_problem(entity: str | None, canton: int | None, municipality: str | None) -> str | None:
    """Why a stated entity or canton contradicts the (known) municipality, or None."""
    known = find_municipality(municipality)
    if known is None:
        return None
    if entity is not None and entity != known.entity:
        return f"{known.name} is in entity {known.entity}, not {entity}"
    if canton is not None and canton != known.canton:
        where = f"canton {known.canton}" if known.canton is not None else f"entity {known.entity} (no canton)"
        return f"{known.name} is in {where}, not canton {canton}"
    return None


def _known_municipality(value: str | None) -> str | None:
    if value is None:
        return None
    found = find_municipality(value)
    if found is None:
        message, hints = unknown_municipality_message(value)
        raise PydanticCustomError("unknown_municipality", message, {"suggestions": hints})
    return found.name


# A request field that accepts only a municipality of the gazetteer, stored under its gazetteer name
# ("sarajevo - centar" becomes "Centar Sarajevo"); anything else is a 422 with up to three suggestions.
KnownMunicipality = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$"),
    AfterValidator(_known_municipality),
    WithJsonSchema(
        {
            "type": "string",
            "minLength": 1,
            "maxLength": 100,
            "description": "A municipality or city of BiH by any of its names (Latin or Cyrillic, any case, "
            "with or without diacritics); stored under its gazetteer name. GET /api/v1/places?q= lists them.",
        }
    ),
]


def completed_place(data: Any) -> Any:
    """A request's place (a dict) with entity and canton filled in from a known municipality.

    For a pydantic `model_validator(mode="before")`: raises ValueError when the stated entity or canton
    contradicts the municipality; leaves an unknown municipality to the field's own check.
    """
    if not isinstance(data, dict) or not isinstance(data.get("municipality"), str):
        return data
    known = find_municipality(data["municipality"])
    if known is None or geography_problem(data.get("entity"), data.get("canton")):
        return data  # the field's own check, or the entity/canton rule, says what is wrong
    problem = place_problem(data.get("entity"), data.get("canton"), data["municipality"])
    if problem:
        raise ValueError(problem)
    filled = dict(data)
    if filled.get("entity") is None:
        filled["entity"] = known.entity
    if filled.get("canton") is None and known.canton is not None:
        filled["canton"] = known.canton
    return filled
