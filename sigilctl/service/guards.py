"""What every request passes before it reaches a route: the bearer token and the body bound.

Plain ASGI, so it also covers unknown paths and malformed requests: without a valid token every
path but ``/healthz`` answers 401 (nothing about the routes leaks), and a body over the bound
answers 413 whether it announced its length or streamed it in chunks. Tokens are compared in
constant time against every configured token, and never logged.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

OPEN_PATHS = frozenset({"/healthz"})
MAX_BODY_BYTES = 64 * 1024


def token_matches(given: bytes, tokens: tuple[bytes, ...]) -> bool:
    """Compare with every token, always all of them, each in constant time."""
    found = False
    for token in tokens:
        found |= hmac.compare_digest(given, token)
    return found


def bearer(scope: Scope) -> bytes | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, _, credentials = bytes(value).partition(b" ")
            if scheme.lower() == b"bearer" and credentials.strip():
                return credentials.strip()
            return None
    return None


async def send_error(send: Send, status: int, message: str, headers: list[Any]) -> None:
    body = orjson.dumps({"error": message})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class Guard:
    def __init__(
        self, app: ASGIApp, *, tokens: tuple[str, ...] | None, max_body: int = MAX_BODY_BYTES
    ) -> None:
        self.app = app
        self.tokens = None if tokens is None else tuple(t.encode() for t in tokens)
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.tokens is not None and scope["path"] not in OPEN_PATHS:
            given = bearer(scope)
            if given is None or not token_matches(given, self.tokens):
                await send_error(
                    send,
                    401,
                    "a valid bearer token is required (Authorization: Bearer <token>)",
                    [(b"www-authenticate", b"Bearer")],
                )
                return
        declared = self._declared_length(scope)
        if declared is not None and declared > self.max_body:
            await send_error(send, 413, self._too_large(), [(b"connection", b"close")])
            return
        await self._bounded(scope, receive, send)

    def _too_large(self) -> str:
        return f"the request body is over the {self.max_body}-byte limit"

    @staticmethod
    def _declared_length(scope: Scope) -> int | None:
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    return int(value)
                except ValueError:
                    return None
        return None

    async def _bounded(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Count streamed body bytes; past the bound, answer 413 and end the request."""
        received = 0
        refused = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    refused = True
                    if not started:
                        await send_error(send, 413, self._too_large(), [(b"connection", b"close")])
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # our 413 went out; the route's answer is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counting_receive, guarded_send)
