"""RFC 8725 hardening: header size, canonical compact form, numeric times, lifetime, typ/crit, the cache."""

from __future__ import annotations

import time

import pytest
from jose import jwt

from putokaz.auth import InvalidToken, TokenVerifier, issue_token
from putokaz.jws import MAX_AUTHORIZATION_BYTES
from putokaz.settings import KernelSettings
from putokaz.testing import TEST_AUDIENCE, TEST_ISSUER, app_client, auth


def _claims(**over: object) -> dict:
    now = int(time.time())
    claims = {"sub": "u1", "roles": ["police"], "org": "org-a", "iss": TEST_ISSUER, "aud": TEST_AUDIENCE}
    claims |= {"iat": now, "exp": now + 600, "jti": "j1"}
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not None}


def _signed(secret: str, headers: dict | None = None, **over: object) -> str:
    return jwt.encode(_claims(**over), secret, algorithm="HS256", headers=headers)


async def _status(app: object, authorization: str) -> tuple[int, dict]:
    async with app_client(app) as client:
        response = await client.get("/api/v1/whoami", headers={"Authorization": authorization})
    assert response.headers["content-type"] in ("application/json", "application/problem+json")
    return response.status_code, response.json()


async def test_oversize_authorization_header_is_431_before_parsing(kernel_app, jwt_secret):
    huge = "Bearer " + _signed(jwt_secret) + "A" * MAX_AUTHORIZATION_BYTES
    status, body = await _status(kernel_app, huge)
    assert status == 431 and body["status"] == 431


