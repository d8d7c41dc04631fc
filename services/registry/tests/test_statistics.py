"""The explorer: cell key perturbation on every answer (checked against ONS's implementation), periods,
series, CSV legends and labels, roles and bad input."""

from __future__ import annotations

import csv
import io
import random
import uuid
from typing import Any

import pandas as pd
import pytest
from cell_key_perturbation.create_perturbed_table import create_perturbed_table
from sqlalchemy import text

from services.registry.ckm import PTable, PTableParameters, record_key
from services.registry.facts import STATUS_RANK
from services.registry.tests.conftest import LAST_YEAR, screening_fact, send_all

PTABLE = PTable(PTableParameters())


def cell(answer: dict, **where: str) -> dict:
    return next(c for c in answer["cells"] if all(c[k] == v for k, v in where.items()))


async def stats(client, headers, table: str = "victims", **params):
    return await client.get(f"/api/v1/stats/{table}", params={"year": LAST_YEAR, **params}, headers=headers)


async def secret_of(registry_app) -> bytes:
    app, _ = registry_app
    async with app.state.db.engine.connect() as conn:
        return bytes(await conn.scalar(text("SELECT secret FROM stats_keys WHERE name = 'record_keys'")))


def mixed_facts(rng: random.Random, people: int) -> list[dict[str, Any]]:
    """People screened one to three times with varied statuses, in several months, cantons and forms."""
    facts = []
    for _ in range(people):
        key = uuid.uuid4().hex * 2
        sex = rng.choice(["F", "F", "M", "X"])
        child = rng.random() < 0.3
        for _ in range(rng.choice([1, 1, 2, 3])):
            entity = rng.choice(["FBIH", "RS", "BD"])
            facts.append(
                screening_fact(
                    subject_key=key,
                    sex=sex,
                    child=child,
                    age_band="9-17" if child else "24-26",
                    instrument="child" if child else "adult",
                    status=rng.choice(["at_risk", "potential", "presumed", "identified"]),
                    month=rng.randint(1, 12),
                    entity=entity,
                    canton=rng.randint(1, 10) if entity == "FBIH" else None,
                    citizenship=rng.choice(["BA", "BA", "AF", "PK"]),
                    forms=rng.sample(["sexual", "begging", "forced_labour"], rng.choice([1, 1, 2])),
                )
            )
    return facts


def persons_of_year(facts: list[dict[str, Any]], secret: bytes) -> pd.DataFrame:
    """Microdata as the ONS package expects: one row per person counted (highest status in the year,
    ties to the latest month then the smallest fact id), with the person's record key for the year."""
    best: dict[str, dict[str, Any]] = {}
    for fact in facts:
        person = fact["subject_key"]
        rank = (STATUS_RANK[fact["status"]], fact["month"], [-ord(ch) for ch in fact["fact_id"]])
        if person not in best or rank > best[person]["_rank"]:
            best[person] = {**fact, "_rank": rank}
    rows = [
        {
            "sex": f["sex"],
            "child": "child" if f["child"] else "adult",
            "entity": f["entity"],
            "status": f["status"],
            "all": "total",
            "rk": record_key(secret, "person-year", f["subject_key"], LAST_YEAR),
        }
        for f in best.values()
        if STATUS_RANK[f["status"]] >= STATUS_RANK["potential"]
    ]
    return pd.DataFrame(rows)


def ons(micro: pd.DataFrame, tab_vars: list[str]) -> dict[tuple[str, ...], int]:
    frame = pd.DataFrame(PTABLE.frame_rows(), columns=["pcv", "ckey", "pvalue"])
    table = create_perturbed_table(micro, frame, geog=[], tab_vars=tab_vars, record_key="rk", threshold=0)
    return {tuple(str(row[v]) for v in tab_vars): int(row["count"]) for _, row in table.iterrows()}


