"""schemathesis against the screening service's own OpenAPI (in-process, valid tokens) and fuzzed answers: no 5xx."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from putokaz.testing import auth, fuzz_app
from services.screening.tests.conftest import start_body

EXAMPLES_PER_OPERATION = 15
ROLE_FOR = {
    ("GET", "/api/v1/screenings/audit"): "admin",
    ("GET", "/api/v1/audit/screening"): "admin",
    ("GET", "/api/v1/audit/screening/verify"): "admin",
    ("POST", "/api/v1/screenings/{screening_id}/erasure"): "admin",
    ("GET", "/api/v1/screenings/{screening_id}/subject-access"): "admin",
    ("PUT", "/api/v1/screenings/{screening_id}/legal-hold"): "admin",
    ("DELETE", "/api/v1/screenings/{screening_id}/legal-hold"): "admin",
    ("POST", "/api/v1/questionnaires"): "admin",
    ("POST", "/api/v1/training/groups"): "coordinator",
    ("GET", "/api/v1/training/groups"): "coordinator",
    ("GET", "/api/v1/training/groups/{group_id}/results"): "coordinator",
}


async def test_no_server_error_for_generated_requests(screening_app, client, make_token) -> None:
    def headers_for(operation: Any) -> dict[str, str]:
        role = ROLE_FOR.get((operation.method.upper(), operation.path), "police")
        return auth(make_token(role, org="org-fuzz"))

    operations, failures = await fuzz_app(screening_app, client, headers_for, EXAMPLES_PER_OPERATION)
    assert operations == 35  # 22 screening operations, 12 of training mode and the places lookup
    assert failures == []


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
question_ids = st.sampled_from(
    ["worked_for_someone", "ex_low_pay", "forms_of_exploitation", "screener_notes", "dr_wages"]
)


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(answers=st.dictionaries(question_ids | st.text(max_size=10), json_values, min_size=1, max_size=4))
async def test_fuzzed_answers_are_saved_or_refused_never_5xx(client, make_token, answers) -> None:
    headers = auth(make_token("police", org="org-fuzz-answers"))
    created = await client.post("/api/v1/screenings", json=start_body(), headers=headers)
    sid = created.json()["id"]
    # Sent as text so NaN and Infinity reach the service (Python's JSON parser accepts them).
    response = await client.patch(
        f"/api/v1/screenings/{sid}/answers",
        content=json.dumps({"answers": answers}),
        headers=headers | {"content-type": "application/json"},
    )
    assert response.status_code in (200, 422), response.text
    submitted = await client.post(f"/api/v1/screenings/{sid}/submit", headers=headers)
    assert submitted.status_code in (200, 422), submitted.text
