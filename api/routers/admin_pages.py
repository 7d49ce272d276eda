"""用户与审计 pages (admin only): users and roles — list, add, change role/townships/teams, disable — and the
audit log with filters (who, table, record, dates), paged, each change shown as before → after."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import PrincipalDep
from api.deps import ConnDep, TxDep
from api.pages import page
from api.routers.data_pages import forbidden_page
from geo.access import audit, users
from geo.access.principal import Forbidden, Principal, region_label
from geo.access.roles import ROLE_LABELS
from geo.errors import InvalidInput, RiskmapError

router = APIRouter(include_in_schema=False)

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
"""Dates in the audit filters and times shown are Beijing time (the bureau's)."""
AUDIT_PAGE = 50
VALUE_CHARS = 60
"""A value in the before → after column is cut to this many characters (the JSON API has it whole)."""
EMPTY_FORM = {"username": "", "display_name": "", "role": "county_viewer", "townships": [], "teams": "",
              "region_code": ""}
_TEAM_SPLIT = re.compile(r"[,，、;；\s]+")


def _admin(principal: Principal) -> None:
    principal.require("admin")


def _text(value: str, label: str, longest: int = 200) -> str:
    """A form value without NUL characters and not too long (Chinese error naming the field)."""
    value = value.strip()
    if "\x00" in value or len(value) > longest:
        raise InvalidInput(f"{label}不超过 {longest} 个字符，且不含 NUL 字符")
    return value


def _teams(value: str) -> list[str]:
    return [t for t in (_text(x, "巡查组", 50) for x in _TEAM_SPLIT.split(value)) if t]


def _users_page(request: Request, principal: Principal, conn: Any, *, status: int = 200, error: str | None = None,
                saved: str | None = None, form: dict[str, Any] | None = None) -> HTMLResponse:
    townships = users.township_choices(conn)
    return page(request, principal, "admin_users.html", conn=conn, status=status, nav="admin",
                crumbs=[("用户与审计", None)], users=users.list_users(conn), roles=ROLE_LABELS,
                townships=townships, township_names=dict(townships), error=error, saved=saved,
                form={**EMPTY_FORM, **(form or {})}, min_password=users.MIN_PASSWORD)


@router.get("/admin", response_class=HTMLResponse)
@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, principal: PrincipalDep, conn: ConnDep, saved: str | None = None) -> HTMLResponse:
    """Users and their roles, townships and teams; the add form."""
    try:
        _admin(principal)
    except Forbidden as exc:
        return forbidden_page(request, principal, conn, exc, "admin")
    return _users_page(request, principal, conn, saved=saved[:100] if saved else None)


def _done(what: str) -> RedirectResponse:
    """After a change, back to the list (a reload does not post again), saying what was saved."""
    return RedirectResponse("/admin/users?" + urlencode({"saved": what}), status_code=303)


@router.post("/admin/users", response_class=HTMLResponse)
def add_user(request: Request, principal: PrincipalDep, conn: TxDep, username: Annotated[str, Form()],
             password: Annotated[str, Form()], role: Annotated[str, Form()],
             display_name: Annotated[str, Form()] = "", townships: Annotated[list[str], Form()] = [],  # noqa: B006
             teams: Annotated[str, Form()] = "", region_code: Annotated[str, Form()] = "") -> Response:
    """Create an account (the password is the initial one; the user changes it)."""
    try:
        _admin(principal)
    except Forbidden as exc:
        return forbidden_page(request, principal, conn, exc, "admin")
    form = {"username": username, "display_name": display_name, "role": role, "townships": townships,
            "teams": teams, "region_code": region_code[:20]}
    try:
        if len(password) > 200:
            raise InvalidInput("密码不超过 200 个字符")
        region = users.region_code(region_code, role) if role in ROLE_LABELS else None
        user = users.add_user(conn, _text(username, "用户名", 50), password, role,
                              townships=[_text(t, "乡镇代码", 12) for t in townships], teams=_teams(teams),
                              display_name=_text(display_name, "姓名", 100) or None, region=region)
    except RiskmapError as exc:
        return _users_page(request, principal, conn, status=422, error=exc.message, form=form)
    return _done(f"已新增用户 {user.username}（{ROLE_LABELS[user.role]}" + (
        f"，{region_label(user.region_code)}）" if user.region_code else "）"))


