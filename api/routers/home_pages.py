"""The workbench front page (首页): risk colours and their trend, register progress, overdue lists, 我的待办."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.auth import PrincipalDep
from api.deps import ConnDep
from api.pages import page
from layers.web import render
from geo.dashboard import dashboard, due_this_week, month_range, my_todo

router = APIRouter(include_in_schema=False)

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


@router.get("/", response_class=HTMLResponse)
def home(request: Request, conn: ConnDep, principal: PrincipalDep) -> HTMLResponse:
    today = dt.date.today()
    data = dashboard(conn, today=today)
    todo = my_todo(conn, role=principal.role, teams=principal.teams, today=today)
    return page(request, principal, "home.html", conn=conn, nav="home", today=today, data=data,
                links=_links(data), todo=todo)


@router.get("/home/due-this-week", response_class=HTMLResponse)
def due_week(request: Request, conn: ConnDep, principal: PrincipalDep) -> HTMLResponse:
    """我的待办's list of who is due this week: a fragment the front page fetches once it shows (the due list reads
    every enterprise's last inspection, about a second at county scale); without htmx, a page of its own."""
    week, due = due_this_week(conn, today=dt.date.today())
    if request.headers.get("HX-Request") == "true":
        return HTMLResponse(render("home_due.html", week=week, due=due))
    return page(request, principal, "home_due_page.html", conn=conn, nav="home", crumbs=[("本周应检查的企业", None)],
                week=week, due=due)
