"""Gateway behaviour that needs no service behind it: limits, errors, headers, upstream failures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
import pytest
from aiohttp import web

from gateway.app import Gateway
from gateway.settings import GatewaySettings
from putokaz.testing import TEST_AUDIENCE, TEST_ISSUER, auth, free_port


def _settings(jwt_secret: str, **over: object) -> GatewaySettings:
    closed = f"http://127.0.0.1:{free_port()}"
    base = {
        "environment": "test",
        "jwt_secret": jwt_secret,
        "jwt_issuer": TEST_ISSUER,
        "jwt_audience": TEST_AUDIENCE,
        "screening_url": closed,
        "referral_url": closed,
        "registry_url": closed,
    }
    base.update(over)
    return GatewaySettings(**base)


@asynccontextmanager
async def gateway_client(settings: GatewaySettings) -> AsyncIterator[httpx.AsyncClient]:
    gateway = Gateway(settings, configure_logs=False)
    await gateway.startup()
    try:
        transport = httpx.ASGITransport(app=gateway)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client
    finally:
        await gateway.shutdown()


@asynccontextmanager
async def serve_on_loopback(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> AsyncIterator[str]:
    """An aiohttp upstream answering every method and path with `handler`, on a free loopback port."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def slow_upstream(delay: float) -> AsyncIterator[str]:
    async def handler(_: web.Request) -> web.Response:
        await asyncio.sleep(delay)
        return web.json_response({"late": True})

    async with serve_on_loopback(handler) as url:
        yield url


async def test_unknown_route_is_404_and_internal_never_exposed(jwt_secret, make_token):
    async with gateway_client(_settings(jwt_secret)) as client:
        headers = auth(make_token("admin"))
        unknown = await client.get("/api/v1/unknown", headers=headers)
        internal = await client.post("/internal/events", headers=headers)
        sneaky = await client.get("/api/v1/screenings/..%2Finternal", headers=headers)
    assert unknown.status_code == 404 and unknown.headers["content-type"] == "application/problem+json"
    assert internal.status_code == 404
    assert sneaky.status_code == 404


async def test_wrong_method_on_known_route_is_405(jwt_secret, make_token):
    async with gateway_client(_settings(jwt_secret)) as client:
        response = await client.delete("/api/v1/screenings", headers=auth(make_token("police")))
    assert response.status_code == 405


@pytest.mark.parametrize("header", [None, "Basic dTpw", "Bearer", "Bearer not.a.jwt"])
async def test_missing_or_bad_token_is_401_before_any_upstream(jwt_secret, header):
    async with gateway_client(_settings(jwt_secret)) as client:
        response = await client.get("/api/v1/screenings", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert "www-authenticate" in response.headers


async def test_expired_and_wrong_audience_tokens_are_401(jwt_secret, make_token):
    async with gateway_client(_settings(jwt_secret)) as client:
        expired = await client.get("/api/v1/screenings", headers=auth(make_token("police", ttl_seconds=-3600)))
        wrong_aud = await client.get("/api/v1/screenings", headers=auth(make_token("police", audience="other")))
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]
    assert wrong_aud.status_code == 401 and "audience" in wrong_aud.json()["detail"]


@pytest.mark.parametrize(
    ("path", "status", "detail"),
    [
        ("/api/v1/stats/victims", 403, "Your role may not call this route"),
        ("/api/v1/screenings", 502, "The screening service is unavailable"),
    ],
    ids=["role_not_in_policy_is_403", "upstream_down_is_502"],
)
async def test_police_get_answers_a_problem(jwt_secret, make_token, path, status, detail):
    async with gateway_client(_settings(jwt_secret)) as client:
        response = await client.get(path, headers=auth(make_token("police")))
    assert response.status_code == status
    assert response.json()["detail"] == detail


