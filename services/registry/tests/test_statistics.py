"""Statistics API: counting rules, breakdowns, suppression in answers, CSV, periods, roles and bad input."""

from __future__ import annotations

import csv
import io

import pytest

from services.registry.tests.conftest import LAST_YEAR, screening_fact, send_all


def cell(answer: dict, **where: str) -> dict:
    return next(c for c in answer["cells"] if all(c[k] == v for k, v in where.items()))


async def stats(client, headers, table: str = "victims", **params):
    return await client.get(f"/api/v1/stats/{table}", params={"year": LAST_YEAR, **params}, headers=headers)


async def test_person_screened_three_times_is_counted_once(client, coordinator) -> None:
    facts = []
    for _ in range(10):
        key = __import__("uuid").uuid4().hex * 2
        for status in ("potential", "presumed", "potential"):
            facts.append(screening_fact(subject_key=key, status=status))
    await send_all(client, facts)
    victims = (await stats(client, coordinator, by="status")).json()
    assert cell(victims, status="total")["count"] == 10
    # Counted under the highest status reached in the period.
    assert cell(victims, status="presumed")["count"] == 10
    screenings = (await stats(client, coordinator, "screenings")).json()
    assert screenings["cells"][0]["count"] == 30


async def test_people_are_counted_once_per_quarter_not_across_quarters(client, coordinator) -> None:
    keys = [__import__("uuid").uuid4().hex * 2 for _ in range(10)]
    await send_all(client, [screening_fact(subject_key=k, month=m) for k in keys for m in (2, 5)])
    q1 = (await stats(client, coordinator, period="quarter", quarter=1)).json()
    year = (await stats(client, coordinator)).json()
    assert q1["cells"][0]["count"] == 10 and q1["period"]["label"] == f"{LAST_YEAR}-Q1"
    assert year["cells"][0]["count"] == 10


async def test_small_cells_are_suppressed_with_their_complement_and_reasons(client, coordinator) -> None:
    await send_all(client, [screening_fact(sex="F") for _ in range(20)] + [screening_fact(sex="M") for _ in range(2)])
    answer = (await stats(client, coordinator, by="sex")).json()
    assert answer["threshold"] == 5
    assert cell(answer, sex="M")["count"] == "<5"
    assert cell(answer, sex="M")["percent"] is None
    # With F and the total published, M = total - F: one of them must go too.
    assert "x" in (cell(answer, sex="F")["count"], cell(answer, sex="total")["count"])
    rules = {(tuple(s["cell"].values()), s["rule"]) for s in answer["suppressions"]}
    assert (("M",), "primary") in rules
    assert any(rule in ("secondary", "consistent_margin") for _, rule in rules)
    assert all(s["reason"] for s in answer["suppressions"])


async def test_child_and_canton_tables_use_the_higher_threshold(client, coordinator) -> None:
    await send_all(client, [screening_fact() for _ in range(7)])
    by_canton = (await stats(client, coordinator, by="canton")).json()
    assert by_canton["threshold"] == 10
    assert cell(by_canton, canton="9")["count"] == "<10"
    by_sex = (await stats(client, coordinator, by="sex")).json()
    # 7 is publishable at the standard threshold of 5, but sex × child (threshold 10) hides the F total:
    # the same figure is hidden here too, or the two answers together would undo that table's protection.
    assert by_sex["threshold"] == 5
    assert cell(by_sex, sex="F")["count"] == "x" and cell(by_sex, sex="F")["suppressed"] == "consistent_margin"
    assert any("consistent_margin" in note for note in by_sex["notes"])


async def test_two_breakdowns_and_forms_counted_per_mention(client, coordinator) -> None:
    facts = [screening_fact(forms=["sexual", "begging"], citizenship="AF") for _ in range(10)]
    facts += [screening_fact(forms=["forced_labour"], citizenship="BA") for _ in range(10)]
    await send_all(client, facts)
    answer = (await stats(client, coordinator, by=["form", "nationality"])).json()
    assert cell(answer, form="begging", nationality="foreign")["count"] == 10
    assert cell(answer, form="forced_labour", nationality="national")["count"] == 10
    assert cell(answer, form="total", nationality="total")["count"] == 30
    assert any("mentions" in note for note in answer["notes"])


