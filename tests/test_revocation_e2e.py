"""An admin revokes a token, or every token of a subject: refused at the gateway and at every service."""

from __future__ import annotations

import time
import uuid

import httpx

from putokaz.auth import issue_token
from tests.journeys import bearer

PROMPTLY = 5.0  # the promise: effective everywhere within five seconds


def _refused_everywhere(stack, token: str) -> dict[str, int]:
    """Status per entry point once every one refuses the token, or the last statuses seen at the deadline."""
    targets = {
        "gateway": (stack.url, "/api/v1/screenings"),
        "screening": (stack.services["screening"].url, "/api/v1/screenings"),
        "referral": (stack.services["referral"].url, "/api/v1/referrals"),
    }
    deadline = time.monotonic() + PROMPTLY
    while True:
        statuses = {
            name: httpx.get(base + path, headers=bearer(token)).status_code for name, (base, path) in targets.items()
        }
        if set(statuses.values()) == {401} or time.monotonic() > deadline:
            return statuses
        time.sleep(0.2)


def test_revoking_a_subject_and_a_token_holds_at_the_gateway_and_every_service(stack, make_token, jwt_secret):
    lost_phone = f"officer-{uuid.uuid4().hex[:8]}"
    colleague = f"officer-{uuid.uuid4().hex[:8]}"
    old_token = make_token("police", sub=lost_phone)
    leaked_jti = uuid.uuid4().hex
    leaked = make_token("social_worker", sub=colleague, extra={"jti": leaked_jti})
    colleague_other = make_token("social_worker", sub=colleague)
    admin = make_token("admin", sub=f"admin-{uuid.uuid4().hex[:8]}")
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        assert client.get("/api/v1/screenings", headers=bearer(old_token)).status_code == 200
        refused = client.post("/api/v1/revocations", json={"sub": lost_phone, "reason": "x"}, headers=bearer(admin))
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "body.reason"
        police = client.post(
            "/api/v1/revocations", json={"sub": lost_phone, "reason": "phone lost"}, headers=bearer(old_token)
        )
        assert police.status_code == 403
        created = client.post(
            "/api/v1/revocations", json={"sub": lost_phone, "reason": "phone lost on duty"}, headers=bearer(admin)
        )
        assert created.status_code == 201, created.text
        assert (
            client.post(
                "/api/v1/revocations", json={"jti": leaked_jti, "reason": "pasted in a chat"}, headers=bearer(admin)
            ).status_code
            == 201
        )

    assert _refused_everywhere(stack, old_token) == {"gateway": 401, "screening": 401, "referral": 401}
    assert _refused_everywhere(stack, leaked) == {"gateway": 401, "screening": 401, "referral": 401}
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        # The colleague's other tokens and the officer's next sign-in are unaffected.
        assert client.get("/api/v1/referrals", headers=bearer(colleague_other)).status_code == 200
        now = int(time.time())
        fresh = issue_token(
            jwt_secret,
            sub=lost_phone,
            roles=["police"],
            org="org-a",
            issuer="putokaz-test",
            extra={"iat": now + 2, "exp": now + 600},
        )
        assert client.get("/api/v1/screenings", headers=bearer(fresh)).status_code == 200
        listed = client.get("/api/v1/revocations", headers=bearer(admin)).json()["items"]
        verified = client.get("/api/v1/revocations/verify", headers=bearer(admin))
        assert client.get("/api/v1/revocations/verify", headers=bearer(old_token)).status_code == 401
        assert client.get("/api/v1/revocations/verify", headers=bearer(colleague_other)).status_code == 403
    # The store's own hash chain holds both revocations (and any other test's) and is intact.
    assert verified.status_code == 200, verified.text
    assert verified.json()["ok"] is True and verified.json()["first_broken"] is None
    assert verified.json()["rows_checked"] >= 2
    reasons = {item["reason"]: item for item in listed}
    assert reasons["phone lost on duty"]["revoked_by"]["sub"].startswith("admin-")
    assert reasons["phone lost on duty"]["kind"] == "subject"
    assert lost_phone not in str(listed)  # digests only, never the subject id in clear