async def test_rate_limit_per_subject_answers_429_with_retry_after(jwt_secret, make_token):
    settings = _settings(jwt_secret, rate_limit_per_minute=60, rate_limit_burst=3)
    async with gateway_client(settings) as client:
        mine = auth(make_token("police", sub="busy-officer"))
        theirs = auth(make_token("police", sub="other-officer"))
        statuses = [(await client.get("/api/v1/screenings", headers=mine)).status_code for _ in range(4)]
        limited = await client.get("/api/v1/screenings", headers=mine)
        other = await client.get("/api/v1/screenings", headers=theirs)
    # The first three reach the (absent) upstream: 502; then the bucket is empty.
    assert statuses[:3] == [502, 502, 502]
    assert statuses[3] == 429 and limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert other.status_code == 502


async def test_oversize_body_is_413_declared_or_streamed(jwt_secret, make_token):
    settings = _settings(jwt_secret, max_body_bytes=1000)
    async with gateway_client(settings) as client:
        headers = {**auth(make_token("police")), "content-type": "application/json"}
        declared = await client.post("/api/v1/screenings", content=b"x" * 1001, headers=headers)

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(5):
                yield b"y" * 400

        streamed = await client.post("/api/v1/screenings", content=chunks(), headers=headers)
    assert declared.status_code == 413
    assert streamed.status_code == 413
    assert streamed.headers["content-type"] == "application/problem+json"


async def test_upstream_hanging_is_504_not_a_hang(jwt_secret, make_token):
    async with slow_upstream(5.0) as url:
        settings = _settings(jwt_secret, screening_url=url, upstream_timeout_seconds=0.5)
        async with gateway_client(settings) as client:
            response = await client.get("/api/v1/screenings", headers=auth(make_token("police")))
    assert response.status_code == 504
    assert response.headers["content-type"] == "application/problem+json"


async def test_security_headers_and_request_id_on_gateway_answers(jwt_secret):
    async with gateway_client(_settings(jwt_secret)) as client:
        response = await client.get("/healthz", headers={"X-Request-ID": "trace-42"})
        problem = await client.get("/api/v1/nothing")
    for r in (response, problem):
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert "default-src 'none'" in r.headers["content-security-policy"]
    assert response.headers["x-request-id"] == "trace-42"
    assert len(problem.headers["x-request-id"]) == 32


async def test_readyz_reports_unreachable_services(jwt_secret):
    async with gateway_client(_settings(jwt_secret)) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert set(response.json()["services"].values()) == {"unreachable"}


