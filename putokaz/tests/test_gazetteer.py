"""The gazetteer: every unit of BiH, in the right canton or region, inside the country, found by any name."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from putokaz.gazetteer import (
    BIH_BOUNDS,
    DATA_FILE,
    find_municipality,
    fold,
    latin_to_cyrillic,
    municipalities,
    same_place,
    search,
    suggestions,
)

# Units per canton of the Federation, per region of Republika Srpska, per entity: the counts of the sources
# named in the data file, written down in docs/domain.md §2 (a unit missing or put in the wrong place
# changes them).
UNITS_BY_CANTON = {1: 8, 2: 3, 3: 13, 4: 12, 5: 3, 6: 12, 7: 9, 8: 4, 9: 9, 10: 6}
UNITS_BY_REGION = {"Banja Luka": 21, "Doboj-Bijeljina": 14, "Istočno Sarajevo-Zvornik": 18, "Trebinje-Foča": 10}
UNITS_BY_ENTITY = {"FBIH": 79, "RS": 63, "BD": 1}


def test_every_centroid_lies_inside_bosnia_and_herzegovina() -> None:
    places = municipalities()
    assert len(places) == 145  # 143 units + the cities of Sarajevo and Istočno Sarajevo
    for p in places:
        assert BIH_BOUNDS["south"] <= p.latitude <= BIH_BOUNDS["north"], p.name
        assert BIH_BOUNDS["west"] <= p.longitude <= BIH_BOUNDS["east"], p.name
        assert p.centroid in {"polygon", "seat"}, p.name
        if p.centroid == "seat":  # only a point of its seat is known: the entry must say so
            assert any("seat" in note for note in p.notes), p.name


def test_each_canton_region_and_entity_has_the_right_number_of_units() -> None:
    units = [p for p in municipalities() if p.kind != "city"]
    assert Counter(p.canton for p in units if p.canton is not None) == UNITS_BY_CANTON
    assert Counter(p.region for p in units if p.region is not None) == UNITS_BY_REGION
    assert Counter(p.entity for p in units) == UNITS_BY_ENTITY
    assert all((p.canton is not None) == (p.entity == "FBIH") for p in municipalities())
    assert all((p.region is not None) == (p.entity == "RS") for p in municipalities())
    counts = json.loads(DATA_FILE.read_text(encoding="utf-8"))["counts"]
    assert counts["units_by_canton"] == {str(k): v for k, v in UNITS_BY_CANTON.items()}


def test_the_data_file_names_its_sources_and_licences() -> None:
    source = json.loads(DATA_FILE.read_text(encoding="utf-8"))["source"]
    assert "geoBoundaries" in source["boundaries"]["from"] and source["boundaries"]["licence"]
    assert source["cantons_and_entities"]["licence"] and source["rs_regions"]["licence"]


def test_every_entry_has_official_names_in_both_scripts_and_a_unique_name() -> None:
    names = [p.name for p in municipalities()]
    assert len(names) == len(set(names))
    for p in municipalities():
        assert p.official_cyrillic == latin_to_cyrillic(p.official_latin)
        assert not any("a" <= ch.lower() <= "z" for ch in p.official_cyrillic), p.official_cyrillic
        assert find_municipality(p.name) == p
        for variant in p.variants:
            assert find_municipality(variant) == p, variant
    sarajevo = find_municipality("Sarajevo")
    assert sarajevo is not None and sarajevo.kind == "city"
    assert all(find_municipality(part) is not None for part in sarajevo.comprises)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("Centar Sarajevo", "Centar Sarajevo"),
        ("Sarajevo - Centar", "Centar Sarajevo"),
        ("Центар Сарајево", "Centar Sarajevo"),
        ("SARAJEVO CENTAR", "Centar Sarajevo"),
        ("Novo Sarajevo", "Novo Sarajevo"),
        ("Istočno Novo Sarajevo", "Istočno Novo Sarajevo"),
        ("Istocno Novo Sarajevo", "Istočno Novo Sarajevo"),
        ("Kotor Varoš", "Kotor Varoš"),
        ("kotor-varos", "Kotor Varoš"),
        ("Котор Варош", "Kotor Varoš"),
        ("Bihac", "Bihać"),
        ("Brčko distrikt", "Brčko"),
        ("Bosanski Brod", "Brod"),
        ("Grad Mostar", "Mostar"),
        ("Općina Tuzla", "Tuzla"),
        ("Đurđevik", None),  # a village, not a municipality
        ("Zagreb", None),
        ("Trnovo", None),  # two municipalities share the name: never guessed
    ],
)
def test_names_match_without_case_diacritics_script_or_word_order(typed: str, meant: str | None) -> None:
    found = find_municipality(typed)
    assert (found.name if found else None) == meant


def test_suggestions_offer_up_to_three_real_names() -> None:
    assert suggestions("Sarjevo")[0] == "Sarajevo"
    assert "Kotor Varoš" in suggestions("Kotor Varos Grad")
    assert suggestions("Trnovo") == ["Trnovo (FBiH)", "Trnovo (RS)"]
    assert suggestions("Zagreb") == []
    assert all(len(suggestions(name)) <= 3 for name in ("Novi", "Sarajevo x", "Bosanski"))


def test_search_finds_names_as_they_are_typed() -> None:
    assert [p.name for p in search("kotor")] == ["Kotor Varoš"]
    assert "Centar Sarajevo" in [p.name for p in search("sara")]
    assert [p.name for p in search("Бања")] == ["Banja Luka"]


def test_a_city_made_of_municipalities_is_the_same_place_as_each_of_them() -> None:
    assert same_place("Sarajevo", "Sarajevo - Centar")
    assert same_place("Stari Grad Sarajevo", "Sarajevo")
    assert not same_place("Sarajevo", "Istočno Novo Sarajevo")
    assert not same_place("Zagreb", "Zagreb")


def test_fold_drops_case_diacritics_script_and_punctuation() -> None:
    assert fold("Ђурђевик") == fold("Đurđevik") == "djurdjevik"
    assert fold("  Sarajevo -  Centar ") == "sarajevo centar"
