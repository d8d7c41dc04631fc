"""The annual report in the shape of Eurostat's trafficking statistics (crim_thb), disclosure-controlled.

Registered victims = presumed + identified, each person counted once in the year under their
highest status. Three tables, as Eurostat publishes them: by sex and age group (child/adult), by sex
and citizenship (national/foreign), by sex and form of exploitation.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import repository
from services.registry.dimensions import NATIONAL_CITIZENSHIP
from services.registry.disclosure import ProtectedTable, protect
from services.registry.facts import FORM_BITS, STATUS_RANK
from services.registry.repository import Period
from services.registry.statistics import Thresholds, render_table

EUROSTAT_SEXES = ("F", "M", "UNK")
AGE_GROUPS = ("child", "adult")
CITIZENSHIPS = ("national", "foreign", "unknown")
# crim_thb forms: sexual exploitation, labour exploitation (forced labour or services), organ removal, other.
EUROSTAT_FORMS = ("sexual_exploitation", "labour_exploitation", "organ_removal", "other")
FORM_TO_EUROSTAT = {
    "sexual": "sexual_exploitation",
    "forced_labour": "labour_exploitation",
    "domestic_servitude": "labour_exploitation",
    "organ_removal": "organ_removal",
    "begging": "other",
    "forced_criminality": "other",
    "forced_marriage": "other",
    "illegal_adoption": "other",
    "other": "other",
}
REGISTERED_MIN_RANK = STATUS_RANK["presumed"]


def _eurostat_sex(sex: str) -> str:
    # Eurostat has no third category; X and UNK are both reported as unknown.
    return sex if sex in ("F", "M") else "UNK"


def _citizenship(code: str) -> str:
    if code == NATIONAL_CITIZENSHIP:
        return "national"
    return "unknown" if code == "UNK" else "foreign"


def _forms(mask: int) -> set[str]:
    forms = {FORM_TO_EUROSTAT[form] for form, bit in FORM_BITS.items() if mask & bit}
    return forms or {"other"}


async def eurostat_report(session: AsyncSession, year: int, thresholds: Thresholds) -> dict[str, Any]:
    groups = await repository.registered_victims(session, Period(year), REGISTERED_MIN_RANK)
    by_age: dict[tuple[str, str], int] = defaultdict(int)
    by_citizenship: dict[tuple[str, str], int] = defaultdict(int)
    by_form: dict[tuple[str, str], int] = defaultdict(int)
    for sex, child, citizenship, mask, people in groups:
        s = _eurostat_sex(sex)
        by_age[(s, "child" if child else "adult")] += people
        by_citizenship[(s, _citizenship(citizenship))] += people
        for form in _forms(mask):
            by_form[(s, form)] += people

    specs = {
        "by_sex_and_age_group": (AGE_GROUPS, by_age, thresholds.sensitive),
        "by_sex_and_citizenship": (CITIZENSHIPS, by_citizenship, thresholds.standard),
        "by_sex_and_form": (EUROSTAT_FORMS, by_form, thresholds.standard),
    }
    protected = _protect_linked(specs)
    tables = {}
    for name, (cols, _, threshold) in specs.items():
        second = name.removeprefix("by_sex_and_")
        cells, suppressions = render_table(protected[name], ["sex", second], EUROSTAT_SEXES, cols)
        tables[name] = {"threshold": threshold, "cells": cells, "suppressions": suppressions}
    return {
        "report": "eurostat",
        "dataset": "crim_thb (registered victims of trafficking in human beings)",
        "year": year,
        "unit": "persons",
        "definition": "registered victims = presumed + identified; each person counted once in the year",
        "tables": tables,
        "notes": [
            "The three tables share their sex totals; a figure suppressed in one is suppressed in all.",
            "A victim exploited in several forms is counted under each; the form table counts mentions.",
            "Sex X (other) is reported with UNK: the Eurostat table has no third category.",
        ],
    }


def _protect_linked(
    specs: dict[str, tuple[tuple[str, ...], dict[tuple[str, str], int], int]],
) -> dict[str, ProtectedTable]:
    """Protect each table, then re-protect with every shared margin suppressed anywhere, to a fixed point."""
    forced: set[tuple[str, ...]] = set()
    while True:
        protected = {
            name: protect(EUROSTAT_SEXES, cols, cells, threshold, forced=forced)
            for name, (cols, cells, threshold) in specs.items()
        }
        shared = {key for table in protected.values() for key in table.suppressed if key[1] == "total"}
        if shared <= forced:
            return protected
        forced |= shared
