"""Test helpers for event delivery: a real loopback webhook receiver whose answers a test scripts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web
from sqlalchemy import MetaData

from putokaz.db import Database
from putokaz.testing import PostgresServer, free_port


def database_with_tables(server: PostgresServer, label: str, metadata: MetaData) -> str:
    """A throwaway PostgreSQL database holding `metadata`'s tables (created directly, no migrations)."""
    url = server.create_database(label)

    async def prepare() -> None:
        db = Database(url)
        async with db.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        await db.dispose()

    asyncio.run(prepare())
    return url


@dataclass
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: str
    received_at: float


@dataclass
class ScriptedAnswer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: str = "ok"
    hang: bool = False  # never answer (until the client gives up or the test releases it)


class LoopbackReceiver:
    """An aiohttp server on 127.0.0.1 that records every request and answers from a script.

    `by_path` answers for its paths; otherwise `script` answers in order, then `default`.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self.requests: list[ReceivedRequest] = []
        self.script: list[ScriptedAnswer] = []
        self.default = ScriptedAnswer()
        self.by_path: dict[str, ScriptedAnswer] = {}
        self.release = asyncio.Event()
        self.got_request = asyncio.Event()
        self._runner: web.AppRunner | None = None

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.text()
        self.requests.append(ReceivedRequest(request.path, dict(request.headers), body, time.monotonic()))
        self.got_request.set()
        if request.path in self.by_path:
            answer = self.by_path[request.path]
        else:
            answer = self.script.pop(0) if self.script else self.default
        if answer.hang:
            await self.release.wait()
        return web.Response(status=answer.status, headers=answer.headers, text=answer.body)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        self.release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def ids(self, path: str | None = None) -> list[str]:
        return [r.headers["webhook-id"] for r in self.requests if path is None or r.path == path]


@asynccontextmanager
async def loopback_receiver() -> AsyncIterator[LoopbackReceiver]:
    receiver = LoopbackReceiver()
    await receiver.start()
    try:
        yield receiver
    finally:
        await receiver.stop()
