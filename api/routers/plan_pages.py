"""巡查计划 pages: the list of plans, the weekly plan form (solved in the background, progress polled with htmx),
the plan page (team key, one team's routes on the map, per-stop result entry) and the printable sheets."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import PrincipalDep
from api.deps import ConnDep, TxDep
from api.pages import page
from geo.access.principal import Principal
from geo.errors import InvalidInput, NotFound, TooManyRequests
from geo.inspection.jobs import get_job, start_plan_job
from geo.inspection.network import load_plan_config
from geo.inspection.plan import get_plan, list_plans
from geo.inspection.planform import (
    HOURS,
    MAX_FORM_TEAMS,
    START_TIMES,
    TIME_LIMIT_S,
    depot_choices,
    next_due_on,
    parse_plan_form,
    township_choices,
)
from geo.inspection.progress import plan_state, recorded_counts, stop_outcomes
from geo.inspection.results import Finding, enterprise_of_stop, record_inspection
from geo.models import EARLIEST_DAY, HAZARD_LEVELS, LATEST_DAY, TEXT_MAX
from geo.timefmt import today as local_today
from layers.routes import route_map_parts, team_colour
from layers.web import render

router = APIRouter(include_in_schema=False)

PLANNERS = ("admin", "county_editor", "township_editor")
"""Roles that make plans (an inspector records results, a viewer reads)."""
FINDING_ROWS = 3
"""Hazard rows the result form offers per visit."""
CRUMBS = ("巡查计划", "/inspection-plans")


def _refuse(request: Request, principal: Principal, conn: Any, message: str, status: int = 403) -> HTMLResponse:
    return page(request, principal, "plan_message.html", conn=conn, status=status, nav="plans",
                crumbs=[CRUMBS, ("提示", None)], title="无法继续", message=message)


def _teams(plan: dict[str, Any]) -> list[str]:
    """The plan's teams in number order (第1组, 第2组, …)."""
    names = {r["team"] for r in plan["routes"]}
    return sorted(names, key=lambda t: (int("".join(c for c in t if c.isdigit()) or 0), t))


def _township_name(conn: Any, code: str | None) -> str:
    if code is None:
        return "全县"
    return dict(township_choices(conn)).get(code, code)


@router.get("/inspection-plans", response_class=HTMLResponse)
def plans_list(request: Request, conn: ConnDep, principal: PrincipalDep) -> HTMLResponse:
    plans = list_plans(conn)
    counts = recorded_counts(conn, [p["id"] for p in plans])
    names = dict(township_choices(conn))
    for p in plans:
        done, placed = counts.get(p["id"], (0, 0))
        p.update(done=done, placed=placed, state=plan_state(done, placed),
                 area=names.get(p["township"], p["township"]) if p["township"] else "全县")
    return page(request, principal, "plans.html", conn=conn, nav="plans", crumbs=[(CRUMBS[0], None)], plans=plans,
                can_plan=principal.role in PLANNERS)


def _form_page(request: Request, principal: Principal, conn: Any, *, values: dict[str, str],
               errors: dict[str, str], status: int = 200) -> HTMLResponse:
    cfg = load_plan_config()
    return page(request, principal, "plan_new.html", conn=conn, status=status, nav="plans",
                crumbs=[CRUMBS, ("新建巡查计划", None)], values=values, errors=errors,
                townships=township_choices(conn), depots=depot_choices(conn, cfg), max_teams=MAX_FORM_TEAMS,
                hours=HOURS, start_times=START_TIMES, time_limits=TIME_LIMIT_S)


def _default_values() -> dict[str, str]:
    cfg = load_plan_config()
    year, week, _ = (local_today() + dt.timedelta(days=7)).isocalendar()
    return {"week": f"{year}-W{week:02d}", "township": "", "teams": "4", "work_hours": f"{cfg['day']['work_hours']:g}",
            "day_start": str(cfg["day"]["start"]), "time_limit_s": f"{cfg['day']['time_limit_s']:g}"}


@router.get("/inspection-plans/new", response_class=HTMLResponse)
def plan_form(request: Request, conn: ConnDep, principal: PrincipalDep) -> HTMLResponse:
    if principal.role not in PLANNERS:
        return _refuse(request, principal, conn, "当前账号只能查看巡查计划、记录本组的检查结果；制定计划需要县级或乡镇编辑权限。")
    return _form_page(request, principal, conn, values=_default_values(), errors={})