async def test_every_cell_equals_ons_cell_key_perturbation_of_the_same_microdata(
    client, coordinator, registry_app
) -> None:
    facts = mixed_facts(random.Random(13), 120)
    await send_all(client, facts)
    micro = persons_of_year(facts, await secret_of(registry_app))
    answer = (await stats(client, coordinator, by="sex,child")).json()
    assert answer["perturbed"] is True and answer["additive"] is False
    assert answer["ptable"]["version"] == PTABLE.version
    expected = ons(micro, ["sex", "child"])
    margins_sex = ons(micro, ["sex", "all"])
    margins_child = ons(micro, ["all", "child"])
    grand = ons(micro, ["all"])
    compared = 0
    for c in answer["cells"]:
        key = (c["sex"], c["child"])
        if "total" not in key:
            want = expected.get(key, 0)
        elif key == ("total", "total"):
            want = grand[("total",)]
        elif c["child"] == "total":
            want = margins_sex.get((c["sex"], "total"), 0)
        else:
            want = margins_child.get(("total", c["child"]), 0)
        assert c["count"] == want, (key, c["count"], want)
        compared += 1
    assert compared == 5 * 3  # F, M, X, UNK, total × child, adult, total
    status = (await stats(client, coordinator, by="status")).json()
    by_status = ons(micro, ["status"])
    for c in status["cells"]:
        if c["status"] != "total":
            assert c["count"] == by_status.get((c["status"],), 0)


async def test_perturbation_is_bounded_keeps_zeros_and_hides_counts_below_js(client, coordinator, registry_app) -> None:
    facts = mixed_facts(random.Random(7), 150)
    await send_all(client, facts)
    micro = persons_of_year(facts, await secret_of(registry_app))
    true = micro.groupby(["sex", "entity"]).size().to_dict()
    answer = (await stats(client, coordinator, by="sex,entity")).json()
    for c in answer["cells"]:
        if "total" in (c["sex"], c["entity"]):
            continue
        n = true.get((c["sex"], c["entity"]), 0)
        assert abs(c["count"] - n) <= PTABLE.parameters.max_deviation
        assert c["count"] >= 0
        assert c["count"] == 0 or c["count"] >= PTABLE.parameters.smallest_count
        if n == 0:
            assert c["count"] == 0


async def test_the_same_cell_is_published_the_same_in_every_table_and_format(client, coordinator) -> None:
    await send_all(client, mixed_facts(random.Random(3), 80))
    by_sex = (await stats(client, coordinator, by="sex")).json()
    by_sex_child = (await stats(client, coordinator, by="sex,child")).json()
    by_child_sex = (await stats(client, coordinator, by="child,sex")).json()
    total = (await stats(client, coordinator)).json()
    for sex in ("F", "M", "X"):
        shown = cell(by_sex, sex=sex)["count"]
        assert cell(by_sex_child, sex=sex, child="total")["count"] == shown
        assert cell(by_child_sex, sex=sex, child="total")["count"] == shown
    assert cell(by_sex, sex="total")["count"] == total["cells"][0]["count"]
    as_csv = await stats(client, coordinator, by="sex", format="csv")
    rows = list(csv.DictReader(line for line in io.StringIO(as_csv.text) if not line.startswith("#")))
    assert {r["sex"]: int(r["count"]) for r in rows} == {c["sex"]: c["count"] for c in by_sex["cells"]}


async def test_a_person_screened_three_times_is_one_unit_under_their_highest_status(client, coordinator) -> None:
    facts = []
    for _ in range(40):
        key = uuid.uuid4().hex * 2
        for status in ("potential", "presumed", "potential"):
            facts.append(screening_fact(subject_key=key, status=status))
    await send_all(client, facts)
    victims = (await stats(client, coordinator, by="status")).json()
    assert abs(cell(victims, status="total")["count"] - 40) <= 2
    assert abs(cell(victims, status="presumed")["count"] - 40) <= 2
    assert cell(victims, status="potential")["count"] == 0  # a zero stays zero
    screenings = (await stats(client, coordinator, "screenings")).json()
    assert abs(screenings["cells"][0]["count"] - 120) <= 2


