"""schemathesis against the strategy service's own OpenAPI (in-process ASGI, valid tokens): never a 5xx."""

from __future__ import annotations

from typing import Any

from putokaz.testing import auth, fuzz_app
from services.strategy.tests.conftest import load_plan

EXAMPLES_PER_OPERATION = 8
REPORTER_ROUTES = {"/api/v1/indicators/{indicator_id}/reports"}


async def test_no_server_error_for_generated_requests(strategy_app, client, coordinator, make_token) -> None:
    app, _ = strategy_app
    await load_plan(client, coordinator)

    def headers_for(operation: Any) -> dict[str, str] | None:
        if operation.path.endswith("/refresh"):
            return None  # calls the registry; covered by the cross-service tests
        role = "reporter" if operation.path in REPORTER_ROUTES else "coordinator"
        role = "admin" if operation.path.startswith("/api/v1/audit/") else role
        return auth(make_token(role, org="demo-partner-ngo"))

    operations, failures = await fuzz_app(app, client, headers_for, EXAMPLES_PER_OPERATION)
    assert failures == []
    assert operations == 20
