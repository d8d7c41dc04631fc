"""Reporters report on their own measures only; the coordinator reviews; progress follows; overdue is chased once."""

from __future__ import annotations

import base64
import csv
import io
import json

from sqlalchemy import text

from services.strategy.overdue import sweep_once
from services.strategy.tests.conftest import find_indicator, find_measure, load_plan

MINISTRY, PROSECUTOR, NGO = "demo-ministry-security", "demo-prosecutor-state", "demo-partner-ngo"


def report(period: str = "2024", value: float = 5000, **kw):
    return {
        "period": period,
        "value": value,
        "comment": "schools of Una-Sana",
        "evidence_url": "https://example.org/r",
        **kw,
    }


async def test_reporter_sees_only_measures_of_its_organisation(client, coordinator, reporter):
    plan = await load_plan(client, coordinator)
    mine = (await client.get("/api/v1/measures", headers=reporter(PROSECUTOR))).json()["items"]
    assert [m["code"] for m in mine] == ["3.1", "3.2"]
    everything = (await client.get("/api/v1/measures", headers=coordinator)).json()["items"]
    assert len(everything) == 7
    other = find_measure(plan, "1.1")
    assert (await client.get(f"/api/v1/measures/{other['id']}", headers=reporter(PROSECUTOR))).status_code == 404
    missing = "00000000-0000-4000-8000-000000000000"
    assert (await client.get(f"/api/v1/measures/{missing}", headers=reporter(PROSECUTOR))).status_code == 404
    indicator = find_indicator(plan, "1.1.1")
    for method, path, body in (
        ("GET", f"/api/v1/indicators/{indicator['id']}", None),
        ("POST", f"/api/v1/indicators/{indicator['id']}/reports", report()),
        ("PATCH", f"/api/v1/measures/{other['id']}/activities/{other['activities'][0]['id']}", {"status": "done"}),
    ):
        response = await client.request(method, path, json=body, headers=reporter(PROSECUTOR))
        assert response.status_code == 404, (method, path, response.text)
    listed = (await client.get("/api/v1/indicators", headers=reporter(PROSECUTOR))).json()["items"]
    assert {i["code"] for i in listed} == {"3.1.1", "3.2.1"}
    progress = (await client.get(f"/api/v1/progress/{plan['id']}", headers=reporter(PROSECUTOR))).json()
    assert [m["code"] for g in progress["goals"] for m in g["measures"]] == ["3.1", "3.2"]
    nobody = await client.get(f"/api/v1/progress/{plan['id']}", headers=reporter("org-without-measures"))
    assert nobody.status_code == 404


async def test_reporter_reports_coordinator_accepts_and_progress_changes(client, coordinator, reporter, clock):
    plan = await load_plan(client, coordinator)
    indicator = find_indicator(plan, "1.1.1")
    before = (await client.get(f"/api/v1/progress/{plan['id']}", headers=coordinator)).json()
    measure_before = next(m for g in before["goals"] for m in g["measures"] if m["code"] == "1.1")
    assert measure_before["status"] == "at_risk"  # 2024's report is overdue on 2025-03-01
    assert measure_before["indicators"][0]["overdue_periods"] == ["2024"]

    response = await client.post(
        f"/api/v1/indicators/{indicator['id']}/reports", json=report(value=20000), headers=reporter(NGO)
    )
    assert response.status_code == 201, response.text
    submitted = response.json()
    assert submitted["status"] == "submitted" and submitted["org_id"] == NGO
    again = await client.post(f"/api/v1/indicators/{indicator['id']}/reports", json=report(), headers=reporter(NGO))
    assert again.status_code == 409

    review = await client.post(
        f"/api/v1/indicators/{indicator['id']}/reports/{submitted['id']}/review",
        json={"decision": "accept"},
        headers=coordinator,
    )
    assert review.status_code == 200 and review.json()["status"] == "accepted"
    after = (await client.get(f"/api/v1/progress/{plan['id']}", headers=coordinator)).json()
    measure_after = next(m for g in after["goals"] for m in g["measures"] if m["code"] == "1.1")
    assert measure_after["status"] == "done"
    assert measure_after["indicators"][0]["latest_value"] == 20000
    assert after["counts"]["done"] == before["counts"]["done"] + 1
    audit = (await client.get(f"/api/v1/plans/{plan['id']}/audit", headers=coordinator)).json()["items"]
    assert [a["action"] for a in audit[:2]] == ["report.accepted", "report.submitted"]
    assert [a["entity"] for a in audit[:2]] == ["report", "report"] and audit[0]["entity_id"] == audit[1]["entity_id"]
    assert audit[1]["before"] is None and audit[1]["after"]["status"] == "submitted"
    assert audit[0]["actor"] == "user-coordinator-state-coordinator"
    assert audit[0]["before"]["status"] == "submitted" and audit[0]["after"]["status"] == "accepted"