async def test_the_victims_total_is_always_shown_even_for_one_person(client, coordinator) -> None:
    await send_all(client, [screening_fact(status="identified")])
    answer = (await stats(client, coordinator)).json()
    (total,) = answer["cells"]
    # 1 is never published as itself: it shows as 0 or js (3), but always as a number.
    assert isinstance(total["count"], int) and total["count"] in (0, 3)
    assert answer["unit"] == "persons"
    assert any("perturbed" in note for note in answer["notes"])


async def test_form_tables_count_persons_once_in_totals(client, coordinator) -> None:
    facts = [screening_fact(forms=["sexual", "begging"], citizenship="AF") for _ in range(30)]
    facts += [screening_fact(forms=["forced_labour"], citizenship="BA") for _ in range(30)]
    await send_all(client, facts)
    answer = (await stats(client, coordinator, by="form,nationality")).json()
    assert abs(cell(answer, form="begging", nationality="foreign")["count"] - 30) <= 2
    assert abs(cell(answer, form="total", nationality="total")["count"] - 60) <= 2  # persons, not 90 mentions
    assert any("several forms" in note for note in answer["notes"])


async def test_series_gives_the_same_tables_as_single_periods_in_one_answer(client, coordinator) -> None:
    facts = mixed_facts(random.Random(5), 60)
    facts += [screening_fact(year=LAST_YEAR - 1, month=m) for m in (1, 4, 7, 10) for _ in range(5)]
    await send_all(client, facts)
    response = await client.get(
        "/api/v1/stats/victims/series",
        params={"from": LAST_YEAR - 1, "to": LAST_YEAR, "step": "quarter", "by": "sex"},
        headers=coordinator,
    )
    assert response.status_code == 200, response.text
    series = response.json()
    assert [p["period"]["label"] for p in series["periods"]][:2] == [f"{LAST_YEAR - 1}-Q1", f"{LAST_YEAR - 1}-Q2"]
    assert series["step"] == "quarter" and series["perturbed"] is True
    for entry in series["periods"][:8]:
        single = await stats(
            client,
            coordinator,
            year=entry["period"]["year"],
            period="quarter",
            quarter=entry["period"]["quarter"],
            by="sex",
        )
        assert single.json()["cells"] == entry["cells"]
    yearly = await client.get(
        "/api/v1/stats/victims/series", params={"from": LAST_YEAR - 1, "to": LAST_YEAR}, headers=coordinator
    )
    assert [p["period"]["label"] for p in yearly.json()["periods"]] == [str(LAST_YEAR - 1), str(LAST_YEAR)]


@pytest.mark.parametrize(
    ("lang", "canton_label", "total_label"),
    [
        ("bs", "Unsko-sanski kanton", "ukupno"),
        ("hr", "Unsko-sanska županija", "ukupno"),
        ("sr-Latn", "Unsko-sanski kanton", "ukupno"),
        ("sr-Cyrl", "Унско-сански кантон", "укупно"),
        ("en", "Una-Sana Canton", "total"),
    ],
)
async def test_csv_has_codes_beside_labels_and_a_legend_in_the_file(
    client, coordinator, lang, canton_label, total_label
) -> None:
    await send_all(client, [screening_fact(canton=1) for _ in range(12)])
    response = await stats(client, coordinator, by="canton", format="csv", lang=lang)
    assert response.headers["content-type"].startswith("text/csv")
    legend = [line for line in response.text.splitlines() if line.startswith("#")]
    assert legend and "±2" in legend[0] and "ckm-" in legend[0]
    rows = list(csv.DictReader(line for line in io.StringIO(response.text) if not line.startswith("#")))
    assert rows[0].keys() == {"table", "period", "canton", "canton_label", "count", "percent"}
    first = next(r for r in rows if r["canton"] == "1")
    assert first["canton_label"] == canton_label
    assert next(r for r in rows if r["canton"] == "total")["canton_label"] == total_label
    series = await client.get(
        "/api/v1/stats/victims/series",
        params={"from": LAST_YEAR, "to": LAST_YEAR, "by": "canton", "format": "csv", "lang": lang},
        headers=coordinator,
    )
    assert canton_label in series.text and series.text.startswith("#")


