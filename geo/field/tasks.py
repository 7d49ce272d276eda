"""The signed-in user's field tasks: its stops of today and of this week from the latest plan, and the open
hazards and 占压点 of its scope whose progress it may record.

Read on the request's connection, so row-level security gives a township editor its townships' stops only; an
inspector's stops are those of its own teams' routes (riskmap.teams). Plans come from geo.inspection.plan.get_plan
(order, arrival, address, 网格员 contact, reasons), register items from geo.register.list_items.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, text

from geo.inspection.plan import get_plan
from geo.register import get_lifecycle, list_items

DUE_LABELS = {"done": "已检查", "completed": "已完成", "arrived": "已到达", "overdue": "逾期未检", "today": "今日",
              "upcoming": "本周待检"}
"""Due status of a stop, as the phone shows it."""

PROGRESS_ROLES = ("admin", "county_editor", "township_editor")
"""Roles that may record 整改中/已整改 (an inspector's role has no UPDATE on the registers: geo/access/roles.py)."""

OPEN_LIMIT = 200
"""Most open hazards / 占压点 of each kind sent to the phone (nearest deadline first)."""

_LATEST_PLAN = """
    SELECT p.id FROM inspection_plan p
    WHERE EXISTS (SELECT 1 FROM plan_stop s JOIN plan_route r ON r.id = s.route_id
                  WHERE s.plan_id = p.id AND (NOT :own_teams OR r.team = ANY (riskmap_teams())))
    ORDER BY (CAST(:today AS date) BETWEEN p.start_on AND p.end_on) DESC, p.id DESC
    LIMIT 1
"""

_STOP_MARKS = """
    SELECT s.id, s.arrived_at, s.completed_at, i.inspected_on
    FROM plan_stop s LEFT JOIN inspection i ON i.id = s.inspection_id
    WHERE s.plan_id = :p
"""


def due_status(*, day: dt.date, today: dt.date, inspected: bool, arrived: bool, completed: bool) -> str:
    """One of DUE_LABELS' keys for a stop planned on `day`."""
    if inspected:
        return "done"
    if completed:
        return "completed"
    if arrived:
        return "arrived"
    if day < today:
        return "overdue"
    return "today" if day == today else "upcoming"


def latest_plan_id(conn: Connection, *, own_teams: bool, today: dt.date) -> int | None:
    """The plan whose stops the user works on: the newest covering today, else the newest; only plans with a
    stop on one of the user's teams' routes when `own_teams` (inspectors)."""
    return conn.execute(text(_LATEST_PLAN), {"own_teams": own_teams, "today": today}).scalar()


def my_tasks(conn: Connection, *, role: str, teams: tuple[str, ...], today: dt.date | None = None) -> dict[str, Any]:
    """Stops of the latest plan for the user (today's and the week's, in route order) with their due status,
    and the open register items of its scope. Coordinates lon/lat EPSG:4490."""
    today = today or dt.date.today()
    own_teams = role == "inspector"
    plan_id = latest_plan_id(conn, own_teams=own_teams, today=today)
    out: dict[str, Any] = {"today": today.isoformat(), "plan": None, "routes": [], "stops_today": [],
                           "stops_week": [], "open": open_items(conn, today=today), "due_labels": DUE_LABELS,
                           "can_progress": role in PROGRESS_ROLES}
    if plan_id is None:
        return out
    plan = get_plan(conn, plan_id)
    marks = {r.id: r for r in conn.execute(text(_STOP_MARKS), {"p": plan_id})}
    out["plan"] = {"id": plan["id"], "start": plan["start"], "end": plan["end"], "township": plan["township"]}
    for route in plan["routes"]:
        if own_teams and route["team"] not in teams or not route["stops"]:
            continue
        day = dt.date.fromisoformat(route["day"])
        stops = []
        for s in route["stops"]:
            m = marks.get(s["stop_id"])
            status = due_status(day=day, today=today, inspected=s["inspection_id"] is not None,
                                arrived=bool(m and m.arrived_at), completed=bool(m and m.completed_at))
            stops.append({**s, "plan_id": plan_id, "team": route["team"], "day": route["day"],
                          "due": status, "due_label": DUE_LABELS[status],
                          "arrived_at": m.arrived_at.isoformat() if m and m.arrived_at else None,
                          "completed_at": m.completed_at.isoformat() if m and m.completed_at else None})
        out["routes"].append({"route_id": route["route_id"], "team": route["team"], "day": route["day"],
                              "depot": route["depot"], "km": route["km"], "geometry": route["geometry"],
                              "stop_ids": [s["stop_id"] for s in stops]})
        out["stops_week"].extend(stops)
        if day == today:
            out["stops_today"].extend(stops)
    return out


def open_items(conn: Connection, *, today: dt.date) -> dict[str, list[dict[str, Any]]]:
    """Hazards and 占压点 of the user's scope not yet rectified, whose progress (整改中/已整改) may be recorded;
    nearest deadline first, at most OPEN_LIMIT of each."""
    out: dict[str, list[dict[str, Any]]] = {}
    for kind in ("hazard", "encroachment"):
        lc = get_lifecycle(kind)
        items = [i for i in list_items(conn, kind, today=today) if i["status"] not in lc.done]
        items.sort(key=lambda i: (i["deadline"] is None, i["deadline"] or today, i["code"]))
        out[kind] = [{"code": i["code"], "status": i["status"], "status_label": lc.status_label(i["status"]),
                      "next": [lc.status_label(b) for a, b in sorted(lc.transitions)
                               if a == i["status"] and b in ("rectifying", "rectified")],
                      "deadline": i["deadline"].isoformat() if i["deadline"] else None, "overdue": i["overdue"],
                      "township": i["township_name"], "category": i["category"]} for i in items[:OPEN_LIMIT]]
    return out
