"""Login: the OAuth2 password flow for programs, a login page and cookie for people, API tokens.

`PrincipalDep` resolves the bearer token (header) or the login cookie (pages, tiles and popups fetched by
the map) to a Principal; anything else gets 401, and a page request is sent to /login instead.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.security import OAuth2PasswordBearer, OAuth2PasswordRequestForm
from pydantic import BaseModel, Field

from api.text import Text
from geo.access import tokens
from geo.access.principal import NotAuthenticated, Principal
from geo.db import get_engine

COOKIE = "riskmap_token"
_bearer = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False,
                               description="用户名密码登录（OAuth2 密码模式）或 API 令牌")


def current_principal(request: Request, token: Annotated[str | None, Depends(_bearer)]) -> Principal:
    """The logged-in principal of this request (401 otherwise)."""
    token = token or request.cookies.get(COOKIE)
    if not token:
        raise NotAuthenticated("请先登录")
    with get_engine().begin() as conn:
        return tokens.resolve(conn, token)


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


@router.post("/auth/token", response_model=TokenOut, summary="登录（OAuth2 密码模式），返回带有效期的签名令牌")
def login_token(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> TokenOut:
    with get_engine().begin() as conn:
        token, expires = tokens.sign_in(conn, form.username, form.password)
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
def new_api_token(body: ApiTokenIn, principal: PrincipalDep) -> dict[str, Any]:
    with get_engine().begin() as conn:
        return tokens.create_api_token(conn, principal.username, body.name, days=body.days)


@router.get("/auth/api-tokens", summary="当前用户的 API 令牌（不含令牌本身）")
def my_api_tokens(principal: PrincipalDep) -> list[dict[str, Any]]:
    with get_engine().connect() as conn:
        return tokens.list_api_tokens(conn, principal.username)


@router.delete("/auth/api-tokens/{token_id}", status_code=204, summary="吊销自己的 API 令牌")
def revoke_api_token(token_id: int, principal: PrincipalDep) -> None:
    with get_engine().begin() as conn:
        tokens.revoke_api_token(conn, token_id, username=principal.username)


def _safe_next(target: str | None) -> str:
    """Only same-site paths, so the login page cannot be used to redirect elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/maps"


def login_page(next_: str = "/maps", error: str | None = None, status: int = 200, *, csrf_token: str = ""
               ) -> HTMLResponse:
    """The login form (layers/templates/login.html); `csrf_token`, when given, goes in a hidden field."""
    from layers.web import render

    page = render("login.html", next=_safe_next(next_), error=error, csrf_token=csrf_token)
    return HTMLResponse(page, status_code=status, headers={"Cache-Control": "no-store"})


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_form(next: str | None = None) -> HTMLResponse:
    return login_page(_safe_next(next))


@router.post("/login", include_in_schema=False)
def login_submit(username: Annotated[str, Form()], password: Annotated[str, Form()],
                 next: Annotated[str | None, Form()] = None) -> Any:
    try:
        with get_engine().begin() as conn:
            token, expires = tokens.sign_in(conn, username, password)
    except NotAuthenticated as exc:
        return login_page(_safe_next(next), exc.message, status=401)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="lax", expires=expires, path="/")
    return response


@router.get("/logout", include_in_schema=False)
def logout() -> RedirectResponse:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


def login_redirect(request: Request) -> RedirectResponse:
    """Where an unauthenticated page request goes."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
