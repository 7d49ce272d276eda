"""One table from domain exception to HTTP status; every error body has a stable code and Chinese text."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from geo.access.principal import Forbidden, NotAuthenticated
from geo.attachments import AttachmentTooLarge
from geo.cluster import ClusterError
from geo.errors import Conflict, InvalidInput, NotFound, RiskmapError, TooManyRequests
from geo.io.importer import ImportRejected
from geo.register.core import InvalidTransition, VerifierRequired

log = logging.getLogger("riskmap.api")

STATUS: dict[type[RiskmapError], int] = {
    NotAuthenticated: 401, Forbidden: 403, Conflict: 409,
    NotFound: 404, InvalidInput: 422, VerifierRequired: 422, ImportRejected: 422, InvalidTransition: 409,
    ClusterError: 503, TooManyRequests: 429, AttachmentTooLarge: 413,
}

_HTTP_TEXT = {404: ("not_found", "资源不存在"), 405: ("method_not_allowed", "不支持该请求方法"),
              401: ("unauthorized", "未登录或登录已过期"), 403: ("forbidden", "无权访问"),
              413: ("too_large", "请求体过大"), 429: ("too_many_requests", "请求过于频繁，请稍后重试")}


class ErrorBody(BaseModel):
    """Every error: a stable code, a Chinese message, and for invalid requests the fields at fault."""

    code: str
    message: str
    detail: Any | None = None


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in ((401, "未登录或登录已过期"), (403, "无权访问或超出辖区"), (404, "资源不存在或不在辖区内"),
                         (409, "与他人的修改冲突（版本过期）或违反唯一性"), (413, "请求体过大"),
                         (422, "请求参数不合法"), (429, "请求过于频繁，请稍后重试"), (503, "数据库暂时不可用或服务繁忙，请稍后重试"))
}
"""Documented on every login-protected route, so clients and the schema fuzz test know the error shape."""


def _wants_page(request: Request) -> bool:
    """A person's browser asking for a page (sent to the login page rather than given 401 JSON)."""
    return request.method == "GET" and (
        request.url.path.startswith("/maps") or "text/html" in request.headers.get("accept", ""))


def error_body(code: str, message: str, detail: object = None) -> dict[str, object]:
    body: dict[str, object] = {"code": code, "message": message}
    if detail is not None:
        body["detail"] = detail
    return body


def _field_name(loc: tuple[object, ...]) -> str:
    return ".".join(str(p) for p in loc if p not in ("query", "body", "path"))


def register_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RiskmapError)
    async def domain_error(request: Request, exc: RiskmapError) -> Response:
        status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
        if status == 401:
            if _wants_page(request):
                from api.auth import login_redirect

                return login_redirect(request)
            return JSONResponse(error_body(exc.code, exc.message), status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None
        return JSONResponse(error_body(exc.code, exc.message), status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"field": _field_name(tuple(e.get("loc", ()))), "reason": e.get("msg", ""), "type": e.get("type")}
            for e in exc.errors()
        ]
        fields = "、".join(p["field"] for p in problems if p["field"]) or "请求"
        return JSONResponse(error_body("invalid_request", f"请求参数不合法：{fields}", problems), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, text = _HTTP_TEXT.get(exc.status_code, ("http_error", "请求失败"))
        message = exc.detail if isinstance(exc.detail, str) and not exc.detail.isascii() else text
        return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(OperationalError)
    async def db_down(request: Request, exc: OperationalError) -> JSONResponse:
        return JSONResponse(error_body("database_unavailable", "数据库暂时不可用，请稍后重试"), status_code=503,
                            headers={"Retry-After": "5"})

    @app.exception_handler(PoolTimeout)
    async def db_busy(request: Request, exc: PoolTimeout) -> JSONResponse:
        # every pooled connection stayed busy past the pool's wait (overload): shed the request, not a 500
        return JSONResponse(error_body("database_busy", "数据库连接繁忙，请稍后重试"), status_code=503,
                            headers={"Retry-After": "5"})

    @app.exception_handler(DBAPIError)
    async def db_error(request: Request, exc: DBAPIError) -> JSONResponse:
        if getattr(exc.orig, "pgcode", None) == "42501":  # refused by grants or row-level security
            log.warning("database refused %s %s: %s", request.method, request.url.path, exc.orig)
            if "row-level security" in str(exc.orig):
                message = ("超出辖区：只能在本人所辖乡镇范围内新增或修改记录，位置须落在辖区内"
                           "（巡查员只能为本组巡查站点的企业记录检查、隐患）")
            else:
                message = "当前账号无权执行此操作"
            return JSONResponse(error_body("forbidden", message), status_code=403)
        if str(getattr(exc.orig, "pgcode", "") or "").startswith("23"):  # integrity: unique, foreign key, check
            log.warning("constraint refused a write on %s: %s", request.url.path, exc.orig)
            return JSONResponse(error_body("constraint_violation", "与现有数据冲突（编码重复或关联记录不存在），未保存"),
                                status_code=409)
        if exc.connection_invalidated:
            return JSONResponse(error_body("database_unavailable", "数据库暂时不可用，请稍后重试"), status_code=503,
                                headers={"Retry-After": "5"})
        log.exception("database error on %s", request.url.path)
        return JSONResponse(error_body("database_error", "数据库处理请求时出错"), status_code=500)
