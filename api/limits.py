"""Request bodies: read in full, within size and time limits, before the request goes any further.

Larger bodies get 413, whether declared (Content-Length) or streamed (chunked); a body that does not arrive
in full within `total_s`, or falls silent for `idle_s`, gets 408. This middleware is the outermost one, so a
slow client holds no admission slot (api.admission) and no database connection while it trickles: the
app sees the body only once it is all here.
"""

from __future__ import annotations

import asyncio
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(Exception):
    pass


class BodyTimeout(Exception):
    pass


class ClientGone(Exception):
    pass


class BodyLimit:
    """Pure ASGI middleware, so streaming responses are untouched."""

    def __init__(self, app: ASGIApp, max_bytes: int, total_s: float = 15.0, idle_s: float = 10.0,
                 narrower: dict[str, tuple[int, str]] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.total_s = total_s
        self.idle_s = idle_s
        self.narrower = narrower or {}
        """Exact path → (smaller limit, Chinese message): e.g. attachment uploads, refused before a byte is read."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        narrow = self.narrower.get(scope.get("path", ""))
        if narrow is not None and declared is not None and declared.isdigit() and int(declared) > narrow[0]:
            await _answer(send, 413, "too_large", narrow[1])
            return
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _answer(send, 413, "too_large", f"请求体过大（上限 {self.max_bytes / (1024 * 1024):g} MB）")
            return
        chunked = b"chunked" in headers.get(b"transfer-encoding", b"").lower()
        if not chunked and not int(declared or 0):  # no body at all
            await self.app(scope, receive, send)
            return
        try:
            body = await self._read(receive)
        except BodyTooLarge:
            await _answer(send, 413, "too_large", f"请求体过大（上限 {self.max_bytes / (1024 * 1024):g} MB）")
            return
        except BodyTimeout:
            await _answer(send, 408, "request_timeout",
                          f"请求体传输过慢：须在 {self.total_s:g} 秒内送达（中途停顿不超过 {self.idle_s:g} 秒），请重试")
            return
        except ClientGone:
            return
        await self.app(scope, replay(body, receive), send)

    async def _read(self, receive: Receive) -> bytes:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.total_s
        parts: list[bytes] = []
        size = 0
        while True:
            left = min(self.idle_s, deadline - loop.time())
            if left <= 0:
                raise BodyTimeout
            try:
                message = await asyncio.wait_for(receive(), left)
            except TimeoutError:
                raise BodyTimeout from None
            if message["type"] == "http.disconnect":
                raise ClientGone
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                raise BodyTooLarge
            parts.append(chunk)
            if not message.get("more_body", False):
                return b"".join(parts)


async def read_body(receive: Receive) -> bytes:
    """The whole body from a receive that already holds it (one replayed by BodyLimit)."""
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(parts)
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(parts)


def replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives `body` once, then whatever the connection says next (a disconnect)."""
    given = False

    async def again() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


async def _answer(send: Send, status: int, code: str, message: str) -> None:
    """A JSON error before the app ran; the connection is closed, as the rest of the body is not read."""
    body = json.dumps({"code": code, "message": message}, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
