"""The registry's protected indicators: shares of perturbed counts (the same counts as the tables), a median
withheld below 10 units; the contract's new `hours_from_screening` travels through the feed and imports."""

from __future__ import annotations

import statistics

import pytest

from services.registry.tests.conftest import LAST_YEAR, referral_fact, screening_fact, send, send_all


async def indicator(client, headers, name: str, **params) -> dict:
    response = await client.get(
        f"/api/v1/stats/indicators/{name}", params={"year": LAST_YEAR, **params}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


def _total(answer: dict) -> int:
    return next(c["count"] for c in answer["cells"] if all(c[b] == "total" for b in answer["breakdowns"]))


async def test_accepted_within_deadline_is_the_deadline_tables_cell_over_its_total(client, coordinator) -> None:
    facts = (
        [referral_fact(urgent=True, hours_to_answer=1.0, status="accepted") for _ in range(9)]
        + [referral_fact(urgent=True, hours_to_answer=5.0, status="completed") for _ in range(4)]  # late
        + [referral_fact(urgent=False, hours_to_answer=30.0, status="in_progress") for _ in range(7)]
        + [referral_fact(urgent=False, hours_to_answer=3.0, status="rejected") for _ in range(6)]
        + [referral_fact(hours_to_answer=None, hours_to_placement=None, status="expired") for _ in range(5)]
    )
    await send_all(client, facts, "registry.referral_fact")
    table = (
        await client.get("/api/v1/stats/referrals", params={"year": LAST_YEAR, "by": "deadline"}, headers=coordinator)
    ).json()
    accepted = next(c["count"] for c in table["cells"] if c["deadline"] == "accepted_in_time")
    answer = await indicator(client, coordinator, "referrals_accepted_within_deadline")
    # The same perturbed counts as the table: asking the indicator teaches nothing the table does not.
    assert (answer["numerator"], answer["denominator"]) == (accepted, _total(table))
    assert answer["status"] == "ok" and answer["value"] == round(100 * accepted / _total(table), 1)
    assert abs(answer["value"] - 100 * 16 / 31) < 15  # 16 of 31 accepted in time, within the perturbation
    assert answer["perturbed"] is True and "accepted_in_time" in answer["definition"]


async def test_children_referred_to_csw_within_24h_over_children_screened_with_indicators(client, coordinator) -> None:
    children = [
        screening_fact(child=True, age_band="9-17", instrument="child", status="at_risk", forms=[]) for _ in range(20)
    ]
    children += [
        screening_fact(child=True, age_band="9-17", instrument="child", status="none", forms=[]) for _ in range(9)
    ]
    await send_all(client, children)
    referrals = [
        referral_fact(child=True, service_type="social_welfare", hours_from_screening=h)
        for h in [2.0] * 12 + [30.0] * 5
    ] + [referral_fact(child=True, service_type="safe_house", hours_from_screening=1.0) for _ in range(6)]
    await send_all(client, referrals, "registry.referral_fact")
    answer = await indicator(client, coordinator, "children_referred_to_csw_within_24h")
    assert answer["status"] == "ok"
    assert abs(answer["numerator"] - 12) <= 2 and abs(answer["denominator"] - 20) <= 2
    assert answer["value"] == round(100 * answer["numerator"] / answer["denominator"], 1)


async def test_a_share_of_too_few_is_withheld_never_zero(client, coordinator) -> None:
    await send_all(client, [screening_fact(child=True, age_band="0-8", instrument="child", status="at_risk")])
    answer = await indicator(client, coordinator, "children_referred_to_csw_within_24h")
    assert (answer["status"], answer["value"]) == ("suppressed", None)


async def test_the_median_hours_from_screening_to_placement_is_withheld_below_ten(client, coordinator) -> None:
    times = [(2.0, 10.0), (5.0, 20.0), (1.0, 3.0), (8.0, 40.0), (0.5, 6.0), (3.0, 12.0), (4.0, 30.0), (6.0, 9.0)]
    facts = [referral_fact(hours_from_screening=a, hours_to_placement=b) for a, b in times]
    facts.append(referral_fact(hours_from_screening=None, hours_to_placement=5.0))  # no screening: not counted
    facts.append(referral_fact(hours_from_screening=3.0, hours_to_placement=None))  # not placed: not counted
    await send_all(client, facts, "registry.referral_fact")
    withheld = await indicator(client, coordinator, "median_hours_screening_to_placement")
    assert (withheld["status"], withheld["value"]) == ("suppressed", None)

    more = [(7.0, 50.0), (2.5, 4.0)]
    await send_all(
        client,
        [referral_fact(hours_from_screening=a, hours_to_placement=b) for a, b in more],
        "registry.referral_fact",
    )
    answer = await indicator(client, coordinator, "median_hours_screening_to_placement")
    assert answer["status"] == "ok"
    assert answer["value"] == round(statistics.median(a + b for a, b in times + more))
    assert abs(answer["denominator"] - 10) <= 2


@pytest.mark.parametrize("order", ["without first", "with first"])
async def test_a_referral_fact_sent_again_with_its_screening_time_counts_whatever_order_it_arrives_in(
    client, coordinator, order: str
) -> None:
    """The referral service sends a referral's fact again, one version higher, once the screening's
    submission reaches it after the referral (docs/referral.md); the feed may deliver the two versions
    in either order: the higher one, with `hours_from_screening`, is what counts."""
    times = [(float(h), 10.0 + h) for h in range(1, 13)]
    without = [referral_fact(hours_from_screening=None, hours_to_placement=b) for _, b in times]
    with_time = [{**f, "version": 2, "hours_from_screening": a} for f, (a, _) in zip(without, times, strict=True)]
    first, second = (without, with_time) if order == "without first" else (with_time, without)
    await send_all(client, first, "registry.referral_fact")
    for fact in second:
        expected = {"status": "stored"} if fact["version"] == 2 else {"status": "superseded"}
        assert (await send(client, "registry.referral_fact", fact)).json() == expected
    answer = await indicator(client, coordinator, "median_hours_screening_to_placement")
    assert (answer["status"], answer["value"]) == ("ok", round(statistics.median(a + b for a, b in times)))


async def test_indicators_are_for_the_coordinator_and_refuse_free_filters(client, make_token) -> None:
    from putokaz.testing import auth

    police = auth(make_token("police", org="police-org"))
    response = await client.get(
        "/api/v1/stats/indicators/referrals_accepted_within_deadline", params={"year": LAST_YEAR}, headers=police
    )
    assert response.status_code == 403
    coordinator = auth(make_token("coordinator", org="state-coordinator"))
    response = await client.get(
        "/api/v1/stats/indicators/referrals_accepted_within_deadline",
        params={"year": LAST_YEAR, "month": 3},
        headers=coordinator,
    )
    assert response.status_code == 422 and "query.month" in response.text
    response = await client.get("/api/v1/stats/indicators/no_such", params={"year": LAST_YEAR}, headers=coordinator)
    assert response.status_code == 422


async def test_a_cached_count_never_outlives_a_write_of_its_year(client, registry_app) -> None:
    from services.registry.explorer import CACHE
    from services.registry.tests.conftest import exact_cells

    await send_all(client, [screening_fact(status="identified") for _ in range(3)])
    first = await exact_cells(registry_app, "victims", LAST_YEAR, ("status",))
    entries = len(CACHE.entries)
    assert await exact_cells(registry_app, "victims", LAST_YEAR, ("status",)) == first
    assert len(CACHE.entries) == entries  # answered from the cache
    count = lambda cells: next(c["count"] for c in cells if c["status"] == "identified")  # noqa: E731
    moved = screening_fact(status="identified")
    await send_all(client, [moved])
    assert count(await exact_cells(registry_app, "victims", LAST_YEAR, ("status",))) == count(first) + 1
    # A new version of that fact moves it to the year before: the answers of both years renew.
    await send_all(client, [{**moved, "version": 2, "year": LAST_YEAR - 1}])
    assert count(await exact_cells(registry_app, "victims", LAST_YEAR, ("status",))) == count(first)
    assert count(await exact_cells(registry_app, "victims", LAST_YEAR - 1, ("status",))) == 1
