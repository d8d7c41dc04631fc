"""The arithmetic of computed indicators over the registry's published cells: withheld cells never become zero."""

from __future__ import annotations

import pytest

from services.strategy.computed import DEFINITIONS, Suppressed, Unavailable


def _referrals(**counts: int | str) -> list[dict]:
    cells = []
    for urgent in ("urgent", "routine", "total"):
        for band in ("<2h", "2-24h", "24-48h", ">48h", "none", "total"):
            cells.append({"urgent": urgent, "answer_time": band, "count": counts.get(f"{urgent} {band}", 0)})
    return cells


def test_answered_within_deadline_counts_urgent_under_2h_and_routine_under_48h():
    cells = _referrals(
        **{"urgent <2h": 8, "urgent 2-24h": 6, "routine 24-48h": 9, "routine >48h": 3, "total total": 26}
    )
    assert DEFINITIONS["referrals_answered_within_deadline"].compute([cells]) == round(100 * 17 / 26, 1)


def test_a_withheld_cell_makes_the_value_withheld_not_zero():
    cells = _referrals(**{"urgent <2h": "<5", "routine <2h": 9, "total total": 20})
    with pytest.raises(Suppressed):
        DEFINITIONS["referrals_answered_within_deadline"].compute([cells])
    victims = [{"status": s, "count": "x" if s == "identified" else 7} for s in ("potential", "presumed", "identified")]
    with pytest.raises(Suppressed):
        DEFINITIONS["identified_victims"].compute([victims])


def test_identified_and_registered_victims_and_placements():
    victims = [
        {"status": "potential", "count": 40},
        {"status": "presumed", "count": 12},
        {"status": "identified", "count": 9},
    ]
    assert DEFINITIONS["identified_victims"].compute([victims]) == 9
    assert DEFINITIONS["registered_victims"].compute([victims]) == 21
    placements = [{"placement_time": b, "count": n} for b, n in (("<24h", 6), ("1-7d", 3), (">7d", 1), ("none", 30))]
    assert DEFINITIONS["placements_within_24h"].compute([placements]) == 60.0
    with pytest.raises(Unavailable):
        DEFINITIONS["placements_within_24h"].compute(
            [[{"placement_time": b, "count": 0} for b in ("<24h", "1-7d", ">7d")]]
        )


def test_indicators_no_table_answers_are_read_whole_from_the_registrys_protected_indicators():
    for code in (
        "children_referred_to_csw_within_24h",
        "median_hours_screening_to_placement",
        "referrals_accepted_within_deadline",
    ):
        assert DEFINITIONS[code].indicator == code and DEFINITIONS[code].missing is None
    assert all(d.compute is not None or d.indicator is not None for d in DEFINITIONS.values())


def test_docs_define_every_computed_indicator_and_state_the_progress_rule():
    from putokaz.settings import PROJECT_ROOT
    from services.strategy.progress import AT_RISK_MARGIN

    page = (PROJECT_ROOT / "docs" / "strategy.md").read_text()
    for code in DEFINITIONS:
        assert f"| `{code}` |" in page, code
    assert f"more than {AT_RISK_MARGIN * 100:.0f} points" in page
