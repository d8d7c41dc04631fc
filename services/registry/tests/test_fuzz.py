"""schemathesis against the registry's own OpenAPI (in-process ASGI, valid tokens), and a fuzzed feed: no 5xx."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from putokaz.testing import auth, schema_cases
from services.registry.tests.conftest import screening_fact, send

EXAMPLES_PER_OPERATION = 12
ROLE_FOR = {
    "/api/v1/imports": "admin",
    "/api/v1/imports/{import_id}": "admin",
    "/api/v1/audit/registry": "admin",
    "/api/v1/audit/registry/verify": "admin",
}


async def test_no_server_error_for_generated_requests(registry_app, client, make_token) -> None:
    app, _ = registry_app
    schema = schemathesis.openapi.from_dict(app.openapi())
    failures = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        role = ROLE_FOR.get(operation.path, "coordinator")
        headers = auth(make_token(role, org="org-fuzz"))
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
                failures.append(f"{case.method} {case.formatted_path} {kwargs.get('params')} -> {response.status_code}")
        operations += 1
    assert operations == 10
    assert failures == []


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=10,
)


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(overrides=st.dictionaries(st.sampled_from([*screening_fact().keys(), "name", "note"]), json_values, max_size=4))
async def test_fuzzed_feed_facts_are_stored_or_refused_never_5xx(client, overrides) -> None:
    response = await send(client, "registry.screening_fact", screening_fact(**overrides))
    assert response.status_code in (200, 422), response.text
