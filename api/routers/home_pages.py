"""The workbench front page (首页): risk colours and their trend, register progress, overdue lists, 我的待办."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.auth import PrincipalDep
from api.deps import ConnDep
from api.pages import page
from geo.dashboard import dashboard, due_this_week, month_range, my_todo
from geo.timefmt import today as local_today
from layers.web import render

router = APIRouter(tags=["dashboard 首页"])

LEDGERS = {"hazard": "/ledgers/hazards", "encroachment": "/ledgers/encroachments"}
"""The ledger pages a chart of the front page opens, filtered to what was clicked."""


def _ledger(base: str, **params: Any) -> str:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{base}?{query}" if query else base


def _colour_link(kind: str, level: str) -> str:
    """The list behind a colour count: the enterprise ledger by colour; other kinds' per-township table."""
    if kind == "enterprise":
        return _ledger("/ledgers/enterprises", colour=level)
    if kind == "township":
        return "/maps"
    return _ledger("/stats", kind=kind)


def _links(data: dict[str, Any]) -> dict[str, Any]:
    """Where each chart element leads (ECharts click → location)."""
    out: dict[str, Any] = {"colours": {k: {lv: _colour_link(k, lv) for lv in data["levels"]} for k in data["kinds"]}}
    for kind in ("hazards", "encroachments"):
        base = LEDGERS[kind[:-1] if kind == "hazards" else "encroachment"]
        months = data[kind]["months"]
        spans = [month_range(m) for m in months]
        out[kind] = {
            "month": [_ledger(base, **{"from": a.isoformat(), "to": b.isoformat()}) for a, b in spans],
            "status": {s: [_ledger(base, status=s, **{"from": a.isoformat(), "to": b.isoformat()}) for a, b in spans]
                       for s in data[kind]["status_labels"]},
        }
    return out


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def home(request: Request, conn: ConnDep, principal: PrincipalDep) -> Response:
    if principal.role == "region_viewer":  # a city's or province's officer: its roll-up map is its front page
        return RedirectResponse("/province", status_code=303)
    today = local_today()
    data = dashboard(conn, today=today)
    todo = my_todo(conn, role=principal.role, teams=principal.teams, today=today)
    return page(request, principal, "home.html", conn=conn, nav="home", today=today, data=data,
                links=_links(data), todo=todo)


@router.get("/home/due-this-week", response_class=HTMLResponse, include_in_schema=False)
def due_week(request: Request, conn: ConnDep, principal: PrincipalDep) -> HTMLResponse:
    """我的待办's list of who is due this week: a fragment the front page fetches once it shows (the due list reads
    every enterprise's last inspection, about a second at county scale); without htmx, a page of its own."""
    week, due = due_this_week(conn, today=local_today())
    if request.headers.get("HX-Request") == "true":
        return HTMLResponse(render("home_due.html", week=week, due=due))
    return page(request, principal, "home_due_page.html", conn=conn, nav="home", crumbs=[("本周应检查的企业", None)],
                week=week, due=due)


@router.get("/dashboard", summary="首页数据：各类对象四色数量及逐月趋势、隐患整改率与占压点整改进展（按发现月份）")
def dashboard_json(conn: ConnDep) -> dict[str, Any]:
    return dashboard(conn, today=local_today())


@router.get("/me/todo", summary="我的待办：辖区内逾期隐患与占压点、本周应检查企业、本组待检查站点")
def todo_json(conn: ConnDep, principal: PrincipalDep) -> dict[str, Any]:
    today = local_today()
    todo = asdict(my_todo(conn, role=principal.role, teams=principal.teams, today=today))
    if todo.pop("shows_due"):
        week, due = due_this_week(conn, today=today)
        todo.update(week={"start": week[0], "end": week[1]}, due_this_week=due)
    return todo