async def test_eurostat_report_is_perturbed_and_counts_registered_victims_only(client, coordinator) -> None:
    facts = [screening_fact(status="identified", age_band="9-17", child=True, sex="F") for _ in range(30)]
    facts += [screening_fact(status="presumed", citizenship="DE", sex="M", forms=["forced_labour"]) for _ in range(20)]
    facts += [screening_fact(status="potential") for _ in range(25)]
    await send_all(client, facts)
    response = await client.get("/api/v1/reports/eurostat", params={"year": LAST_YEAR}, headers=coordinator)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["perturbed"] is True
    by_age = report["tables"]["by_sex_and_age_group"]
    assert abs(cell(by_age, sex="F", age_group="child")["count"] - 30) <= 2
    assert abs(cell(by_age, sex="total", age_group="total")["count"] - 50) <= 2  # potential victims excluded
    by_citizenship = report["tables"]["by_sex_and_citizenship"]
    assert abs(cell(by_citizenship, sex="M", citizenship="eu")["count"] - 20) <= 2
    by_form = report["tables"]["by_sex_and_form"]
    assert abs(cell(by_form, sex="M", form="labour_exploitation")["count"] - 20) <= 2
    as_csv = await client.get(
        "/api/v1/reports/eurostat", params={"year": LAST_YEAR, "format": "csv", "lang": "bs"}, headers=coordinator
    )
    lines = [line for line in as_csv.text.splitlines() if not line.startswith("#")]
    assert lines[0] == "year,table,sex,sex_label,category,category_label,count"
    assert any("druge države EU" in line for line in lines)


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
        ({"lang": "de"}, "query.lang"),
    ],
)
async def test_bad_parameters_are_422_naming_the_parameter(client, coordinator, params, field) -> None:
    response = await stats(client, coordinator, **params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in response.json()["errors"]]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": LAST_YEAR, "to": LAST_YEAR - 3}, "query.to"),
        ({"from": 1999, "to": LAST_YEAR}, "query.from"),
        ({"from": LAST_YEAR, "to": LAST_YEAR + 5}, "query.to"),
        ({"from": LAST_YEAR, "to": LAST_YEAR, "step": "month"}, "query.step"),
        ({"from": LAST_YEAR, "to": LAST_YEAR, "year": LAST_YEAR}, "query.year"),
        ({"to": LAST_YEAR}, "query.from"),
    ],
)
async def test_bad_series_parameters_are_422_naming_the_parameter(client, coordinator, params, field) -> None:
    response = await client.get("/api/v1/stats/victims/series", params=params, headers=coordinator)
    assert response.status_code == 422, response.text
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
    series = {"from": LAST_YEAR, "to": LAST_YEAR}
    assert (await client.get("/api/v1/stats/victims/series", params=series, headers=headers)).status_code == 403
    assert (
        await client.get("/api/v1/reports/eurostat", params={"year": LAST_YEAR}, headers=headers)
    ).status_code == 403


async def test_admin_reads_statistics_and_anonymous_is_401(client, admin) -> None:
    assert (await stats(client, admin)).status_code == 200
    assert (await client.get("/api/v1/stats/victims", params={"year": LAST_YEAR})).status_code == 401


def test_future_and_open_periods_are_refused() -> None:
    from datetime import UTC, datetime

    from putokaz.errors import Invalid
    from services.registry.statistics import check_period, series_periods

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
    assert [p.label for p in series_periods(2024, 2025, "quarter", closed_only=True, now=may)][-1] == "2025-Q1"
    assert [p.label for p in series_periods(2024, 2025, "year", closed_only=True, now=may)] == ["2024"]