@router.post("/inspection-plans/new", response_class=HTMLResponse)
async def plan_submit(request: Request, conn: ConnDep, principal: PrincipalDep) -> Response:
    if principal.role not in PLANNERS:
        return _refuse(request, principal, conn, "当前账号无权制定巡查计划。")
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    values = {**_default_values(), **form}
    req, errors = parse_plan_form(form, depots=depot_choices(conn, load_plan_config()),
                                  townships=township_choices(conn), county_wide=principal.county_wide)
    if req is None:
        return _form_page(request, principal, conn, values=values, errors=errors, status=422)
    try:
        job = start_plan_job(principal, req)
    except TooManyRequests as exc:
        return _form_page(request, principal, conn, values=values, errors={"form": exc.message}, status=429)
    return RedirectResponse(f"/inspection-plans/jobs/{job.id}", status_code=303)


@router.get("/inspection-plans/jobs/{job_id}", response_class=HTMLResponse)
def plan_job(request: Request, job_id: str, conn: ConnDep, principal: PrincipalDep) -> Response:
    try:
        job = get_job(job_id, principal.username)
    except NotFound as exc:
        return _refuse(request, principal, conn, exc.message, status=404)
    if job.state == "done" and request.headers.get("HX-Request"):
        return Response(status_code=204, headers={"HX-Redirect": f"/inspection-plans/{job.plan_id}"})
    fragment = request.headers.get("HX-Request") == "true"
    if fragment:
        return HTMLResponse(render("plan_job_status.html", job=job))
    return page(request, principal, "plan_job.html", conn=conn, nav="plans",
                crumbs=[CRUMBS, ("正在生成", None)], job=job)


def _plan_context(conn: Any, principal: Principal, plan_id: int, team: str | None) -> dict[str, Any]:
    plan = get_plan(conn, plan_id)
    teams = _teams(plan)
    chosen = team if team in teams else (teams[0] if teams else None)
    routes = [r for r in plan["routes"] if r["team"] == chosen]
    outcomes = stop_outcomes(conn, plan_id)
    can_record = principal.role in PLANNERS or (principal.role == "inspector" and chosen in principal.teams)
    for r in routes:
        for s in r["stops"]:
            o = outcomes.get(s["stop_id"])
            if o is not None:
                due, days = next_due_on(s["colour"], o["inspected_on"])
                o = {**o, "next_due": due, "interval_days": days}
            s["outcome"] = o
    return {"plan": plan, "teams": [(t, team_colour(t, k)) for k, t in enumerate(teams)], "team": chosen,
            "routes": routes, "can_record": can_record, "area": _township_name(conn, plan["township"]),
            "today": local_today(), "finding_rows": FINDING_ROWS, "levels": HAZARD_LEVELS,
            "team_q": quote(chosen or "")}


@router.get("/inspection-plans/{plan_id}", response_class=HTMLResponse)
def plan_view(request: Request, plan_id: int, conn: ConnDep, principal: PrincipalDep,
              team: str | None = None) -> HTMLResponse:
    try:
        ctx = _plan_context(conn, principal, plan_id, team)
    except NotFound as exc:
        return _refuse(request, principal, conn, exc.message, status=404)
    parts = route_map_parts(ctx["plan"], team=ctx["team"])
    return page(request, principal, "plan.html", conn=conn, nav="plans",
                crumbs=[CRUMBS, (f"计划 #{plan_id}", None)], map=parts, errors={}, values={}, **ctx)


@router.get("/inspection-plans/{plan_id}/sheets", response_class=HTMLResponse)
def plan_sheets(request: Request, plan_id: int, conn: ConnDep, principal: PrincipalDep,
                team: str | None = None) -> HTMLResponse:
    try:
        plan = get_plan(conn, plan_id)
    except NotFound as exc:
        return _refuse(request, principal, conn, exc.message, status=404)
    teams = _teams(plan)
    routes = [r for r in plan["routes"] if team is None or r["team"] == team]
    return page(request, principal, "plan_sheets.html", conn=conn, nav="plans",
                crumbs=[CRUMBS, (f"计划 #{plan_id}", f"/inspection-plans/{plan_id}"), ("路线单", None)],
                plan=plan, routes=routes, team=team, teams=teams, area=_township_name(conn, plan["township"]))