async def test_returned_report_needs_a_reason_and_a_new_report_follows(client, coordinator, reporter, clock):
    plan = await load_plan(client, coordinator)
    indicator = find_indicator(plan, "3.2.1")
    first = (
        await client.post(
            f"/api/v1/indicators/{indicator['id']}/reports", json=report(value=3), headers=reporter(PROSECUTOR)
        )
    ).json()
    path = f"/api/v1/indicators/{indicator['id']}/reports/{first['id']}/review"
    silent = await client.post(path, json={"decision": "return"}, headers=coordinator)
    assert silent.status_code == 422 and silent.json()["errors"][0]["field"] == "comment"
    returned = await client.post(
        path, json={"decision": "return", "comment": "count indictments, not cases"}, headers=coordinator
    )
    assert returned.json()["status"] == "returned"
    detail = (await client.get(f"/api/v1/indicators/{indicator['id']}", headers=reporter(PROSECUTOR))).json()
    reopened = detail["reportable_periods"]
    assert "2024" in reopened and "2031" not in reopened  # a returned period is open again; none outside the plan
    assert (await client.post(path, json={"decision": "accept"}, headers=coordinator)).status_code == 409
    clock.advance(days=2)
    second = await client.post(
        f"/api/v1/indicators/{indicator['id']}/reports", json=report(value=15), headers=reporter(PROSECUTOR)
    )
    assert second.status_code == 201
    detail = (await client.get(f"/api/v1/indicators/{indicator['id']}", headers=reporter(PROSECUTOR))).json()
    assert [(r["value"], r["status"]) for r in detail["reports"]] == [(3, "returned"), (15, "submitted")]
    assert detail["reportable_periods"] == [p for p in reopened if p != "2024"]  # awaiting review: not offered
    assert detail["reports"][0]["review_comment"] == "count indictments, not cases"


async def test_bad_reports_name_their_fields_and_store_nothing(client, coordinator, reporter):
    plan = await load_plan(client, coordinator)
    indicator = find_indicator(plan, "1.1.1")
    url = f"/api/v1/indicators/{indicator['id']}/reports"
    cases = [
        (report(period="2024-Q1"), "period"),
        (report(period="2031"), "period"),
        ({"period": "2024", "value": 1, "comment": ""}, "evidence_url"),
        (report(value="many"), "body.value"),
        (report(evidence_url="javascript:alert(1)"), "body.evidence_url"),
        (
            report(evidence_document={"name": "a.pdf", "media_type": "application/pdf", "content_base64": "%%%%"}),
            "evidence_document.content_base64",
        ),
        (report(extra=1), "body.extra"),
    ]
    for body, field in cases:
        response = await client.post(url, json=body, headers=reporter(NGO))
        assert response.status_code == 422, (body, response.text)
        assert field in {e["field"] for e in response.json()["errors"]}, (field, response.json())
    computed = find_indicator(plan, "2.1.1")
    response = await client.post(
        f"/api/v1/indicators/{computed['id']}/reports", json=report(), headers=reporter("demo-sipa")
    )
    assert response.status_code == 409
    detail = (await client.get(f"/api/v1/indicators/{indicator['id']}", headers=coordinator)).json()
    assert detail["reports"] == []


async def test_evidence_document_is_kept_and_served_to_those_who_may_see_it(client, coordinator, reporter):
    plan = await load_plan(client, coordinator)
    indicator = find_indicator(plan, "3.1.1")
    pdf = b"%PDF-1.4 minutes of the training"
    body = report(
        period="final",
        value=36,
        evidence_url=None,
        evidence_document={
            "name": "minutes.pdf",
            "media_type": "application/pdf",
            "content_base64": base64.b64encode(pdf).decode(),
        },
    )
    created = await client.post(
        f"/api/v1/indicators/{indicator['id']}/reports", json=body, headers=reporter(PROSECUTOR)
    )
    assert created.status_code == 201, created.text
    assert created.json()["evidence_name"] == "minutes.pdf"
    path = f"/api/v1/indicators/{indicator['id']}/reports/{created.json()['id']}/evidence"
    document = await client.get(path, headers=coordinator)
    assert document.content == pdf and document.headers["content-type"] == "application/pdf"
    assert (await client.get(path, headers=reporter(NGO))).status_code == 404


