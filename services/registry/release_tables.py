"""The declared tables of a year's release and the atoms they are sums of. Pure, no I/O.

Each person counted in the year (highest status potential, presumed or identified) falls in exactly
one atom of each block:

- `main`: sex × child/adult × status × set of crim_thb form groups × citizenship group;
- `place`: canton 1–10, FBiH without canton, RS, Brčko, unknown (canton ⊂ entity);
- `quarter`: the quarter of the person's counted screening (quarter ⊂ year);
- `age`: the CTDC age band with child/adult (band ⊂ child/adult; an unknown age may be either).

Every published cell is the sum of a set of atoms of one block: a one-way or two-way table of the
national annual report, or a crim_thb table (registered victims: presumed + identified). A form cell
counts persons with that form (a person with several is under each); totals count persons once. No
table crosses two blocks, so what can be inferred about one block does not depend on the others
beyond their common grand total, which is published exactly — and, for the age block, the child/adult
totals, published exactly in the main block: the age block carries them as a headline table of its own
(not shown twice), so its audit knows that the bands nest in them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import combinations, product
from typing import Any

from services.registry.eurostat import (
    AGE_GROUPS,
    CITIZENSHIP_GROUPS,
    EUROSTAT_FORMS,
    EUROSTAT_SEXES,
    citizenship_group,
    eurostat_forms,
)
from services.registry.facts import AGE_BANDS, CHILD_AGE_BANDS, SEXES, VICTIM_STATUSES

TOTAL = "total"
FORM_SETS: tuple[tuple[str, ...], ...] = tuple(
    combo for size in range(1, len(EUROSTAT_FORMS) + 1) for combo in combinations(EUROSTAT_FORMS, size)
)
FORM_GROUPS = (*EUROSTAT_FORMS, "several")
PLACES = (*(str(c) for c in range(1, 11)), "FBIH", "RS", "BD", "unknown")
ENTITIES = ("FBIH", "RS", "BD", "unknown")
CANTONS = (*(str(c) for c in range(1, 11)), "none")
QUARTERS = ("1", "2", "3", "4")
REGISTERED = frozenset({"presumed", "identified"})
# (band, child/adult) pairs that can occur: a child band is a child, an adult band an adult, unknown either.
BAND_GROUPS: tuple[tuple[str, str], ...] = tuple(
    (band, group)
    for band in AGE_BANDS
    for group in AGE_GROUPS
    if band == "unknown" or (group == "child") == (band in CHILD_AGE_BANDS)
)
BLOCKS: dict[str, tuple[tuple[Any, ...], ...]] = {
    "main": (SEXES, AGE_GROUPS, VICTIM_STATUSES, FORM_SETS, CITIZENSHIP_GROUPS),
    "place": (PLACES,),
    "quarter": (QUARTERS,),
    "age": (BAND_GROUPS,),
}
Atom = tuple[Any, ...]


@dataclass(frozen=True)
class Dim:
    """A published breakdown: its block, its categories, and which categories an atom counts under."""

    block: str
    categories: tuple[str, ...]
    of: Callable[[Atom], tuple[str, ...]]


def _entity(place: str) -> str:
    return "FBIH" if place.isdigit() or place == "FBIH" else place


DIMS: dict[str, Dim] = {
    "sex": Dim("main", SEXES, lambda a: (a[0],)),
    "eurostat_sex": Dim("main", EUROSTAT_SEXES, lambda a: (a[0] if a[0] in ("F", "M") else "UNK",)),
    "age_group": Dim("main", AGE_GROUPS, lambda a: (a[1],)),
    "status": Dim("main", VICTIM_STATUSES, lambda a: (a[2],)),
    "form_group": Dim("main", FORM_GROUPS, lambda a: (a[3][0] if len(a[3]) == 1 else "several",)),
    "form": Dim("main", EUROSTAT_FORMS, lambda a: a[3]),
    "citizenship": Dim("main", CITIZENSHIP_GROUPS, lambda a: (a[4],)),
    "entity": Dim("place", ENTITIES, lambda a: (_entity(a[0]),)),
    "canton": Dim("place", CANTONS, lambda a: (a[0] if a[0].isdigit() else "none",)),
    "quarter": Dim("quarter", QUARTERS, lambda a: (a[0],)),
    "age_band": Dim("age", AGE_BANDS, lambda a: (a[0][0],)),
    "band_group": Dim("age", AGE_GROUPS, lambda a: (a[0][1],)),
}


@dataclass(frozen=True)
class TableSpec:
    name: str
    title: str
    dims: tuple[str, ...]
    # Tables about children or at canton level use the sensitive threshold.
    sensitive: bool = False
    # Headline tables are published exactly, never suppressed.
    headline: bool = False
    # crim_thb tables count registered victims (presumed + identified) only.
    registered_only: bool = False
    # False: known to the audit, not published as a table (its figures are published in another table).
    shown: bool = True

    @property
    def block(self) -> str:
        return DIMS[self.dims[0]].block if self.dims else "main"


SPECS: tuple[TableSpec, ...] = (
    TableSpec("total", "Victims of the year (persons)", (), headline=True),
    TableSpec("by_sex", "Victims by sex", ("sex",), headline=True),
    TableSpec("by_age_group", "Victims by child/adult", ("age_group",), headline=True),
    TableSpec("by_status", "Victims by status", ("status",), headline=True),
    TableSpec(
        "by_form_group", "Victims by form of exploitation (one form group, or several)", ("form_group",), headline=True
    ),
    TableSpec("by_citizenship", "Victims by citizenship group", ("citizenship",)),
    TableSpec("by_entity", "Victims by entity", ("entity",)),
    TableSpec("by_canton", "Victims by canton (FBiH)", ("canton",), sensitive=True),
    TableSpec("by_quarter", "Victims by quarter", ("quarter",)),
    TableSpec("by_age_band", "Victims by age band (CTDC; bands nest in child/adult)", ("age_band",), sensitive=True),
    # The exact child/adult totals of `by_age_group`, stated in the age block so its audit knows them.
    TableSpec("age_groups_of_bands", "Child/adult, over the age bands", ("band_group",), headline=True, shown=False),
    TableSpec("by_sex_and_age_group", "Victims by sex and child/adult", ("sex", "age_group"), sensitive=True),
    TableSpec(
        "crim_thb_by_sex_and_age_group",
        "crim_thb: registered victims by sex and age group",
        ("eurostat_sex", "age_group"),
        sensitive=True,
        registered_only=True,
    ),
    TableSpec(
        "crim_thb_by_sex_and_citizenship",
        "crim_thb: registered victims by sex and citizenship group",
        ("eurostat_sex", "citizenship"),
        registered_only=True,
    ),
    TableSpec(
        "crim_thb_by_sex_and_form",
        "crim_thb: registered victims by sex and form of exploitation",
        ("eurostat_sex", "form"),
        registered_only=True,
    ),
)


@cache
def atoms(block: str) -> tuple[Atom, ...]:
    return tuple(product(*BLOCKS[block]))


@cache
def atom_index(block: str) -> dict[Atom, int]:
    return {atom: i for i, atom in enumerate(atoms(block))}


def person_atoms(row: Sequence[Any]) -> dict[str, Atom]:
    """The atoms of one counted person: row = sex, child, citizenship, entity, canton, status, forms_mask, quarter,
    age_band."""
    sex, child, citizenship, entity, canton, status, mask, quarter, band = row
    forms = eurostat_forms(mask)
    if entity == "FBIH":
        place = str(canton) if canton is not None else "FBIH"
    else:
        place = entity or "unknown"
    return {
        "main": (sex, "child" if child else "adult", status, forms, citizenship_group(citizenship)[0]),
        "place": (place,),
        "quarter": (str(quarter),),
        "age": (_band_group(band, child),),
    }


def _band_group(band: Any, child: bool) -> tuple[str, str]:
    group = "child" if child else "adult"
    # A fact whose band contradicts child/adult (refused at ingest; older data) counts as of unknown age.
    return (band, group) if (band, group) in BAND_GROUPS else ("unknown", group)


@dataclass(frozen=True)
class Cell:
    """A published cell: where it is shown and which atoms of its block it adds up."""

    table: str
    coords: tuple[str, ...]
    block: str
    members: frozenset[int]
    threshold: int
    headline: bool


def cells_of(spec: TableSpec, thresholds: tuple[int, int]) -> list[Cell]:
    """Every cell of a table, margins included (`total`), with its atoms."""
    threshold = thresholds[1] if spec.sensitive else thresholds[0]
    block = spec.block
    axes = [(*DIMS[d].categories, TOTAL) for d in spec.dims]
    members: dict[tuple[str, ...], set[int]] = {coords: set() for coords in product(*axes)}
    for index, atom in enumerate(atoms(block)):
        if spec.registered_only and atom[2] not in REGISTERED:
            continue
        options = [(*DIMS[d].of(atom), TOTAL) for d in spec.dims]
        for coords in product(*options):
            members[coords].add(index)
    return [
        Cell(spec.name, coords, block, frozenset(found), threshold, spec.headline) for coords, found in members.items()
    ]
