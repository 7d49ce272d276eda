"""What the ledger and dossier pages share: reading a ledger filter from the query, Chinese error pages, and one
write transaction per form whose refusal is shown on the page rather than as JSON.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from api.pages import page
from geo.access import bind
from geo.access.principal import Principal
from geo.config import get_settings
from geo.db import get_engine
from geo.access.principal import Forbidden
from geo.errors import Conflict, InvalidInput, NotFound, RiskmapError
from geo.register.browse import MAX_PAGE_SIZE, PAGE_SIZE, LedgerFilter
from geo.register.core import InvalidTransition, VerifierRequired

T = TypeVar("T")
EDITORS = ("admin", "county_editor", "township_editor")
"""Roles that move register objects along their life-cycle and add to dossiers."""
SCOPE_REFUSAL = "超出辖区：只能在本人所辖乡镇范围内登记或修改记录"


def _day(value: str | None, name: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"筛选条件 {name} 应为日期 YYYY-MM-DD，不是“{value[:20]}”") from None


def _int(value: str | None, name: str, low: int, high: int) -> int | None:
    if not value:
        return None
    if not re.fullmatch(r"[0-9]{1,9}", value) or not low <= int(value) <= high:
        raise InvalidInput(f"筛选条件 {name} 应为 {low}–{high} 的整数，不是“{value[:20]}”")
    return int(value)


def _code(value: str | None, name: str, pattern: str = r"[0-9A-Za-z_\-]{1,40}") -> str | None:
    if not value:
        return None
    if not re.fullmatch(pattern, value):
        raise InvalidInput(f"筛选条件 {name}“{value[:40]}”格式不对")
    return value


def ledger_filter(request: Request) -> LedgerFilter:
    """The ledger filter of the page's query (township, status, level, kind, nature, colour, category, grade,
    pipeline, enterprise, overdue, from, to, q, sort, page, size); InvalidInput in Chinese on a bad value."""
    q = request.query_params
    text_q = (q.get("q") or "").strip()[:50] or None
    return LedgerFilter(
        township=_code(q.get("township"), "township（乡镇代码）", r"[0-9]{12}"),
        status=_code(q.get("status"), "status（状态）"), level=_code(q.get("level"), "level（级别）"),
        kind=_code(q.get("kind"), "kind（类型）"), nature=_code(q.get("nature"), "nature（性质）"),
        colour=_code(q.get("colour"), "colour（风险颜色）"), category=_code(q.get("category"), "category（行业）"),
        grade=_int(q.get("grade"), "grade（级别）", 1, 4), pipeline=_code(q.get("pipeline"), "pipeline（管道编号）"),
        enterprise=_int(q.get("enterprise"), "enterprise（企业编号）", 1, 2**31 - 1),
        overdue=q.get("overdue") in ("1", "true", "on"),
        date_from=_day(q.get("from"), "from（起始日期）"), date_to=_day(q.get("to"), "to（截止日期）"), q=text_q,
        sort=_code(q.get("sort"), "sort（排序）", r"-?[a-z_]{1,30}"),
        page=_int(q.get("page"), "page（页码）", 1, 10**7) or 1,
        size=_int(q.get("size"), "size（每页条数）", 1, MAX_PAGE_SIZE) or PAGE_SIZE,
    )


def status_of(exc: Exception) -> int:
    """HTTP status of a refusal shown on a page."""
    from geo.attachments import AttachmentTooLarge

    if isinstance(exc, AttachmentTooLarge):
        return 413
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Conflict | InvalidTransition):
        return 409
    if isinstance(exc, Forbidden):
        return 403
    if isinstance(exc, InvalidInput | VerifierRequired):
        return 422
    return 400


def not_found(request: Request, principal: Principal, exc: RiskmapError, conn: Connection | None = None) -> HTMLResponse:
    """The Chinese 404 page (a missing object and one outside the user's townships look the same)."""
    return page(request, principal, "wb_error.html", conn=conn, status=404, nav="ledgers",
                crumbs=[("未找到", None)], title="未找到", message=exc.message)


def write(principal: Principal, action: Callable[[Connection], T]) -> T:
    """Run `action` in one transaction as the principal; rolled back on any refusal, which is raised as a
    RiskmapError (row-level security's refusal as Forbidden with the scope message)."""
    try:
        with get_engine().begin() as conn:
            bind(conn, principal)
            return action(conn)
    except DBAPIError as exc:
        if getattr(exc.orig, "pgcode", None) == "42501":
            raise Forbidden(SCOPE_REFUSAL) from None
        raise


def can_edit(principal: Principal) -> bool:
    return principal.role in EDITORS


def person(principal: Principal) -> str:
    """The signed-in user's name as the handling person (经办人)."""
    return (principal.display_name or principal.username)[:50]


def form_text(form: Any, name: str, limit: int = 2000) -> str | None:
    """A text field of a submitted form, trimmed; None when empty; InvalidInput when longer than `limit`."""
    value = form.get(name)
    if not isinstance(value, str) or not value.strip():
        return None
    if len(value) > limit:
        raise InvalidInput(f"字段 {name} 不超过 {limit} 个字符")
    return value.strip()


def form_day(form: Any, name: str) -> dt.date | None:
    value = form_text(form, name, 20)
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"字段 {name} 应为日期 YYYY-MM-DD") from None


def form_int(form: Any, name: str) -> int | None:
    value = form_text(form, name, 12)
    if value is None:
        return None
    if not value.isdigit():
        raise InvalidInput(f"字段 {name} 应为整数")
    return int(value)


def context_for(f: LedgerFilter) -> dict[str, Any]:
    """Template helpers for a filter: the query string of the same filter with changes."""
    from urllib.parse import urlencode

    def link(**changes: Any) -> str:
        query = urlencode(f.query(**changes))
        return f"?{query}" if query else "?"

    return {"f": f, "link": link, "export_query": urlencode(f.query(page=1))}


async def _form(request: Request) -> Any:
    """The submitted form (read here, so the page routes themselves stay plain functions run off the event loop)."""
    return await request.form(max_files=1, max_fields=20)


FormDep = Annotated[Any, Depends(_form)]


@dataclass(frozen=True)
class Upload:
    """One uploaded file: its name, what the browser said it is, and at most attachment_max_bytes + 1 bytes."""

    name: str
    declared_type: str | None
    data: bytes


async def _upload(form: FormDep) -> Upload | None:
    file = form.get("file")
    if file is None or isinstance(file, str) or not file.filename:
        return None
    data = await file.read(get_settings().attachment_max_bytes + 1)
    return Upload(name=file.filename, declared_type=file.content_type, data=data)


UploadDep = Annotated[Upload | None, Depends(_upload)]
