"""The public gateway: a lean ASGI app that authenticates, applies the policy table, limits and proxies.

It is deliberately not a FastAPI app (the routing it needs is the policy table), and its hop to the
services is aiohttp's client (gateway/proxy.py). Request ids, the access log and metrics come from the
kernel's middleware, bearer parsing and token checks from the kernel's auth, exactly as in the services.

Local routes live in `local_routes` (exact paths); another gateway-served area (static files, say) adds
its own entry there or a prefix handler in `prefix_routes`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import Receive, Scope, Send

from gateway import revocations
from gateway.forwarded import ClientAddress
from gateway.headers import BASE_SECURITY_HEADERS
from gateway.openapi import OpenApiMerger
from gateway.policy import GATEWAY, Policy, Rule
from gateway.proxy import REQUEST_OWN, UpstreamBusy, Upstreams, UpstreamTimeout, UpstreamUnavailable, end_to_end
from gateway.ratelimit import RateLimiter, make_rate_limiter
from gateway.readiness import Readiness
from gateway.settings import GatewaySettings
from gateway.web import WebFrontend
from putokaz.auth import InvalidToken, Principal, TokenVerifier, bearer_token
from putokaz.errors import PROBLEM_CONTENT_TYPE, ProblemError, problem_body
from putokaz.logs import configure_logging, request_id_var
from putokaz.middleware import RequestContextMiddleware, ServiceMetrics
from putokaz.revocation import revocation_list

logger = logging.getLogger("putokaz.gateway")

# API answers: never cached, and no content of theirs may run anything.
SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    *BASE_SECURITY_HEADERS,
    (b"cache-control", b"no-store"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
]
CHALLENGE = (b"www-authenticate", b'Bearer realm="putokaz"')
INVALID_TOKEN = (b"www-authenticate", b'Bearer error="invalid_token"')


@dataclass(frozen=True, slots=True)
class LocalRoute:
    """A route the gateway answers itself; `path` labels metrics and logs like a service route template."""

    path: str
    handler: Callable[[Scope, Send], Awaitable[None]]


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
        self.revocations = revocation_list(self.settings)
        self.verifier = TokenVerifier(self.settings, revocations=self.revocations)
        self.rate_limiter = rate_limiter or make_rate_limiter(
            self.settings.rate_limit_backend, self.settings.rate_limit_per_minute, self.settings.rate_limit_burst
        )
        self.upstreams = Upstreams(self.settings.upstreams(), self.settings.upstream_limits())
        self.readiness = Readiness(self.upstreams, self.settings.readyz_cache_seconds)
        self.client_address = ClientAddress(self.settings.trusted_proxy_networks())
        self.metrics = ServiceMetrics("gateway")
        self.openapi = OpenApiMerger(self)
        self.local_routes: dict[str, LocalRoute] = {
            route.path: route
            for route in (
                LocalRoute("/healthz", self._healthz),
                LocalRoute("/readyz", self._readyz),
                LocalRoute("/metrics", self._metrics),
                LocalRoute("/openapi.json", self._openapi),
            )
        }
        self.prefix_routes: dict[str, LocalRoute] = {}
        # The web app, /docs and the dev sign-in (gateway/web.py): static files, apart from the proxy.
        self.web = WebFrontend(self.settings)
        self._http = RequestContextMiddleware(self._handle, self.metrics)

    # --- lifecycle -------------------------------------------------------------------------
    async def startup(self) -> None:
        await self.upstreams.start()

    async def shutdown(self) -> None:
        await self.upstreams.close()
        if self.revocations is not None:
            await self.revocations.store.close()

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
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        method: str = scope["method"]
        path: str = scope["path"]
        if self.web.handles(path):
            await self.web(scope, receive, send)
            return
        local = self.local_routes.get(path) or next(
            (r for prefix, r in self.prefix_routes.items() if path.startswith(prefix)), None
        )
        if local is not None:
            scope["route"] = local
            if method not in ("GET", "HEAD"):
                await problem(send, 405, "Only GET is allowed here", [(b"allow", b"GET")])
                return
            await local.handler(scope, send)
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
            await problem(send, 404, "No such route")
            return
        matched = self.policy.match(method, path)
        if matched is None:
            if self.policy.path_known(path):
                allow = ", ".join(self.policy.allowed_methods(path)).encode()
                await problem(send, 405, f"{method} is not allowed on this route", [(b"allow", allow)])
            else:
                await problem(send, 404, "No such route")
            return
        scope["route"] = matched
        principal = await self._authenticate(scope, send, matched.roles)
        if principal is None:
            return
        wait = await self.rate_limiter.acquire(f"sub:{principal.org}:{principal.sub}")
        if wait is not None:
            await too_many(send, wait, "Too many requests; slow down")
            return
        limit = self.settings.max_import_body_bytes if matched.large_body else self.settings.max_body_bytes
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await problem(send, 400, "Content-Length is not a number")
                return
            if int(declared) > limit:
                await problem(send, 413, f"The request body exceeds {limit} bytes")
                return
        try:
            body = await _read_body(receive, limit)
        except BodyTooLarge:
            await problem(send, 413, f"The request body exceeds {limit} bytes")
            return
        except ClientGone:
            return  # nobody to answer, and above all nothing to forward
        if matched.service == GATEWAY:
            status, answer = await revocations.handle(self.revocations, scope["method"], scope["path"], principal, body)
            if status >= 400:
                await send_bytes(
                    send,
                    status,
                    json.dumps(problem_body(status, answer.pop("detail"), **answer)).encode(),
                    PROBLEM_CONTENT_TYPE.encode(),
                )
            else:
                await send_json(send, status, answer)
            return
        await self._proxy(scope, send, body, matched)

    async def _authenticate(self, scope: Scope, send: Send, roles: frozenset[str]) -> Principal | None:
        """The verified caller when one of `roles` may pass, else None after answering 401/403/429/431."""
        authorization = _header(scope, b"authorization")
        try:
            token = bearer_token(authorization.decode("latin-1") if authorization is not None else None)
        except ProblemError as exc:
            await problem(send, exc.status, exc.detail, [CHALLENGE])
            return None
        try:
            principal = await self.verifier.verify(token)
        except InvalidToken as exc:
            # Failed attempts are limited per client address so token guessing is throttled too.
            wait = await self.rate_limiter.acquire(f"ip:{self.client_address(scope)}")
            if wait is not None:
                await too_many(send, wait, "Too many failed authentications; slow down")
            else:
                await problem(send, 401, f"Invalid token: {exc}", [INVALID_TOKEN])
            return None
        if not principal.has_any(roles):
            await problem(send, 403, "Your role may not call this route")
            return None
        return principal

    async def _proxy(self, scope: Scope, send: Send, body: bytes, matched: Rule) -> None:
        target = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        if scope.get("query_string"):
            target += "?" + scope["query_string"].decode("latin-1")
        # Only the Authorization header the gateway verified travels on: a second one smuggled beside it
        # would otherwise be the one the service reads.
        headers = end_to_end(scope["headers"], REQUEST_OWN)
        headers += [
            (b"authorization", _header(scope, b"authorization") or b""),
            (b"x-request-id", (request_id_var.get() or "").encode()),
            (b"x-forwarded-for", self.client_address(scope).encode()),
            (b"x-forwarded-proto", scope.get("scheme", "http").encode()),
        ]
        service = matched.service
        try:
            answer = await self.upstreams.forward(service, scope["method"], target, headers, body)
        except UpstreamBusy:
            retry = str(max(1, round(self.settings.upstream_queue_seconds))).encode()
            await problem(send, 503, f"The {service} service is busy; retry shortly", [(b"retry-after", retry)])
            return
        except UpstreamTimeout:
            await problem(send, 504, f"The {service} service did not answer in time; it may or may not have acted")
            return
        except UpstreamUnavailable:
            await problem(send, 502, f"The {service} service is unavailable")
            return
        headers = with_security_headers(answer.headers)
        headers.append((b"content-length", str(len(answer.body)).encode()))
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body})

    # --- local routes ---------------------------------------------------------------------------
    async def _healthz(self, scope: Scope, send: Send) -> None:
        await send_json(send, 200, {"status": "ok"})

    async def _readyz(self, scope: Scope, send: Send) -> None:
        results = await self.readiness.check()
        ready = all(v.startswith("ready") for v in results.values())  # degraded: some replicas down
        status = {"status": "ready" if ready else "not ready", "services": results}
        await send_json(send, 200 if ready else 503, status)

    async def _metrics(self, scope: Scope, send: Send) -> None:
        # Route counts reveal activity (screenings, decisions): admins only on the public port.
        if await self._authenticate(scope, send, frozenset({"admin"})) is None:
            return
        await send_bytes(send, 200, generate_latest(self.metrics.registry), CONTENT_TYPE_LATEST.encode())

    async def _openapi(self, scope: Scope, send: Send) -> None:
        await send_json(send, 200, await self.openapi.document())


def _header(scope: Scope, name: bytes) -> bytes | None:
    """The last value of a header (duplicates of the headers read here are not meaningful)."""
    found = None
    for key, value in scope["headers"]:
        if key == name:
            found = value
    return found


async def _read_body(receive: Receive, limit: int) -> bytes:
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
            return b"".join(chunks)


def with_security_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    present = {k for k, _ in headers}
    return headers + [h for h in SECURITY_HEADERS if h[0] not in present]


async def send_bytes(
    send: Send, status: int, body: bytes, content_type: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """One whole answer; security headers are added unless `headers` already sets them."""
    all_headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *(headers or [])]
    await send({"type": "http.response.start", "status": status, "headers": with_security_headers(all_headers)})
    await send({"type": "http.response.body", "body": body})


async def send_json(send: Send, status: int, body: Any) -> None:
    await send_bytes(send, status, json.dumps(body).encode(), b"application/json")


async def problem(send: Send, status: int, detail: str, extra_headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps(problem_body(status, detail)).encode()
    await send_bytes(send, status, body, PROBLEM_CONTENT_TYPE.encode(), extra_headers)


async def too_many(send: Send, wait: float, detail: str) -> None:
    retry_after = str(max(1, int(wait + 0.999))).encode()
    await problem(send, 429, detail, [(b"retry-after", retry_after)])


def create_app(settings: GatewaySettings | None = None) -> Gateway:
    return Gateway(settings)
