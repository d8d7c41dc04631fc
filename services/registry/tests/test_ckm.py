"""The ptable of the cell key method: bounded, no negatives, zeros kept, small counts never shown, unbiased."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.registry.ckm import KEY_RANGE, PTable, PTableParameters, ptable, record_key

PARAMETERS = [PTableParameters(), PTableParameters(3, 2.0, 5), PTableParameters(1, 0.5, 1), PTableParameters(2, 1.5, 2)]


@pytest.mark.parametrize("parameters", PARAMETERS, ids=str)
def test_every_row_respects_the_parameters(parameters: PTableParameters) -> None:
    table = PTable(parameters)
    d, js = parameters.max_deviation, parameters.smallest_count
    assert table.row(0).values == (0,) * KEY_RANGE  # a zero stays zero
    for n in range(1, 60):
        row = table.row(n)
        assert len(row.values) == KEY_RANGE
        for v in set(row.values):
            published = n + v
            assert abs(v) <= d and published >= 0
            assert published == 0 or published >= js  # 1..js-1 never published
        if n >= js + d:
            # Away from the blocked values the perturbation is unbiased with the target variance
            # (up to rounding the probabilities to 256ths).
            assert abs(row.mean) < 0.02
            assert abs(row.variance - parameters.variance) < 0.05


def test_counts_below_js_are_never_shown_as_themselves_and_stay_unbiased() -> None:
    table = PTable(PTableParameters(2, 1.0, 3))
    for n in (1, 2):
        assert n not in {n + v for v in table.row(n).values}
        assert abs(table.row(n).mean) < 0.02


def test_the_version_names_the_parameters_and_changes_with_them() -> None:
    versions = {PTable(p).version for p in PARAMETERS}
    assert len(versions) == len(PARAMETERS)
    assert PTable(PTableParameters()).version.startswith("ckm-maxent-1:D2:V1:js3:")
    assert ptable(PTableParameters()) is ptable(PTableParameters())


@pytest.mark.parametrize("bad", [{"max_deviation": 0}, {"variance": 0}, {"variance": 5.0}, {"smallest_count": 0}])
def test_parameters_outside_their_ranges_are_refused(bad) -> None:
    with pytest.raises(ValueError):
        PTableParameters(**bad)


@given(count=st.integers(0, 10_000), key_sum=st.integers(0, 10**9))
def test_perturbation_depends_only_on_the_count_and_the_cell_key(count: int, key_sum: int) -> None:
    table = ptable(PTableParameters())
    assert table.perturb(count, key_sum) == table.perturb(count, key_sum % KEY_RANGE)
    assert table.perturb(count, key_sum) >= 0


def test_record_keys_are_keyed_and_spread_over_the_range() -> None:
    keys = [record_key(b"k" * 32, "person-year", f"p{i}", 2025) for i in range(5000)]
    assert all(0 <= k < KEY_RANGE for k in keys)
    assert len(set(keys)) == KEY_RANGE
    assert record_key(b"k" * 32, "fact", "a") == record_key(b"k" * 32, "fact", "a")
    other = [record_key(b"o" * 32, "person-year", f"p{i}", 2025) for i in range(100)]
    assert other != keys[:100]  # another secret, other keys
