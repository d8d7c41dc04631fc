"""Rebuild bih_municipalities.json from the source files in sources/ (run by hand; never at run time).

    .venv/bin/pip install shapely && .venv/bin/python -m putokaz.gazetteer.build

Everything derived here is computed from the files in sources/ (see their description in the data file's
`source` block and in docs/domain.md §2); the few things that cannot be computed from them (official names
where the boundary file uses English or outdated ones, variants, the one municipality missing from the
boundary file) are listed below, each with why.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Any

from putokaz.gazetteer import latin_to_cyrillic

HERE = Path(__file__).parent
SOURCES = HERE / "sources"
OUT = HERE / "bih_municipalities.json"

CANTON_BY_ADM2 = {
    "Una-Sana Canton": 1,
    "Posavina Canton": 2,
    "Tuzla Canton": 3,
    "Zenica-Doboj Canton": 4,
    "Bosnian-Podrinje Canton Goražde": 5,
    "Central Bosnia Canton": 6,
    "Herzegovina-Neretva Canton": 7,
    "West Herzegovina Canton": 8,
    "Sarajevo Canton": 9,
    "Canton 10": 10,
}

# geoBoundaries ADM3 names that are not the official name of the unit (English forms, a typo, a name
# changed since, a mislabelled polygon, two polygons both called "Novi Grad"); keyed by shapeID where the
# name alone is ambiguous or wrong.
NAME_BY_SHAPE_ID = {
    "43093233B94913651340481": "Novi Grad Sarajevo",  # "Novi Grad", the one in Sarajevo Canton (18.32 E)
    "43093233B49947296698025": "Novi Grad",  # "Novi Grad", the RS one (16.45 E)
    "43093233B37160773543814": "Višegrad",  # labelled "Republika Srpska"; its centroid (19.30 E, 43.79 N) is Višegrad
}
NAME_BY_SHAPE_NAME = {
    "Brcko District": "Brčko",
    "Centar": "Centar Sarajevo",
    "Stari Grad": "Stari Grad Sarajevo",
    "Doboj East": "Doboj Istok",
    "Kupra na Uni": "Krupa na Uni",  # typo in the source
    "Ustiprača": "Novo Goražde",  # renamed (the source predates the rename)
    "Trnovo (BiH)": "Trnovo (FBiH)",
    "Kupres (BiH)": "Kupres (FBiH)",
    "Kupres": "Kupres (RS)",
}
# Display names that carry an entity only to tell two units of the same official name apart.
OFFICIAL_NAME = {"Trnovo (FBiH)": "Trnovo", "Trnovo (RS)": "Trnovo", "Kupres (FBiH)": "Kupres", "Kupres (RS)": "Kupres"}

# Cities made of several municipalities (local self-government units in their own right); their centroid is
# that of the union of their municipalities' polygons.
COMPOSITE_CITIES = {
    "Sarajevo": ("Grad Sarajevo", ["Centar Sarajevo", "Novi Grad Sarajevo", "Novo Sarajevo", "Stari Grad Sarajevo"]),
    "Istočno Sarajevo": (
        "Grad Istočno Sarajevo",
        ["Istočna Ilidža", "Istočno Novo Sarajevo", "Istočni Stari Grad", "Pale", "Sokolac", "Trnovo (RS)"],
    ),
}

# The canton file's borders are older and coarser than the municipality file's: Istočni Stari Grad, a small
# RS municipality on Sarajevo's eastern edge, falls mostly inside its Sarajevo Canton polygon.
ENTITY_OVERRIDE = {"Istočni Stari Grad": "RS"}
ENTITY_OVERRIDE_WHY = {
    "Istočni Stari Grad": "it is a Republika Srpska municipality, one of the six that make up the City of "
    "Istočno Sarajevo (Wikipedia, 'Municipalities of Republika Srpska')",
}

# Stanari was separated from Doboj in 2014; the 2013 boundary frame has no polygon for it, so its point is
# the one given for the municipality in the English Wikipedia article "Stanari" (44°44′50″N 17°49′46″E,
# the village that is its seat), and Doboj's polygon still covers Stanari.
STANARI = {"latitude": 44.74722, "longitude": 17.82944}

# Common variants: former official names still in use (renamed after 2004 or after the war), the names the
# boundary file uses, "Sarajevo - X" forms, and entity-qualified forms. Compiled by hand; names only.
VARIANTS: dict[str, list[str]] = {
    "Brčko": ["Brčko District", "Brčko distrikt", "Brčko distrikt BiH", "Distrikt Brčko", "Brcko District"],
    "Centar Sarajevo": ["Sarajevo - Centar", "Sarajevo Centar", "Centar", "Općina Centar"],
    "Novo Sarajevo": ["Sarajevo - Novo Sarajevo"],
    "Novi Grad Sarajevo": ["Sarajevo - Novi Grad", "Sarajevo Novi Grad"],
    "Stari Grad Sarajevo": ["Sarajevo - Stari Grad", "Sarajevo Stari Grad", "Stari Grad"],
    "Sarajevo": ["Grad Sarajevo", "City of Sarajevo"],
    "Istočno Sarajevo": ["Grad Istočno Sarajevo", "East Sarajevo", "Srpsko Sarajevo"],
    "Istočno Novo Sarajevo": ["East New Sarajevo", "Srpsko Novo Sarajevo"],
    "Istočna Ilidža": ["East Ilidža", "Srpska Ilidža"],
    "Istočni Stari Grad": ["East Stari Grad", "Srpski Stari Grad"],
    "Istočni Drvar": ["East Drvar", "Srpski Drvar"],
    "Istočni Mostar": ["East Mostar", "Srpski Mostar"],
    "Doboj Istok": ["Doboj East"],
    "Doboj Jug": ["Doboj South"],
    "Foča": ["Foča (RS)", "Srbinje"],
    "Foča-Ustikolina": ["Foča (FBiH)", "Ustikolina"],
    "Pale": ["Pale (RS)"],
    "Pale-Prača": ["Pale (FBiH)", "Prača"],
    "Trnovo (FBiH)": ["Trnovo FBiH", "Trnovo (BiH)"],
    "Trnovo (RS)": ["Trnovo RS"],
    "Kupres (FBiH)": ["Kupres FBiH", "Kupres (BiH)"],
    "Kupres (RS)": ["Kupres RS", "Srpski Kupres"],
    "Krupa na Uni": ["Srpska Krupa"],
    "Novo Goražde": ["Ustiprača", "Srpsko Goražde"],
    "Gradiška": ["Bosanska Gradiška"],
    "Kozarska Dubica": ["Bosanska Dubica"],
    "Kostajnica": ["Bosanska Kostajnica", "Srpska Kostajnica"],
    "Novi Grad": ["Bosanski Novi"],
    "Brod": ["Bosanski Brod", "Srpski Brod"],
    "Šamac": ["Bosanski Šamac", "Srpski Šamac"],
    "Kneževo": ["Skender Vakuf"],
    "Ribnik": ["Srpski Ključ"],
    "Oštra Luka": ["Srpski Sanski Most"],
    "Petrovac": ["Petrovac (RS)", "Srpski Petrovac"],
    "Donji Žabar": ["Srpsko Orašje"],
    "Gornji Vakuf-Uskoplje": ["Gornji Vakuf", "Uskoplje"],
    "Prozor-Rama": ["Prozor", "Rama"],
    "Domaljevac-Šamac": ["Domaljevac"],
    "Tomislavgrad": ["Duvno"],
    "Mostar": ["Grad Mostar"],
    "Banja Luka": ["Banjaluka"],
}


def _load(name: str) -> dict[str, Any]:
    return json.loads((SOURCES / name).read_text(encoding="utf-8"))


def build() -> dict[str, Any]:
    from shapely.geometry import shape
    from shapely.ops import unary_union

    adm2 = [(f["properties"]["shapeName"], shape(f["geometry"])) for f in _load(SOURCE_ADM2)["features"]]
    features = _load(SOURCE_ADM3)["features"]
    polygons: dict[str, Any] = {}
    source_names: dict[str, str] = {}
    for f in features:
        props = f["properties"]
        name = NAME_BY_SHAPE_ID.get(props["shapeID"]) or NAME_BY_SHAPE_NAME.get(props["shapeName"], props["shapeName"])
        if name in polygons:
            raise SystemExit(f"two polygons for {name}")
        polygons[name] = shape(f["geometry"])
        source_names[name] = props["shapeName"]

    def containing_adm2(geom: Any) -> str:
        # The unit belongs to the ADM2 area that covers most of it (the two files' borders differ slightly).
        return max(adm2, key=lambda a: a[1].intersection(geom).area)[0]

    regions = {row["municipality"]: row["region"] for row in csv.DictReader((SOURCES / SOURCE_REGIONS).open())}

    entries: list[dict[str, Any]] = []
    for name, geom in sorted(polygons.items()):
        area = containing_adm2(geom)
        entity = "BD" if area == "Brcko District" else "RS" if area == "Republika Srpska" else "FBIH"
        c = geom.centroid
        notes: list[str] = []
        if name in ENTITY_OVERRIDE:
            entity = ENTITY_OVERRIDE[name]
            notes.append(f"entity: the canton file puts most of it in {area}; {ENTITY_OVERRIDE_WHY[name]}")
        if source_names[name] != name:
            notes.append(f"named {source_names[name]!r} in the boundary file")
        if not geom.contains(c):
            notes.append("the centroid lies outside the municipality's own polygon (its shape is concave)")
        entries.append(
            {
                "name": name,
                "kind": "district" if entity == "BD" else "municipality",
                "entity": entity,
                "canton": CANTON_BY_ADM2.get(area) if entity == "FBIH" else None,
                "region": regions.get(name) if entity == "RS" else None,
                "latitude": round(c.y, 5),
                "longitude": round(c.x, 5),
                "centroid": "polygon",
                "notes": notes,
            }
        )

    entries.append(
        {
            "name": "Stanari",
            "kind": "municipality",
            "entity": "RS",
            "canton": None,
            "region": regions["Stanari"],
            **STANARI,
            "centroid": "seat",
            "notes": [
                "separated from Doboj in 2014: no polygon in the 2013 boundary file, so this is the point of "
                "the municipality's seat (English Wikipedia, article 'Stanari'), not a centroid"
            ],
        }
    )

    by_name = {e["name"]: e for e in entries}
    for city, (official, parts) in COMPOSITE_CITIES.items():
        first = by_name[parts[0]]
        c = unary_union([polygons[p] for p in parts]).centroid
        entries.append(
            {
                "name": city,
                "official_latin": official,
                "kind": "city",
                "entity": first["entity"],
                "canton": first["canton"],
                "region": regions.get(city) if first["entity"] == "RS" else None,
                "latitude": round(c.y, 5),
                "longitude": round(c.x, 5),
                "centroid": "polygon",
                "comprises": parts,
                "notes": ["a city made of the municipalities listed in `comprises`; centroid of their union"],
            }
        )

    _infer_missing_regions(entries, polygons)

    for e in entries:
        official = e.pop("official_latin", None) or OFFICIAL_NAME.get(e["name"], e["name"])
        e["official_latin"] = official
        e["official_cyrillic"] = latin_to_cyrillic(official)
        e["variants"] = VARIANTS.get(e["name"], [])
    entries.sort(key=lambda e: e["name"])
    counts = _counts(entries)
    return {
        "description": "Every local self-government unit of Bosnia and Herzegovina (municipalities and cities of "
        "both entities, Brčko District, and the two cities made of municipalities), with entity, canton (FBiH) "
        "or region (RS), official names in Latin and Cyrillic, common variants and a centroid (WGS84).",
        "source": SOURCE_TEXT,
        "counts": counts,
        "places": [_ordered(e) for e in entries],
    }


def _infer_missing_regions(entries: list[dict[str, Any]], polygons: dict[str, Any]) -> None:
    """RS units whose row of the region table we could not read take the region of their RS neighbours.

    Only when all of their RS neighbours (polygons that touch) agree; the entry says so.
    """
    by_name = {e["name"]: e for e in entries}
    read = {e["name"] for e in entries if e["region"] is not None}
    for city in (e for e in entries if e["kind"] == "city" and e["region"]):
        for part in city["comprises"]:
            if by_name[part]["region"] is None:
                by_name[part]["region"] = city["region"]
                by_name[part]["notes"].append(
                    f"region: its row of the source table could not be read; it is part of the city of "
                    f"{city['name']}, whose row gives this region"
                )
    for e in entries:
        if e["entity"] != "RS" or e["region"] is not None:
            continue
        if e["kind"] == "municipality" and e["name"] in polygons:
            geom = polygons[e["name"]].buffer(1e-4)
            near = sorted(
                n
                for n, g in polygons.items()
                if n != e["name"] and n in read and by_name[n]["entity"] == "RS" and geom.intersects(g)
            )
            found = {by_name[n]["region"] for n in near}
            if len(found) != 1:
                raise SystemExit(f"cannot infer the region of {e['name']}: neighbours {near} in {found}")
            e["region"] = found.pop()
            e["notes"].append(
                "region: its row of the source table could not be read; every RS municipality it borders "
                f"({', '.join(near)}) is in this region there"
            )


def _counts(entries: list[dict[str, Any]]) -> dict[str, Any]:
    units = [e for e in entries if e["kind"] != "city"]
    return {
        "units_by_entity": dict(sorted(Counter(e["entity"] for e in units).items())),
        "units_by_canton": {str(k): v for k, v in sorted(Counter(e["canton"] for e in units if e["canton"]).items())},
        "units_by_region": dict(sorted(Counter(e["region"] for e in units if e["region"]).items())),
        "cities_of_municipalities": sorted(e["name"] for e in entries if e["kind"] == "city"),
    }


FIELD_ORDER = [
    "name",
    "official_latin",
    "official_cyrillic",
    "kind",
    "entity",
    "canton",
    "region",
    "latitude",
    "longitude",
    "centroid",
    "comprises",
    "variants",
    "notes",
]


def _ordered(e: dict[str, Any]) -> dict[str, Any]:
    out = {k: e[k] for k in FIELD_ORDER if k in e}
    if not out["notes"]:
        del out["notes"]
    return out


SOURCE_ADM3 = "geoBoundaries-BIH-ADM3_simplified.geojson"
SOURCE_ADM2 = "geoBoundaries-BIH-ADM2_simplified.geojson"
SOURCE_REGIONS = "rs_regions.csv"
SOURCE_TEXT = {
    "boundaries": {
        "what": "municipality polygons (142 units of the 2013 census frame: 141 municipalities and Brčko "
        "District); every centroid is computed from them, planar on longitude/latitude",
        "file": f"sources/{SOURCE_ADM3}",
        "from": "geoBoundaries gbOpen, BIH ADM3, release commit f549eab25a258603ea32c9dc6cb11b7657796478 of "
        "github.com/wmgeolab/geoBoundaries, releaseData/gbOpen/BIH/ADM3/geoBoundaries-BIH-ADM3_simplified.geojson "
        "(sha256 75d25d61ff6f3b5d5ba0ccfeb500653d2b83a83f34c806739e2b6ceb4a41a20f, identical to the Git LFS "
        "object of that release)",
        "licence": "Public Domain according to geoBoundaries' metadata for gbOpen BIH ADM3 (boundary source: "
        "Wikimedia Commons), as checked and quoted by a third-party build script; the metadata file itself is "
        "a Git LFS object we could not read offline. Cite Runfola et al. (2020), geoBoundaries, PLoS ONE "
        "15(4): e0231866",
    },
    "cantons_and_entities": {
        "what": "which canton, entity or district each municipality lies in (the area that covers most of it)",
        "file": f"sources/{SOURCE_ADM2}",
        "from": "geoBoundaries BIH ADM2 ('Cantons': ten cantons, Republika Srpska, Brčko District), simplified; "
        "copied from a third-party repository (github.com/AleksZyro/BESP2074, commit e17b831, "
        "dashboard/data/), sha256 fdc96b6d48d385af6743ca7f4bbd94728859c730474c540c37826961bb367abb; not "
        "verified byte for byte against a geoBoundaries release",
        "licence": "CC BY 4.0 with attribution to Codrina Maria Ille and Datahub, according to the geoBoundaries "
        "metadata for BIH ADM2 'Cantons' that we read (of another commit of that file than the copy used)",
    },
    "rs_regions": {
        "what": "the region of each Republika Srpska municipality: the four regions (Banja Luka, "
        "Doboj-Bijeljina, Istočno Sarajevo-Zvornik, Trebinje-Foča) of the table in the English Wikipedia "
        "article 'Municipalities of Republika Srpska'; the rows we could read are in the file, the others "
        "are inferred from neighbours and say so in their notes",
        "file": f"sources/{SOURCE_REGIONS}",
        "licence": "facts taken from Wikipedia (text CC BY-SA 4.0)",
    },
    "names": {
        "what": "official Latin names: the boundary file's names, corrected where it uses English or outdated "
        "names (each such entry says so in its notes); Cyrillic: transliterated deterministically from the "
        "Latin official name (Gaj's Latin to Serbian Cyrillic, one letter for one letter; lj, nj, dž as one "
        "letter), which is how the official names are written in both scripts; variants: former official "
        "names and common spellings, compiled by hand by the Putokaz maintainers",
    },
    "stanari": "the one unit without a polygon: the seat's point from the English Wikipedia article 'Stanari'",
}


def main() -> None:
    data = build()
    OUT.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(data["counts"], ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
