"""Users (admin only) and the audit log (admin and county staff)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from api.auth import require
from api.deps import ConnDep, OffsetQ, TxDep
from api.text import Instant, Text, column_text
from geo.access import audit, users
from geo.config import get_settings

router = APIRouter(tags=["admin 用户与审计"])

AuditLimitQ = Annotated[int, Query(ge=1, le=get_settings().audit_max_page,
                                   description=f"每页条数（最多 {get_settings().audit_max_page}）")]

TownshipCode = column_text("township", "code")
Team = column_text("inspection", "team")
"""A team's name, as inspections and plan routes keep it."""

Role = Literal["admin", "county_editor", "county_viewer", "township_editor", "inspector"]


class UserIn(BaseModel):
    username: Text = Field(min_length=1, max_length=50)
    password: str = Field(min_length=users.MIN_PASSWORD, max_length=200)
    role: Role
    townships: list[TownshipCode] = Field(default_factory=list, max_length=100,
                                          description="所辖乡镇代码（乡镇编辑必填）")
    teams: list[Team] = Field(default_factory=list, max_length=100, description="巡查员所属巡查组")
    display_name: Text | None = Field(default=None, max_length=100)


class UserChange(BaseModel):
    role: Role | None = None
    townships: list[TownshipCode] | None = Field(None, max_length=100)
    teams: list[Team] | None = Field(None, max_length=100)
    disabled: bool | None = None
    password: str | None = Field(default=None, min_length=users.MIN_PASSWORD, max_length=200,
                                 description="新密码；设置后该用户的全部会话与 API 令牌立即失效")


@router.get("/users", summary="用户列表（管理员）", dependencies=[require("admin")])
def list_users(conn: ConnDep) -> list[dict[str, Any]]:
    return [u.as_dict() for u in users.list_users(conn)]


@router.post("/users", status_code=201, summary="新建用户（管理员）", dependencies=[require("admin")])
def add_user(body: UserIn, conn: TxDep) -> dict[str, Any]:
    return users.add_user(conn, body.username, body.password, body.role, townships=body.townships,
                          teams=body.teams, display_name=body.display_name).as_dict()


@router.patch("/users/{username}", summary="修改角色、辖区、巡查组、密码或停用（管理员）",
              dependencies=[require("admin")])
def change_user(username: Text, body: UserChange, conn: TxDep) -> dict[str, Any]:
    user = users.grant(conn, username, role=body.role, townships=body.townships, teams=body.teams)
    if body.disabled is not None:
        user = users.set_disabled(conn, username, body.disabled)
    if body.password is not None:
        users.set_password(conn, username, body.password)
    return user.as_dict()


@router.get("/audit", summary="审计日志：谁、何时、改了什么（修改前后）",
            dependencies=[require("admin", "county_editor", "county_viewer")])
def audit_log(conn: ConnDep, request: Request, response: Response, limit: AuditLimitQ = 100, offset: OffsetQ = 0,
              table: Text | None = None, record_id: Text | None = None, actor: Text | None = None,
              since: Instant | None = None, until: Instant | None = None) -> list[dict[str, Any]]:
    """A page of entries; geometries as summaries, the answer cut before RISKMAP_AUDIT_MAX_RESPONSE_BYTES with a
    `Link: <…offset=N>; rel="next"` header to the rest."""
    found, following = audit.page(conn, table=table, record_id=record_id, actor=actor, since=since, until=until,
                                  limit=limit, offset=offset, max_bytes=get_settings().audit_max_response_bytes)
    if following is not None:
        response.headers["Link"] = f'<{request.url.include_query_params(offset=following)}>; rel="next"'
    return found