@router.post("/admin/users/{username}", response_class=HTMLResponse)
def change_user(request: Request, principal: PrincipalDep, conn: TxDep, username: str,
                role: Annotated[str, Form()], townships: Annotated[list[str], Form()] = [],  # noqa: B006
                teams: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
                region_code: Annotated[str, Form()] = "") -> Response:
    """Change a user's role, townships, teams and region, and with a new password end its sessions and API tokens.
    The region is kept only for a region viewer (another role drops it, whatever the field still holds)."""
    try:
        _admin(principal)
    except Forbidden as exc:
        return forbidden_page(request, principal, conn, exc, "admin")
    try:
        if password and not users.MIN_PASSWORD <= len(password) <= 200:
            raise InvalidInput(f"密码 {users.MIN_PASSWORD}–200 位")
        region = users.region_code(region_code, role) if role == "region_viewer" else None
        user = users.grant(conn, username, role=role, townships=[_text(t, "乡镇代码", 12) for t in townships],
                           teams=_teams(teams), region=region)
        if password:
            users.set_password(conn, username, password)
    except RiskmapError as exc:
        return _users_page(request, principal, conn, status=422, error=f"用户 {username} 未修改：{exc.message}")
    return _done(f"已修改用户 {user.username}（{ROLE_LABELS[user.role]}" + (
        f"，{region_label(user.region_code)}）" if user.region_code else "）") + ("，密码已重设" if password else ""))


@router.post("/admin/users/{username}/disabled", response_class=HTMLResponse)
def disable_user(request: Request, principal: PrincipalDep, conn: TxDep, username: str,
                 disabled: Annotated[bool, Form()]) -> Response:
    """Disable (ending its sessions and API tokens) or re-enable an account; an admin cannot disable itself."""
    try:
        _admin(principal)
    except Forbidden as exc:
        return forbidden_page(request, principal, conn, exc, "admin")
    try:
        if disabled and username == principal.username:
            raise InvalidInput("不能停用自己正在使用的账号")
        user = users.set_disabled(conn, username, disabled)
    except RiskmapError as exc:
        return _users_page(request, principal, conn, status=422, error=exc.message)
    return _done(f"已{'停用' if user.disabled else '启用'}用户 {user.username}")


def _day(value: str, label: str) -> dt.date | None:
    if not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"{label}应为日期，如 2026-12-01") from None


def _shown(value: Any) -> str:
    """One value of a before/after row, short: a geometry as its summary, text cut to VALUE_CHARS."""
    if value is None:
        return "空"
    if isinstance(value, dict) and "sha256" in value and "type" in value:
        points = value.get("points")
        return f"几何（{value['type']}{f'，{points} 个点' if points else ''}）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        value = "、".join(str(v) for v in value) or "（无）"
    text = str(value)
    return text if len(text) <= VALUE_CHARS else text[:VALUE_CHARS] + "…"


def _changes(item: dict[str, Any]) -> list[tuple[str, str, str | None, str | None]]:
    """(label, column, before, after) of each changed field; before None for an insert, after None for a delete."""
    before, after = item["before"] or {}, item["after"] or {}

    def value(row: dict[str, Any], k: str) -> str:
        v = row.get(k)
        return ROLE_LABELS.get(v, v) if k == "role" and isinstance(v, str) else _shown(v)

    return [(audit.field_label(item["table"], k), k, value(before, k) if item["action"] != "insert" else None,
             value(after, k) if item["action"] != "delete" else None) for k in item["changed"]]


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(request: Request, principal: PrincipalDep, conn: ConnDep, actor: str = "", table: str = "",
               record_id: str = "", since: str = "", until: str = "", offset: int = 0) -> HTMLResponse:
    """The audit log, newest first, AUDIT_PAGE entries a page."""
    try:
        _admin(principal)
    except Forbidden as exc:
        return forbidden_page(request, principal, conn, exc, "admin")
    filters = {"actor": actor, "table": table, "record_id": record_id, "since": since, "until": until}
    entries: list[dict[str, Any]] = []
    following = None
    error = None
    offset = max(0, min(offset, 10**9))
    try:
        start, end = _day(since, "开始日期"), _day(until, "结束日期")
        found, following = audit.page(
            conn, limit=AUDIT_PAGE, offset=offset, max_bytes=10**8,
            actor=_text(actor, "操作人", 100) or None, table=_text(table, "数据表", 64) or None,
            record_id=_text(record_id, "记录编号", 64) or None,
            since=dt.datetime.combine(start, dt.time(), LOCAL_TZ) if start else None,
            until=dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), LOCAL_TZ) if end else None)
        for item in found:
            at = dt.datetime.fromisoformat(item["at"]).astimezone(LOCAL_TZ)
            entries.append({**item, "at_local": f"{at:%Y-%m-%d %H:%M:%S}", "changes": _changes(item),
                            "role_label": ROLE_LABELS.get(item["actor_role"] or "", item["actor_role"] or ""),
                            "table_label": audit.TABLE_LABELS.get(item["table"], item["table"])})
    except RiskmapError as exc:
        error = exc.message

    def link(at: int) -> str:
        return "/admin/audit?" + urlencode({**{k: v for k, v in filters.items() if v}, "offset": at})

    return page(request, principal, "admin_audit.html", conn=conn, status=422 if error else 200, nav="admin",
                crumbs=[("用户与审计", "/admin"), ("审计日志", None)], entries=entries, filters=filters,
                error=error, tables=audit.TABLE_LABELS, offset=offset,
                previous=link(max(0, offset - AUDIT_PAGE)) if offset else None,
                following=link(following) if following is not None else None,
                actions=audit.ACTION_LABELS)
