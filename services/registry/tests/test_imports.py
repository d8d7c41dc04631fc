"""CSV imports of historical facts: all or nothing, a per-row report, admin only, and the command line."""

from __future__ import annotations

import subprocess
import sys
import uuid

import pytest

from putokaz.settings import PROJECT_ROOT
from putokaz.testing import auth
from services.registry.imports import COLUMNS
from services.registry.tests.conftest import LAST_YEAR, exact_cells

HEADER = ",".join(COLUMNS["screening"])


def row(**overrides: str) -> str:
    values = {
        "fact_id": str(uuid.uuid4()),
        "version": "1",
        "subject_key": uuid.uuid4().hex,
        "year": str(LAST_YEAR - 1),
        "month": "7",
        "age_band": "9-17",
        "sex": "F",
        "citizenship": "BA",
        "entity": "RS",
        "canton": "",
        "status": "identified",
        "forms": "begging;forced_criminality",
        "instrument": "child",
        "child": "true",
        "anonymous": "false",
    }
    values.update(overrides)
    return ",".join(values[c] for c in COLUMNS["screening"])


async def upload(client, headers, text: str, **params):
    return await client.post(
        "/api/v1/imports", content=text.encode(), params=params, headers={**headers, "Content-Type": "text/csv"}
    )


async def victims(registry_app) -> int:
    """The stored number of victims (published counts are perturbed; this checks what was imported)."""
    return (await exact_cells(registry_app, "victims", LAST_YEAR - 1))[0]["count"]


async def test_valid_csv_is_imported_and_counted(registry_app, client, admin) -> None:
    text = "\n".join([HEADER, *(row() for _ in range(12))]) + "\n"
    response = await upload(client, admin, text)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "completed" and body["rows_total"] == 12 and body["rows_imported"] == 12
    assert await victims(registry_app) == 12
    again = await client.get(f"/api/v1/imports/{body['id']}", headers=admin)
    assert again.status_code == 200 and again.json()["status"] == "completed"


async def test_csv_with_errors_imports_nothing_and_reports_each_row(registry_app, client, admin) -> None:
    lines = [HEADER, *(row() for _ in range(10))]
    lines[3] = row(sex="female")
    lines[5] = row(month="13")
    lines[7] = row(child="perhaps")
    lines[8] = row(citizenship="Amira Hodzic")
    response = await upload(client, admin, "\n".join(lines))
    assert response.status_code == 422
    problem = response.json()
    errors = {(e["row"], e["field"]) for e in problem["errors"]}
    assert errors == {(4, "sex"), (6, "month"), (8, "child"), (9, "citizenship")}
    assert "Amira" not in response.text
    assert await victims(registry_app) == 0
    report = await client.get(f"/api/v1/imports/{problem['import_id']}", headers=admin)
    assert report.json()["status"] == "rejected"
    assert report.json()["rows_imported"] == 0 and report.json()["error_count"] == 4


async def test_identity_columns_reject_the_whole_file_without_naming_them(registry_app, client, admin) -> None:
    text = HEADER + ",full_name\n" + row() + ",Amira Hodzic\n"
    response = await upload(client, admin, text)
    assert response.status_code == 422
    assert "Amira" not in response.text and "full_name" not in response.text
    assert await victims(registry_app) == 0


async def test_duplicate_fact_in_file_and_missing_columns_are_errors(client, admin) -> None:
    fact_id = str(uuid.uuid4())
    duplicate = await upload(client, admin, "\n".join([HEADER, row(fact_id=fact_id), row(fact_id=fact_id)]))
    assert duplicate.status_code == 422
    assert duplicate.json()["errors"] == [
        {"row": 3, "field": "fact_id", "message": "fact_id appears twice in the file"}
    ]
    missing = await upload(client, admin, "fact_id,version\n" + str(uuid.uuid4()) + ",1\n")
    assert missing.status_code == 422
    assert "sex" in {e["field"] for e in missing.json()["errors"]}


async def test_wrong_content_type_is_415_and_empty_file_422(client, admin) -> None:
    as_json = await client.post("/api/v1/imports", json={}, headers=admin)
    assert as_json.status_code == 415
    assert (await upload(client, admin, "")).status_code == 422


async def test_referral_facts_import(registry_app, client, admin) -> None:
    header = ",".join(COLUMNS["referral"])
    line = f"{{}},1,{LAST_YEAR - 1},2,medical,completed,3.5,,,FBIH,1,true,false"
    text = "\n".join([header, *(line.format(uuid.uuid4()) for _ in range(10))])
    response = await upload(client, admin, text, kind="referral")
    assert response.status_code == 201, response.text
    cells = await exact_cells(registry_app, "referrals", LAST_YEAR - 1, ("service_type",))
    assert next(c for c in cells if c["service_type"] == "medical")["count"] == 10


@pytest.mark.parametrize("role", ["coordinator", "police", "social_worker", "service_provider", "partner"])
async def test_only_admin_imports(client, make_token, role) -> None:
    headers = auth(make_token(role))
    assert (await upload(client, headers, HEADER + "\n" + row())).status_code == 403
    assert (await client.get(f"/api/v1/imports/{uuid.uuid4()}", headers=headers)).status_code == 403


async def test_other_organisations_import_is_404(client, admin, make_token) -> None:
    created = await upload(client, admin, HEADER + "\n" + row())
    other = auth(make_token("admin", org="another-admin-org"))
    assert (await client.get(f"/api/v1/imports/{created.json()['id']}", headers=other)).status_code == 404


def test_command_line_import_with_progress_bar(tmp_path, registry_db_url) -> None:
    good = tmp_path / "good.csv"
    good.write_text("\n".join([HEADER, *(row() for _ in range(2500))]) + "\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([HEADER, row(), row(age_band="adult")]) + "\n")
    command = [sys.executable, "-m", "services.registry.import_csv", "--database-url", registry_db_url]
    ok = subprocess.run([*command, str(good)], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "imported 2500 row(s)" in ok.stdout
    assert "100.0%" in ok.stderr and "writing" in ok.stderr
    rejected = subprocess.run([*command, str(bad)], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert rejected.returncode == 1
    assert "row 3 column age_band" in rejected.stderr


async def test_large_file_is_accepted_then_imported_in_the_background(
    registry_app, client, registry_settings, admin
) -> None:
    from putokaz.testing import app_client
    from services.registry.app import create_app

    app = create_app(registry_settings.model_copy(update={"import_inline_rows": 5}))
    good = "\n".join([HEADER, *(row() for _ in range(12))]) + "\n"
    bad = "\n".join([HEADER, *(row() for _ in range(11)), row(sex="female")]) + "\n"
    async with app_client(app) as background_client:
        accepted = await upload(background_client, admin, good)
        refused = await upload(background_client, admin, bad)
        assert accepted.status_code == 202 and refused.status_code == 202
        assert accepted.headers["location"] == f"/api/v1/imports/{accepted.json()['id']}"
        done = (await background_client.get(accepted.headers["location"], headers=admin)).json()
        rejected = (await background_client.get(refused.headers["location"], headers=admin)).json()
    assert done["status"] == "completed" and done["rows_imported"] == 12 and done["rows_processed"] == 12
    assert rejected["status"] == "rejected" and rejected["errors"] == [
        {"row": 13, "field": "sex", "message": rejected["errors"][0]["message"]}
    ]
    assert await victims(registry_app) == 12
