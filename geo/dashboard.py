"""The bureau's front page (首页): colour counts and their trend, register progress by month, overdue lists, and
each user's to-do list (我的待办). Every query runs on the caller's connection, so row-level security keeps a
township user to its townships.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from geo.codes import KIND_LABELS
from geo.features import LEVEL_LABELS, LEVELS
from geo.inspection.due import COLOUR_LABELS
from geo.register.core import get_lifecycle

SQL_FILE = Path(__file__).with_name("dashboard.sql")
DASHBOARD_KINDS = ("enterprise", "mine", "pipeline_segment", "grid_cell", "township")
"""Risk object kinds counted on the front page, in the order shown."""
MONTHS = 12
"""Months of history the trend and register charts show."""
LIST_LIMIT = 20
"""Rows of each overdue list on the page (the total is given; the ledger lists them all)."""
EDITORS = ("admin", "county_editor", "township_editor")


@lru_cache
def _queries() -> dict[str, str]:
    """The named queries of dashboard.sql ('-- name: x' starts query x; comment lines are dropped, as they may
    name bind parameters)."""
    out: dict[str, str] = {}
    for chunk in re.split(r"^-- name: ", SQL_FILE.read_text(encoding="utf-8"), flags=re.M)[1:]:
        name, _, body = chunk.partition("\n")
        sql = "\n".join(line for line in body.splitlines() if not line.lstrip().startswith("--"))
        out[name.strip()] = sql.strip().rstrip(";")
    return out


def _q(name: str) -> Any:
    return text(_queries()[name])


def month_range(month: str) -> tuple[dt.date, dt.date]:
    """'2026-11' → its first and last day (the ledger's from/to filter)."""
    year, mon = (int(x) for x in month.split("-"))
    return dt.date(year, mon, 1), dt.date(year, mon, calendar.monthrange(year, mon)[1])


def last_months(today: dt.date, months: int = MONTHS) -> list[str]:
    """'YYYY-MM' of the last `months` months, oldest first, ending with today's month."""
    y, m = today.year, today.month
    out = []
    for _ in range(months):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


def colour_counts(conn: Connection) -> dict[str, dict[str, int]]:
    """Current objects of each dashboard kind per colour: {kind: {red: n, orange: n, yellow: n, blue: n}}."""
    out = {k: dict.fromkeys(LEVELS, 0) for k in DASHBOARD_KINDS}
    for kind, level, n in conn.execute(_q("colour_counts")).all():
        if kind in out and level in out[kind]:
            out[kind][level] = int(n)
    return out


def colour_trend(conn: Connection, *, today: dt.date, months: int = MONTHS) -> dict[str, Any]:
    """Per kind and colour, the number of objects at each month's end (from the risk_assessment history)."""
    labels = last_months(today, months)
    series = {k: {lv: [0] * len(labels) for lv in LEVELS} for k in DASHBOARD_KINDS}
    index = {m: i for i, m in enumerate(labels)}
    for month, kind, level, n in conn.execute(_q("colour_trend"), {"today": today, "months": months}).all():
        if kind in series and level in series[kind] and month in index:
            series[kind][level][index[month]] = int(n)
    return {"months": labels, "series": series}


def register_by_month(conn: Connection, kind: str, *, today: dt.date, months: int = MONTHS) -> dict[str, Any]:
    """Hazards or encroachments found each month: found, rectified now (done statuses), rate, and per status;
    with the whole register's count per current status (`totals`)."""
    lc = get_lifecycle(kind)
    labels = last_months(today, months)
    index = {m: i for i, m in enumerate(labels)}
    by_status = {s: [0] * len(labels) for s in lc.statuses}
    for month, status, n in conn.execute(_q("register_by_month"),
                                         {"kind": kind, "today": today, "months": months}).all():
        if month in index and status in by_status:
            by_status[status][index[month]] = int(n)
    found = [sum(by_status[s][i] for s in by_status) for i in range(len(labels))]
    rectified = [sum(by_status[s][i] for s in lc.done) for i in range(len(labels))]
    rate = [round(100 * r / f, 1) if f else None for r, f in zip(rectified, found, strict=True)]
    totals = dict.fromkeys(lc.statuses, 0)
    for status, n in conn.execute(_q("register_status"), {"kind": kind}).all():
        if status in totals:
            totals[status] = int(n)
    return {"months": labels, "found": found, "rectified": rectified, "rate": rate, "by_status": by_status,
            "status_labels": dict(lc.statuses), "done": sorted(lc.done), "totals": totals,
            "total": sum(totals.values()), "total_done": sum(totals[s] for s in lc.done)}


def rectification_rate(conn: Connection, kind: str, *, today: dt.date, months: int = MONTHS) -> float | None:
    """Share (0–1) of the objects found in the last `months` months that are rectified now; None if none found."""
    r = register_by_month(conn, kind, today=today, months=months)
    found = sum(r["found"])
    return sum(r["rectified"]) / found if found else None


def overdue_hazards(conn: Connection, *, today: dt.date, limit: int = LIST_LIMIT) -> list[dict[str, Any]]:
    """Hazards past their deadline and not rectified (deadline before today), most overdue first."""
    lc = get_lifecycle("hazard")
    rows = conn.execute(_q("overdue_hazards"), {"today": today, "done": sorted(lc.done), "limit": limit})
    return [{**r._mapping, "status_label": lc.status_label(r.status),
             "level_label": "重大隐患" if r.level == "major" else "一般隐患"} for r in rows]


def overdue_encroachments(conn: Connection, *, today: dt.date, limit: int = LIST_LIMIT) -> list[dict[str, Any]]:
    """Encroachment points past their deadline and not rectified, most overdue first."""
    lc = get_lifecycle("encroachment")
    rows = conn.execute(_q("overdue_encroachments"), {"today": today, "done": sorted(lc.done), "limit": limit})
    return [{**r._mapping, "status_label": lc.status_label(r.status)} for r in rows]


def overdue_totals(conn: Connection, *, today: dt.date) -> dict[str, int]:
    """How many hazards and encroachments are overdue in the caller's scope."""
    rows = conn.execute(_q("overdue_totals"), {
        "today": today, "hazard_done": sorted(get_lifecycle("hazard").done),
        "encroachment_done": sorted(get_lifecycle("encroachment").done)}).all()
    out = {"hazard": 0, "encroachment": 0}
    out.update({k: int(n) for k, n in rows})
    return out


def week_of(today: dt.date) -> tuple[dt.date, dt.date]:
    """Monday and Sunday of today's ISO week."""
    monday = today - dt.timedelta(days=today.weekday())
    return monday, monday + dt.timedelta(days=6)


def team_stops(conn: Connection, teams: tuple[str, ...] | list[str], *, today: dt.date,
               limit: int = 50) -> list[dict[str, Any]]:
    """Unrecorded stops of current plans on the routes of `teams` (an inspector's teams), in route order."""
    if not teams:
        return []
    rows = conn.execute(_q("team_stops"), {"teams": list(teams), "today": today, "limit": limit})
    return [{**r._mapping, "colour_label": COLOUR_LABELS.get(r.colour, r.colour)} for r in rows]


@dataclass
class Todo:
    """我的待办 of one user: what is overdue in its scope, who is due this week, its teams' stops."""

    role: str
    overdue_hazards: list[dict[str, Any]] = field(default_factory=list)
    overdue_encroachments: list[dict[str, Any]] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)
    shows_due: bool = False
    """Whether the page lists who is due this week (fetched after the page, by due_this_week)."""
    stops: list[dict[str, Any]] | None = None
    teams: tuple[str, ...] = ()


