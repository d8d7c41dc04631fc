"""Pure, deterministic matching: hard eligibility filters, then a soft score with readable reasons.

No I/O here: the caller loads candidates (repository) and passes plain values, so the ranking
can be tested exhaustively and benchmarked on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from putokaz.gazetteer import canton_name, find_municipality, haversine_km

ACCOMMODATION_TYPES = frozenset({"safe_house", "shelter_children", "shelter_families"})
ADULT_AGE = 18

# Score weights (the parts add up to at most 100). Distance dominates because a person in danger
# must be moved as little as possible; language next because help nobody understands fails.
W_DISTANCE = 35.0
W_LANGUAGE = 20.0
W_SPECIALISATION = 15.0
W_TWENTY_FOUR_SEVEN = 15.0
W_SAME_CANTON = 10.0
W_SAME_ENTITY = 5.0
W_LGBTQIA = 5.0
# Beyond this distance the distance part is 0 (BiH is about 350 km across its longest axis).
DISTANCE_HORIZON_KM = 300.0


@dataclass(frozen=True, slots=True)
class Place:
    entity: str | None = None
    canton: int | None = None
    municipality: str | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True, slots=True)
class CaseProfile:
    """What matching may know about a person: nothing that identifies them."""

    needs: frozenset[str]
    age: int | None = None
    child: bool | None = None
    sex: str = "UNK"
    nationality: str | None = None
    languages: frozenset[str] = frozenset()
    forms: frozenset[str] = frozenset()
    place: Place = field(default_factory=Place)
    urgent: bool = False
    needs_wheelchair_access: bool = False
    lgbtqia: bool = False

    @property
    def is_child(self) -> bool | None:
        """Known age decides; unknown age falls back to the caller's `child` flag (None: unknown)."""
        if self.age is not None:
            return self.age < ADULT_AGE
        return self.child


@dataclass(frozen=True, slots=True)
class CandidateLocation:
    location_id: str
    entity: str
    canton: int | None
    municipality: str
    latitude: float | None
    longitude: float | None
    confidential: bool = False


@lru_cache(maxsize=1024)
def _centre_of(municipality: str) -> tuple[float, float] | None:
    """A municipality's public centre (name folding is not free, and matching runs it per candidate)."""
    known = find_municipality(municipality)
    return (known.latitude, known.longitude) if known is not None else None


def matching_point(loc: CandidateLocation) -> tuple[float, float] | None:
    """Where matching places a location: its coordinates, or for a confidential one its municipality's centre.

    A safe house's own coordinates never enter a score, a distance, a reason or the order of an answer:
    distances measured to the house itself, even rounded into bands, let anyone who can vary the case's
    place locate it by bisection. The municipality is public (it is shown to every caller), so nothing
    finer than it can be learnt. A confidential location in a municipality the gazetteer does not know
    has no matching point at all (distance unknown).
    """
    if loc.confidential:
        return _centre_of(loc.municipality)
    if loc.latitude is None or loc.longitude is None:
        return None
    return loc.latitude, loc.longitude


# How specific a capacity's target group is: a girl takes a place for girls before one for everyone.
POPULATION_ORDER = {"girls": 0, "boys": 0, "women": 1, "men": 1, "children": 1, "adults": 2, "everyone": 3}


def fits(population: str, case: CaseProfile) -> bool:
    """Whether places meant for `population` may take this person.

    A stated sex or age excludes the other group; an unstated one never does (the provider checks on
    arrival), as for a service's own eligibility.
    """
    child = case.is_child
    if population == "everyone":
        return True
    if population == "adults":
        return child is not True
    if population == "children":
        return child is not False
    if population in ("women", "men"):
        return child is not True and case.sex != ("M" if population == "women" else "F")
    if population in ("girls", "boys"):
        return child is not False and case.sex != ("M" if population == "girls" else "F")
    return False


@dataclass(frozen=True, slots=True)
class CandidateCapacity:
    capacity_id: str
    unit: str
    population: str
    available: int
    maximum: int


