"""RS256 tokens verified against a JWKS served on loopback: kid lookup, cache, refresh cooldown."""

from __future__ import annotations

import asyncio
import base64
import time

import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwt

from putokaz.auth import InvalidToken, TokenVerifier
from putokaz.settings import KernelSettings
from putokaz.testing import free_port


def _b64int(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _keypair(kid: str) -> tuple[str, dict]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    numbers = key.public_key().public_numbers()
    return pem, {
        "kty": "RSA",
        "kid": kid,
        "alg": "RS256",
        "use": "sig",
        "n": _b64int(numbers.n),
        "e": _b64int(numbers.e),
    }


def _token(pem: str, kid: str, **over: object) -> str:
    now = int(time.time())
    claims = {
        "sub": "s",
        "roles": ["police"],
        "org": "o",
        "iss": "https://idp.test",
        "aud": "putokaz",
        "iat": now,
        "exp": now + 300,
    }
    claims.update(over)
    return jwt.encode(claims, pem, algorithm="RS256", headers={"kid": kid})


@pytest.fixture
async def jwks_server():
    state = {"keys": [], "hits": 0}

    async def handler(_: web.Request) -> web.Response:
        state["hits"] += 1
        return web.json_response({"keys": state["keys"]})

    app = web.Application()
    app.router.add_get("/jwks", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    yield f"http://127.0.0.1:{port}/jwks", state
    await runner.cleanup()


def _verifier(url: str, cooldown: float = 30.0) -> TokenVerifier:
    return TokenVerifier(
        KernelSettings(
            jwt_algorithms=["RS256"],
            jwks_url=url,
            jwt_issuer="https://idp.test",
            jwks_refresh_cooldown_seconds=cooldown,
            jwt_secret_file=None,
        )
    )


async def test_rs256_token_verified_by_kid_and_keys_cached(jwks_server):
    url, state = jwks_server
    pem, public = _keypair("k1")
    state["keys"] = [public]
    verifier = _verifier(url)
    principal = await verifier.verify(_token(pem, "k1", sub="a"))
    await verifier.verify(_token(pem, "k1", sub="b"))
    assert principal.sub == "a"
    assert state["hits"] == 1


async def test_unknown_kid_refreshes_once_within_cooldown(jwks_server):
    url, state = jwks_server
    pem1, public1 = _keypair("k1")
    pem2, public2 = _keypair("k2")
    state["keys"] = [public1]
    verifier = _verifier(url, cooldown=3600)
    await verifier.verify(_token(pem1, "k1"))
    state["keys"] = [public1, public2]
    # Within the cooldown a flood of unknown kids cannot hammer the identity provider.
    with pytest.raises(InvalidToken, match="unknown signing key"):
        await verifier.verify(_token(pem2, "k2"))
    assert state["hits"] == 1

    fresh = _verifier(url, cooldown=0)
    await fresh.verify(_token(pem1, "k1"))
    assert (await fresh.verify(_token(pem2, "k2", sub="rotated"))).sub == "rotated"


async def test_token_signed_by_unlisted_key_is_rejected(jwks_server):
    url, state = jwks_server
    _, public = _keypair("k1")
    attacker_pem, _ = _keypair("k1")
    state["keys"] = [public]
    with pytest.raises(InvalidToken, match="bad signature"):
        await _verifier(url).verify(_token(attacker_pem, "k1"))


async def test_hmac_token_signed_with_public_key_is_rejected(jwks_server):
    """Classic HS/RS confusion: an HS256 token keyed with the public key must never verify."""
    url, state = jwks_server
    _, public = _keypair("k1")
    state["keys"] = [public]
    now = int(time.time())
    forged = jwt.encode(
        {
            "sub": "s",
            "roles": ["admin"],
            "org": "o",
            "iss": "https://idp.test",
            "aud": "putokaz",
            "iat": now,
            "exp": now + 60,
        },
        public["n"],
        algorithm="HS256",
        headers={"kid": "k1"},
    )
    with pytest.raises(InvalidToken, match="algorithm not allowed"):
        await _verifier(url).verify(forged)
    await asyncio.sleep(0)
