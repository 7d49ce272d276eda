"""The field app (现场端, issue #15): its pages (/field, manifest, service worker) and its JSON API (/api/field/…).

Every record carries a client id made on the phone; geo.field.submit answers a repeated id with the first answer,
and a refused record (scope, conflict, validation) with its Chinese reason and the same status every time.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from api.auth import PrincipalDep
from api.deps import ConnDep, TxDep
from api.pages import page
from api.text import Day, Instant, LongText, Text
from geo.access.principal import Principal
from geo.field.layers import field_layers
from geo.field.record import (
    Position,
    mark_stop,
    nearby_pipelines,
    record_new_encroachment,
    record_new_hazard,
    record_progress,
    record_stop_result,
)
from geo.field.submit import Answer, submit
from geo.field.tasks import my_tasks
from geo.inspection.results import Finding
from layers.web import STATIC

router = APIRouter(tags=["field 现场端"])
FIELD_STATIC = STATIC / "field"
DbId = Annotated[int, Field(ge=1, le=2**31 - 1)]
"""A row id (PostgreSQL integer)."""
ClientId = Annotated[str, Field(min_length=32, max_length=36, description="手机生成的记录编号（UUID）；重发同一编号只保存一次")]


class Fix(BaseModel):
    lon: float = Field(ge=73, le=136, description="经度（CGCS2000）")
    lat: float = Field(ge=3, le=54, description="纬度（CGCS2000）")
    accuracy_m: float | None = Field(None, ge=0, le=10_000, description="定位精度（米）")

    def position(self) -> Position:
        return Position(self.lon, self.lat, self.accuracy_m)


class FindingIn(BaseModel):
    level: Literal["general", "major"]
    description: LongText = Field(min_length=1)
    deadline: Day | None = None


class StopResultIn(BaseModel):
    client_id: ClientId
    plan_id: DbId
    stop_id: DbId
    inspected_on: Day
    result: LongText | None = None
    findings: list[FindingIn] = Field(default_factory=list, max_length=50)
    position: Fix | None = None


class HazardIn(BaseModel):
    client_id: ClientId
    enterprise_id: DbId
    level: Literal["general", "major"]
    description: LongText = Field(min_length=1)
    found_on: Day
    deadline: Day | None = None
    position: Fix | None = None


class EncroachmentIn(BaseModel):
    client_id: ClientId
    position: Fix
    pipeline: Text | None = Field(None, max_length=40, description="管道编号（不填为最近的管道）")
    kind: Literal["encroachment", "insufficient_distance", "crossing"] = "encroachment"
    nature: Text | None = Field(None, max_length=24)
    description: LongText | None = None
    found_on: Day | None = None


class ProgressIn(BaseModel):
    client_id: ClientId
    kind: Literal["hazard", "encroachment"]
    code: Text = Field(max_length=40)
    status: Literal["rectifying", "rectified", "整改中", "已整改"]
    note: LongText = Field(min_length=1)


class MarkIn(BaseModel):
    client_id: ClientId
    plan_id: DbId
    mark: Literal["arrived", "completed"]
    at: Instant | None = Field(None, description="手机记录的时刻（带时区）")


def _by(principal: Principal) -> str:
    return (principal.display_name or principal.username)[:50]


def _answer(answer: Answer) -> JSONResponse:
    status = 200 if answer.replayed and answer.ok else answer.status
    return JSONResponse(json.loads(json.dumps(answer.as_dict(), ensure_ascii=False, default=str)),
                        status_code=status)


# ---- pages -------------------------------------------------------------------------------------------------------

@router.get("/field", response_class=HTMLResponse, include_in_schema=False)
def field_page(request: Request, conn: ConnDep, principal: PrincipalDep) -> HTMLResponse:
    return page(request, principal, "field.html", conn=conn, nav="field",
                field_user={"username": principal.username, "role": principal.role, "teams": list(principal.teams)})


@router.get("/field/manifest.webmanifest", include_in_schema=False)
def manifest() -> Response:
    body = {"name": "安全风险四色图 · 现场端", "short_name": "现场端", "lang": "zh-CN", "start_url": "/field",
            "scope": "/field", "display": "standalone", "background_color": "#ffffff", "theme_color": "#b71c1c",
            "description": "巡查员、网格员现场记录检查结果、隐患与占压点（可离线）",
            "icons": [{"src": "/static/field/icon.svg", "sizes": "any", "type": "image/svg+xml"}]}
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/manifest+json",
                    headers={"Cache-Control": "no-cache"})


@router.get("/field/sw.js", include_in_schema=False)
def service_worker() -> FileResponse:
    """The service worker, from /field so it may control /field (Service-Worker-Allowed) and never cached by HTTP."""
    return FileResponse(FIELD_STATIC / "sw.js", media_type="text/javascript",
                        headers={"Service-Worker-Allowed": "/field", "Cache-Control": "no-cache"})


# ---- reading -----------------------------------------------------------------------------------------------------

@router.get("/api/field/tasks", summary="我的任务：最新巡查计划中今日、本周的站点（顺序、地址、联系人、原因、到期状态）与待整改事项")
def tasks(conn: ConnDep, principal: PrincipalDep) -> dict[str, Any]:
    out = my_tasks(conn, role=principal.role, teams=principal.teams)
    out["user"] = {"username": principal.username, "role": principal.role, "teams": list(principal.teams),
                   "label": principal.label}
    return json.loads(json.dumps(out, ensure_ascii=False, default=str))


@router.get("/api/field/layers", summary="本人辖区的参考与风险图层（乡镇界、管道、企业风险颜色、占压点；GeoJSON，离线缓存用）")
def layers(conn: ConnDep) -> dict[str, Any]:
    return field_layers(conn)


@router.get("/api/field/pipelines/nearby", summary="附近的管道（按距离，米，县内高斯投影量算）")
def pipelines_nearby(conn: ConnDep, lon: Annotated[float, Query(ge=73, le=136)],
                     lat: Annotated[float, Query(ge=3, le=54)]) -> list[dict[str, Any]]:
    return nearby_pipelines(conn, lon=lon, lat=lat)


# ---- records (idempotent on client_id) ------------------------------------------------------------------------------

@router.post("/api/field/inspections", status_code=201, summary="记录站点检查结果（含发现的隐患）")
def post_result(body: StopResultIn, conn: TxDep, principal: PrincipalDep) -> JSONResponse:
    team = principal.teams[0] if len(principal.teams) == 1 else None
    return _answer(submit(conn, client_id=body.client_id, login=principal.username, kind="inspection",
                          record=lambda: record_stop_result(
                              conn, plan_id=body.plan_id, stop_id=body.stop_id, inspected_on=body.inspected_on,
                              team=team, result=body.result,
                              findings=[Finding(f.level, f.description, f.deadline) for f in body.findings],
                              position=body.position.position() if body.position else None)))


@router.post("/api/field/hazards", status_code=201, summary="现场登记新隐患")
def post_hazard(body: HazardIn, conn: TxDep, principal: PrincipalDep) -> JSONResponse:
    return _answer(submit(conn, client_id=body.client_id, login=principal.username, kind="hazard",
                          record=lambda: record_new_hazard(
                              conn, enterprise_id=body.enterprise_id, level=body.level,
                              description=body.description, by=_by(principal), found_on=body.found_on,
                              deadline=body.deadline, position=body.position.position() if body.position else None)))


@router.post("/api/field/encroachments", status_code=201, summary="现场登记新占压点（GPS 点）")
def post_encroachment(body: EncroachmentIn, conn: TxDep, principal: PrincipalDep) -> JSONResponse:
    return _answer(submit(conn, client_id=body.client_id, login=principal.username, kind="encroachment",
                          record=lambda: record_new_encroachment(
                              conn, position=body.position.position(), by=_by(principal),
                              pipeline_code=body.pipeline, kind=body.kind, nature=body.nature,
                              description=body.description, on=body.found_on)))


@router.post("/api/field/progress", status_code=201, summary="登记整改进展（整改中 / 已整改，附说明）")
def post_progress(body: ProgressIn, conn: TxDep, principal: PrincipalDep) -> JSONResponse:
    return _answer(submit(conn, client_id=body.client_id, login=principal.username, kind="progress",
                          record=lambda: record_progress(conn, kind=body.kind, code=body.code,
                                                         to_status=body.status, note=body.note,
                                                         by=_by(principal))))


@router.post("/api/field/stops/{stop_id}/mark", status_code=201, summary="站点 已到达 / 已完成")
def post_mark(stop_id: Annotated[int, Path(ge=1, le=2**31 - 1)], body: MarkIn, conn: TxDep, principal: PrincipalDep) -> JSONResponse:
    return _answer(submit(conn, client_id=body.client_id, login=principal.username, kind="stop",
                          record=lambda: mark_stop(conn, plan_id=body.plan_id, stop_id=stop_id, mark=body.mark,
                                                   at=body.at)))
