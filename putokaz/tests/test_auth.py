"""Token attacks against a service (docs/security.md): every one answers 401 problem+json."""

from __future__ import annotations

import base64
import json
import time

import pytest
from jose import jwt
from pydantic import ValidationError

from putokaz.auth import issue_token
from putokaz.settings import KernelSettings
from putokaz.testing import TEST_AUDIENCE, TEST_ISSUER, app_client, auth


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(**over: object) -> dict:
    now = int(time.time())
    claims = {
        "sub": "u1",
        "roles": ["police"],
        "org": "org-a",
        "iss": TEST_ISSUER,
        "aud": TEST_AUDIENCE,
        "iat": now,
        "exp": now + 600,
        "jti": "j1",
    }
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not None}


async def _whoami(app: object, token: str) -> tuple[int, dict, dict]:
    async with app_client(app) as client:
        response = await client.get("/api/v1/whoami", headers=auth(token))
        return response.status_code, response.json(), dict(response.headers)


async def test_valid_token_yields_principal(kernel_app, make_token):
    status, body, _ = await _whoami(kernel_app, make_token("police", org="org-x", sub="officer-7"))
    assert status == 200
    assert body == {"sub": "officer-7", "org": "org-x", "roles": ["police"]}


async def test_alg_none_token_is_rejected(kernel_app):
    token = _b64({"alg": "none", "typ": "JWT"}) + "." + _b64(_claims()) + "."
    status, body, headers = await _whoami(kernel_app, token)
    assert status == 401
    assert headers["content-type"] == "application/problem+json"
    # Refused for its empty signature before its algorithm is even looked at; with a signature, for the latter.
    assert body["detail"] == "Invalid token: malformed token"
    status, body, _ = await _whoami(kernel_app, token + "c2ln")
    assert status == 401 and "algorithm" in body["detail"]


async def test_forged_signature_is_rejected(kernel_app):
    token = issue_token(
        "another-secret-that-is-long-enough-to-sign-0123456789",
        sub="u",
        roles=["police"],
        org="org-a",
        issuer=TEST_ISSUER,
        audience=TEST_AUDIENCE,
    )
    status, body, _ = await _whoami(kernel_app, token)
    assert status == 401
    assert body["detail"] == "Invalid token: bad signature"


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"exp": int(time.time()) - 3600}, "token expired"),
        ({"aud": "someone-else"}, "wrong audience"),
        ({"iss": "https://evil.example"}, "wrong issuer"),
        ({"sub": None}, "token lacks a required claim"),
        ({"iat": None}, "token lacks a required claim"),
        ({"exp": None}, "token lacks a required claim"),
        ({"org": None}, "token lacks an organisation"),
    ],
)
async def test_bad_claims_are_rejected(kernel_app, jwt_secret, override, reason):
    token = jwt.encode(_claims(**override), jwt_secret, algorithm="HS256")
    status, body, _ = await _whoami(kernel_app, token)
    assert status == 401
    assert body["detail"] == f"Invalid token: {reason}"
    assert body["status"] == 401 and body["type"].endswith("/unauthorized")


async def test_missing_and_malformed_authorization_are_rejected(kernel_app):
    async with app_client(kernel_app) as client:
        missing = await client.get("/api/v1/whoami")
        basic = await client.get("/api/v1/whoami", headers={"Authorization": "Basic dTpw"})
        garbage = await client.get("/api/v1/whoami", headers=auth("not-a-jwt"))
    assert [missing.status_code, basic.status_code, garbage.status_code] == [401, 401, 401]
    assert garbage.json()["detail"] == "Invalid token: malformed token"


async def test_role_not_allowed_is_forbidden(kernel_app, make_token):
    status, body, _ = await _whoami(kernel_app, make_token("coordinator"))
    assert status == 403
    assert body["title"] == "Forbidden"


async def test_hs256_token_refused_when_rs256_configured(kernel_settings, jwt_secret):
    """HS/RS confusion: with RS256 configured an HMAC token is refused before any key is used."""
    from putokaz.auth import InvalidToken, TokenVerifier

    settings = kernel_settings.model_copy(update={"jwt_algorithms": ["RS256"], "jwks_url": "http://127.0.0.1:9/jwks"})
    verifier = TokenVerifier(settings)
    token = jwt.encode(_claims(), jwt_secret, algorithm="HS256")
    with pytest.raises(InvalidToken, match="algorithm not allowed"):
        await verifier.verify(token)


def test_production_refuses_weak_or_missing_secret():
    with pytest.raises(ValidationError, match="refusing to start in production"):
        KernelSettings(environment="production", jwt_secret=None, jwt_secret_file=None)
    with pytest.raises(ValidationError, match="refusing to start in production"):
        KernelSettings(environment="production", jwt_secret="changeme")
    with pytest.raises(ValidationError, match="refusing to start in production"):
        KernelSettings(environment="production", jwt_secret="a" * 64)
    ok = KernelSettings(environment="production", jwt_secret="q8Xr2vLk9PzT4mWc7YbN1sHd6FgJ3uKe0AoViRtZyB5x")
    assert ok.resolved_jwt_secret()


def test_mixing_hmac_and_public_key_algorithms_is_refused():
    with pytest.raises(ValueError, match="must not mix"):
        KernelSettings(jwt_algorithms=["HS256", "RS256"], jwks_url="https://idp.example/jwks")