def _parse_result(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The result form: date, result text, up to FINDING_ROWS hazards (level, description, deadline)."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {"findings": []}
    raw = (form.get("inspected_on") or "").strip()
    try:
        day = dt.date.fromisoformat(raw)
        if not EARLIEST_DAY <= day <= LATEST_DAY:
            raise ValueError
        out["inspected_on"] = day
    except ValueError:
        errors["inspected_on"] = f"请填写检查日期（{EARLIEST_DAY}–{LATEST_DAY}），收到“{raw}”"
    result = (form.get("result") or "").strip()
    if not result:
        errors["result"] = "请填写检查结果（如：未发现问题 / 发现隐患 2 处，已责令整改）"
    elif len(result) > TEXT_MAX:
        errors["result"] = f"检查结果不超过 {TEXT_MAX} 个字符"
    out["result"] = result
    for k in range(1, FINDING_ROWS + 1):
        text_ = (form.get(f"finding_{k}") or "").strip()
        if not text_:
            continue
        level = form.get(f"finding_level_{k}") or "general"
        if level not in HAZARD_LEVELS:
            errors[f"finding_level_{k}"] = "隐患等级应为一般隐患或重大隐患"
        if len(text_) > TEXT_MAX:
            errors[f"finding_{k}"] = f"隐患描述不超过 {TEXT_MAX} 个字符"
        deadline = None
        raw_deadline = (form.get(f"finding_deadline_{k}") or "").strip()
        if raw_deadline:
            try:
                deadline = dt.date.fromisoformat(raw_deadline)
            except ValueError:
                errors[f"finding_deadline_{k}"] = f"整改期限应为日期，收到“{raw_deadline}”"
        if deadline and out.get("inspected_on") and deadline < out["inspected_on"]:
            errors[f"finding_deadline_{k}"] = "整改期限早于检查日期"
        out["findings"].append(Finding(level, text_, deadline))
    return out, errors


@router.post("/inspection-plans/{plan_id}/stops/{stop_id}/result", response_class=HTMLResponse)
async def stop_result(request: Request, plan_id: int, stop_id: int, conn: TxDep,
                      principal: PrincipalDep) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    htmx = request.headers.get("HX-Request") == "true"
    try:
        plan = get_plan(conn, plan_id)
        enterprise = enterprise_of_stop(conn, plan_id, stop_id)
    except NotFound as exc:
        return _refuse(request, principal, conn, exc.message, status=404)
    route = next((r for r in plan["routes"] if any(s["stop_id"] == stop_id for s in r["stops"])), None)
    team = route["team"] if route else None
    if not (principal.role in PLANNERS or (principal.role == "inspector" and team in principal.teams)):
        return _refuse(request, principal, conn, f"该站点属于{team or '未安排'}，你不能记录它的检查结果。")
    parsed, errors = _parse_result(form)
    if not errors:
        try:
            record_inspection(conn, enterprise=enterprise, inspected_on=parsed["inspected_on"], team=team,
                              result=parsed["result"], findings=parsed["findings"], plan_stop=(plan_id, stop_id))
        except InvalidInput as exc:
            errors["form"] = exc.message
    if not errors and not htmx:
        return RedirectResponse(f"/inspection-plans/{plan_id}?team={quote(team or '')}#stop-{stop_id}",
                                status_code=303)
    ctx = _plan_context(conn, principal, plan_id, team)
    status = 422 if errors else 200
    if htmx:
        stop = next(s for r in ctx["routes"] for s in r["stops"] if s["stop_id"] == stop_id)
        return HTMLResponse(render("plan_stop.html", s=stop, errs=errors, vals=form,
                                   csrf_token=form.get("csrf_token", ""), **ctx), status_code=status)
    return page(request, principal, "plan.html", conn=conn, nav="plans", status=status,
                crumbs=[CRUMBS, (f"计划 #{plan_id}", None)], map=route_map_parts(ctx["plan"], team=ctx["team"]),
                errors={stop_id: errors}, values={stop_id: form}, **ctx)
