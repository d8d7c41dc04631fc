"""Service app behaviour: problem+json everywhere, validation naming fields, commit before response."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from putokaz.db import create_engine
from putokaz.testing import app_client, auth


async def _count(url: str, title: str) -> int:
    engine = create_engine(url)
    async with engine.connect() as conn:
        value = (await conn.execute(text("SELECT count(*) FROM notes WHERE title = :t"), {"t": title})).scalar_one()
    await engine.dispose()
    return value


async def test_created_record_is_committed_before_2xx(kernel_app, kernel_db_url, make_token):
    title = f"n-{uuid.uuid4().hex[:8]}"
    async with app_client(kernel_app) as client:
        response = await client.post(
            "/api/v1/notes", json={"title": title, "pages": 2}, headers=auth(make_token("police"))
        )
    assert response.status_code == 201
    assert await _count(kernel_db_url, title) == 1


async def test_failed_commit_never_answers_2xx(kernel_app, kernel_db_url, make_token):
    title = f"dup-{uuid.uuid4().hex[:8]}"
    headers = auth(make_token("police"))
    async with app_client(kernel_app) as client:
        first = await client.post("/api/v1/notes", json={"title": title, "pages": 1}, headers=headers)
        # The deferred unique constraint only fires at COMMIT: the handler has already returned.
        second = await client.post("/api/v1/notes", json={"title": title, "pages": 1}, headers=headers)
    assert first.status_code == 201
    assert second.status_code == 409
    assert second.headers["content-type"] == "application/problem+json"
    assert await _count(kernel_db_url, title) == 1


async def test_validation_errors_name_each_field_without_echoing_values(kernel_app, make_token):
    async with app_client(kernel_app) as client:
        response = await client.post(
            "/api/v1/notes",
            json={"title": "", "pages": "many", "secret_name": "Amina"},
            headers=auth(make_token("police")),
        )
    body = response.json()
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    fields = {e["field"] for e in body["errors"]}
    assert fields == {"body.title", "body.pages", "body.secret_name"}
    assert "Amina" not in response.text


async def test_malformed_json_is_a_422_problem(kernel_app, make_token):
    async with app_client(kernel_app) as client:
        response = await client.post(
            "/api/v1/notes",
            content=b"{not json",
            headers={**auth(make_token("police")), "content-type": "application/json"},
        )
    assert response.status_code == 422
    assert response.json()["errors"][0]["type"] == "json_invalid"


async def test_unknown_route_and_method_are_problems(kernel_app, make_token):
    async with app_client(kernel_app) as client:
        missing = await client.get("/api/v1/nothing-here", headers=auth(make_token("police")))
        wrong_method = await client.delete("/healthz")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    assert wrong_method.status_code == 405 and wrong_method.json()["status"] == 405


async def test_request_id_round_trip_and_minted_when_missing(kernel_app):
    async with app_client(kernel_app) as client:
        echoed = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
        minted = await client.get("/healthz")
        hostile = await client.get("/healthz", headers={"X-Request-ID": "x\r\ninjected: 1" * 3})
    assert echoed.headers["x-request-id"] == "abc-123"
    assert len(minted.headers["x-request-id"]) == 32
    assert hostile.headers["x-request-id"] != "x\r\ninjected: 1" * 3


async def test_readyz_and_metrics_by_route_template(kernel_app, make_token):
    async with app_client(kernel_app) as client:
        assert (await client.get("/readyz")).json() == {"status": "ready"}
        await client.get("/api/v1/whoami", headers=auth(make_token("police")))
        metrics = (await client.get("/metrics")).text
    assert 'route="/api/v1/whoami"' in metrics
    assert "putokaz_http_request_duration_seconds_bucket" in metrics


async def test_readyz_reports_unready_when_database_is_gone(kernel_settings):
    from putokaz.app import create_service_app

    broken = kernel_settings.model_copy(update={"database_url": "postgresql://postgres@127.0.0.1:1/none"})
    app = create_service_app(name="broken", settings=broken, routers=[], configure_logs=False)
    async with app_client(app) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"


async def test_database_down_is_503_not_500(kernel_settings, make_token):
    from putokaz.app import create_service_app
    from putokaz.tests.conftest import kernel_router

    broken = kernel_settings.model_copy(update={"database_url": "postgresql://postgres@127.0.0.1:1/none"})
    app = create_service_app(name="broken", settings=broken, routers=[kernel_router()], configure_logs=False)
    async with app_client(app) as client:
        response = await client.post(
            "/api/v1/notes", json={"title": "t", "pages": 1}, headers=auth(make_token("police"))
        )
    assert response.status_code == 503
    assert "Retry-After" in response.headers


async def test_value_the_database_cannot_store_is_422_not_503(kernel_app, make_token):
    async with app_client(kernel_app) as client:
        response = await client.post(
            "/api/v1/notes", json={"title": "nul\u0000byte", "pages": 1}, headers=auth(make_token("police"))
        )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body"