async def test_csv_answer_by_parameter_and_by_accept_header(client, coordinator) -> None:
    await send_all(client, [screening_fact() for _ in range(11)])
    for response in (
        await stats(client, coordinator, by="sex", format="csv"),
        await client.get(
            "/api/v1/stats/victims",
            params={"year": LAST_YEAR, "by": "sex"},
            headers={**coordinator, "Accept": "text/csv"},
        ),
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert rows[0].keys() == {"table", "period", "sex", "count", "percent", "suppressed"}
        assert next(r for r in rows if r["sex"] == "F")["count"] == "11"


async def test_eurostat_report_counts_registered_victims_only(client, coordinator) -> None:
    facts = [screening_fact(status="identified", age_band="9-17", child=True, sex="F") for _ in range(12)]
    facts += [screening_fact(status="presumed", citizenship="AF", sex="M", forms=["forced_labour"]) for _ in range(6)]
    facts += [screening_fact(status="potential") for _ in range(20)]
    await send_all(client, facts)
    response = await client.get("/api/v1/reports/eurostat", params={"year": LAST_YEAR}, headers=coordinator)
    assert response.status_code == 200, response.text
    report = response.json()
    by_age = report["tables"]["by_sex_and_age_group"]
    assert by_age["threshold"] == 10
    assert cell(by_age, sex="F", age_group="child")["count"] == 12
    # The grand total (18) minus the published F total (12) would reveal the 6 men: it is hidden.
    assert cell(by_age, sex="F", age_group="total")["count"] == 12
    assert cell(by_age, sex="total", age_group="total")["count"] == "x"
    # 6 adult men is below the child-table threshold of 10: hidden in that table and, linked, in the others.
    assert cell(by_age, sex="M", age_group="adult")["count"] == "<10"
    by_citizenship = report["tables"]["by_sex_and_citizenship"]
    assert cell(by_citizenship, sex="M", citizenship="total")["count"] in ("x", "<5")
    by_form = report["tables"]["by_sex_and_form"]
    assert cell(by_form, sex="F", form="sexual_exploitation")["count"] == 12
    as_csv = await client.get(
        "/api/v1/reports/eurostat", params={"year": LAST_YEAR, "format": "csv"}, headers=coordinator
    )
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.text.splitlines()[0] == "year,table,sex,category,count,suppressed"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"by": "religion"}, "query.by"),
        ({"by": "sex,age_band,citizenship"}, "query.by"),
        ({"by": ["sex", "sex"]}, "query.by"),
        ({"by": "service_type"}, "query.by"),
        ({"year": LAST_YEAR + 2}, "query.year"),
        ({"year": LAST_YEAR + 2, "period": "quarter", "quarter": 1}, "query.year"),
        ({"period": "quarter"}, "query.quarter"),
        ({"quarter": 2}, "query.quarter"),
        ({"period": "month"}, "query.period"),
        ({"from": "2024-01-01", "to": "2024-02-01"}, "query.from"),
        ({"year": "last"}, "query.year"),
        ({"year": 1999}, "query.year"),
    ],
)
async def test_bad_parameters_are_422_naming_the_parameter(client, coordinator, params, field) -> None:
    response = await stats(client, coordinator, **params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in response.json()["errors"]]


async def test_missing_year_and_unknown_table_are_422(client, coordinator) -> None:
    assert (await client.get("/api/v1/stats/victims", headers=coordinator)).status_code == 422
    assert (await stats(client, coordinator, "people")).status_code == 422
    assert (
        await client.get("/api/v1/reports/unodc", params={"year": LAST_YEAR}, headers=coordinator)
    ).status_code == 422


@pytest.mark.parametrize("role", ["police", "social_worker", "service_provider", "partner"])
async def test_only_coordinator_and_admin_read_statistics(client, make_token, role) -> None:
    from putokaz.testing import auth

    headers = auth(make_token(role))
    assert (await stats(client, headers)).status_code == 403
    assert (
        await client.get("/api/v1/reports/eurostat", params={"year": LAST_YEAR}, headers=headers)
    ).status_code == 403


async def test_admin_reads_statistics_and_anonymous_is_401(client, admin) -> None:
    assert (await stats(client, admin)).status_code == 200
    assert (await client.get("/api/v1/stats/victims", params={"year": LAST_YEAR})).status_code == 401


def test_future_and_open_periods_are_refused() -> None:
    from datetime import UTC, datetime

    from putokaz.errors import Invalid
    from services.registry.statistics import check_period

    may = datetime(2025, 5, 10, tzinfo=UTC)
    assert check_period("quarter", 2025, 2, closed_only=False, now=may).label == "2025-Q2"
    assert check_period("quarter", 2025, 1, closed_only=True, now=may).label == "2025-Q1"
    for kind, year, quarter, closed_only in [
        ("quarter", 2025, 3, False),
        ("year", 2026, None, False),
        ("quarter", 2025, 2, True),
        ("year", 2025, None, True),
    ]:
        with pytest.raises(Invalid):
            check_period(kind, year, quarter, closed_only=closed_only, now=may)
