"""The gateway's hop to the services, on aiohttp's maintained client (no HTTP parser or pool of our own).

What the hop guarantees, because a mixed-up answer here would hand one person's record to another:
- Hop-by-hop headers (RFC 9110 §7.6.1) never cross it, in either direction: `Connection` and every
  header it names, `Expect`, `Keep-Alive`, `Proxy-*`, `TE`, `Trailer`, `Transfer-Encoding`, `Upgrade`.
  Without `Expect` a service has no reason to send `100 Continue`; if it sends one anyway, aiohttp's
  parser reads past interim (1xx) answers to the final one, and a final status below 200 is refused.
- Connections are capped per service (`limit_per_host`); a request waits for a free one at most
  `upstream_queue_seconds`, then gets 503 with `Retry-After`, never a hang.
- Idle connections are dropped after `upstream_keepalive_seconds`, below uvicorn's 5 s keep-alive, so
  the service does not close a connection just as the gateway reuses it. If it happens anyway, aiohttp
  retries idempotent methods once on a fresh connection; anything else (a POST) is never re-sent.
- Any connection that saw something unexpected (a parse error, a timeout, an interim final status, a
  body we did not read to the end) is closed, never returned to the pool.
- A service may run as several replicas (its URL setting lists them, comma-separated): requests go to
  them in turn. A replica that refuses the connection is set aside for `down_seconds` and the request
  goes to the next one; that is safe for any method, because a refused connection carried nothing.
  A replica that took the request and then failed is never asked again for a POST (it may have acted).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

import aiohttp
from yarl import URL

Headers = list[tuple[bytes, bytes]]

HOP_BY_HOP = frozenset({b"connection", b"keep-alive", b"expect", b"te", b"trailer", b"transfer-encoding", b"upgrade"})
# Set by the gateway itself on the way in (never taken from the client) or recomputed on the way out.
REQUEST_OWN = frozenset({b"host", b"content-length", b"authorization", b"x-request-id", b"forwarded"})
RESPONSE_OWN = frozenset({b"content-length", b"x-request-id", b"server", b"date"})


def end_to_end(headers: Iterable[tuple[bytes, bytes]], also_drop: frozenset[bytes] = frozenset()) -> Headers:
    """The headers that may cross a proxy: names lower-cased, hop-by-hop ones and those `Connection` names gone."""
    pairs = [(name.lower(), value) for name, value in headers]
    named = {token.strip().lower() for name, value in pairs if name == b"connection" for token in value.split(b",")}
    return [
        (name, value)
        for name, value in pairs
        if name not in HOP_BY_HOP
        and name not in named
        and name not in also_drop
        and not name.startswith(b"proxy-")
        and not name.startswith(b"x-forwarded-")
    ]


class UpstreamUnavailable(Exception):
    """The service could not be reached or broke the exchange (→ 502; a POST was not re-sent)."""


class UpstreamBusy(Exception):
    """Every connection to the service stayed busy for the whole queue time (→ 503 with Retry-After)."""


class UpstreamTimeout(Exception):
    """The service took the request but did not answer in time (→ 504; it may or may not have acted)."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: Headers
    body: bytes


@dataclass(frozen=True, slots=True)
class UpstreamLimits:
    connections_per_upstream: int = 100
    keepalive_seconds: float = 2.0
    queue_seconds: float = 5.0
    connect_seconds: float = 2.0
    answer_seconds: float = 30.0
    down_seconds: float = 5.0  # how long a replica that refused a connection is passed over


class Replicas:
    """The base URLs of one service's replicas, taken in turn; one that refused a connection rests a while."""

    def __init__(self, urls: str, down_seconds: float) -> None:
        self.urls = [url.strip().rstrip("/") for url in urls.split(",") if url.strip()]
        if not self.urls:
            raise ValueError("a service needs at least one URL")
        self.down_seconds = down_seconds
        self._turn = itertools.count()
        self._down_until = [0.0] * len(self.urls)

    def in_turn(self) -> Iterator[str]:
        """Every replica once, starting with the next in turn; resting ones last (never none at all)."""
        start = next(self._turn) % len(self.urls)
        order = [(start + i) % len(self.urls) for i in range(len(self.urls))]
        now = time.monotonic()
        order.sort(key=lambda i: self._down_until[i] > now)  # stable: the turn order within each half
        return (self.urls[i] for i in order)

    def refused(self, url: str) -> None:
        self._down_until[self.urls.index(url)] = time.monotonic() + self.down_seconds


class Upstreams:
    """One aiohttp session for every service; connection caps and keep-alive apply per service."""

    def __init__(self, urls: Mapping[str, str], limits: UpstreamLimits) -> None:
        self.replicas = {name: Replicas(url, limits.down_seconds) for name, url in urls.items()}
        self.limits = limits
        self._session: aiohttp.ClientSession | None = None
        self._timeout = aiohttp.ClientTimeout(
            total=limits.queue_seconds + limits.connect_seconds + limits.answer_seconds,
            connect=limits.queue_seconds + limits.connect_seconds,  # waiting for a pooled connection included
            sock_connect=limits.connect_seconds,
            sock_read=limits.answer_seconds,
        )

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("the gateway has not started")
        return self._session

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(
            limit=0,  # no global cap: each service gets its own (the key is host and port)
            limit_per_host=self.limits.connections_per_upstream,
            keepalive_timeout=self.limits.keepalive_seconds,
            ttl_dns_cache=60,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            auto_decompress=False,
            cookie_jar=aiohttp.DummyCookieJar(),
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding", "Content-Type"),
            timeout=self._timeout,
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def names(self) -> list[str]:
        return list(self.replicas)

    async def forward(self, service: str, method: str, target: str, headers: Headers, body: bytes) -> Answer:
        """Send one request to a replica of `service` and read its whole final answer."""
        outgoing = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in headers]
        replicas = self.replicas[service]
        for base in replicas.in_turn():
            url = URL(base + target, encoded=True)  # forwarded exactly as the policy matched it
            try:
                response = await self.session.request(
                    method, url, headers=outgoing, data=body or None, allow_redirects=False, compress=None
                )
                break
            except aiohttp.ConnectionTimeoutError as exc:
                raise UpstreamBusy(service) from exc
            except aiohttp.ClientConnectorError:
                replicas.refused(base)  # nothing was sent: the next replica may take it, whatever the method
            except (aiohttp.ServerTimeoutError, TimeoutError) as exc:
                raise UpstreamTimeout(service) from exc
            except (aiohttp.ClientError, OSError) as exc:
                raise UpstreamUnavailable(service) from exc
        else:
            raise UpstreamUnavailable(service)
        try:
            if response.status < 200:
                raise UpstreamUnavailable(f"{service} gave an interim status as its final answer")
            payload = await response.read()
        except BaseException as exc:
            response.close()  # the connection is in an unknown state: never reuse it
            if isinstance(exc, UpstreamUnavailable):
                raise
            if isinstance(exc, aiohttp.ServerTimeoutError | TimeoutError):
                raise UpstreamTimeout(service) from exc
            if isinstance(exc, aiohttp.ClientError | OSError):
                raise UpstreamUnavailable(service) from exc
            raise
        response.release()
        return Answer(response.status, end_to_end(response.raw_headers, RESPONSE_OWN), payload)

    async def get_status(self, base: str, path: str, timeout: float) -> int:
        """Status of a plain GET to one replica (readiness probes); UpstreamUnavailable when there is none."""
        try:
            async with self.session.get(base + path, timeout=aiohttp.ClientTimeout(total=timeout)) as response:
                await response.read()
                return response.status
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise UpstreamUnavailable(base) from exc
