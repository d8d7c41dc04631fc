"""The breakdowns a statistics table may use: which tables offer them, their categories and SQL."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Integer, String, Table, and_, case, cast, func, literal, or_, select, union_all

from services.registry.facts import (
    AGE_BANDS,
    ENTITIES,
    FORM_BITS,
    FORMS,
    INSTRUMENTS,
    REFERRAL_STATUSES,
    SCREENING_STATUSES,
    SERVICE_TYPES,
    SEXES,
    VICTIM_STATUSES,
)

NATIONAL_CITIZENSHIP = "BA"
UNSPECIFIED_FORM = "unspecified"
ANSWER_TIME_BANDS = ("<2h", "2-24h", "24-48h", ">48h", "none")
PLACEMENT_TIME_BANDS = ("<24h", "1-7d", ">7d", "none")
TABLES = ("screenings", "victims", "referrals")
# Tables about children or at canton level use the higher threshold (docs/registry.md).
SENSITIVE_DIMENSIONS = frozenset({"child", "age_band", "canton"})
MAX_BREAKDOWNS = 2


@dataclass(frozen=True)
class Dimension:
    name: str
    description: str
    tables: frozenset[str]
    expression: Callable[[Table], ColumnElement[str]]
    # None: the categories present in the data (citizenship); otherwise fixed, zeros included.
    categories: Callable[[str], tuple[str, ...]] | None


def _status_categories(table: str) -> tuple[str, ...]:
    return {"screenings": SCREENING_STATUSES, "victims": VICTIM_STATUSES, "referrals": REFERRAL_STATUSES}[table]


def _fixed(items: tuple[str, ...]) -> Callable[[str], tuple[str, ...]]:
    return lambda _table: items


def _answer_band(t: Table) -> ColumnElement[str]:
    hours = t.c.hours_to_answer
    return case(
        (hours.is_(None), "none"), (hours < 2, "<2h"), (hours < 24, "2-24h"), (hours < 48, "24-48h"), else_=">48h"
    )


def _placement_band(t: Table) -> ColumnElement[str]:
    hours = t.c.hours_to_placement
    return case((hours.is_(None), "none"), (hours < 24, "<24h"), (hours < 24 * 7, "1-7d"), else_=">7d")


# A referral's answer against its deadline (urgent 2 h, routine 48 h). The answer is an acceptance or a
# rejection; a referral answered and not `rejected` was accepted (whatever happened after: in progress,
# completed, failed, cancelled). One breakdown, so that acceptance in time needs no third breakdown.
URGENT_DEADLINE_HOURS, ROUTINE_DEADLINE_HOURS = 2, 48
DEADLINE_OUTCOMES = ("accepted_in_time", "rejected_in_time", "answered_late", "unanswered")


def deadline_outcome(t: Table) -> ColumnElement[str]:
    hours = t.c.hours_to_answer
    limit = case((t.c.urgent, URGENT_DEADLINE_HOURS), else_=ROUTINE_DEADLINE_HOURS)
    return case(
        (hours.is_(None), "unanswered"),
        (hours >= limit, "answered_late"),
        (t.c.status == "rejected", "rejected_in_time"),
        else_="accepted_in_time",
    )


PEOPLE = frozenset({"screenings", "victims"})
ALL = frozenset(TABLES)

DIMENSIONS: dict[str, Dimension] = {
    d.name: d
    for d in (
        Dimension("sex", "F, M, X, UNK", PEOPLE, lambda t: t.c.sex, _fixed(SEXES)),
        Dimension("age_band", "CTDC age bands", PEOPLE, lambda t: t.c.age_band, _fixed(AGE_BANDS)),
        Dimension(
            "child",
            "child (under 18 or presumed minor) / adult",
            ALL,
            lambda t: case((t.c.child, "child"), else_="adult"),
            _fixed(("child", "adult")),
        ),
        Dimension("citizenship", "ISO 3166-1 alpha-2 or UNK", PEOPLE, lambda t: t.c.citizenship, None),
        Dimension(
            "nationality",
            "national (BA) / foreign / unknown",
            PEOPLE,
            lambda t: case(
                (t.c.citizenship == NATIONAL_CITIZENSHIP, "national"),
                (t.c.citizenship == "UNK", "unknown"),
                else_="foreign",
            ),
            _fixed(("national", "foreign", "unknown")),
        ),
        # Placeholder expression: forms are a bit mask joined against a list of forms (see repository).
        Dimension("form", "form of exploitation", PEOPLE, lambda t: t.c.forms_mask, _fixed((*FORMS, UNSPECIFIED_FORM))),
        Dimension(
            "entity",
            "FBIH, RS, BD",
            ALL,
            lambda t: func.coalesce(t.c.entity, "unknown"),
            _fixed((*ENTITIES, "unknown")),
        ),
        Dimension(
            "canton",
            "FBiH canton 1-10 (none outside FBiH)",
            ALL,
            lambda t: func.coalesce(cast(t.c.canton, String), "none"),
            _fixed((*(str(i) for i in range(1, 11)), "none")),
        ),
        Dimension(
            "status",
            "outcome of the screening / victim status / referral status",
            ALL,
            lambda t: t.c.status,
            _status_categories,
        ),
        Dimension(
            "instrument",
            "quick, adult, child",
            frozenset({"screenings"}),
            lambda t: t.c.instrument,
            _fixed(INSTRUMENTS),
        ),
        Dimension(
            "service_type",
            "directory service type",
            frozenset({"referrals"}),
            lambda t: t.c.service_type,
            _fixed(SERVICE_TYPES),
        ),
        Dimension(
            "answer_time",
            "time from request to answer",
            frozenset({"referrals"}),
            _answer_band,
            _fixed(ANSWER_TIME_BANDS),
        ),
        Dimension(
            "placement_time",
            "time from request to placement",
            frozenset({"referrals"}),
            _placement_band,
            _fixed(PLACEMENT_TIME_BANDS),
        ),
        Dimension(
            "deadline",
            "answer against the deadline (urgent 2 h, routine 48 h): accepted or rejected in time, late, none",
            frozenset({"referrals"}),
            deadline_outcome,
            _fixed(DEADLINE_OUTCOMES),
        ),
        Dimension(
            "urgent",
            "urgent / routine",
            frozenset({"referrals"}),
            lambda t: case((t.c.urgent, "urgent"), else_="routine"),
            _fixed(("urgent", "routine")),
        ),
    )
}


def forms_list() -> Any:
    """A literal (form, bit) relation; bit 0 stands for facts recording no form.

    A UNION ALL of constant rows rather than VALUES: SQLite cannot name the columns of a VALUES list.
    """
    rows = [(form, bit) for form, bit in FORM_BITS.items()] + [(UNSPECIFIED_FORM, 0)]
    selects = [select(literal(form, String).label("form"), literal(bit, Integer).label("bit")) for form, bit in rows]
    return union_all(*selects).subquery("forms_list")


def form_matches(mask: ColumnElement[int], forms: Any) -> ColumnElement[bool]:
    bit = forms.c.bit
    return or_(and_(bit == 0, mask == 0), and_(bit != 0, mask.op("&")(bit) != 0))


def categories(table: str, name: str, cells: Mapping[tuple[str, ...], int], position: int) -> list[str]:
    """The categories of a breakdown in a table: fixed ones (zeros included), else those present, UNK last."""
    fixed = DIMENSIONS[name].categories
    if fixed is not None:
        return list(fixed(table))
    present = sorted({key[position] for key in cells})
    return [c for c in present if c != "UNK"] + (["UNK"] if "UNK" in present else [])