def due_this_week(conn: Connection, *, today: dt.date) -> tuple[tuple[dt.date, dt.date], list[dict[str, Any]]]:
    """Who is due for inspection in today's ISO week, most urgent first (geo.inspection.duelist.load_due, by the
    colour frequencies of frequencies.toml); returns the week and the enterprises."""
    from geo.inspection.duelist import load_due

    week = week_of(today)
    return week, [{"enterprise_id": d.item.enterprise_id, "name": d.item.name, "colour": d.item.colour,
                   "colour_label": COLOUR_LABELS[d.item.colour], "reasons": d.item.reason_text,
                   "township": d.township, "priority": d.item.priority} for d in load_due(conn, *week)]


def my_todo(conn: Connection, *, role: str, teams: tuple[str, ...] = (), today: dt.date,
            limit: int = LIST_LIMIT) -> Todo:
    """The to-do list by role: everyone sees what is overdue in scope; editors and inspectors also see who is due
    this week (due_this_week, fetched by the page after it shows); inspectors see their teams' stops."""
    todo = Todo(role=role, teams=tuple(teams))
    todo.overdue_hazards = overdue_hazards(conn, today=today, limit=limit)
    todo.overdue_encroachments = overdue_encroachments(conn, today=today, limit=limit)
    todo.totals = overdue_totals(conn, today=today)
    todo.shows_due = role in EDITORS or role == "inspector"
    if role == "inspector":
        todo.stops = team_stops(conn, teams, today=today)
    return todo


def dashboard(conn: Connection, *, today: dt.date) -> dict[str, Any]:
    """Everything the front page charts: counts, trend, hazard and encroachment progress by month."""
    return {
        "kinds": {k: KIND_LABELS.get(k, k) for k in DASHBOARD_KINDS},
        "levels": {lv: LEVEL_LABELS[lv] for lv in LEVELS},
        "counts": colour_counts(conn),
        "trend": colour_trend(conn, today=today),
        "hazards": register_by_month(conn, "hazard", today=today),
        "encroachments": register_by_month(conn, "encroachment", today=today),
    }
