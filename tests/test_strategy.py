"""The strategy monitor through the gateway: computed indicators equal the registry's own protected figures,
a reporter reports, the coordinator accepts, the progress changes."""

from __future__ import annotations

import uuid

import httpx

from tests.journeys import bearer, ok

YEAR = 2024  # inside the demo plan (2024-2027) and closed
NGO, CSW = "demo-partner-ngo", "demo-csw-sarajevo"


def _screening_rows(count: int, status: str) -> list[str]:
    return [
        f"{uuid.uuid4()},1,{uuid.uuid4().hex * 2},{YEAR},{1 + i % 12},24-26,F,BA,FBIH,9,{status},sexual,adult,"
        "false,false"
        for i in range(count)
    ]


def _referral_rows(urgent: bool, hours: float, count: int) -> list[str]:
    return [
        f"{uuid.uuid4()},1,{YEAR},{1 + i % 12},safe_house,accepted,{hours},{hours + 10},RS,,false,{str(urgent).lower()}"
        for i in range(count)
    ]


def _import(client: httpx.Client, admin: str, kind: str, header: str, rows: list[str]) -> None:
    body = "\n".join([header, *rows]) + "\n"
    response = client.post(
        f"/api/v1/imports?kind={kind}", content=body.encode(), headers={**bearer(admin), "content-type": "text/csv"}
    )
    assert response.status_code == 201, response.text


def _demo_plan(client: httpx.Client, coordinator: str) -> dict:
    plans = ok(client.get("/api/v1/plans", headers=bearer(coordinator)))["items"]
    demo = next(p for p in plans if p["code"] == "DEMO-AP-2024-2027")
    return ok(client.get(f"/api/v1/plans/{demo['id']}", headers=bearer(coordinator)))


def _indicator(plan: dict, code: str) -> dict:
    return next(i for g in plan["goals"] for m in g["measures"] for i in m["indicators"] if i["code"] == code)


def test_computed_indicators_equal_the_registrys_protected_tables(stack, make_token):
    admin, coordinator = make_token("admin", org="demo-admin"), make_token("coordinator", org="demo-state-coordinator")
    with httpx.Client(base_url=stack.url, timeout=60) as client:
        _import(
            client,
            admin,
            "screening",
            "fact_id,version,subject_key,year,month,age_band,sex,citizenship,entity,canton,status,forms,instrument,child,anonymous",
            _screening_rows(14, "identified") + _screening_rows(9, "presumed"),
        )
        _import(
            client,
            admin,
            "referral",
            "fact_id,version,year,month,service_type,status,hours_to_answer,hours_to_placement,entity,canton,child,urgent",
            _referral_rows(True, 1.0, 8) + _referral_rows(True, 5.0, 6) + _referral_rows(False, 30.0, 12),
        )
        plan = _demo_plan(client, coordinator)
        refreshed = ok(client.post(f"/api/v1/plans/{plan['id']}/refresh", headers=bearer(coordinator)))
        values = {
            code: next(v for v in refreshed["values"][_indicator(plan, code)["id"]] if v["period"] == str(YEAR))
            for code in ("2.1.1", "2.2.1", "2.1.2")
        }
        victims = ok(client.get(f"/api/v1/stats/victims?year={YEAR}&by=status", headers=bearer(coordinator)))
        identified = next(c["count"] for c in victims["cells"] if c["status"] == "identified")
        referrals = ok(
            client.get(f"/api/v1/stats/referrals?year={YEAR}&by=urgent,answer_time", headers=bearer(coordinator))
        )
        needed = [("urgent", "<2h"), *(("routine", b) for b in ("<2h", "2-24h", "24-48h")), ("total", "total")]
        shown = [
            next(c["count"] for c in referrals["cells"] if (c["urgent"], c["answer_time"]) == key) for key in needed
        ]
        # Whatever the registry publishes, the indicator says the same: its figure, or "withheld" (never 0).
        if isinstance(identified, int):
            assert (values["2.1.1"]["status"], values["2.1.1"]["value"]) == ("ok", identified)
        else:
            assert (values["2.1.1"]["status"], values["2.1.1"]["value"]) == ("suppressed", None)
        if all(isinstance(n, int) for n in shown):
            assert values["2.2.1"]["value"] == round(100 * sum(shown[:-1]) / shown[-1], 1)
        else:
            assert (values["2.2.1"]["status"], values["2.2.1"]["value"]) == ("suppressed", None)
        # An indicator no table answers: the registry's protected indicator, as the registry gives it.
        children = ok(
            client.get(
                f"/api/v1/stats/indicators/children_referred_to_csw_within_24h?year={YEAR}",
                headers=bearer(coordinator),
            )
        )
        assert (values["2.1.2"]["status"], values["2.1.2"]["value"]) == (children["status"], children["value"])
        detail = ok(client.get(f"/api/v1/indicators/{_indicator(plan, '2.1.1')['id']}", headers=bearer(coordinator)))
        assert [v for v in detail["values"] if v["period"] == str(YEAR)] == [values["2.1.1"]]


def test_reporter_reports_coordinator_accepts_progress_changes(stack, make_token):
    coordinator = make_token("coordinator", org="demo-state-coordinator")
    reporter = make_token("reporter", org=CSW)
    with httpx.Client(base_url=stack.url, timeout=60) as client:
        plan = _demo_plan(client, coordinator)
        indicator = _indicator(plan, "4.1.1")
        mine = ok(client.get("/api/v1/measures", headers=bearer(reporter)))["items"]
        assert {m["code"] for m in mine} == {"2.1", "2.2", "4.1"}

        def latest() -> float | None:
            progress = ok(client.get(f"/api/v1/progress/{plan['id']}", headers=bearer(reporter)))
            return next(
                i["latest_value"]
                for g in progress["goals"]
                for m in g["measures"]
                for i in m["indicators"]
                if i["code"] == "4.1.1"
            )

        assert latest() == 1  # the demo's accepted report of 2025-H1
        created = client.post(
            f"/api/v1/indicators/{indicator['id']}/reports",
            json={"period": "2025-H2", "value": 7, "comment": "7 meetings", "evidence_url": "https://example.org/m"},
            headers=bearer(reporter),
        )
        assert created.status_code == 201, created.text
        assert latest() == 1  # not counted before the coordinator accepts it
        ok(
            client.post(
                f"/api/v1/indicators/{indicator['id']}/reports/{created.json()['id']}/review",
                json={"decision": "accept"},
                headers=bearer(coordinator),
            )
        )
        assert latest() == 7
        audit = ok(
            client.get(f"/api/v1/plans/{plan['id']}/audit", headers=bearer(make_token("admin", org="demo-admin")))
        )["items"]
        assert audit[0]["action"] == "report.accepted" and audit[0]["entity_id"] == created.json()["id"]
