"""Matching ranking cases on the pure function, plus properties that must hold for any input."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from putokaz.gazetteer import find_municipality
from services.referral.directory.matching import (
    Candidate,
    CandidateCapacity,
    CandidateLocation,
    CaseProfile,
    Place,
    exclusion,
    rank,
)


def at(place: str, location_id: str | None = None) -> tuple[CandidateLocation, ...]:
    m = find_municipality(place)
    assert m is not None
    return (CandidateLocation(location_id or f"loc-{place}", m.entity, m.canton, m.name, m.latitude, m.longitude),)


def near(place: str) -> Place:
    m = find_municipality(place)
    assert m is not None
    return Place(entity=m.entity, canton=m.canton, municipality=m.name, latitude=m.latitude, longitude=m.longitude)


def beds(available: int | None, maximum: int = 5, population: str = "everyone") -> tuple[CandidateCapacity, ...]:
    return () if available is None else (CandidateCapacity(f"cap-{population}", "bed", population, available, maximum),)


def shelter(sid: str, place: str, **kw: object) -> Candidate:
    available = kw.pop("available", 2)
    kw.setdefault("capacities", beds(available, int(kw.pop("maximum", 5))))  # type: ignore[arg-type]
    return Candidate(
        service_id=sid, organisation_id="org", name=sid, service_type="safe_house", locations=at(place), **kw
    )  # type: ignore[arg-type]


ADULT = CaseProfile(needs=frozenset({"safe_house"}), age=30, sex="F", place=near("Bihać"))


def test_child_only_shelter_is_excluded_for_adult_and_offered_to_child() -> None:
    child_only = shelter("kids", "Bihać", child_only=True)
    general = shelter("general", "Zenica")
    assert [m.service_id for m in rank(ADULT, [child_only, general])] == ["general"]
    child = CaseProfile(needs=frozenset({"safe_house"}), age=15, place=near("Bihać"))
    assert [m.service_id for m in rank(child, [child_only, general])] == ["kids", "general"]


def test_unknown_age_presumed_possible_child_keeps_child_shelters() -> None:
    unknown = CaseProfile(needs=frozenset({"safe_house"}), child=True, place=near("Bihać"))
    adults_only = shelter("adults", "Bihać", minimum_age=18)
    kids = shelter("kids", "Zenica", child_only=True)
    assert [m.service_id for m in rank(unknown, [adults_only, kids])] == ["kids"]


def test_full_shelters_are_excluded_but_non_accommodation_needs_no_capacity() -> None:
    full = shelter("full", "Bihać", available=0)
    unknown_capacity = shelter("no-capacity", "Bihać", available=None)
    free = shelter("free", "Trebinje", available=1)
    assert [m.service_id for m in rank(ADULT, [full, unknown_capacity, free])] == ["free"]
    medical = Candidate("med", "org", "med", "medical", locations=at("Bihać"))
    assert exclusion(CaseProfile(needs=frozenset({"medical"})), medical) is None


def test_nearer_service_ranks_first_and_says_how_far() -> None:
    ranked = rank(ADULT, [shelter("far", "Trebinje"), shelter("near", "Cazin"), shelter("mid", "Zenica")])
    assert [m.service_id for m in ranked] == ["near", "mid", "far"]
    # Municipality centroids (Bihać's municipality reaches far to the south-east): about 37 km apart.
    assert ranked[0].distance_km is not None and ranked[0].distance_km < 45
    assert any("km away" in r for r in ranked[0].reasons)


def test_language_outweighs_a_small_distance_difference() -> None:
    case = CaseProfile(needs=frozenset({"safe_house"}), age=30, languages=frozenset({"fa"}), place=near("Bihać"))
    speaks = shelter("speaks-fa", "Bosanska Krupa", languages=frozenset({"fa", "en"}))
    silent = shelter("bs-only", "Cazin", languages=frozenset({"bs"}))
    ranked = rank(case, [silent, speaks])
    assert ranked[0].service_id == "speaks-fa"
    assert "speaks fa" in ranked[0].reasons
    assert ranked[0].parts["language"] > 0 and ranked[1].parts["language"] == 0


def test_open_24_7_counts_only_when_urgent() -> None:
    day = shelter("day", "Bosanska Krupa")
    night = shelter("night", "Cazin", open_24_7=True)
    routine = rank(ADULT, [day, night])
    assert routine[0].service_id == "day"  # nearer wins when nothing is urgent
    urgent = CaseProfile(needs=frozenset({"safe_house"}), age=30, urgent=True, place=near("Bihać"))
    ranked = rank(urgent, [day, night])
    assert ranked[0].service_id == "night"
    assert "open 24/7 (urgent case)" in ranked[0].reasons


def test_specialisation_and_same_canton_add_reasons() -> None:
    case = CaseProfile(needs=frozenset({"safe_house"}), age=30, forms=frozenset({"sexual"}), place=near("Bihać"))
    ranked = rank(case, [shelter("s", "Cazin", specialisations=frozenset({"sexual"}))])
    assert ranked[0].parts["specialisation"] > 0
    assert "specialised in sexual" in ranked[0].reasons
    assert "same canton (Una-Sana)" in ranked[0].reasons


def test_hard_filters_sex_nationality_accessibility_status() -> None:
    women_only = shelter("women", "Bihać", sexes=frozenset({"F"}))
    assert exclusion(CaseProfile(needs=frozenset({"safe_house"}), sex="M"), women_only) == "does not serve this sex"
    assert exclusion(CaseProfile(needs=frozenset({"safe_house"}), sex="UNK"), women_only) is None
    nationals = shelter("nat", "Bihać", nationalities=frozenset({"BA"}))
    assert exclusion(CaseProfile(needs=frozenset({"safe_house"}), nationality="AF"), nationals) is not None
    steps = shelter("steps", "Bihać")
    assert exclusion(CaseProfile(needs=frozenset({"safe_house"}), needs_wheelchair_access=True), steps) is not None
    closed = shelter("closed", "Bihać", status="inactive")
    assert exclusion(ADULT, closed) == "not active"


def test_ties_are_broken_deterministically_by_service_id() -> None:
    a, b = shelter("b-svc", "Bihać"), shelter("a-svc", "Bihać")
    assert [m.service_id for m in rank(ADULT, [a, b])] == ["a-svc", "b-svc"]
    assert [m.service_id for m in rank(ADULT, [b, a])] == ["a-svc", "b-svc"]


PLACES = ["Bihać", "Zenica", "Tuzla", "Mostar", "Banja Luka", "Brčko", "Trebinje", "Livno"]
ACCOMMODATION = {"safe_house", "shelter_children", "shelter_families"}


def eligible_by_rule(case: CaseProfile, c: Candidate) -> bool:
    """The hard filters restated from the directory's rules, independently of `matching.exclusion`.

    Active; offers a needed type; a children-only service never takes a known adult; a known age within
    the range; a possible child of unknown age never goes to an adults-only service; a stated sex or
    nationality outside the service's list excludes; wheelchair access when needed; accommodation only
    with a free place.
    """
    if case.age is not None:
        child: bool | None = case.age < 18
    else:
        child = case.child
    in_range = case.age is None or (
        (c.minimum_age is None or c.minimum_age <= case.age) and (c.maximum_age is None or case.age <= c.maximum_age)
    )
    adults_only = c.minimum_age is not None and c.minimum_age >= 18
    # Which groups' places may take this person: a stated sex or age excludes the other group only.
    may_take = {
        "everyone": True,
        "adults": child is not True,
        "children": child is not False,
        "women": child is not True and case.sex != "M",
        "men": child is not True and case.sex != "F",
        "girls": child is not False and case.sex != "M",
        "boys": child is not False and case.sex != "F",
    }
    groups = [cap for cap in c.capacities if may_take[cap.population]]
    return (
        c.status == "active"
        and c.service_type in case.needs
        and not (c.child_only and child is False)
        and in_range
        and not (case.age is None and child is True and adults_only)
        and (not c.sexes or case.sex == "UNK" or case.sex in c.sexes)
        and (not c.nationalities or case.nationality is None or case.nationality in c.nationalities)
        and (c.wheelchair_accessible or not case.needs_wheelchair_access)
        and (not c.capacities or bool(groups))
        and (c.service_type not in ACCOMMODATION or sum(cap.available for cap in groups) > 0)
    )


candidates_st = st.lists(
    st.builds(
        lambda i, place, service_type, avail, child_only, ages, sexes, nats, langs, open247, status, ramp, groups: (
            Candidate(
                service_id=f"s{i}",
                organisation_id="org",
                name=f"s{i}",
                service_type=service_type,
                status=status,
                minimum_age=ages[0],
                maximum_age=ages[1],
                sexes=frozenset(sexes),
                nationalities=frozenset(nats),
                languages=frozenset(langs),
                child_only=child_only,
                wheelchair_accessible=ramp,
                open_24_7=open247,
                capacities=()
                if avail is None
                else tuple(CandidateCapacity(f"c{n}", "bed", group, avail, 5) for n, group in enumerate(groups)),
                locations=at(place),
            )
        ),
        st.integers(0, 10_000),
        st.sampled_from(PLACES),
        st.sampled_from(["safe_house", "shelter_children", "medical", "legal_aid"]),
        st.none() | st.integers(0, 3),
        st.booleans(),
        st.sampled_from([(None, None), (18, None), (None, 17), (12, 25), (30, 60)]),
        st.sets(st.sampled_from(["F", "M", "X"])),
        st.sets(st.sampled_from(["BA", "AF", "SY"])),
        st.sets(st.sampled_from(["bs", "en", "ar", "fa"])),
        st.booleans(),
        st.sampled_from(["active", "active", "active", "inactive"]),
        st.booleans(),
        st.lists(
            st.sampled_from(["everyone", "adults", "children", "women", "men", "girls", "boys"]),
            min_size=1,
            max_size=3,
            unique=True,
        ),
    ),
    max_size=20,
    unique_by=lambda c: c.service_id,
)
case_st = st.builds(
    lambda age, child, sex, nat, needs, place, urgent, langs, ramp: CaseProfile(
        needs=frozenset(needs),
        age=age,
        child=child,
        sex=sex,
        nationality=nat,
        place=near(place),
        urgent=urgent,
        languages=frozenset(langs),
        needs_wheelchair_access=ramp,
    ),
    st.none() | st.integers(0, 90),
    st.none() | st.booleans(),
    st.sampled_from(["F", "M", "X", "UNK"]),
    st.none() | st.sampled_from(["BA", "AF", "SY"]),
    st.sets(st.sampled_from(["safe_house", "shelter_children", "medical", "legal_aid"]), min_size=1),
    st.sampled_from(PLACES),
    st.booleans(),
    st.sets(st.sampled_from(["bs", "en", "ar", "fa"])),
    st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(case=case_st, candidates=candidates_st)
def test_ranking_properties(case: CaseProfile, candidates: list[Candidate]) -> None:
    ranked = rank(case, candidates, limit=50)
    assert ranked == rank(case, list(reversed(candidates)), limit=50)  # order of input never matters
    assert {m.service_id for m in ranked} == {c.service_id for c in candidates if eligible_by_rule(case, c)}
    accommodation = {c.service_id for c in candidates if c.service_type in ACCOMMODATION}
    assert all(m.available and m.available > 0 for m in ranked if m.service_id in accommodation)
    keys = [(-m.score, m.distance_km if m.distance_km is not None else float("inf"), m.service_id) for m in ranked]
    assert keys == sorted(keys)  # best score first; ties nearer first, then by id
    assert all(0 <= m.score <= 100 and m.score == round(sum(m.parts.values()), 2) for m in ranked)


# --- a confidential location never shows through at a finer grain than its municipality ---


def safe_house_at(latitude: float, longitude: float, municipality: str = "Zenica", sid: str = "safe") -> Candidate:
    m = find_municipality(municipality)
    assert m is not None
    return Candidate(
        service_id=sid,
        organisation_id="org",
        name=sid,
        service_type="safe_house",
        locations=(CandidateLocation(f"loc-{sid}", m.entity, m.canton, m.name, latitude, longitude, True),),
        capacities=beds(2),
    )


# Anywhere in and around BiH: the stored coordinates of a confidential location must not matter at all.
latitudes = st.floats(42.5, 45.3, allow_nan=False)
longitudes = st.floats(15.7, 19.7, allow_nan=False)
case_points = st.tuples(latitudes, longitudes)


@settings(max_examples=300, deadline=None)
@given(
    first=st.tuples(latitudes, longitudes),
    second=st.tuples(latitudes, longitudes),
    probe=case_points,
    others=st.lists(st.sampled_from(PLACES), max_size=6),
)
def test_moving_a_confidential_location_changes_no_ranking(
    first: tuple[float, float], second: tuple[float, float], probe: tuple[float, float], others: list[str]
) -> None:
    public = [shelter(f"pub-{i}", place) for i, place in enumerate(others)]
    # A second safe house in the same municipality: their tie must not be broken by where either really is.
    twin = safe_house_at(44.25, 17.95, sid="twin")
    case = CaseProfile(needs=frozenset({"safe_house"}), age=30, place=Place(latitude=probe[0], longitude=probe[1]))
    one = rank(case, [safe_house_at(*first), twin, *public], limit=50)
    two = rank(case, [safe_house_at(*second), twin, *public], limit=50)
    assert one == two  # scores, parts, reasons, distances, order and ties alike


def test_confidential_distance_is_to_the_municipality_centre_and_says_so() -> None:
    zenica = find_municipality("Zenica")
    assert zenica is not None
    case = CaseProfile(needs=frozenset({"safe_house"}), age=30, place=near("Zenica"))
    (match,) = rank(case, [safe_house_at(zenica.latitude + 0.05, zenica.longitude - 0.05)])
    assert match.distance_km == 0.0  # measured to the centre of Zenica, not to the house 6 km away
    assert any("centre of Zenica (confidential address)" in r for r in match.reasons)
    far = CaseProfile(needs=frozenset({"safe_house"}), age=30, place=near("Bihać"))
    assert rank(far, [safe_house_at(zenica.latitude, zenica.longitude)])[0].distance_km > 100  # still useful


def test_confidential_location_in_an_unknown_municipality_has_no_distance() -> None:
    hidden = CandidateLocation("loc-x", "FBIH", 4, "Nowhere", 44.2, 17.9, True)
    house = dataclasses.replace(safe_house_at(44.2, 17.9), locations=(hidden,))
    (match,) = rank(CaseProfile(needs=frozenset({"safe_house"}), age=30, place=near("Zenica")), [house])
    assert match.distance_km is None and "distance unknown" in match.reasons


# --- several capacities per service, each for a group ---


def test_capacity_for_women_is_not_offered_to_a_man_and_children_s_beds_not_to_an_adult() -> None:
    women_only = shelter("women", "Bihać", capacities=beds(3, population="women"))
    family = shelter("family", "Zenica", capacities=(*beds(0, population="adults"), *beds(4, population="children")))
    man = CaseProfile(needs=frozenset({"safe_house"}), age=30, sex="M", place=near("Bihać"))
    assert exclusion(man, women_only) == "no places for this group"
    # The family shelter's free beds are children's: an adult finds no free place there, a child does.
    assert exclusion(ADULT, family) == "no free place"
    girl = CaseProfile(needs=frozenset({"safe_house"}), age=12, sex="F", place=near("Bihać"))
    (match,) = rank(girl, [family])
    assert match.available == 4 and "4 of 5 places free" in match.reasons
    # Unknown sex is never excluded from a group by sex (the provider checks on arrival).
    unknown = CaseProfile(needs=frozenset({"safe_house"}), age=30, place=near("Bihać"))
    assert [m.service_id for m in rank(unknown, [women_only])] == ["women"]
