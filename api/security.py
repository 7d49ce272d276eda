"""Security headers on every response: a per-request CSP nonce, Content-Security-Policy on HTML pages,
nosniff, no framing, same-origin referrers, and no caching of token and login responses.

The nonce is put in `request.state.csp_nonce` before the route runs; page templates write it on their
inline <script> tags (layers.web / layers.elements). Scripts without it — injected ones — do not run.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_body
from geo.config import get_settings
from layers.basemap import tile_origins
from layers.web import new_nonce

NO_STORE_PATHS = ("/auth/token", "/auth/api-tokens", "/login", "/logout")
"""Responses that carry or set credentials: never stored by a browser or proxy."""



def csp(nonce: str, img_origins: list[str]) -> str:
    """The pages' Content-Security-Policy: scripts only from this site or with this response's nonce.

    Workers may come from blob: URLs (Redoc builds its search worker so); only a script already allowed can make one.
    """
    img = " ".join(["'self'", "data:", "blob:", *img_origins])
    return (f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
            f"img-src {img}; connect-src 'self'; font-src 'self' data:; worker-src 'self' blob:; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def nonce_of(request: object) -> str:
    """The CSP nonce of this request (empty outside the middleware, e.g. in unit calls)."""
    return str(getattr(getattr(request, "state", None), "csp_nonce", "") or "")


class SecurityHeaders:
    """ASGI middleware: nonce per request, CSP on text/html, nosniff / DENY / same-origin on every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.img_origins = tile_origins(get_settings())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = new_nonce()
        scope["state"] = {**scope.get("state", {}), "csp_nonce": nonce}
        no_store = scope["path"].startswith(NO_STORE_PATHS)
        policy = csp(nonce, self.img_origins)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if not (no_store and k.lower() == b"cache-control")]
                kinds = {k.lower(): v for k, v in headers}
                if kinds.get(b"content-type", b"").startswith(b"text/html"):
                    headers.append((b"content-security-policy", policy.encode()))
                headers += [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                            (b"referrer-policy", b"same-origin")]
                if no_store:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        started = False

        async def send_tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send_with_headers(message)

        try:
            await self.app(scope, receive, send_tracked)
        except Exception:
            # an unhandled error: answer the Chinese 500 here, with the same headers as every other answer, then let
            # the server log the exception (its own fallback answer would bypass this middleware)
            if not started:
                body = json.dumps(error_body("internal_error", "服务器内部错误，请稍后重试或联系管理员"),
                                  ensure_ascii=False).encode()
                await send_tracked({"type": "http.response.start", "status": 500,
                                    "headers": [(b"content-type", b"application/json; charset=utf-8"),
                                                (b"content-length", str(len(body)).encode())]})
                await send_tracked({"type": "http.response.body", "body": body})
            raise
