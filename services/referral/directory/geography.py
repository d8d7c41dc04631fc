"""Bosnia and Herzegovina geography for the directory and matching: entities, cantons, municipalities."""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

# FBiH cantons (docs/domain.md §2): code -> (name, seat). RS and Brčko District have no cantons.
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


@dataclass(frozen=True, slots=True)
class Municipality:
    name: str
    entity: str
    canton: int | None
    latitude: float
    longitude: float


# Municipalities and cities used by the demo directory and as fallback coordinates for a case's
# place when the caller gives a municipality but no coordinates (centre points, WGS84).
MUNICIPALITIES: tuple[Municipality, ...] = (
    Municipality("Bihać", "FBIH", 1, 44.8169, 15.8708),
    Municipality("Velika Kladuša", "FBIH", 1, 45.1842, 15.8058),
    Municipality("Cazin", "FBIH", 1, 44.9669, 15.9431),
    Municipality("Bosanska Krupa", "FBIH", 1, 44.8825, 16.1514),
    Municipality("Orašje", "FBIH", 2, 45.0364, 18.6936),
    Municipality("Tuzla", "FBIH", 3, 44.5384, 18.6671),
    Municipality("Gračanica", "FBIH", 3, 44.7036, 18.3086),
    Municipality("Zenica", "FBIH", 4, 44.2017, 17.9078),
    Municipality("Tešanj", "FBIH", 4, 44.6114, 17.9858),
    Municipality("Goražde", "FBIH", 5, 43.6678, 18.9756),
    Municipality("Travnik", "FBIH", 6, 44.2264, 17.6650),
    Municipality("Bugojno", "FBIH", 6, 44.0572, 17.4508),
    Municipality("Mostar", "FBIH", 7, 43.3438, 17.8078),
    Municipality("Konjic", "FBIH", 7, 43.6519, 17.9611),
    Municipality("Široki Brijeg", "FBIH", 8, 43.3833, 17.5936),
    Municipality("Sarajevo Centar", "FBIH", 9, 43.8590, 18.4131),
    Municipality("Novi Grad Sarajevo", "FBIH", 9, 43.8450, 18.3490),
    Municipality("Ilidža", "FBIH", 9, 43.8297, 18.3106),
    Municipality("Hadžići", "FBIH", 9, 43.8228, 18.2019),
    Municipality("Livno", "FBIH", 10, 43.8269, 17.0075),
    Municipality("Banja Luka", "RS", None, 44.7722, 17.1910),
    Municipality("Bijeljina", "RS", None, 44.7569, 19.2161),
    Municipality("Doboj", "RS", None, 44.7311, 18.0872),
    Municipality("Prijedor", "RS", None, 44.9797, 16.7136),
    Municipality("Trebinje", "RS", None, 42.7119, 18.3442),
    Municipality("Zvornik", "RS", None, 44.3864, 19.1025),
    Municipality("Istočno Novo Sarajevo", "RS", None, 43.8222, 18.3622),
    Municipality("Brčko", "BD", None, 44.8727, 18.8106),
)


def fold(name: str) -> str:
    """Compare place names without case or diacritics (Bihać == bihac)."""
    decomposed = unicodedata.normalize("NFKD", name.replace("đ", "dj").replace("Đ", "Dj"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


_BY_NAME = {fold(m.name): m for m in MUNICIPALITIES}


def find_municipality(name: str | None) -> Municipality | None:
    return _BY_NAME.get(fold(name)) if name else None


def canton_name(code: int | None) -> str | None:
    return CANTONS[code][0] if code in CANTONS else None


EARTH_RADIUS_KM = 6371.0088


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def geography_problem(entity: str | None, canton: int | None) -> str | None:
    """Why an entity/canton pair is impossible (cantons exist only in FBiH), or None."""
    if canton is not None and entity not in (None, "FBIH"):
        return "cantons exist only in the Federation of BiH (entity FBIH)"
    if canton is not None and canton not in CANTONS:
        return "canton must be 1-10"
    return None
