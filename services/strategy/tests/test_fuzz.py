"""schemathesis against the strategy service's own OpenAPI (in-process ASGI, valid tokens): never a 5xx."""

from __future__ import annotations

import schemathesis

from putokaz.testing import auth, schema_cases
from services.strategy.tests.conftest import load_plan

EXAMPLES_PER_OPERATION = 8
REPORTER_ROUTES = {"/api/v1/indicators/{indicator_id}/reports"}


async def test_no_server_error_for_generated_requests(strategy_app, client, coordinator, make_token) -> None:
    app, _ = strategy_app
    await load_plan(client, coordinator)
    schema = schemathesis.openapi.from_dict(app.openapi())
    failures = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.endswith("/refresh"):
            continue  # calls the registry; covered by the cross-service tests
        role = "reporter" if operation.path in REPORTER_ROUTES else "coordinator"
        role = "admin" if operation.path.startswith("/api/v1/audit/") else role
        headers = auth(make_token(role, org="demo-partner-ngo"))
        for case in schema_cases(operation, EXAMPLES_PER_OPERATION):
            kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=headers)
            kwargs.pop("base_url", None)
            response = await client.request(
                kwargs.pop("method"),
                kwargs.pop("url"),
                params=kwargs.get("params"),
                headers=kwargs.get("headers"),
                content=kwargs.get("data") if isinstance(kwargs.get("data"), (str, bytes)) else None,
                json=kwargs.get("json"),
            )
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code} {response.text[:200]}")
        operations += 1
    assert failures == []
    assert operations == 20