async def test_overdue_report_raises_one_event_for_partners(strategy_app, client, coordinator, reporter, clock):
    app, _ = strategy_app
    plan = await load_plan(client, coordinator)
    settings = app.state.settings
    first = await sweep_once(app.state.db, clock, settings.report_grace_days)
    second = await sweep_once(app.state.db, clock, settings.report_grace_days)
    assert second == 0
    async with app.state.db.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT event_type, payload, orgs FROM outbox_events"))).all()
    assert len(rows) == first
    events = [json.loads(r.payload)["data"] for r in rows]
    by_indicator = {(e["indicator_code"], e["period"]) for e in events}
    # On 2025-03-01 with 30 days' grace: 2024's annual reports and 2024-H2 are overdue; H1 2024 too.
    assert by_indicator == {
        ("1.1.1", "2024"),
        ("1.2.1", "2024"),
        ("3.2.1", "2024"),
        ("4.1.1", "2024-H1"),
        ("4.1.1", "2024-H2"),
    }
    chased = next(r for r in rows if json.loads(r.payload)["data"]["indicator_code"] == "1.1.1")
    assert json.loads(chased.orgs) == [MINISTRY, NGO]
    assert all(r.event_type == "strategy.report_overdue" for r in rows)
    # Nothing about a person travels in the event.
    assert set(events[0]) == {
        "plan_id",
        "measure_id",
        "measure_code",
        "indicator_id",
        "indicator_code",
        "period",
        "due",
        "organisations",
    }
    indicator = find_indicator(plan, "3.2.1")
    await client.post(
        f"/api/v1/indicators/{indicator['id']}/reports", json=report(period="2025"), headers=reporter(PROSECUTOR)
    )
    clock.advance(days=365)
    third = await sweep_once(app.state.db, clock, settings.report_grace_days)
    async with app.state.db.engine.connect() as conn:
        periods = (
            (
                await conn.execute(
                    text("SELECT period FROM overdue_notices WHERE indicator_id = :i"), {"i": indicator["id"]}
                )
            )
            .scalars()
            .all()
        )
    assert sorted(periods) == ["2024"]  # 2025 was reported before it fell due
    assert third > 0


async def test_progress_rule_late_and_done_by_coordinator(client, coordinator, clock):
    plan = await load_plan(client, coordinator)
    clock.advance(days=400)  # 2026-04-05: measure 3.1 (deadline 2025-12-31) is late
    progress = (await client.get(f"/api/v1/progress/{plan['id']}", headers=coordinator)).json()
    prosecution = next(g for g in progress["goals"] if g["part"] == "prosecution")
    measure = next(m for m in prosecution["measures"] if m["code"] == "3.1")
    assert measure["status"] == "late" and "2025-12-31" in measure["reason"]
    assert prosecution["status"] == "late"
    assert "at_risk: not done and a report is overdue" in progress["rule"]
    await client.patch(f"/api/v1/measures/{measure['id']}", json={"status": "completed"}, headers=coordinator)
    progress = (await client.get(f"/api/v1/progress/{plan['id']}", headers=coordinator)).json()
    measure = next(m for g in progress["goals"] for m in g["measures"] if m["code"] == "3.1")
    assert measure["status"] == "done"


async def test_progress_export_csv_and_printable(client, coordinator, reporter):
    plan = await load_plan(client, coordinator)
    response = await client.get(f"/api/v1/progress/{plan['id']}/export", headers=coordinator)
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    progress = (await client.get(f"/api/v1/progress/{plan['id']}", headers=coordinator)).json()
    indicators = [i for g in progress["goals"] for m in g["measures"] for i in m["indicators"]]
    assert len(rows) == len(indicators)
    assert {(r["measure_code"], r["measure_status"]) for r in rows} == {
        (m["code"], m["status"]) for g in progress["goals"] for m in g["measures"]
    }
    page = await client.get(f"/api/v1/progress/{plan['id']}/export?format=html", headers=coordinator)
    assert page.headers["content-type"].startswith("text/html")
    assert "<h1>Progress report: [DEMO] Action plan" in page.text and "<script" not in page.text
    assert (await client.get(f"/api/v1/progress/{plan['id']}/export", headers=reporter(NGO))).status_code == 403


async def test_computed_indicators_say_why_they_have_no_value(client, coordinator):
    plan = await load_plan(client, coordinator)
    response = await client.post(f"/api/v1/plans/{plan['id']}/refresh", headers=coordinator)
    assert response.status_code == 200, response.text
    values = response.json()["values"]
    identified = values[find_indicator(plan, "2.1.1")["id"]]
    assert [v["period"] for v in identified] == ["2024", "2025"]
    assert all(v["status"] == "unavailable" and v["value"] is None for v in identified)
    assert "not reachable" in identified[0]["note"]
    children = values[find_indicator(plan, "2.1.2")["id"]]
    assert all(v["status"] == "unavailable" and v["value"] is None for v in children)
    assert "not reachable" in children[0]["note"]