@asynccontextmanager
async def echo_upstream() -> AsyncIterator[str]:
    """An upstream answering in chunks, sometimes closing the connection, echoing what it got."""

    async def handler(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        response = web.StreamResponse(status=201, headers={"content-type": "application/json"})
        response.enable_chunked_encoding()
        if request.query.get("close"):
            response.force_close()
        await response.prepare(request)
        await response.write(b'{"method": "' + request.method.encode() + b'", ')
        await response.write(b'"rid": "' + request.headers.get("x-request-id", "").encode() + b'", ')
        await response.write(b'"auth": ' + (b"true" if "authorization" in request.headers else b"false") + b", ")
        await response.write(
            b'"auth_values": ' + str(len(request.headers.getall("authorization", []))).encode() + b", "
        )
        await response.write(b'"length": ' + str(len(body)).encode() + b"}")
        await response.write_eof()
        return response

    async with serve_on_loopback(handler) as url:
        yield url


async def test_chunked_and_closing_upstream_answers_pass_through_whole(jwt_secret, make_token):
    async with echo_upstream() as url:
        async with gateway_client(_settings(jwt_secret, screening_url=url)) as client:
            headers = {**auth(make_token("police")), "X-Request-ID": "rid-1"}
            answers = []
            for i in range(6):
                query = "?close=1" if i % 2 else ""
                answers.append(await client.post(f"/api/v1/screenings{query}", json={"n": i}, headers=headers))
    for answer in answers:
        assert answer.status_code == 201
        body = answer.json()
        assert body["method"] == "POST" and body["rid"] == "rid-1" and body["auth"] is True
        assert body["length"] == len(b'{"n":0}')
        assert answer.headers["content-length"] == str(len(answer.content))


async def test_only_the_verified_authorization_header_reaches_the_service(jwt_secret, make_token):
    async with echo_upstream() as url:
        async with gateway_client(_settings(jwt_secret, screening_url=url)) as client:
            smuggled = [("authorization", "Bearer smuggled-token"), ("authorization", f"Bearer {make_token('police')}")]
            response = await client.post("/api/v1/screenings", json={}, headers=smuggled)
    assert response.status_code == 201
    assert response.json()["auth_values"] == 1


def _unsigned(claims: dict) -> str:
    import base64
    import json

    def b64(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return b64({"alg": "none", "typ": "JWT"}) + "." + b64(claims) + "."


@pytest.mark.parametrize("attack", ["alg_none", "forged", "wrong_issuer", "no_sub", "hs256_against_rs256"])
async def test_token_attacks_stop_at_the_gateway_with_401(jwt_secret, make_token, attack):
    import time

    from jose import jwt

    now = int(time.time())
    claims = {
        "sub": "x",
        "roles": ["admin"],
        "org": "o",
        "iss": TEST_ISSUER,
        "aud": TEST_AUDIENCE,
        "iat": now,
        "exp": now + 300,
    }
    settings = _settings(jwt_secret)
    if attack == "alg_none":
        token = _unsigned(claims)
    elif attack == "forged":
        token = jwt.encode(claims, "someone-elses-secret-that-is-long-enough-0123456789", algorithm="HS256")
    elif attack == "wrong_issuer":
        token = make_token("admin", issuer="https://evil.example")
    elif attack == "no_sub":
        token = jwt.encode({k: v for k, v in claims.items() if k != "sub"}, jwt_secret, algorithm="HS256")
    else:
        settings = _settings(jwt_secret, jwt_algorithms=["RS256"], jwks_url=f"http://127.0.0.1:{free_port()}/jwks")
        token = make_token("admin")
    async with gateway_client(settings) as client:
        response = await client.get("/api/v1/screenings/audit", headers=auth(token))
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"].startswith("Invalid token")


async def test_repeated_bad_tokens_from_one_address_are_throttled(jwt_secret, make_token):
    settings = _settings(jwt_secret, rate_limit_per_minute=60, rate_limit_burst=3)
    async with gateway_client(settings) as client:
        statuses = [
            (await client.get("/api/v1/screenings", headers=auth("guess.guess.guess"))).status_code for _ in range(5)
        ]
        # A valid token from the same address is not punished for the failures.
        valid = await client.get("/api/v1/screenings", headers=auth(make_token("police")))
    assert statuses[:3] == [401, 401, 401]
    assert statuses[3:] == [429, 429]
    assert valid.status_code == 502  # reached the (absent) upstream


async def test_client_disconnecting_mid_body_forwards_nothing(jwt_secret, make_token):
    async with echo_upstream() as url:
        gateway = Gateway(_settings(jwt_secret, screening_url=url), configure_logs=False)
        await gateway.startup()
        sent: list[dict] = []
        messages = [
            {"type": "http.request", "body": b'{"partial": ', "more_body": True},
            {"type": "http.disconnect"},
        ]

        async def receive() -> dict:
            return messages.pop(0)

        async def send(message: dict) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "method": "POST",
            "path": "/api/v1/screenings",
            "raw_path": b"/api/v1/screenings",
            "query_string": b"",
            "scheme": "http",
            "client": ("127.0.0.1", 5000),
            "headers": [
                (b"authorization", f"Bearer {make_token('police')}".encode()),
                (b"content-type", b"application/json"),
                (b"content-length", b"100"),
            ],
        }
        try:
            await gateway(scope, receive, send)
        finally:
            await gateway.shutdown()
    assert sent == []  # no answer to a gone client, and above all no request to the service
