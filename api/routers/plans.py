"""Inspection plans: make one (due list → road matrix → routes), read it, its map and route sheet; record results."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from api.auth import PrincipalDep
from api.deps import ConnDep, TxDep
from api.security import nonce_of
from api.text import Day, LongText, Text, column_text
from geo.inspection.plan import get_plan, list_plans, make_plan, plan_range
from geo.inspection.results import Finding, enterprise_of_stop, record_inspection
from layers.routes import route_map_page, route_sheet_page

router = APIRouter(tags=["plans 巡查计划"])


class PlanCreate(BaseModel):
    week: Text | None = Field(None, max_length=8, description="ISO 周次（2000–2100 年），如 2026-W48",
                              examples=["2026-W48"])
    start: dt.date | None = Field(None, description="开始日期（不用 week 时；2000–2100 年，最长 31 天）")
    end: dt.date | None = Field(None, description="结束日期（不用 week 时）")
    township: str | None = Field(None, pattern=r"^[0-9]{12}$", description="乡镇代码；不给则全县")
    teams: int = Field(4, ge=1, le=50, description="巡查组数")
    time_limit_s: float | None = Field(None, gt=0, le=300, description="求解时限（秒）")


class FindingIn(BaseModel):
    level: Text = Field(max_length=10, description="general 一般隐患 / major 重大隐患")
    description: LongText
    deadline: Day | None = None


class ResultIn(BaseModel):
    inspected_on: Day = Field(description="检查日期（2000–2100 年）")
    team: column_text("inspection", "team") | None = None
    result: LongText | None = None
    findings: list[FindingIn] = Field(default_factory=list, max_length=200)


class InspectionIn(ResultIn):
    enterprise: Text = Field(max_length=18, description="企业编号或统一社会信用代码")


def _findings(body: ResultIn) -> list[Finding]:
    return [Finding(f.level, f.description, f.deadline) for f in body.findings]


@router.post("/plans", status_code=201, summary="生成巡查计划（到期企业、路网行程、各组路线）")
def create_plan(body: PlanCreate, conn: TxDep) -> dict[str, Any]:
    start, end = plan_range(week=body.week, start=body.start, end=body.end)
    plan_id = make_plan(conn, start, end, township=body.township, teams=body.teams, time_limit_s=body.time_limit_s)
    return get_plan(conn, plan_id)


@router.get("/plans", summary="最近的巡查计划")
def recent_plans(conn: ConnDep) -> list[dict[str, Any]]:
    return list_plans(conn)


@router.get("/plans/{plan_id}", summary="巡查计划：各组路线、到达时间、里程、未安排的企业")
def read_plan(plan_id: int, conn: ConnDep) -> dict[str, Any]:
    return get_plan(conn, plan_id)


@router.get("/plans/{plan_id}/map", response_class=HTMLResponse, summary="巡查路线地图")
def plan_map(request: Request, plan_id: int, conn: ConnDep) -> HTMLResponse:
    return HTMLResponse(route_map_page(get_plan(conn, plan_id), nonce=nonce_of(request)))


@router.get("/plans/{plan_id}/sheet", response_class=HTMLResponse, summary="可打印的巡查路线单")
def plan_sheet(request: Request, plan_id: int, conn: ConnDep, principal: PrincipalDep) -> HTMLResponse:
    return HTMLResponse(route_sheet_page(get_plan(conn, plan_id), nonce=nonce_of(request), user=principal.label))


@router.post("/plans/{plan_id}/stops/{stop_id}/result", status_code=201, summary="记录计划站点的检查结果")
def stop_result(plan_id: int, stop_id: int, body: ResultIn, conn: TxDep) -> dict[str, Any]:
    eid = enterprise_of_stop(conn, plan_id, stop_id)
    return record_inspection(conn, enterprise=eid, inspected_on=body.inspected_on, team=body.team,
                             result=body.result, findings=_findings(body), plan_stop=(plan_id, stop_id))


@router.post("/inspections", status_code=201, summary="记录一次执法检查及发现的隐患")
def create_inspection(body: InspectionIn, conn: TxDep) -> dict[str, Any]:
    return record_inspection(conn, enterprise=body.enterprise, inspected_on=body.inspected_on, team=body.team,
                             result=body.result, findings=_findings(body))
