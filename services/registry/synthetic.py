"""A seeded, realistic year of Bosnia and Herzegovina for tests and benches: ~25,000 screenings of
~18,000 people, ~100 of them victims (potential, presumed, identified), 2,200 referrals, every canton.

The proportions follow the shape of the national annual reports on trafficking (mostly women and
girls, a third children, most victims nationals, sexual exploitation, forced begging and labour
most frequent, places by population); the numbers are invented. Facts are in the anonymised fact
contract, ready for the feed or a CSV import.
"""

from __future__ import annotations

import csv
import io
import random
import uuid
from collections.abc import Sequence
from typing import Any

from services.registry.facts import AGE_BANDS, CHILD_AGE_BANDS

# FBiH cantons by population share within the Federation, then RS and Brčko by share of the country.
CANTON_WEIGHTS = {1: 12, 2: 2, 3: 20, 4: 16, 5: 1, 6: 11, 7: 10, 8: 4, 9: 20, 10: 4}
ENTITY_WEIGHTS = {"FBIH": 62, "RS": 33, "BD": 5}
VICTIM_FORMS = {
    "sexual": 45,
    "begging": 20,
    "forced_labour": 18,
    "forced_marriage": 8,
    "forced_criminality": 5,
    "domestic_servitude": 4,
}
NON_EU = ("AF", "PK", "MA", "TR", "RS", "BD", "IN", "DZ")
EU = ("HR", "SI", "DE", "AT")
ADULT_BANDS = tuple(b for b in AGE_BANDS if b not in CHILD_AGE_BANDS and b != "unknown")


def _pick(rng: random.Random, weights: dict[Any, int]) -> Any:
    return rng.choices(list(weights), list(weights.values()))[0]


def _place(rng: random.Random) -> tuple[str, int | None]:
    entity = _pick(rng, ENTITY_WEIGHTS)
    return entity, _pick(rng, CANTON_WEIGHTS) if entity == "FBIH" else None


def _citizenship(rng: random.Random, victim: bool) -> str:
    roll = rng.random()
    if roll < (0.72 if victim else 0.55):
        return "BA"
    if roll < 0.97:
        return rng.choice(NON_EU)
    return rng.choice(EU) if roll < 0.985 else "UNK"


def _victim_status(rng: random.Random) -> str:
    return _pick(rng, {"potential": 30, "presumed": 40, "identified": 30})


def bih_year(
    year: int,
    *,
    seed: int = 2025,
    victims: int = 100,
    people: int = 18_000,
    screenings: int = 25_000,
    referral_count: int = 2_200,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(screening facts, referral facts) of one year."""
    rng = random.Random(seed)
    facts: list[dict[str, Any]] = []
    extra = screenings - people
    for person in range(people):
        victim = person < victims
        key = uuid.UUID(int=rng.getrandbits(128)).hex
        child = rng.random() < (0.35 if victim else 0.25)
        band = rng.choice(CHILD_AGE_BANDS_SORTED) if child else rng.choice(ADULT_BANDS)
        # A victim's sex is always recorded in practice; a screening may leave it unknown.
        sex = _pick(rng, {"F": 62, "M": 38} if victim else {"F": 48, "M": 50, "UNK": 2})
        citizenship = _citizenship(rng, victim)
        entity, canton = _place(rng)
        times = 1 + (rng.random() < extra / people) + (victim and rng.random() < 0.5)
        for visit in range(times):
            if victim and visit == times - 1:
                status = _victim_status(rng)
                forms = [_pick(rng, VICTIM_FORMS)]
                if rng.random() < 0.15:
                    forms.append(_pick(rng, VICTIM_FORMS))
                forms = sorted(set(forms))
            else:
                status = _pick(rng, {"none": 70, "at_risk": 27, "not_confirmed": 3})
                forms = []
            facts.append(
                {
                    "fact_id": str(uuid.UUID(int=rng.getrandbits(128))),
                    "version": 1,
                    "subject_key": key,
                    "year": year,
                    "month": rng.randint(1, 12),
                    "age_band": band,
                    "sex": sex,
                    "citizenship": citizenship,
                    "entity": entity,
                    "canton": canton,
                    "status": status,
                    "forms": forms,
                    "instrument": "child" if child else rng.choice(("quick", "adult")),
                    "child": child,
                    "anonymous": False,
                }
            )
    return facts, referrals(year, rng, referral_count)


CHILD_AGE_BANDS_SORTED = tuple(sorted(CHILD_AGE_BANDS))


def referrals(year: int, rng: random.Random, count: int) -> list[dict[str, Any]]:
    out = []
    # Its own generator: the times from screening are drawn without moving the other fields' draws.
    timing = random.Random(f"{year}-from-screening")
    for _ in range(count):
        entity, canton = _place(rng)
        answered = rng.random() < 0.9
        out.append(
            {
                "fact_id": str(uuid.UUID(int=rng.getrandbits(128))),
                "version": 1,
                "year": year,
                "month": rng.randint(1, 12),
                "service_type": rng.choice(("safe_house", "social_welfare", "medical", "legal_aid", "mhpss")),
                "status": _pick(
                    rng, {"completed": 60, "accepted": 15, "rejected": 10, "in_progress": 10, "expired": 5}
                ),
                "hours_to_answer": round(rng.expovariate(1 / 10), 2) if answered else None,
                "hours_to_placement": round(rng.expovariate(1 / 40), 2) if answered and rng.random() < 0.5 else None,
                "entity": entity,
                "canton": canton,
                "child": rng.random() < 0.3,
                "urgent": rng.random() < 0.25,
            }
        )
    for fact in out:
        # Most referrals follow a screening; a child's to social welfare usually within hours.
        quick = fact["child"] and fact["service_type"] == "social_welfare"
        if timing.random() < 0.85:
            fact["hours_from_screening"] = round(timing.expovariate(1 / (8 if quick else 30)), 2)
    return out


def to_csv(columns: Sequence[str], facts: Sequence[dict[str, Any]]) -> str:
    """The facts as an import file (forms joined by `;`, booleans as true/false, None as empty)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for fact in facts:
        row = []
        for name in columns:
            value = fact.get(name)
            if isinstance(value, list):
                value = ";".join(value)
            elif isinstance(value, bool):
                value = "true" if value else "false"
            row.append("" if value is None else value)
        writer.writerow(row)
    return buffer.getvalue()
