"""Cross-site request forgery: writes carried by the login cookie must come from our own pages.

A write (POST, PUT, PATCH, DELETE) authenticated by the `riskmap_token` cookie rather than an Authorization
header, and every POST /login (login CSRF), needs both
- an Origin header (or, when absent, a Referer) naming this very host, and
- the CSRF token: the random `riskmap_csrf` cookie (readable by our scripts, SameSite=Strict) echoed in the
  `X-CSRF-Token` header or the `csrf_token` form field, compared in constant time.
Otherwise 403 {"code": "csrf"}. Bearer clients are not affected: a foreign page cannot set their header.

Pages call `csrf_token(request)` to render the hidden field; a token made for a browser without one is set
as its cookie on that response by the middleware here.
"""

from __future__ import annotations

import json
import secrets
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.clients import over_tls
from api.limits import read_body, replay

COOKIE = "riskmap_csrf"
HEADER = b"x-csrf-token"
FIELD = "csrf_token"
SESSION_COOKIE = "riskmap_token"
"""The login cookie (api.auth.COOKIE); named here too so this module needs nothing from api.auth."""
_STATE = "csrf_new"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def _plausible(token: str | None) -> str | None:
    return token if token and 20 <= len(token) <= 100 and token.isascii() else None


def csrf_token(request: Request) -> str:
    """This browser's CSRF token for a page's hidden `csrf_token` field (a new one is set as its cookie)."""
    state = request.scope.setdefault("state", {})
    token = state.get(_STATE) or _plausible(request.cookies.get(COOKIE))
    if not token:
        token = state[_STATE] = secrets.token_urlsafe(32)
    return str(token)


def rotate(request: Request) -> str:
    """A fresh token for this browser (at login, so a token planted before it is worth nothing after)."""
    token = request.scope.setdefault("state", {})[_STATE] = secrets.token_urlsafe(32)
    return str(token)


def _same_origin(url: str, scope: Scope, host: str) -> bool:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    scheme = "https" if over_tls(scope) else "http"
    default = 443 if scheme == "https" else 80
    want = urlsplit(f"{scheme}://{host}")
    try:
        want_port = want.port or default
    except ValueError:
        return False
    return (parts.scheme == scheme and (parts.hostname or "") == (want.hostname or "")
            and (port or default) == want_port)


def _refusal(scope: Scope, why: str) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    body = json.dumps({"code": "csrf", "message": f"跨站请求被拒绝：{why}。请从本系统页面重新操作（刷新页面后重试）"},
                      ensure_ascii=False).encode()
    return body, [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]


class CsrfGuard:
    """Pure ASGI middleware inside the body limit (the body is already read, so a form field costs nothing)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})  # shared with the route's request.state (a new token lands here)
        request = Request(scope)
        if scope["method"] not in SAFE_METHODS and _needs_check(request):
            body = await read_body(receive)
            receive = replay(body, receive)
            why = await _problem(request, body)
            if why:
                content, headers = _refusal(scope, why)
                await send({"type": "http.response.start", "status": 403, "headers": headers})
                await send({"type": "http.response.body", "body": content})
                return

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                token = scope.get("state", {}).get(_STATE)
                if token:
                    headers = MutableHeaders(scope=message)
                    secure = "; Secure" if over_tls(scope) else ""
                    headers.append("set-cookie", f"{COOKIE}={token}; Path=/; SameSite=Strict{secure}")
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def credential(request: Request) -> tuple[str | None, bool]:
    """The login token a request carries and whether it came in the cookie: a bearer header wins, as in
    api.auth.current_principal."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip(), False
    cookie = request.cookies.get(SESSION_COOKIE)
    return (cookie, True) if cookie else (None, False)


def _needs_check(request: Request) -> bool:
    """Cookie-authenticated writes, and the login form itself."""
    return request.url.path == "/login" or credential(request)[1]


async def _problem(request: Request, body: bytes) -> str | None:
    """Why this write is refused, or None."""
    host = request.headers.get("host", "")
    origin = request.headers.get("origin")
    if origin is not None:
        if not _same_origin(origin, request.scope, host):
            return "来源（Origin）不是本站"
    else:
        referer = request.headers.get("referer")
        if not referer or not _same_origin(referer, request.scope, host):
            return "缺少本站来源（Origin/Referer）"
    expected = _plausible(request.cookies.get(COOKIE))
    given = request.headers.get(HEADER.decode()) or await _form_token(request, body)
    if not expected or not given or not secrets.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
        return "缺少或不符的 CSRF 令牌"
    return None


async def _form_token(request: Request, body: bytes) -> str | None:
    if not body or not request.headers.get("content-type", "").startswith(_FORMS):
        return None
    form_request = Request(request.scope, replay(body, _never))
    try:
        form = await form_request.form()
    except Exception:  # noqa: BLE001 — an unparseable form simply carries no token
        return None
    try:
        value = form.get(FIELD)
        return value if isinstance(value, str) else None
    finally:
        await form.close()


async def _never() -> Message:
    return {"type": "http.disconnect"}
