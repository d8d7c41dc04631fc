"""The gateway's hop to a service misbehaving on purpose, through a real gateway process.

The upstreams are small raw HTTP/1.1 servers on loopback so they can do what a framework would not:
send `100 Continue` unasked, close a keep-alive connection just as a request arrives, hold requests.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager

import httpx

from putokaz.testing import UvicornProcess, auth

Request = tuple[str, str, dict[str, str], bytes]  # method, target, headers (lower-cased), body
Handler = Callable[[Request, int], Awaitable[bytes | None]]  # raw answer bytes, or None to close


def _answer(status: int, body: dict, extra: str = "") -> bytes:
    payload = json.dumps(body).encode()
    head = f"HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {len(payload)}\r\n{extra}\r\n"
    return head.encode() + payload


@asynccontextmanager
async def raw_upstream(handler: Handler) -> AsyncIterator[str]:
    """A keep-alive HTTP/1.1 server; `handler(request, index_on_connection)` writes the raw answer."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            index = 0
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {
                    k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)
                }
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                raw = await handler((method, target, headers, body), index)
                index += 1
                if raw is None:
                    return
                writer.write(raw)
                await writer.drain()
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()


@contextmanager
def gateway_process(kernel_env: dict[str, str], tmp_path, **upstreams_and_settings: str) -> Iterator[str]:
    env = {**kernel_env, **{f"PUTOKAZ_{k.upper()}": v for k, v in upstreams_and_settings.items()}}
    process = UvicornProcess("gateway.app:create_app", env, log_path=tmp_path / "gateway.log").start()
    try:
        yield process.url
    finally:
        process.stop()


async def test_interim_100_continue_is_never_taken_for_the_answer(kernel_env, make_token, tmp_path):
    """(b) A service sending `100 Continue` (unasked) before each answer: every caller gets their own answer."""
    seen: list[dict[str, str]] = []

    async def interim_then_answer(request: Request, _: int) -> bytes:
        method, target, headers, body = request
        seen.append(headers)
        if target.endswith("/switch"):
            return b"HTTP/1.1 101 Switching Protocols\r\nupgrade: h2c\r\nconnection: upgrade\r\n\r\n"
        extra = "connection: x-internal\r\nx-internal: secret\r\nkeep-alive: timeout=60\r\n"
        extra += "proxy-authenticate: Basic\r\ntrailer: x-checksum\r\nupgrade: h2c\r\n"
        answer = _answer(200, {"rid": headers.get("x-request-id"), "method": method, "length": len(body)}, extra)
        return b"HTTP/1.1 100 Continue\r\n\r\n" + answer

    async with raw_upstream(interim_then_answer) as url:
        with gateway_process(kernel_env, tmp_path, screening_url=url) as gateway:
            async with httpx.AsyncClient(base_url=gateway, timeout=10) as client:
                token = make_token("police")
                answers = []
                for i in range(20):
                    headers = {**auth(token), "X-Request-ID": f"rid-{i}"}
                    if i % 2:
                        headers |= {"Expect": "100-continue", "Connection": "keep-alive, x-secret", "X-Secret": "s"}
                        headers |= {"Keep-Alive": "timeout=9", "Proxy-Authorization": "Basic eDp5", "TE": "trailers"}
                        response = await client.post("/api/v1/screenings", content=b"x" * 3000, headers=headers)
                    else:
                        response = await client.get("/api/v1/screenings", headers=headers)
                    answers.append(response)
                switched = await client.get("/api/v1/screenings/switch", headers=auth(token))
    for i, response in enumerate(answers):
        assert response.status_code == 200, response.text
        assert response.json()["rid"] == f"rid-{i}"
        assert response.headers["x-request-id"] == f"rid-{i}"
        assert response.json()["length"] == (3000 if i % 2 else 0)
        for hop in ("x-internal", "keep-alive", "proxy-authenticate", "trailer", "upgrade"):
            assert hop not in response.headers
    for headers in seen:
        for hop in ("expect", "x-secret", "keep-alive", "proxy-authorization", "te", "upgrade", "trailer"):
            assert hop not in headers
    assert switched.status_code == 502
    assert switched.headers["content-type"] == "application/problem+json"


async def test_keep_alive_closed_by_the_service_retries_a_get_but_never_resends_a_post(
    kernel_env, make_token, tmp_path
):
    """(c) The service closes a kept-alive connection as the next request arrives on it."""
    received: Counter[tuple[str, str]] = Counter()

    async def first_request_only(request: Request, index: int) -> bytes | None:
        method, _, headers, _ = request
        received[method, headers["x-request-id"]] += 1
        if index > 0:
            return None  # closes the connection without an answer
        return _answer(200, {"rid": headers["x-request-id"]})

    async with raw_upstream(first_request_only) as url:
        with gateway_process(kernel_env, tmp_path, screening_url=url) as gateway:
            async with httpx.AsyncClient(base_url=gateway, timeout=10) as client:
                headers = auth(make_token("police"))
                first = await client.get("/api/v1/screenings", headers={**headers, "X-Request-ID": "get-1"})
                retried = await client.get("/api/v1/screenings", headers={**headers, "X-Request-ID": "get-2"})
                posted = await client.post("/api/v1/screenings", json={}, headers={**headers, "X-Request-ID": "post-1"})
    assert first.status_code == 200 and first.json()["rid"] == "get-1"
    assert retried.status_code == 200 and retried.json()["rid"] == "get-2"
    assert received["GET", "get-2"] == 2  # dropped once on the reused connection, answered on a fresh one
    assert posted.status_code == 502
    assert posted.headers["content-type"] == "application/problem+json"
    assert received["POST", "post-1"] == 1


async def test_connection_cap_queues_then_answers_503_with_retry_after(kernel_env, make_token, tmp_path):
    """(d) Every allowed connection busy: requests wait, then get 503 problem+json, never hang."""
    release = asyncio.Event()
    active = 0
    most_active = 0

    async def hold(request: Request, _: int) -> bytes:
        nonlocal active, most_active
        active += 1
        most_active = max(most_active, active)
        await release.wait()
        active -= 1
        return _answer(200, {"rid": request[2]["x-request-id"]})

    async with raw_upstream(hold) as url:
        settings = {"screening_url": url, "upstream_connections": "2", "upstream_queue_seconds": "2"}
        with gateway_process(kernel_env, tmp_path, **settings) as gateway:
            async with httpx.AsyncClient(base_url=gateway, timeout=30) as client:
                headers = auth(make_token("police"))

                def get(rid: str) -> Awaitable[httpx.Response]:
                    return client.get("/api/v1/screenings", headers={**headers, "X-Request-ID": rid})

                holders = [asyncio.create_task(get(f"hold-{i}")) for i in range(2)]
                while active < 2:
                    await asyncio.sleep(0.02)
                refused = await asyncio.gather(*(get(f"wait-{i}") for i in range(3)))
                queued = asyncio.create_task(get("queued"))
                await asyncio.sleep(0.3)  # let it reach the gateway's queue, well inside its 2 s
                release.set()
                served = await asyncio.gather(*holders, queued)
    for response in refused:
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert int(response.headers["retry-after"]) >= 1
    assert [r.status_code for r in served] == [200, 200, 200]
    assert [r.json()["rid"] for r in served] == ["hold-0", "hold-1", "queued"]
    assert most_active == 2
