"""An intruder's linear programme over what the registry publishes: the interval each unknown cell can take.

The intruder models the year's counted persons as atoms (sex × child/adult × status × citizenship group ×
place), knows which atoms each published cell adds up, and solves, for a target cell, the smallest and
largest value it can take given every published figure (HiGHS through `highspy`, the solver of the
release audit). A perturbed explorer count p says only that the true count is one the ptable can turn
into p; an exact release figure is an equality; a release marker is the range it stands for.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from itertools import product
from typing import Any

from services.registry.ckm import PTable
from services.registry.eurostat import CITIZENSHIP_GROUPS
from services.registry.facts import SEXES, VICTIM_STATUSES
from services.registry.release_tables import PLACES

Atom = tuple[str, str, str, str, str]  # sex, child/adult, status, citizenship group, place
ATOMS: tuple[Atom, ...] = tuple(product(SEXES, ("child", "adult"), VICTIM_STATUSES, CITIZENSHIP_GROUPS, PLACES))
UNBOUNDED = math.inf


def _entity(place: str) -> str:
    return "FBIH" if place.isdigit() or place == "FBIH" else place


# What each breakdown value of the explorer or the release means for an atom.
VALUE_OF: dict[str, Callable[[Atom], Iterable[str]]] = {
    "sex": lambda a: (a[0],),
    "eurostat_sex": lambda a: (a[0] if a[0] in ("F", "M") else "UNK",),
    "child": lambda a: (a[1],),
    "age_group": lambda a: (a[1],),
    "status": lambda a: (a[2],),
    "citizenship": lambda a: (a[3],),
    "nationality": lambda a: ({"national": "national", "unknown": "unknown"}.get(a[3], "foreign"),),
    "entity": lambda a: (_entity(a[4]),),
    "canton": lambda a: (a[4] if a[4].isdigit() else "none",),
}


def members(cell: Mapping[str, Any], dims: Iterable[str], registered_only: bool = False) -> frozenset[int]:
    """The atoms a cell adds up (`total` on a margin matches every value)."""
    wanted = [(d, cell[d]) for d in dims]
    return frozenset(
        i
        for i, atom in enumerate(ATOMS)
        if (not registered_only or atom[2] in ("presumed", "identified"))
        and all(value == "total" or value in VALUE_OF[d](atom) for d, value in wanted)
    )


def possible_truths(ptable: PTable, published: int) -> tuple[int, int]:
    """The smallest and largest true count the ptable can publish as `published`."""
    deviation = ptable.parameters.max_deviation
    truths = [
        n
        for n in range(max(0, published - deviation), published + deviation + 1)
        if (n == 0 and published == 0) or (n > 0 and ptable.row(n).probabilities.get(published - n, 0.0) > 0)
    ]
    return min(truths), max(truths)


class Intruder:
    """The LP over the persons' atoms; with `screenings`, also over screening atoms (the same attributes, a
    victim status), each at least the persons of its atom: a person is counted under the status, place and
    attributes of one of their screenings, so a count of screenings bounds the persons from above."""

    def __init__(self, *, screenings: bool = False) -> None:
        self.rows: list[tuple[list[int], list[float], float, float]] = []
        self.width = len(ATOMS) * (2 if screenings else 1)
        self._highs: Any = None
        if screenings:
            for i in range(len(ATOMS)):
                self.rows.append(([len(ATOMS) + i, i], [1.0, -1.0], 0.0, UNBOUNDED))

    def know(self, atoms: frozenset[int], low: float, high: float) -> None:
        self.rows.append((sorted(atoms), [1.0] * len(atoms), low, high))
        self._highs = None

    def know_screenings(self, atoms: frozenset[int], low: float, high: float) -> None:
        """A published count of screenings whose status is a victim status, over these atoms."""
        assert self.width == 2 * len(ATOMS), "an intruder made without screenings"
        self.know(frozenset(len(ATOMS) + i for i in atoms), low, high)

    def _model(self) -> Any:
        import highspy
        import numpy as np

        highs = highspy.Highs()
        highs.setOptionValue("output_flag", False)
        highs.addVars(self.width, np.zeros(self.width), np.full(self.width, highspy.kHighsInf))
        starts, indices, values = [], [], []
        for columns, coefficients, _, _ in self.rows:
            starts.append(len(indices))
            indices.extend(columns)
            values.extend(coefficients)
        inf = highspy.kHighsInf
        highs.addRows(
            len(self.rows),
            np.array([low for _, _, low, _ in self.rows], dtype=float),
            np.array([high if math.isfinite(high) else inf for _, _, _, high in self.rows], dtype=float),
            len(indices),
            np.array(starts, dtype=np.int32),
            np.array(indices, dtype=np.int32),
            np.array(values, dtype=float),
        )
        return highs

    def interval(self, atoms: frozenset[int]) -> tuple[int, float]:
        """The target's smallest and largest value over the LP, rounded inwards to whole persons."""
        import highspy
        import numpy as np

        if self._highs is None:
            self._highs = self._model()
        highs = self._highs
        costs = np.zeros(self.width)
        costs[sorted(atoms)] = 1.0
        highs.changeColsCost(self.width, np.arange(self.width, dtype=np.int32), costs)
        ends = []
        for sense in (highspy.ObjSense.kMinimize, highspy.ObjSense.kMaximize):
            highs.changeObjectiveSense(sense)
            highs.run()
            status = highs.getModelStatus()
            if status == highspy.HighsModelStatus.kUnbounded:
                ends.append(UNBOUNDED)
                continue
            assert status == highspy.HighsModelStatus.kOptimal, highs.modelStatusToString(status)
            ends.append(highs.getInfo().objective_function_value)
        high = math.floor(ends[1] + 1e-6) if math.isfinite(ends[1]) else UNBOUNDED
        return math.ceil(ends[0] - 1e-6), high
