"""Matching ranking cases on the pure function, plus properties that must hold for any input."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from services.referral.directory.geography import find_municipality
from services.referral.directory.matching import Candidate, CandidateLocation, CaseProfile, Place, exclusion, rank


def at(place: str, location_id: str | None = None) -> tuple[CandidateLocation, ...]:
    m = find_municipality(place)
    assert m is not None
    return (CandidateLocation(location_id or f"loc-{place}", m.entity, m.canton, m.name, m.latitude, m.longitude),)


def near(place: str) -> Place:
    m = find_municipality(place)
    assert m is not None
    return Place(entity=m.entity, canton=m.canton, municipality=m.name, latitude=m.latitude, longitude=m.longitude)


def shelter(sid: str, place: str, **kw: object) -> Candidate:
    kw.setdefault("available", 2)
    kw.setdefault("maximum", 5)
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
    assert ranked[0].distance_km is not None and ranked[0].distance_km < 30
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
    day = shelter("day", "Cazin")
    night = shelter("night", "Bosanska Krupa", open_24_7=True)
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
candidates_st = st.lists(
    st.builds(
        lambda i, place, avail, child_only, langs, open247: shelter(
            f"s{i}", place, available=avail, child_only=child_only, languages=frozenset(langs), open_24_7=open247
        ),
        st.integers(0, 10_000),
        st.sampled_from(PLACES),
        st.integers(0, 3),
        st.booleans(),
        st.sets(st.sampled_from(["bs", "en", "ar", "fa"])),
        st.booleans(),
    ),
    max_size=20,
    unique_by=lambda c: c.service_id,
)
case_st = st.builds(
    lambda age, place, urgent, langs: CaseProfile(
        needs=frozenset({"safe_house"}), age=age, place=near(place), urgent=urgent, languages=frozenset(langs)
    ),
    st.none() | st.integers(0, 90),
    st.sampled_from(PLACES),
    st.booleans(),
    st.sets(st.sampled_from(["bs", "en", "ar", "fa"])),
)


@settings(max_examples=200, deadline=None)
@given(case=case_st, candidates=candidates_st)
def test_ranking_properties(case: CaseProfile, candidates: list[Candidate]) -> None:
    ranked = rank(case, candidates, limit=50)
    assert ranked == rank(case, list(reversed(candidates)), limit=50)  # order of input never matters
    assert all(exclusion(case, c) is None for c in candidates if c.service_id in {m.service_id for m in ranked})
    assert {m.service_id for m in ranked} == {c.service_id for c in candidates if exclusion(case, c) is None}
    assert all(m.available and m.available > 0 for m in ranked)  # no full shelter is ever offered
    scores = [m.score for m in ranked]
    assert scores == sorted(scores, reverse=True)
    assert all(0 <= m.score <= 100 and m.score == round(sum(m.parts.values()), 2) for m in ranked)


def test_confidential_safe_house_distance_is_banded_so_it_cannot_be_triangulated() -> None:
    m = find_municipality("Zenica")
    assert m is not None
    secret_location = (CandidateLocation("safe", m.entity, m.canton, m.name, m.latitude, m.longitude, True),)
    safe_house = Candidate(
        service_id="safe",
        organisation_id="org",
        name="safe",
        service_type="safe_house",
        locations=secret_location,
        available=2,
        maximum=5,
    )
    distances = set()
    for place in ("Bihać", "Tuzla", "Mostar", "Travnik", "Cazin"):
        case = CaseProfile(needs=frozenset({"safe_house"}), age=30, place=near(place))
        (match,) = rank(case, [safe_house])
        assert match.distance_km is not None and match.distance_km % 25 == 0
        assert any("confidential" in r for r in match.reasons)
        distances.add(match.distance_km)
    assert len(distances) > 1  # still useful for ranking, just coarse
