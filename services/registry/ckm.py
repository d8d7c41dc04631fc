"""The cell key method: record keys, cell keys and the perturbation table (ptable). Pure, no I/O.

Every counted unit carries a record key, an integer 0..255 (the key r stands for r/256, uniform in
[0, 1)); a cell's key is the sum of its units' record keys modulo 256 (the fractional part of the sum).
The ptable gives, for a true count n and a cell key k, the perturbation added to n. The same cell
(same units) therefore gets the same perturbation in every answer, format and request, whichever
table it appears in.

The ptable follows the construction of Giessing (2016) and the `ptable` method used by Destatis and
the ABS: for each count n, a distribution of the perturbation v over -D..D that

- never makes a count negative and keeps zeros at zero;
- never publishes 1..js-1: a published count is 0 or at least js (small counts are not shown as
  themselves);
- is unbiased (E[v] = 0) wherever the allowed values permit it, with variance V (clamped to what the
  allowed values permit);
- among those, has maximum entropy (the least information about n given the published count).

The probabilities are rounded to 256ths and laid out over the cell keys in order of v (ONS layout:
the same table as a `pcv, ckey, pvalue` frame drives `cell-key-perturbation`). Counts of js + D and
above share one row: their allowed values no longer depend on n.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

KEY_RANGE = 256
ALGORITHM = "ckm-maxent-1"


def record_key(secret: bytes, *parts: object) -> int:
    """A unit's record key: a keyed hash (HMAC-SHA256) of what identifies it, 0..255."""
    message = "|".join(str(p) for p in parts).encode()
    return hmac.new(secret, message, hashlib.sha256).digest()[0]


@dataclass(frozen=True)
class PTableParameters:
    """D: largest deviation; V: target variance; js: the smallest non-zero count published."""

    max_deviation: int = 2
    variance: float = 1.0
    smallest_count: int = 3

    def __post_init__(self) -> None:
        if not 1 <= self.max_deviation <= 10:
            raise ValueError("the ptable's maximum deviation D must be 1..10")
        if not 0 < self.variance <= self.max_deviation**2:
            raise ValueError("the ptable's variance V must be above 0 and at most D²")
        if not 1 <= self.smallest_count <= 20:
            raise ValueError("the ptable's smallest published count js must be 1..20")


@dataclass(frozen=True)
class PTableRow:
    """The perturbation of count n for each cell key, and what the rounded distribution achieves."""

    count: int
    values: tuple[int, ...]  # perturbation for cell keys 0..255
    probabilities: dict[int, float]  # perturbation -> probability (multiples of 1/256)
    mean: float
    variance: float


class PTable:
    def __init__(self, parameters: PTableParameters) -> None:
        self.parameters = parameters
        self.rows = [_row(n, parameters) for n in range(self.last + 1)]

    @property
    def last(self) -> int:
        """Counts from this one up share its row."""
        return self.parameters.smallest_count + self.parameters.max_deviation

    @cached_property
    def version(self) -> str:
        digest = hashlib.sha256(repr([r.values for r in self.rows]).encode()).hexdigest()[:12]
        p = self.parameters
        return f"{ALGORITHM}:D{p.max_deviation}:V{p.variance:g}:js{p.smallest_count}:{digest}"

    def row(self, count: int) -> PTableRow:
        return self.rows[min(count, self.last)]

    def perturbation(self, count: int, cell_key: int) -> int:
        if count <= 0:
            return 0
        return self.row(count).values[cell_key % KEY_RANGE]

    def perturb(self, count: int, key_sum: int) -> int:
        """The published count of a cell with `count` units whose record keys sum to `key_sum`."""
        return count + self.perturbation(count, key_sum % KEY_RANGE)

    def frame_rows(self, max_count: int = 750) -> list[tuple[int, int, int]]:
        """(pcv, ckey, pvalue) rows for counts 1..max_count: the ONS package's ptable layout."""
        return [(n, k, self.perturbation(n, k)) for n in range(1, max_count + 1) for k in range(KEY_RANGE)]

    def describe(self) -> dict[str, object]:
        """What an answer states about its perturbation (the ptable's version and parameters)."""
        p = self.parameters
        return {
            "method": "cell_key",
            "version": self.version,
            "max_deviation": p.max_deviation,
            "variance": p.variance,
            "smallest_count": p.smallest_count,
        }


