"""The arithmetic of computed indicators over the registry's published cells: withheld cells never become zero."""

from __future__ import annotations

import asyncio

import pytest

from putokaz.testing import settings_kwargs
from services.strategy.computed import DEFINITIONS, Query, RegistryClient, Suppressed, Unavailable
from services.strategy.settings import Settings


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


async def test_a_registry_answer_that_is_no_json_object_is_unavailable_for_indicators_and_tables(
    jwt_secret, tmp_path
) -> None:
    """A real socket answering 200 with a JSON list, then with no JSON at all: a 503 reason, never a 500."""
    bodies = [b"[1, 2]", b"not json", b"[1, 2]", b"not json"]

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        body = bodies.pop(0)
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        writer.write(head.encode() + b"Connection: close\r\n\r\n" + body)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    settings = Settings(
        **settings_kwargs(jwt_secret, f"sqlite:///{tmp_path}/s.db"), registry_url=f"http://127.0.0.1:{port}"
    )
    registry = RegistryClient(settings)
    try:
        for _ in range(2):
            with pytest.raises(Unavailable, match="not a JSON object"):
                await registry.indicator(2025, "placements_within_24h")
        for _ in range(2):
            with pytest.raises(Unavailable, match="not a JSON object"):
                await registry.tables(2025, [Query("victims", ("status",))])
    finally:
        server.close()
        await server.wait_closed()
    assert bodies == []