@dataclass(frozen=True, slots=True)
class Candidate:
    service_id: str
    organisation_id: str
    name: str
    service_type: str
    status: str = "active"
    minimum_age: int | None = None
    maximum_age: int | None = None
    sexes: frozenset[str] = frozenset()
    nationalities: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    specialisations: frozenset[str] = frozenset()
    child_only: bool = False
    lgbtqia_safe: bool = False
    wheelchair_accessible: bool = False
    open_24_7: bool = False
    capacities: tuple[CandidateCapacity, ...] = ()
    locations: tuple[CandidateLocation, ...] = ()


def fitting_capacities(case: CaseProfile, c: Candidate) -> list[CandidateCapacity]:
    """The candidate's capacities whose target group may take this person, most specific first."""
    return sorted(
        (cap for cap in c.capacities if fits(cap.population, case)),
        key=lambda cap: (POPULATION_ORDER.get(cap.population, 9), cap.capacity_id),
    )


@dataclass(frozen=True, slots=True)
class Match:
    service_id: str
    organisation_id: str
    name: str
    service_type: str
    score: float
    parts: dict[str, float]
    reasons: tuple[str, ...]
    distance_km: float | None
    location_id: str | None
    available: int | None


def exclusion(case: CaseProfile, c: Candidate) -> str | None:
    """Why a candidate fails a hard filter, or None when it is eligible."""
    if c.status != "active":
        return "not active"
    if c.service_type not in case.needs:
        return "does not offer a needed service"
    child = case.is_child
    if c.child_only and child is False:
        return "children only"
    if case.age is not None:
        if c.minimum_age is not None and case.age < c.minimum_age:
            return "below the minimum age"
        if c.maximum_age is not None and case.age > c.maximum_age:
            return "above the maximum age"
    elif child is True and c.minimum_age is not None and c.minimum_age >= ADULT_AGE:
        return "adults only"
    # An unstated sex or nationality never excludes: the provider can check on arrival.
    if c.sexes and case.sex in {"F", "M", "X"} and case.sex not in c.sexes:
        return "does not serve this sex"
    if c.nationalities and case.nationality and case.nationality not in c.nationalities:
        return "does not serve this nationality"
    if case.needs_wheelchair_access and not c.wheelchair_accessible:
        return "not wheelchair accessible"
    fitting = fitting_capacities(case, c) if c.capacities else []
    if c.capacities and not fitting:
        return "no places for this group"
    if c.service_type in ACCOMMODATION_TYPES and sum(cap.available for cap in fitting) <= 0:
        return "no free place"
    return None


def _nearest(case: CaseProfile, c: Candidate) -> tuple[CandidateLocation | None, float | None]:
    lat, lon = case.place.latitude, case.place.longitude
    best: CandidateLocation | None = None
    best_km: float | None = None
    for loc in c.locations:
        point = matching_point(loc)
        if lat is None or lon is None or point is None:
            if best is None:
                best = loc
            continue
        km = haversine_km(lat, lon, *point)
        if best_km is None or km < best_km:
            best, best_km = loc, km
    return best, best_km


def _parts(
    case: CaseProfile, c: Candidate
) -> tuple[dict[str, float], CandidateLocation | None, float | None, list[str], list[str]]:
    """The score parts of an eligible candidate, with what its reasons are built from."""
    loc, km = _nearest(case, c)
    parts = {
        "distance": 0.0 if km is None else round(W_DISTANCE * max(0.0, 1.0 - km / DISTANCE_HORIZON_KM), 2),
        "same_canton": 0.0,
        "same_entity": 0.0,
    }
    if loc is not None and case.place.canton is not None and loc.canton == case.place.canton:
        parts["same_canton"] = W_SAME_CANTON
    if loc is not None and case.place.entity is not None and loc.entity == case.place.entity:
        parts["same_entity"] = W_SAME_ENTITY
    common = sorted(case.languages & c.languages)
    parts["language"] = W_LANGUAGE if case.languages and common else 0.0
    special = sorted(case.forms & c.specialisations)
    parts["specialisation"] = (
        round(W_SPECIALISATION * len(special) / len(case.forms), 2) if case.forms and special else 0.0
    )
    parts["twenty_four_seven"] = W_TWENTY_FOUR_SEVEN if case.urgent and c.open_24_7 else 0.0
    parts["lgbtqia_safe"] = W_LGBTQIA if case.lgbtqia and c.lgbtqia_safe else 0.0
    return parts, loc, km, common, special


