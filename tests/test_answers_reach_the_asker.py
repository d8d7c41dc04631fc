"""Every answer reaches only the person who asked, with interleaved traffic and `Expect: 100-continue`.

Regression for a gateway that took a service's interim `100 Continue` for the final answer and handed
the real one to the next caller (another organisation's officer received a full screening).
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import uuid

import httpx
import pytest

from putokaz.testing import UvicornProcess
from tests.journeys import PRESUMED_ADULT_ANSWERS, bearer, screen, unique_person

REQUESTS = 1000
USERS_PER_ORG = 10  # stays under the per-user rate limit


@pytest.fixture(scope="module")
def roomy_gateway(stack, kernel_env, tmp_path_factory):
    """A gateway in front of the stack's services whose body limit lets 2 MB lookups through to them."""
    env = {
        **kernel_env,
        **{f"PUTOKAZ_{name.upper()}_URL": process.url for name, process in stack.services.items()},
        "PUTOKAZ_MAX_BODY_BYTES": str(3 * 1024 * 1024),
        "PUTOKAZ_LOG_LEVEL": "WARNING",
    }
    log = tmp_path_factory.mktemp("roomy-gateway") / "gateway.log"
    process = UvicornProcess("gateway.app:create_app", env, log_path=log).start()
    try:
        yield process.url
    finally:
        process.stop()


def _body_size(rng: random.Random) -> int:
    """2 KB to 2 MB on a log scale, skewed to small bodies so the run stays short; a few come near the top."""
    return int(2 * 1024 * math.exp(math.log(1024) * rng.random() ** 3))


async def test_interleaved_requests_of_two_organisations_each_get_their_own_answer(stack, roomy_gateway, make_token):
    orgs = {}
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        for label in ("a", "b"):
            org = f"org-{label}-{uuid.uuid4().hex[:8]}"
            person = unique_person()
            created = screen(client, make_token("police", org=org), person, PRESUMED_ADULT_ANSWERS)
            orgs[org] = {
                "screening": created["id"],
                "family_name": person["family_name"],
                "document": person["documents"][0]["number"],
            }

    rng = random.Random(20261130)
    plan = []
    for i in range(REQUESTS):
        org = list(orgs)[i % 2]
        kind = ("list", "read", "lookup")[rng.randrange(3)]
        plan.append((i, org, kind, _body_size(rng) if kind == "lookup" else 0))
    tokens = {(org, k): make_token("police", org=org, sub=f"officer-{k}") for org in orgs for k in range(USERS_PER_ORG)}

    # Idle connections are dropped well before uvicorn's 5 s keep-alive closes them under us.
    limits = httpx.Limits(max_connections=24, max_keepalive_connections=24, keepalive_expiry=1.0)
    async with httpx.AsyncClient(base_url=roomy_gateway, timeout=60, limits=limits) as client:

        async def ask(i: int, org: str, kind: str, size: int) -> tuple[int, str, str, httpx.Response]:
            own = orgs[org]
            headers = {**bearer(tokens[org, i % USERS_PER_ORG]), "X-Request-ID": f"rid-{i}-{org}"}
            if kind == "list":
                response = await client.get("/api/v1/screenings?limit=5", headers=headers)
            elif kind == "read":
                response = await client.get(f"/api/v1/screenings/{own['screening']}", headers=headers)
            else:
                body = json.dumps({"document_number": own["document"]}).encode()
                body += b" " * max(0, size - len(body))  # whitespace keeps it one valid JSON document
                headers |= {"Expect": "100-continue", "Content-Type": "application/json"}
                response = await client.post("/api/v1/screenings/lookup", content=body, headers=headers)
            return i, org, kind, response

        answers = await asyncio.gather(*(ask(*step) for step in plan))

    assert len(answers) == REQUESTS
    assert sum(1 for _, _, kind, _ in answers if kind == "lookup") > REQUESTS // 4
    assert max(size for *_, size in plan) > 1024 * 1024
    for i, org, kind, response in answers:
        own = orgs[org]
        assert response.headers["x-request-id"] == f"rid-{i}-{org}"
        assert response.status_code == 200, (kind, response.status_code, response.text[:200])
        data = response.json()
        if kind == "list":
            assert [item["id"] for item in data["items"]] == [own["screening"]]
        elif kind == "read":
            assert data["id"] == own["screening"] and data["org"] == org
            assert data["subject"]["family_name"] == own["family_name"]
        else:
            assert [match["screening_id"] for match in data["matches"]] == [own["screening"]]
