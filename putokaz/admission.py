"""What a service checks before it reads a request body: the token, then the body's size.

FastAPI reads and parses the body before it runs the route's dependencies, so without this a tokenless
request would get a 422 about its body (telling a stranger about our schema) and a 150 MB body would be
buffered before the 401. Every `/api/` request must carry a valid token here; the route's own
`Authorize` still decides the roles. Bodies are capped by each service too (the gateway caps them
first; this is defence in depth for a service reached some other way).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from putokaz.auth import InvalidToken, TokenVerifier, bearer_token
from putokaz.errors import PROBLEM_CONTENT_TYPE, ProblemError, problem_body

PROTECTED_PREFIX = "/api/"


class Admission:
    def __init__(self, app: ASGIApp, verifier: TokenVerifier, body_limit: int) -> None:
        self.app = app
        self.verifier = verifier
        self.body_limit = body_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PROTECTED_PREFIX):
            await self.app(scope, receive, send)
            return
        authorization = declared = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"content-length":
                declared = value
        try:
            token = bearer_token(authorization)
            await self.verifier.verify(token)
        except ProblemError as exc:
            await _problem(send, exc.status, exc.detail, exc.headers)
            return
        except InvalidToken as exc:
            await _problem(send, 401, f"Invalid token: {exc}", {"WWW-Authenticate": 'Bearer error="invalid_token"'})
            return
        if declared is not None and declared.isdigit() and int(declared) > self.body_limit:
            await _problem(send, 413, f"The request body exceeds {self.body_limit} bytes")
            return
        await self._capped(scope, receive, send)

    async def _capped(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Runs the app; past the cap the client gets 413 and the app sees a disconnect (its answer is dropped)."""
        received = 0
        refused = False

        async def capped_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.body_limit:
                refused = True
                await _problem(send, 413, f"The request body exceeds {self.body_limit} bytes")
                return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not refused:
                await send(message)

        await self.app(scope, capped_receive, guarded_send)


async def _problem(send: Send, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
    body = json.dumps(problem_body(status, detail)).encode()
    raw: list[Any] = [(b"content-type", PROBLEM_CONTENT_TYPE.encode()), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