@lru_cache(maxsize=8)
def ptable(parameters: PTableParameters) -> PTable:
    return PTable(parameters)


def allowed_targets(count: int, p: PTableParameters) -> list[int]:
    low = max(0, count - p.max_deviation)
    return [t for t in range(low, count + p.max_deviation + 1) if t == 0 or t >= p.smallest_count]


def _row(count: int, p: PTableParameters) -> PTableRow:
    import numpy as np  # only when a ptable is built (once per process): keeps start-up light

    if count == 0:
        return PTableRow(0, (0,) * KEY_RANGE, {0: 1.0}, 0.0, 0.0)
    targets = allowed_targets(count, p)
    moves = np.array([t - count for t in targets], dtype=float)
    probabilities = _distribution(moves, p.variance)
    steps = _to_key_counts(probabilities)
    values: list[int] = []
    for move, n_keys in zip(moves, steps, strict=True):
        values.extend([int(move)] * n_keys)
    rounded = {int(m): s / KEY_RANGE for m, s in zip(moves, steps, strict=True) if s}
    mean = sum(m * q for m, q in rounded.items())
    variance = sum((m - mean) ** 2 * q for m, q in rounded.items())
    return PTableRow(count, tuple(values), rounded, mean, variance)


def _distribution(moves: np.ndarray, variance: float) -> np.ndarray:
    """Maximum-entropy distribution over `moves` with mean 0 (or as near as the support allows) and the
    target variance clamped to the feasible range: p(m) ∝ exp(a·m + b·m²), (a, b) by Newton's method on
    the convex dual."""
    import numpy as np

    if len(moves) == 1:
        return np.array([1.0])
    if moves.min() > 0 or moves.max() < 0:
        # Unbiasedness impossible (every allowed value lies on one side): the nearest value, always.
        nearest = np.zeros(len(moves))
        nearest[np.argmin(np.abs(moves))] = 1.0
        return nearest
    low, high, extremes = _variance_range(moves)
    if high - low < 1e-9:
        return extremes
    target = min(max(variance, low + 1e-4), high - 1e-4)
    features = np.vstack([moves, moves**2 - target])
    x = np.zeros(2)
    for _ in range(200):
        z = x @ features
        weights = np.exp(z - z.max())
        p = weights / weights.sum()
        gradient = features @ p
        if np.abs(gradient).max() < 1e-12:
            break
        centred = features - gradient[:, None]
        hessian = (centred * p) @ centred.T + 1e-12 * np.eye(2)
        step = np.linalg.solve(hessian, gradient)
        # Backtracking keeps the dual decreasing (it is convex, so this converges).
        dual = math.log(np.exp(z - z.max()).sum()) + z.max()
        t = 1.0
        while t > 1e-8:
            trial = x - t * step
            zt = trial @ features
            if math.log(np.exp(zt - zt.max()).sum()) + zt.max() <= dual - 1e-4 * t * float(gradient @ step):
                break
            t /= 2
        x = x - t * step
    z = x @ features
    weights = np.exp(z - z.max())
    return weights / weights.sum()


def _variance_range(moves: np.ndarray) -> tuple[float, float, np.ndarray]:
    """The smallest and largest variance of a distribution over `moves` with mean 0, and a distribution
    of the smallest. Both are reached on two values a < 0 < b (or on 0 alone), with variance −a·b."""
    import numpy as np

    pairs = [(a, b) for a in moves if a < 0 for b in moves if b > 0]
    if 0 in moves:
        smallest = np.where(moves == 0, 1.0, 0.0)
        low = 0.0
    else:
        a, b = min(pairs, key=lambda pair: -pair[0] * pair[1])
        smallest = np.where(moves == a, b / (b - a), 0.0) + np.where(moves == b, -a / (b - a), 0.0)
        low = float(-a * b)
    high = max((float(-a * b) for a, b in pairs), default=0.0)
    return low, high, smallest


def _to_key_counts(probabilities: np.ndarray) -> list[int]:
    """Probabilities as whole numbers of cell keys summing to 256 (largest remainder)."""
    import numpy as np

    exact = probabilities * KEY_RANGE
    counts = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - counts))[: KEY_RANGE - int(counts.sum())]:
        counts[i] += 1
    return [int(c) for c in counts]