def _flip_unused_bits(segment: str) -> str:
    """The same bytes written non-canonically: the last character's unused low bits set."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    assert len(segment) % 4 in (2, 3)
    return segment[:-1] + alphabet[alphabet.index(segment[-1]) ^ 1]


@pytest.mark.parametrize("variant", ["junk", "padding", "plus_slash", "unused_bits", "four_parts", "space"])
async def test_non_canonical_compact_tokens_are_401(kernel_app, jwt_secret, variant):
    token = _signed(jwt_secret)
    while "-" not in token and "_" not in token:  # plus_slash needs a character to swap
        token = _signed(jwt_secret, jti=str(time.time_ns()))
    head, payload, signature = token.split(".")
    forged = {
        "junk": token + "!",
        "padding": token + "==",
        "plus_slash": token.replace("-", "+").replace("_", "/"),
        "unused_bits": f"{head}.{payload}.{_flip_unused_bits(signature)}",
        "four_parts": token + ".AAAA",
        "space": token + " x",
    }[variant]
    status, body = await _status(kernel_app, f"Bearer {forged}")
    assert status == 401, body
    status, _ = await _status(kernel_app, f"Bearer {token}")
    assert status == 200


@pytest.mark.parametrize(
    "case",
    ["exp_string", "iat_string", "nbf_string", "iat_future", "too_long", "typ_other", "crit"],
)
async def test_claims_and_header_rules_are_401(kernel_app, jwt_secret, case):
    now = int(time.time())
    token = {
        "exp_string": lambda: _signed(jwt_secret, exp=str(now + 600)),
        "iat_string": lambda: _signed(jwt_secret, iat=str(now)),
        "nbf_string": lambda: _signed(jwt_secret, nbf=str(now)),
        "iat_future": lambda: _signed(jwt_secret, iat=now + 3600, exp=now + 7200),
        "too_long": lambda: _signed(jwt_secret, exp=now + 13 * 3600),
        "typ_other": lambda: _signed(jwt_secret, headers={"typ": "JOSE+JSON"}),
        "crit": lambda: _signed(jwt_secret, headers={"crit": ["exp"]}),
    }[case]()
    status, body = await _status(kernel_app, f"Bearer {token}")
    assert status == 401, body
    assert body["detail"].startswith("Invalid token")


@pytest.mark.parametrize("typ", ["JWT", "at+jwt", "application/at+jwt"])
async def test_accepted_token_types(kernel_app, jwt_secret, typ):
    status, _ = await _status(kernel_app, f"Bearer {_signed(jwt_secret, headers={'typ': typ})}")
    assert status == 200


def _verifier(secret: str, **over: object) -> TokenVerifier:
    settings = KernelSettings(
        environment="test", jwt_secret=secret, jwt_issuer=TEST_ISSUER, jwt_audience=TEST_AUDIENCE, **over
    )
    return TokenVerifier(settings)


def _token(secret: str, i: int, **kw: object) -> str:
    return issue_token(secret, sub=f"user-{i}", roles=["police"], org="o", issuer=TEST_ISSUER, **kw)


async def test_token_cache_is_bounded_by_entries_and_keyed_by_a_digest(jwt_secret):
    verifier = _verifier(jwt_secret, token_cache_entries=5)
    for i in range(40):
        await verifier.verify(_token(jwt_secret, i))
    assert verifier.cached_tokens == 5
    token = _token(jwt_secret, 99)
    await verifier.verify(token)
    assert all(isinstance(key, bytes) and len(key) == 32 for key in verifier._cache)
    assert token not in verifier._cache


async def test_token_cache_is_bounded_by_bytes(jwt_secret):
    verifier = _verifier(jwt_secret, token_cache_bytes=4096)
    for i in range(40):
        # Big claims do not make big entries: only what the principal keeps counts, and it is bounded.
        await verifier.verify(_token(jwt_secret, i, extra={"org": "o" * 1000}))
    assert 0 < verifier.cached_tokens <= 4


async def test_a_token_refused_once_is_refused_again(jwt_secret):
    verifier = _verifier(jwt_secret)
    bad = _token(jwt_secret, 1) + "!"
    for _ in range(2):
        with pytest.raises(InvalidToken):
            await verifier.verify(bad)


async def test_services_check_the_token_before_reading_the_body(kernel_app, make_token):
    async with app_client(kernel_app) as client:
        junk = await client.post("/api/v1/notes", content=b"{not json", headers={"content-type": "application/json"})
        unknown = await client.post("/api/v1/notes", json={"surprise": 1})
        good = await client.post(
            "/api/v1/notes",
            content=b"{not json",
            headers={**auth(make_token("police")), "content-type": "application/json"},
        )
    assert junk.status_code == 401 and unknown.status_code == 401
    assert good.status_code == 422  # with a token, the body's problems are named


def notes_post_scope(headers: list[tuple[bytes, bytes]]) -> dict:
    """The ASGI scope of a JSON POST to /api/v1/notes with these extra headers (driven by hand, no client)."""
    return {
        "type": "http",
        "http_version": "1.1",
        "method": "POST",
        "path": "/api/v1/notes",
        "raw_path": b"/api/v1/notes",
        "query_string": b"",
        "root_path": "",
        "scheme": "http",
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
        "headers": [(b"content-type", b"application/json"), *headers],
    }


async def test_services_refuse_a_huge_body_without_reading_it(kernel_app, make_token):
    """No token: 401 without one byte read. A token and a body over the cap: 413."""
    read: list[int] = []

    async def receive() -> dict:
        read.append(1)
        return {"type": "http.request", "body": b"x" * 65536, "more_body": True}

    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    async with app_client(kernel_app):
        for headers in ([], [(b"authorization", f"Bearer {make_token('police')}".encode())]):
            scope = notes_post_scope([(b"content-length", b"157286400"), *headers])
            sent.clear()
            await kernel_app(scope, receive, send)
            assert read == []
            statuses = [m["status"] for m in sent if m["type"] == "http.response.start"]
            assert statuses == ([401] if not headers else [413])


async def test_services_stop_reading_a_streamed_body_at_their_cap(kernel_app, make_token):
    chunks = 0

    async def receive() -> dict:
        nonlocal chunks
        chunks += 1
        return {"type": "http.request", "body": b" " * 65536, "more_body": True}

    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    scope = notes_post_scope([(b"authorization", f"Bearer {make_token('police')}".encode())])
    async with app_client(kernel_app):
        await kernel_app(scope, receive, send)
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [413]
    assert chunks <= kernel_app.state.settings.body_limit_bytes // 65536 + 1
