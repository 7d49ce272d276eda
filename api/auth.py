"""Login: the OAuth2 password flow for programs, a login page and cookie for people, API tokens.

`PrincipalDep` resolves the bearer token (header) or the login cookie (pages, tiles and popups fetched by
the map) to a Principal; anything else gets 401, and a page request is sent to /login instead.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from api.clients import client_address, over_tls
from api.csrf import csrf_token, rotate
from api.security import nonce_of
from api.text import Text
from geo.access import tokens
from geo.access.logins import TooManyAttempts, as_actor
from geo.access.principal import NotAuthenticated, Principal
from geo.db import get_engine

COOKIE = "riskmap_token"
bearer = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False,
                               description="用户名密码登录（OAuth2 密码模式）或 API 令牌")


def request_token(request: Request, token: str | None) -> str:
    """The bearer token, else the login cookie, of this request (401 when it carries neither)."""
    token = token or request.cookies.get(COOKIE)
    if not token:
        raise NotAuthenticated("请先登录")
    return token


def current_principal(request: Request, token: Annotated[str | None, Depends(bearer)]) -> Principal:
    """The logged-in principal of this request (401 otherwise), read afresh from the database once per request
    (kept in request.state for the rest of this request only, so a revoked session fails on the next one)."""
    principal = getattr(request.state, "principal", None)
    if principal is None:
        token = request_token(request, token)
        with get_engine().begin() as conn:
            principal = request.state.principal = tokens.resolve(conn, token)
    return principal


def known_principal(request: Request, token: str | None) -> Principal | None:
    """Before a route's read connection is checked out: the principal when it is known without that connection
    (resolved already by the router's login dependency, or an API token, whose use is recorded in a transaction of
    its own that the read connection's rollback must not undo), else None: resolve the login token with
    `resolve_on` on the route's connection, one pooled connection and transaction for the whole request.
    401 at once when the request carries no token."""
    principal = getattr(request.state, "principal", None)
    if principal is not None:
        return principal
    if request_token(request, token).startswith(tokens.API_PREFIX):
        return current_principal(request, token)
    return None


def resolve_on(conn: Connection, request: Request, token: str | None) -> Principal:
    """The principal of this request's login token, read on `conn` (its session row; nothing written). Until the
    process has the signing key (its first use may create it) the token is checked in a transaction of its own."""
    if not tokens.signing_key_loaded(conn):
        return current_principal(request, token)
    principal = request.state.principal = tokens.resolve(conn, request_token(request, token))
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require(*roles: str) -> Any:
    """A dependency refusing (403) principals whose role is not among `roles`."""

    def check(principal: PrincipalDep) -> Principal:
        principal.require(*roles)
        return principal

    return Depends(check)


router = APIRouter(tags=["auth 登录与令牌"])


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: str


@router.post("/auth/token", response_model=TokenOut, responses={429: {"description": "登录失败次数过多，稍后再试"}},
             summary="登录（OAuth2 密码模式），返回带有效期的签名令牌；失败过多时 429")
def login_token(request: Request, response: Response,
                form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> TokenOut:
    response.headers["Cache-Control"] = "no-store"  # a token must not stay in any cache
    token, expires = tokens.sign_in(get_engine(), form.username, form.password,
                                    address=client_address(request.scope), via="token")
    return TokenOut(access_token=token, expires_at=expires.isoformat())


@router.get("/auth/me", summary="当前登录用户、角色与辖区")
def me(principal: PrincipalDep) -> dict[str, Any]:
    return {"username": principal.username, "display_name": principal.display_name, "role": principal.role,
            "township_codes": list(principal.township_codes), "teams": list(principal.teams),
            "county_wide": principal.county_wide, "label": principal.label}


class ApiTokenIn(BaseModel):
    name: Text = Field(min_length=1, max_length=100, description="令牌用途，如 “市局平台对接”")
    days: int | None = Field(default=None, ge=1, le=3650, description="有效天数；不填为长期有效")


@router.post("/auth/api-tokens", status_code=201, summary="为当前用户签发 API 令牌（只显示一次）")
def new_api_token(body: ApiTokenIn, principal: PrincipalDep, response: Response) -> dict[str, Any]:
    response.headers["Cache-Control"] = "no-store"
    with get_engine().begin() as conn:
        as_actor(conn, principal.username, principal.role)
        return tokens.create_api_token(conn, principal.username, body.name, days=body.days)


@router.get("/auth/api-tokens", summary="当前用户的 API 令牌（不含令牌本身）")
def my_api_tokens(principal: PrincipalDep) -> list[dict[str, Any]]:
    with get_engine().connect() as conn:
        return tokens.list_api_tokens(conn, principal.username)


@router.delete("/auth/api-tokens/{token_id}", status_code=204, summary="吊销自己的 API 令牌")
def revoke_api_token(token_id: int, principal: PrincipalDep) -> None:
    with get_engine().begin() as conn:
        as_actor(conn, principal.username, principal.role)
        tokens.revoke_api_token(conn, token_id, username=principal.username)


def _safe_next(target: str | None) -> str:
    """Only same-site paths, so the login page cannot be used to redirect elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def login_page(request: Request, next_: str = "/", error: str | None = None, status: int = 200,
               headers: dict[str, str] | None = None) -> HTMLResponse:
    """The login form (layers/templates/login.html) with this request's CSRF token and CSP nonce."""
    from layers.web import render

    page = render("login.html", next=_safe_next(next_), error=error, csrf_token=csrf_token(request),
                  nonce=nonce_of(request))
    return HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-store", **(headers or {})})


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_form(request: Request, next: str | None = None) -> HTMLResponse:
    return login_page(request, _safe_next(next))


@router.post("/login", include_in_schema=False)
def login_submit(request: Request, username: Annotated[str, Form()], password: Annotated[str, Form()],
                 next: Annotated[str | None, Form()] = None) -> Any:
    try:
        token, expires = tokens.sign_in(get_engine(), username, password, address=client_address(request.scope),
                                        via="form")
    except TooManyAttempts as exc:
        return login_page(request, _safe_next(next), exc.message, status=429,
                          headers={"Retry-After": str(exc.retry_after)})
    except NotAuthenticated as exc:
        return login_page(request, _safe_next(next), exc.message, status=401)
    rotate(request)  # a token planted in this browser before the login is worth nothing after it
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="lax", expires=expires, path="/",
                        secure=over_tls(request.scope))
    return response


@router.get("/logout", response_class=HTMLResponse, include_in_schema=False)
def logout_confirm(request: Request) -> HTMLResponse:
    """A page asking to confirm; only its POST logs out (a GET must never change anything)."""
    from layers.web import render

    page = render("logout.html", csrf_token=csrf_token(request), nonce=nonce_of(request))
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})


@router.post("/logout", status_code=303, include_in_schema=False)
def logout(request: Request, token: Annotated[str | None, Depends(bearer)]) -> RedirectResponse:
    """End the session of the login cookie or bearer token (a browser's POST carries the CSRF token)."""
    token = token or request.cookies.get(COOKIE)
    if token:
        with get_engine().begin() as conn:
            tokens.end_session(conn, token, address=client_address(request.scope))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/", secure=over_tls(request.scope), httponly=True, samesite="lax")
    return response


def login_redirect(request: Request) -> RedirectResponse:
    """Where an unauthenticated page request goes."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
