"""A lean HTTP/1.1 keep-alive client for the gateway's hops to its own services.

The upstreams are our services on a private network: plain HTTP/1.1, small JSON answers. A pool of
asyncio protocols parsed with httptools costs a fraction of a general-purpose client per request,
which is what keeps the gateway near direct throughput (DESIGN.md §10).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from urllib.parse import urlsplit

import httptools

IDLE_SECONDS = 2.0  # well under uvicorn's 5 s keep-alive, so the server never closes a connection we reuse


class UpstreamError(Exception):
    """The upstream could not be reached or broke the connection (→ 502)."""


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.done: asyncio.Future[None] | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.closed = False
        self.idle_since = 0.0

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(UpstreamError(f"unparseable answer: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(UpstreamError("connection closed by the upstream"))

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        if self.done is not None and not self.done.done():
            self.done.set_result(None)

    def _fail(self, exc: Exception) -> None:
        if self.done is not None and not self.done.done():
            self.done.set_exception(exc)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    async def exchange(self, request: bytes, timeout: float) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        assert self.transport is not None
        self.done = asyncio.get_running_loop().create_future()
        self.headers, self.body = [], []
        self.transport.write(request)
        try:
            await asyncio.wait_for(self.done, timeout)
        except BaseException:
            self.close()
            raise
        status = self.parser.get_status_code()
        if not self.parser.should_keep_alive():
            self.close()
        # A fresh parser per exchange keeps no state from the previous answer.
        self.parser = httptools.HttpResponseParser(self)
        return status, self.headers, b"".join(self.body)


class UpstreamPool:
    """Keep-alive connections to one upstream (host:port), reused most-recent first."""

    def __init__(self, base_url: str, *, max_idle: int = 256, connect_timeout: float = 2.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http":
            raise ValueError("upstreams are plain HTTP on the private network")
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.host_header = f"{self.host}:{self.port}".encode()
        self.max_idle = max_idle
        self.connect_timeout = connect_timeout
        self._idle: deque[_Connection] = deque()

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            _, protocol = await asyncio.wait_for(
                loop.create_connection(_Connection, self.host, self.port), self.connect_timeout
            )
        except TimeoutError as exc:
            raise UpstreamError("connect timed out") from exc
        except OSError as exc:
            raise UpstreamError(f"connect failed: {exc.strerror or type(exc).__name__}") from exc
        return protocol

    def _checkout(self) -> _Connection | None:
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()
            if not connection.closed and now - connection.idle_since < IDLE_SECONDS:
                return connection
            connection.close()
        return None

    async def request(
        self, method: str, target: str, headers: list[tuple[bytes, bytes]], body: bytes, timeout: float
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        head = [f"{method} {target} HTTP/1.1\r\n".encode("latin-1"), b"host: ", self.host_header, b"\r\n"]
        for name, value in headers:
            head += [name, b": ", value, b"\r\n"]
        head += [b"content-length: ", str(len(body)).encode(), b"\r\n\r\n", body]
        request = b"".join(head)
        connection = self._checkout() or await self._connect()
        status, response_headers, response_body = await connection.exchange(request, timeout)
        if not connection.closed and len(self._idle) < self.max_idle:
            connection.idle_since = time.monotonic()
            self._idle.append(connection)
        elif not connection.closed:
            connection.close()
        return status, response_headers, response_body

    async def close(self) -> None:
        while self._idle:
            self._idle.pop().close()
