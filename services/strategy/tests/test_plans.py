"""Loading and editing a plan: JSON and CSV, every error named, nothing half-loaded, every change audited."""

from __future__ import annotations

from services.strategy.tests.conftest import demo_plan, find_indicator, find_measure, load_plan

HEADER = "level,code,parent,part,title,description,organisations,starts_on,ends_on,deadline,kind,source,unit,"
CSV_PLAN = (
    HEADER
    + """baseline,target,frequency
plan,AP-1,,,Action plan,,,2024-01-01,2027-12-31,,,,,,,
goal,1,,prevention,Fewer people recruited,,,,,,,,,,,
measure,1.1,1,,Awareness in schools,Teach the risks,org-ministry;org-ngo,,,2026-06-30,,,,,,
activity,a,1.1,,Module written,,org-ngo,,,2024-12-31,,,,,,
indicator,1.1.1,1.1,,Pupils reached,,,,,,reported,,pupils,0,20000,annual
goal,2,,protection,Victims identified,,,,,,,,,,,
measure,2.1,2,,Identify victims,,org-sipa,,,2027-12-31,,,,,,
indicator,2.1.1,2.1,,Identified victims,,,,,,computed,identified_victims,persons,60,90,annual
"""
)


async def test_coordinator_loads_a_plan_and_reads_it_back(client, coordinator):
    plan = await load_plan(client, coordinator)
    assert [g["part"] for g in plan["goals"]] == ["prevention", "protection", "prosecution", "partnership"]
    measure = find_measure(plan, "2.1")
    assert measure["organisations"] == ["demo-csw-sarajevo", "demo-sipa"]
    assert find_indicator(plan, "2.1.1")["definition"].startswith("Persons whose highest status")
    again = (await client.get(f"/api/v1/plans/{plan['id']}", headers=coordinator)).json()
    assert again == plan
    listed = (await client.get("/api/v1/plans", headers=coordinator)).json()["items"]
    assert [p["code"] for p in listed] == ["DEMO-AP-2024-2027"]


async def test_every_error_of_a_json_plan_is_named_and_nothing_is_loaded(client, coordinator):
    plan = demo_plan()
    plan["goals"][0]["measures"][0]["deadline"] = "2031-01-01"
    plan["goals"][0]["measures"][1]["code"] = "1.1"
    plan["goals"][1]["measures"][0]["indicators"][0]["source"] = "made_up"
    plan["goals"][2]["measures"][0]["indicators"][0]["source"] = "identified_victims"
    plan["goals"][0]["measures"][0]["activities"][1]["code"] = "a"  # "a" again within the measure
    plan["goals"][3]["measures"][0]["activities"][0]["deadline"] = "2023-12-31"
    response = await client.post("/api/v1/plans", json=plan, headers=coordinator)
    assert response.status_code == 422
    messages = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert messages["goals.0.measures.0.deadline"] == "the deadline must fall within the plan's period"
    assert messages["goals.0.measures.1.code"] == "measure code 1.1 is used more than once"
    assert messages["goals.0.measures.0.activities.1.code"] == "activity code a is used more than once in the measure"
    assert messages["goals.3.measures.0.activities.0.deadline"] == "the deadline must fall within the plan's period"
    fields = set(messages)
    assert fields == {
        "goals.0.measures.0.deadline",
        "goals.0.measures.0.code",
        "goals.0.measures.1.code",
        "goals.0.measures.0.activities.0.code",
        "goals.0.measures.0.activities.1.code",
        "goals.3.measures.0.activities.0.deadline",
        "goals.1.measures.0.indicators.0.source",
        "goals.2.measures.0.indicators.0.source",
    }
    assert (await client.get("/api/v1/plans", headers=coordinator)).json()["items"] == []


async def test_schema_errors_of_a_json_plan_are_all_named(client, coordinator):
    plan = demo_plan()
    plan["goals"][0]["part"] = "punishment"
    plan["goals"][1]["measures"][0]["organisations"] = []
    plan["goals"][1]["measures"][0]["surprise"] = 1
    response = await client.post("/api/v1/plans", json=plan, headers=coordinator)
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"body.goals.0.part", "body.goals.1.measures.0.organisations", "body.goals.1.measures.0.surprise"} <= fields


async def test_a_csv_plan_loads_with_its_tree(client, coordinator):
    response = await client.post(
        "/api/v1/plans/import", content=CSV_PLAN.encode(), headers={**coordinator, "content-type": "text/csv"}
    )
    assert response.status_code == 201, response.text
    plan = response.json()
    measure = find_measure(plan, "1.1")
    assert measure["organisations"] == ["org-ministry", "org-ngo"]
    assert [a["code"] for a in measure["activities"]] == ["a"]
    assert find_indicator(plan, "2.1.1")["source"] == "identified_victims"


