"""schemathesis against the gateway's merged OpenAPI, with valid tokens: no 5xx anywhere."""

from __future__ import annotations

import httpx
import schemathesis

from gateway.policy import Policy
from putokaz.testing import auth, schema_cases

EXAMPLES_PER_OPERATION = 12


def test_no_server_error_for_any_generated_request(stack, make_token):
    document = httpx.get(stack.url + "/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(document)
    policy = Policy()
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        rule = policy.match(operation.method.upper(), operation.path.replace("{", "x").replace("}", ""))
        assert rule is not None, f"{operation.method} {operation.path} is documented but not routed"
        role = sorted(rule.roles)[0]
        headers = auth(make_token(role, org="org-fuzz", sub=f"fuzz-{role}"))
        for case in schema_cases(operation, EXAMPLES_PER_OPERATION):
            response = case.call(base_url=stack.url, headers=headers, timeout=30)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:200]}")
        operations += 1
    assert operations >= 40
    assert failures == []
