"""schemathesis against the registry's own OpenAPI (in-process ASGI, valid tokens), and a fuzzed feed: no 5xx."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from putokaz.testing import auth, fuzz_app
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
    operations, failures = await fuzz_app(
        app,
        client,
        lambda operation: auth(make_token(ROLE_FOR.get(operation.path, "coordinator"), org="org-fuzz")),
        EXAMPLES_PER_OPERATION,
    )
    assert operations == 11  # the statistics indicators route included
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