async def test_every_csv_row_error_is_reported_with_its_row_and_nothing_is_loaded(client, coordinator):
    bad = CSV_PLAN.replace("2026-06-30", "30.06.2026").replace("org-sipa", "").replace(",pupils,0,", ",pupils,zero,")
    bad += "indicator,9.9.9,9.9,,Orphan,,,,,,reported,,x,0,1,annual\nchapter,5,,,What,,,,,,,,,,,\n"
    response = await client.post(
        "/api/v1/plans/import", content=bad.encode(), headers={**coordinator, "content-type": "text/csv"}
    )
    assert response.status_code == 422
    errors = {(e["row"], e["field"]) for e in response.json()["errors"]}
    assert errors == {(4, "deadline"), (6, "baseline"), (8, "organisations"), (10, "parent"), (11, "level")}
    assert (await client.get("/api/v1/plans", headers=coordinator)).json()["items"] == []


async def test_a_json_file_through_the_import_route_and_wrong_media_type(client, coordinator):
    import json

    body = json.dumps(demo_plan(code="AP-FILE")).encode()
    response = await client.post(
        "/api/v1/plans/import", content=body, headers={**coordinator, "content-type": "application/json"}
    )
    assert response.status_code == 201
    response = await client.post(
        "/api/v1/plans/import", content=b"x", headers={**coordinator, "content-type": "application/xml"}
    )
    assert response.status_code == 415
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_plan_code_is_loaded_once(client, coordinator):
    await load_plan(client, coordinator)
    response = await client.post("/api/v1/plans", json=demo_plan(), headers=coordinator)
    assert response.status_code == 409


async def test_edits_are_audited_with_before_and_after(client, coordinator):
    plan = await load_plan(client, coordinator)
    measure = find_measure(plan, "1.2")
    response = await client.patch(
        f"/api/v1/measures/{measure['id']}",
        json={"deadline": "2027-06-30", "organisations": ["demo-ministry-security", "demo-sipa"]},
        headers=coordinator,
    )
    assert response.status_code == 200
    assert response.json()["organisations"] == ["demo-ministry-security", "demo-sipa"]
    indicator = find_indicator(plan, "1.2.1")
    response = await client.patch(f"/api/v1/indicators/{indicator['id']}", json={"target": 80}, headers=coordinator)
    assert response.json()["target"] == 80
    response = await client.patch(f"/api/v1/plans/{plan['id']}", json={"title": "Renamed"}, headers=coordinator)
    assert response.json()["title"] == "Renamed"
    audit = (await client.get(f"/api/v1/plans/{plan['id']}/audit", headers=coordinator)).json()["items"]
    actions = [a["action"] for a in audit]
    assert actions == ["plan.updated", "indicator.updated", "measure.updated", "plan.created"]
    measure_change = audit[2]
    assert measure_change["actor"] == "user-coordinator-state-coordinator"
    assert measure_change["before"]["deadline"] == "2027-12-31"
    assert measure_change["after"]["deadline"] == "2027-06-30"
    assert measure_change["after"]["org_ids"] == ["demo-ministry-security", "demo-sipa"]
    assert audit[1]["before"]["target"] == 60 and audit[1]["after"]["target"] == 80


async def test_bad_edits_name_the_field_and_change_nothing(client, coordinator):
    plan = await load_plan(client, coordinator)
    measure = find_measure(plan, "1.2")
    response = await client.patch(
        f"/api/v1/measures/{measure['id']}", json={"deadline": "2035-01-01"}, headers=coordinator
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "deadline"
    computed = find_indicator(plan, "2.1.1")
    response = await client.patch(
        f"/api/v1/indicators/{computed['id']}", json={"frequency": "quarterly"}, headers=coordinator
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "frequency"
    audit = (await client.get(f"/api/v1/plans/{plan['id']}/audit", headers=coordinator)).json()["items"]
    assert [a["action"] for a in audit] == ["plan.created"]


async def test_the_audit_trail_is_hash_chained_and_verifies(client, coordinator, make_token):
    from putokaz.testing import auth

    plan = await load_plan(client, coordinator)
    measure = find_measure(plan, "1.1")
    await client.patch(f"/api/v1/measures/{measure['id']}", json={"title": "Schools"}, headers=coordinator)
    audit = (await client.get(f"/api/v1/plans/{plan['id']}/audit", headers=coordinator)).json()
    assert audit["total"] == 2 and audit["items"][0]["seq"] > audit["items"][1]["seq"]
    admin = auth(make_token("admin", org="demo-admin"))
    verified = (await client.get("/api/v1/audit/strategy/verify", headers=admin)).json()
    assert verified["ok"] is True and verified["rows_checked"] >= 2
