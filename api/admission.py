"""Admission: bounded requests in flight, per cost class, with per-user and per-address limits.

Why a bound: a route's connection is checked out in one worker thread and used in another, so with more
requests in flight than pooled connections, threads blocked on the pool can hold every worker thread while the
requests that hold the connections wait for a thread — nothing moves until the pool's 30 s wait runs out
(measured: 150 users gave p95 34 s and 500s). Below the pool (geo/db.py, 10 + 20 connections) and anyio's
40 worker threads that cannot happen. A request that waits longer than WAIT_S to get in is answered 503.

Why classes: a few plan solves or risk recomputes (seconds each) must not hold the slots that logins and
health checks need, so cheap, normal and heavy requests wait for slots of their own (CHEAP + MAX_IN_FLIGHT +
HEAVY = 20 in all, the bound that was measured to stay under the pool). Why per user and address: one login or one address may have only so many
requests waiting or inside at once; beyond that it gets 429 at once. Bodies are read before any of this
(api.limits), so a slow client never holds a slot.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from api.clients import client_address
from api.csrf import credential
from geo.access.tokens import user_key
from geo.config import get_settings

MAX_IN_FLIGHT = 14
"""Normal requests (pages, tiles, lists, edits) inside the app at once."""
CHEAP = 3
"""Health, login and logout, the API docs: their own slots, so they answer while the rest is busy."""
HEAVY = 3
"""Plan solves, risk recomputes, encroachment checks and spreadsheet exports: CPU-bound, seconds each."""
WAIT_S = 30.0
"""Longest a request waits to get in before it is told the service is busy."""
EXEMPT = ("/vendor/", "/static/", "/favicon.ico")
"""Static files that never touch the database."""
CHEAP_PATHS = ("/health", "/auth/", "/login", "/logout", "/docs", "/openapi.json", "/redoc")
HEAVY_WRITES = ("/plans", "/risk/compute", "/encroachments/check")
"""POST paths that compute for seconds (POST /plans solves routes; its sub-paths record results: normal)."""
HEAVY_SUFFIXES = (".xlsx",)
"""Exports built in memory."""
RETRY_AFTER_S = 2


def cost_class(method: str, path: str) -> str:
    """'cheap', 'normal' or 'heavy' for a request."""
    if path.startswith(CHEAP_PATHS):
        return "cheap"
    if (method == "POST" and path.rstrip("/") in HEAVY_WRITES) or path.endswith(HEAVY_SUFFIXES):
        return "heavy"
    return "normal"


class Admission:
    """Pure ASGI middleware (streaming responses untouched); the slot is held until the response is sent."""

    def __init__(self, app: ASGIApp, max_in_flight: int = MAX_IN_FLIGHT, wait_s: float = WAIT_S, *,
                 cheap: int = CHEAP, heavy: int = HEAVY, per_user: int | None = None,
                 per_address: int | None = None) -> None:
        s = get_settings()
        self.app = app
        self.wait_s = wait_s
        self.slots = {"cheap": asyncio.Semaphore(cheap), "normal": asyncio.Semaphore(max_in_flight),
                      "heavy": asyncio.Semaphore(heavy)}
        self.per_user = per_user if per_user is not None else s.max_requests_per_user
        self.per_address = per_address if per_address is not None else s.max_requests_per_address
        self.in_flight: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith(EXEMPT):
            await self.app(scope, receive, send)
            return
        keys = _keys(scope)
        over = next((k for k in keys if self.in_flight[k] >= (self.per_user if k[0] == "u" else self.per_address)),
                    None)
        if over is not None:
            who = "当前账号" if over[0] == "u" else "当前地址"
            await _refuse(send, 429, "too_many_requests", f"{who}同时进行的请求过多，请稍后重试", RETRY_AFTER_S)
            return
        with self._counted(keys):
            slots = self.slots[cost_class(scope["method"], scope["path"])]
            try:
                await asyncio.wait_for(slots.acquire(), self.wait_s)
            except TimeoutError:
                await _refuse(send, 503, "busy", "服务繁忙，请稍后重试", 5)
                return
            try:
                await self.app(scope, receive, send)
            finally:
                slots.release()

    @contextmanager
    def _counted(self, keys: list[str]) -> Iterator[None]:
        for k in keys:
            self.in_flight[k] += 1
        try:
            yield
        finally:
            for k in keys:
                self.in_flight[k] -= 1
                if not self.in_flight[k]:
                    del self.in_flight[k]


def _keys(scope: Scope) -> list[str]:
    """The limits a request counts against: its address, and its login when it carries one."""
    keys = [f"a:{client_address(scope)}"]
    token, _ = credential(Request(scope))
    if token:
        keys.append("u:" + user_key(token))
    return keys


async def _refuse(send: Send, status: int, code: str, message: str, retry_after: int) -> None:
    body = json.dumps({"code": code, "message": message}, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"retry-after", str(retry_after).encode())]})
    await send({"type": "http.response.body", "body": body})
