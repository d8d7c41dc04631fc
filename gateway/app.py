"""The public gateway: a lean ASGI app that authenticates, applies the policy table, limits and proxies.

It is deliberately not a FastAPI app, and its hop to the services is a lean keep-alive pool
(gateway/upstream.py) rather than a general-purpose client: both would cost more than the proxying
itself (DESIGN.md §10 asks for ≥0.5× direct throughput).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import aiohttp
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import Message, Receive, Scope, Send

from gateway.openapi import OpenApiMerger, swagger_html
from gateway.policy import Policy, Rule
from gateway.ratelimit import RateLimiter, make_rate_limiter
from gateway.settings import GatewaySettings
from gateway.upstream import UpstreamError, UpstreamPool
from putokaz.auth import InvalidToken, TokenVerifier
from putokaz.errors import PROBLEM_CONTENT_TYPE, problem_body
from putokaz.logs import accept_request_id, configure_logging, request_id_var
from putokaz.middleware import ServiceMetrics

logger = logging.getLogger("putokaz.gateway")

SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"strict-transport-security", b"max-age=63072000; includeSubDomains"),
    (b"cache-control", b"no-store"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
DOCS_CSP = (
    b"content-security-policy",
    b"default-src 'none'; script-src 'unsafe-inline' https://cdn.jsdelivr.net; "
    b"style-src 'unsafe-inline' https://cdn.jsdelivr.net; img-src data: https://fastapi.tiangolo.com; "
    b"connect-src 'self'; frame-ancestors 'none'",
)
HOP_BY_HOP = {
    b"connection",
    b"keep-alive",
    b"proxy-authenticate",
    b"proxy-authorization",
    b"te",
    b"trailer",
    b"transfer-encoding",
    b"upgrade",
    b"host",
    b"content-length",
    b"x-request-id",
    b"x-forwarded-for",
    b"x-forwarded-proto",
}
RESPONSE_DROP = {
    b"connection",
    b"keep-alive",
    b"transfer-encoding",
    b"upgrade",
    b"x-request-id",
    b"server",
    b"date",
    b"proxy-authenticate",
    b"trailer",
    b"content-length",
}


class BodyTooLarge(Exception):
    pass


class ClientGone(Exception):
    """The client disconnected before sending its whole body: nothing must be forwarded."""


class Gateway:
    def __init__(
        self,
        settings: GatewaySettings | None = None,
        *,
        rate_limiter: RateLimiter | None = None,
        configure_logs: bool = True,
    ) -> None:
        self.settings = settings or GatewaySettings()
        if configure_logs:
            configure_logging("gateway", self.settings.log_level)
        self.policy = Policy()
        self.verifier = TokenVerifier(self.settings)
        self.rate_limiter = rate_limiter or make_rate_limiter(
            self.settings.rate_limit_backend, self.settings.rate_limit_per_minute, self.settings.rate_limit_burst
        )
        self.upstreams = {name: url.rstrip("/") for name, url in self.settings.upstreams().items()}
        self.metrics = ServiceMetrics("gateway")
        self.session: aiohttp.ClientSession | None = None
        self.pools = {
            name: UpstreamPool(
                url,
                max_idle=self.settings.upstream_pool_size,
                connect_timeout=self.settings.upstream_connect_timeout_seconds,
            )
            for name, url in self.upstreams.items()
        }
        self.openapi = OpenApiMerger(self)
        self.local_routes = {
            "/healthz": self._healthz,
            "/readyz": self._readyz,
            "/metrics": self._metrics,
            "/openapi.json": self._openapi,
            "/docs": self._docs,
        }

    # --- lifecycle -------------------------------------------------------------------------
    async def startup(self) -> None:
        connector = aiohttp.TCPConnector(
            limit=self.settings.upstream_pool_size, limit_per_host=0, ttl_dns_cache=300, keepalive_timeout=60
        )
        self.session = aiohttp.ClientSession(
            connector=connector,
            auto_decompress=False,
            cookie_jar=aiohttp.DummyCookieJar(),
            skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type"),
        )

    async def shutdown(self) -> None:
        for pool in self.pools.values():
            await pool.close()
        if self.session is not None:
            await self.session.close()
            self.session = None

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.startup()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    # --- entry point ------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        headers = dict(scope["headers"])  # last value wins; duplicates of these headers are not meaningful
        request_id = accept_request_id(headers.get(b"x-request-id", b"").decode("latin-1") or None)
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        state = {"status": 500, "route": "unmatched"}
        try:
            await self._handle(scope, receive, send, headers, request_id, state)
        finally:
            elapsed = time.perf_counter() - started
            self.metrics.requests.labels("gateway", scope["method"], state["route"], str(state["status"])).inc()
            self.metrics.latency.labels("gateway", scope["method"], state["route"]).observe(elapsed)
            if state["route"] not in ("/healthz", "/readyz", "/metrics"):
                logger.info(
                    "request",
                    extra={
                        "method": scope["method"],
                        "route": state["route"],
                        "status": state["status"],
                        "duration_ms": round(elapsed * 1000, 2),
                    },
                )
            request_id_var.reset(token)

    async def _handle(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        headers: dict[bytes, bytes],
        request_id: str,
        state: dict[str, Any],
    ) -> None:
        method: str = scope["method"]
        path: str = scope["path"]
        local = self.local_routes.get(path)
        if local is not None:
            state["route"] = path
            if method not in ("GET", "HEAD"):
                await self._problem(send, state, request_id, 405, "Only GET is allowed here", [(b"allow", b"GET")])
                return
            await local(send, state, request_id)
            return
        raw_path: bytes = scope.get("raw_path") or path.encode()
        if (
            path.startswith("/internal")
            or "/../" in path
            or path.endswith("/..")
            or "//" in path
            or b"%2f" in raw_path.lower()
            or b"%5c" in raw_path.lower()
            or "\\" in path
        ):
            await self._problem(send, state, request_id, 404, "No such route")
            return
        matched = self.policy.match(method, path)
        if matched is None:
            if self.policy.path_known(path):
                await self._problem(send, state, request_id, 405, f"{method} is not allowed on this route")
            else:
                await self._problem(send, state, request_id, 404, "No such route")
            return
        state["route"] = matched.path

        authorization = headers.get(b"authorization")
        client = scope.get("client")
        if not authorization:
            await self._problem(
                send,
                state,
                request_id,
                401,
                "A bearer token is required",
                [(b"www-authenticate", b'Bearer realm="putokaz"')],
            )
            return
        scheme, _, raw_token = authorization.decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not raw_token.strip():
            await self._problem(
                send,
                state,
                request_id,
                401,
                "The Authorization header must be 'Bearer <token>'",
                [(b"www-authenticate", b'Bearer realm="putokaz"')],
            )
            return
        try:
            principal = await self.verifier.verify(raw_token.strip())
        except InvalidToken as exc:
            # Failed attempts are limited per client address so token guessing is throttled too.
            wait = await self.rate_limiter.acquire(f"ip:{client[0] if client else '-'}")
            if wait is not None:
                await self._too_many(send, state, request_id, wait, "Too many failed authentications; slow down")
                return
            await self._problem(
                send,
                state,
                request_id,
                401,
                f"Invalid token: {exc}",
                [(b"www-authenticate", b'Bearer error="invalid_token"')],
            )
            return
        if principal.roles.isdisjoint(matched.roles):
            await self._problem(send, state, request_id, 403, "Your role may not call this route")
            return
        wait = await self.rate_limiter.acquire(f"sub:{principal.org}:{principal.sub}")
        if wait is not None:
            await self._too_many(send, state, request_id, wait, "Too many requests; slow down")
            return

        limit = self.settings.max_import_body_bytes if matched.large_body else self.settings.max_body_bytes
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                declared_length = int(declared)
            except ValueError:
                await self._problem(send, state, request_id, 400, "Content-Length is not a number")
                return
            if declared_length > limit:
                await self._problem(send, state, request_id, 413, f"The request body exceeds {limit} bytes")
                return
        try:
            body = await self._read_body(receive, limit)
        except BodyTooLarge:
            await self._problem(send, state, request_id, 413, f"The request body exceeds {limit} bytes")
            return
        except ClientGone:
            state["status"] = 499  # nginx's "client closed request", for logs and metrics only
            return
        await self._proxy(scope, send, headers, body, matched, request_id, state, raw_path)

    async def _read_body(self, receive: Receive, limit: int) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                # A truncated body must never reach a service as if it were complete (a CSV import would
                # otherwise store fewer rows and call it done).
                raise ClientGone
            chunk = message.get("body", b"")
            if chunk:
                size += len(chunk)
                if size > limit:
                    raise BodyTooLarge
                chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    async def _proxy(
        self,
        scope: Scope,
        send: Send,
        headers: dict[bytes, bytes],
        body: bytes,
        matched: Rule,
        request_id: str,
        state: dict[str, Any],
        raw_path: bytes,
    ) -> None:
        target = raw_path.decode("latin-1")
        if scope.get("query_string"):
            target += "?" + scope["query_string"].decode("latin-1")
        client = scope.get("client")
        # Only the Authorization header the gateway verified travels on: a second one smuggled beside it
        # would otherwise be the one the service reads.
        forwarded = [(k, v) for k, v in scope["headers"] if k not in HOP_BY_HOP and k != b"authorization"]
        forwarded += [
            (b"authorization", headers[b"authorization"]),
            (b"x-request-id", request_id.encode()),
            (b"x-forwarded-for", (client[0] if client else "unknown").encode()),
            (b"x-forwarded-proto", scope.get("scheme", "http").encode()),
        ]
        try:
            status, upstream_headers, payload = await self.pools[matched.service].request(
                scope["method"], target, forwarded, body, self.settings.upstream_timeout_seconds
            )
        except TimeoutError:
            await self._problem(
                send,
                state,
                request_id,
                504,
                f"The {matched.service} service did not answer in time; it may or may not have acted",
            )
            return
        except (UpstreamError, OSError):
            await self._problem(send, state, request_id, 502, f"The {matched.service} service is unavailable")
            return
        state["status"] = status
        response_headers = [(k, v) for k, v in upstream_headers if k not in RESPONSE_DROP]
        response_headers = _with_security_headers(response_headers)
        response_headers.append((b"x-request-id", request_id.encode()))
        response_headers.append((b"content-length", str(len(payload)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": payload})

    # --- local routes ---------------------------------------------------------------------------
    async def _healthz(self, send: Send, state: dict[str, Any], request_id: str) -> None:
        await self._json(send, state, request_id, 200, {"status": "ok"})

    async def _readyz(self, send: Send, state: dict[str, Any], request_id: str) -> None:
        assert self.session is not None

        async def probe(name: str, base: str) -> tuple[str, str]:
            try:
                async with self.session.get(base + "/readyz", timeout=aiohttp.ClientTimeout(total=3)) as response:
                    return name, "ready" if response.status == 200 else f"not ready ({response.status})"
            except (aiohttp.ClientError, TimeoutError, OSError):
                return name, "unreachable"

        results = dict(await asyncio.gather(*(probe(n, b) for n, b in self.upstreams.items())))
        ready = all(v == "ready" for v in results.values())
        await self._json(
            send,
            state,
            request_id,
            200 if ready else 503,
            {"status": "ready" if ready else "not ready", "services": results},
        )

    async def _metrics(self, send: Send, state: dict[str, Any], request_id: str) -> None:
        state["status"] = 200
        await _send(
            send,
            200,
            generate_latest(self.metrics.registry),
            CONTENT_TYPE_LATEST.encode(),
            [(b"x-request-id", request_id.encode())],
        )

    async def _openapi(self, send: Send, state: dict[str, Any], request_id: str) -> None:
        document = await self.openapi.document()
        await self._json(send, state, request_id, 200, document)

    async def _docs(self, send: Send, state: dict[str, Any], request_id: str) -> None:
        state["status"] = 200
        headers = [h for h in _with_security_headers([]) if h[0] != b"content-security-policy"]
        headers += [DOCS_CSP, (b"x-request-id", request_id.encode())]
        await _send(send, 200, swagger_html().encode(), b"text/html; charset=utf-8", headers, secure=False)

    # --- helpers --------------------------------------------------------------------------------
    async def _json(self, send: Send, state: dict[str, Any], request_id: str, status: int, body: Any) -> None:
        state["status"] = status
        await _send(
            send, status, json.dumps(body).encode(), b"application/json", [(b"x-request-id", request_id.encode())]
        )

    async def _too_many(self, send: Send, state: dict[str, Any], request_id: str, wait: float, detail: str) -> None:
        retry_after = str(max(1, int(wait + 0.999))).encode()
        await self._problem(send, state, request_id, 429, detail, [(b"retry-after", retry_after)])

    async def _problem(
        self,
        send: Send,
        state: dict[str, Any],
        request_id: str,
        status: int,
        detail: str,
        extra_headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        state["status"] = status
        body = json.dumps(problem_body(status, detail)).encode()
        await _send(
            send,
            status,
            body,
            PROBLEM_CONTENT_TYPE.encode(),
            [(b"x-request-id", request_id.encode()), *(extra_headers or [])],
        )


def _with_security_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    present = {k for k, _ in headers}
    return headers + [h for h in SECURITY_HEADERS if h[0] not in present]


async def _send(
    send: Send, status: int, body: bytes, content_type: bytes, headers: list[tuple[bytes, bytes]], secure: bool = True
) -> None:
    all_headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *headers]
    if secure:
        all_headers = _with_security_headers(all_headers)
    message: Message = {"type": "http.response.start", "status": status, "headers": all_headers}
    await send(message)
    await send({"type": "http.response.body", "body": body})


def create_app(settings: GatewaySettings | None = None) -> Gateway:
    return Gateway(settings)
