"""Who exported statistics and who imported facts is in the registry's hash-chained audit log."""

from __future__ import annotations

import uuid

from services.registry.tests.conftest import LAST_YEAR
from services.registry.tests.test_imports import HEADER, row, upload


async def _audit(client, admin, **params) -> list[dict]:
    response = await client.get("/api/v1/audit/registry", params={"limit": 500, **params}, headers=admin)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_statistics_exports_and_imports_are_audited(client, admin, coordinator, make_token) -> None:
    coordinator_sub = "coordinator-" + uuid.uuid4().hex[:8]
    who = {"Authorization": f"Bearer {make_token('coordinator', org='state-coordinator', sub=coordinator_sub)}"}
    params = {"year": LAST_YEAR, "by": "sex", "format": "csv"}
    assert (await client.get("/api/v1/stats/victims", params=params, headers=who)).status_code == 200
    assert (await client.get("/api/v1/reports/eurostat", params={"year": LAST_YEAR}, headers=who)).status_code == 200
    series = {"from": LAST_YEAR, "to": LAST_YEAR, "step": "quarter"}
    assert (await client.get("/api/v1/stats/victims/series", params=series, headers=who)).status_code == 200
    exports = await _audit(client, admin, actor=coordinator_sub)
    assert [(e["action"], e["object_id"]) for e in reversed(exports)] == [
        ("export_stats", "victims"),
        ("export_report", "eurostat"),
        ("export_series", "victims"),
    ]
    assert exports[2]["detail"] == {"period": str(LAST_YEAR), "by": ["sex"], "format": "csv"}

    created = await upload(client, admin, "\n".join([HEADER, row()]) + "\n")
    import_id = created.json()["id"]
    await client.get(f"/api/v1/imports/{import_id}", headers=admin)
    other = {"Authorization": f"Bearer {make_token('admin', org='another-admin-org', sub='prober-adm')}"}
    assert (await client.get(f"/api/v1/imports/{import_id}", headers=other)).status_code == 404
    entries = await _audit(client, admin, object_id=import_id)
    assert [(e["action"], e["outcome"]) for e in reversed(entries)] == [
        ("import", "ok"),
        ("read_import", "ok"),
        ("read_import", "refused"),
    ]
    verdict = (await client.get("/api/v1/audit/registry/verify", headers=admin)).json()
    assert verdict["ok"] is True and verdict["rows_checked"] >= 5
