"""Eurostat's trafficking statistics (crim_thb) categories, and the perturbed crim_thb tables of the explorer.

Registered victims = presumed + identified, each person counted once in the year under their highest
status. Three tables, as Eurostat publishes them: by sex and age group (child/adult), by sex and
citizenship group (reporting country / other EU / non-EU / unknown), by sex and form of exploitation.
The official figures of a closed year are those of its release (see `releases`): once a year is released,
this report is its release's crim_thb tables; before, the explorer's view of them, perturbed like every
explorer answer.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import repository
from services.registry.ckm import PTable
from services.registry.dimensions import NATIONAL_CITIZENSHIP
from services.registry.explorer import render, tally
from services.registry.facts import FORM_BITS, STATUS_RANK
from services.registry.released import NOTE, Published, eurostat_tables
from services.registry.repository import Period

EUROSTAT_SEXES = ("F", "M", "UNK")
AGE_GROUPS = ("child", "adult")
CITIZENSHIP_GROUPS = ("national", "eu", "non_eu", "unknown")
# The other 26 member states of the European Union (ISO 3166-1 alpha-2; Greece is GR here, not EL).
EU_MEMBERS = frozenset("AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split())
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
RAW = ("sex", "child", "citizenship", "forms_mask")


def eurostat_sex(sex: Any) -> tuple[str, ...]:
    # Eurostat has no third category; X and UNK are both reported as unknown.
    return (sex,) if sex in ("F", "M") else ("UNK",)


def age_group(child: Any) -> tuple[str, ...]:
    return ("child",) if child in (True, "child") else ("adult",)


def citizenship_group(code: Any) -> tuple[str, ...]:
    if code == NATIONAL_CITIZENSHIP:
        return ("national",)
    if code == "UNK":
        return ("unknown",)
    return ("eu",) if code in EU_MEMBERS else ("non_eu",)


def eurostat_forms(mask: Any) -> tuple[str, ...]:
    """A person's crim_thb form groups (persons with several are under each); none recorded: other."""
    forms = {FORM_TO_EUROSTAT[form] for form, bit in FORM_BITS.items() if int(mask) & bit}
    return tuple(f for f in EUROSTAT_FORMS if f in forms) or ("other",)


TABLES = {
    "by_sex_and_age_group": ("age_group", "child", age_group, AGE_GROUPS),
    "by_sex_and_citizenship": ("citizenship", "citizenship", citizenship_group, CITIZENSHIP_GROUPS),
    "by_sex_and_form": ("form", "forms_mask", eurostat_forms, EUROSTAT_FORMS),
}


async def eurostat_report(
    session: AsyncSession, year: int, ptable: PTable, published: Published | None = None
) -> dict[str, Any]:
    """The crim_thb tables of a year: perturbed, or for a released year its release's crim_thb tables."""
    if published is not None:
        return {
            **_report(year, ptable),
            "perturbed": False,
            "additive": True,
            "release": published.source("crim_thb_by_sex_and_age_group"),
            "tables": eurostat_tables(published),
            "notes": [
                NOTE.format(year=year, version=published.version),
                *_COMMON_NOTES,
            ],
        }
    period = Period(year)
    tables = {}
    for name, (second, raw, mapper, categories) in TABLES.items():
        groups = await repository.count_with_keys(
            session, "victims", ["sex", raw], [period], min_rank=REGISTERED_MIN_RANK
        )
        tallies = tally(["sex", second], groups[period], [eurostat_sex, mapper])
        cells = render("victims", ["sex", second], tallies, ptable, fixed=[EUROSTAT_SEXES, categories])
        tables[name] = {"cells": cells}
    return {
        **_report(year, ptable),
        "perturbed": True,
        "additive": False,
        "tables": tables,
        "notes": [
            "Perturbed by the cell key method like every explorer answer; the official figures are the year's release.",
            *_COMMON_NOTES,
        ],
    }


_COMMON_NOTES = (
    "A victim exploited in several forms is counted under each form, once in the totals.",
    "Sex X (other) is reported with UNK: the Eurostat table has no third category.",
)


def _report(year: int, ptable: PTable) -> dict[str, Any]:
    return {
        "report": "eurostat",
        "dataset": "crim_thb (registered victims of trafficking in human beings)",
        "year": year,
        "unit": "persons",
        "definition": "registered victims = presumed + identified; each person counted once in the year",
        "ptable": ptable.describe(),
        "release": None,
    }
