"""Admission limit: at most MAX_IN_FLIGHT requests inside the app at once; the rest wait in the event loop.

Why: a route's connection is checked out in one worker thread and used in another, so with more requests
in flight than pooled connections, threads blocked on the pool can hold every worker thread while the
requests that hold the connections wait for a thread — nothing moves until the pool's 30 s wait runs out
(measured: 150 users gave p95 34 s and 500s). Below the pool (geo/db.py, 10 + 20 connections) and anyio's
40 worker threads that cannot happen. A request that waits longer than WAIT_S to get in is answered 503.
"""

from __future__ import annotations

import asyncio
import json

from starlette.types import ASGIApp, Receive, Scope, Send

MAX_IN_FLIGHT = 20
"""Requests inside the app at once: under the 30 pooled connections, leaving room for a second connection."""
WAIT_S = 30.0
"""Longest a request waits to get in before it is told the service is busy."""
EXEMPT = ("/vendor/", "/favicon.ico")
"""Static files that never touch the database."""


class Admission:
    """Pure ASGI middleware (streaming responses untouched); the slot is held until the response is sent."""

    def __init__(self, app: ASGIApp, max_in_flight: int = MAX_IN_FLIGHT, wait_s: float = WAIT_S) -> None:
        self.app = app
        self.wait_s = wait_s
        self.slots = asyncio.Semaphore(max_in_flight)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith(EXEMPT):
            await self.app(scope, receive, send)
            return
        try:
            await asyncio.wait_for(self.slots.acquire(), self.wait_s)
        except TimeoutError:
            await _busy(send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.slots.release()


async def _busy(send: Send) -> None:
    body = json.dumps({"code": "busy", "message": "服务繁忙，请稍后重试"}, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": 503,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"retry-after", b"5")]})
    await send({"type": "http.response.body", "body": body})