def score(case: CaseProfile, c: Candidate) -> Match:
    """Score an eligible candidate; each part is reported with the reason it was (not) earned."""
    parts, loc, km, common, special = _parts(case, c)
    reasons: list[str] = []
    if km is None:
        reasons.append("distance unknown")
    elif loc is not None and loc.confidential:
        reasons.append(f"about {round(km)} km from the centre of {loc.municipality} (confidential address)")
    else:
        reasons.append(f"about {round(km)} km away")
    if parts["same_canton"] and loc is not None:
        reasons.append(f"same canton ({canton_name(loc.canton)})")
    if parts["same_entity"] and loc is not None:
        reasons.append(f"same entity ({loc.entity})")
    if case.languages:
        reasons.append(f"speaks {', '.join(common)}" if common else "speaks none of the person's languages")
    if special:
        reasons.append(f"specialised in {', '.join(s.replace('_', ' ') for s in special)}")
    if case.urgent:
        reasons.append("open 24/7 (urgent case)" if c.open_24_7 else "not open 24/7 (urgent case)")
    if case.lgbtqia and c.lgbtqia_safe:
        reasons.append("LGBTQIA+-safe")
    fitting = fitting_capacities(case, c) if c.capacities else []
    available = sum(cap.available for cap in fitting) if fitting else None
    if c.service_type in ACCOMMODATION_TYPES and fitting:
        reasons.append(f"{available} of {sum(cap.maximum for cap in fitting)} places free")
    return Match(
        service_id=c.service_id,
        organisation_id=c.organisation_id,
        name=c.name,
        service_type=c.service_type,
        score=round(sum(parts.values()), 2),
        parts=parts,
        reasons=tuple(reasons),
        distance_km=round(km, 1) if km is not None else None,
        location_id=loc.location_id if loc is not None else None,
        available=available,
    )


def rank(
    case: CaseProfile, candidates: Iterable[Candidate], *, limit: int = 10, exclude: Sequence[str] = ()
) -> list[Match]:
    """Eligible candidates best first; ties broken by distance, then service id, so order is stable.

    Every eligible candidate is scored, but the readable reasons (most of the cost) are written only
    for the `limit` shown: the order is that of `score`'s own figures, so the answer is the same.
    """
    excluded = set(exclude)
    far = float("inf")
    keyed = []
    for c in candidates:
        if c.service_id in excluded or exclusion(case, c) is not None:
            continue
        parts, _, km, _, _ = _parts(case, c)
        keyed.append((-round(sum(parts.values()), 2), round(km, 1) if km is not None else far, c.service_id, c))
    keyed.sort(key=lambda k: k[:3])
    return [score(case, c) for *_, c in keyed[:limit]]


def case_profile(profile: dict[str, Any], needs: Sequence[str], urgent: bool) -> CaseProfile:
    """The matching view of a stored (or submitted) profile; a known municipality fills in coordinates."""
    place = profile.get("place") or {}
    lat, lon = place.get("latitude"), place.get("longitude")
    if lat is None:
        known = find_municipality(place.get("municipality"))
        if known is not None:
            lat, lon = known.latitude, known.longitude
    return CaseProfile(
        needs=frozenset(needs),
        age=profile.get("age"),
        child=profile.get("child"),
        sex=profile.get("sex") or "UNK",
        nationality=profile.get("nationality"),
        languages=frozenset(profile.get("languages") or ()),
        forms=frozenset(profile.get("forms") or ()),
        place=Place(
            entity=place.get("entity"),
            canton=place.get("canton"),
            municipality=place.get("municipality"),
            latitude=lat,
            longitude=lon,
        ),
        urgent=urgent,
        needs_wheelchair_access=bool(profile.get("needs_wheelchair_access")),
        lgbtqia=bool(profile.get("lgbtqia")),
    )
