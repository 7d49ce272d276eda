"""A stored inspection plan: due list → road travel-time matrix → routes per team and working day → tables.

Every team works each working day of the range (plan.toml [day]); the solver sees one vehicle per team-day,
leaving from the team's depot (the bureau office by default) with an 8-hour day, service time by category
and colour, and the due list's priorities. Distances are metres, times seconds from the day's start.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, text

from geo.errors import InvalidInput, NotFound
from geo.inspection.due import COLOUR_LABELS, parse_iso_week
from geo.inspection.duelist import DueStop, load_due
from geo.inspection.network import (
    NetworkSettings,
    Snap,
    Stop,
    TravelTimes,
    best_leg,
    ensure_network,
    fallback_m,
    load_plan_config,
    network_settings,
    route_paths,
    travel_times,
)
from geo.inspection.solver import RouteLimits, Team, solve_routes
from geo.models import EARLIEST_DAY, INDUSTRY_CATEGORIES, LATEST_DAY

WEEKDAYS = "一二三四五六日"
MAX_PLAN_DAYS = 31
"""Longest plan: one route per team and working day, so a range of years would build millions of vehicles."""
MSG = {
    "no_days": "{start} 至 {end} 之间没有出勤日（plan.toml [day] weekdays）",
    "teams": "巡查组数必须为 1–50：{teams}",
    "range": "请给出周次（如 2026-W48）或开始、结束日期",
    "week_range": "字段 week（周次）{week} 不合法：应为 {first}–{last} 年的 ISO 周次，如 2026-W48",
    "day_range": "字段 {field}（日期）{day} 应在 {first} 至 {last} 之间",
    "order": "结束日期 {end} 早于开始日期 {start}",
    "too_long": "巡查计划最长 {days} 天（收到 {start} 至 {end}）",
    "not_found": "没有编号为 {id} 的巡查计划",
    "nothing_due": "该时段没有需要检查的企业",
    "unvisited_fallback": "该点无法吸附路网：{note}",
}


@dataclass(frozen=True)
class Depot:
    """Where a team leaves from and returns to (lon/lat, EPSG:4490)."""

    name: str
    lon: float
    lat: float


def plan_range(*, week: str | None = None, start: dt.date | None = None,
               end: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The plan's first and last day from an ISO week ('2026-W48') or explicit dates, within 2000–2100."""
    if week:
        year = week[:4]
        if not (year.isdigit() and EARLIEST_DAY.year <= int(year) <= LATEST_DAY.year):
            raise InvalidInput(MSG["week_range"].format(week=week, first=EARLIEST_DAY.year, last=LATEST_DAY.year))
        return parse_iso_week(week)
    if start and end:
        if end < start:
            raise InvalidInput(MSG["order"].format(start=start, end=end))
        if (end - start).days + 1 > MAX_PLAN_DAYS:
            raise InvalidInput(MSG["too_long"].format(days=MAX_PLAN_DAYS, start=start, end=end))
        for name, day in (("start", start), ("end", end)):
            if not EARLIEST_DAY <= day <= LATEST_DAY:
                raise InvalidInput(MSG["day_range"].format(field=name, day=day, first=EARLIEST_DAY, last=LATEST_DAY))
        return start, end
    raise InvalidInput(MSG["range"])


def working_days(start: dt.date, end: dt.date, *, weekdays: list[int]) -> list[dt.date]:
    """The range's days whose ISO weekday is a working day."""
    days = [start + dt.timedelta(days=k) for k in range((end - start).days + 1)]
    out = [d for d in days if d.isoweekday() in weekdays]
    if not out:
        raise InvalidInput(MSG["no_days"].format(start=start, end=end))
    return out


def team_depots(config: dict[str, Any], teams: int) -> list[Depot]:
    """Each team's depot: its own from [[depots]] when listed, else the bureau [office]."""
    office = config["office"]
    own = {int(d["team"]): d for d in config.get("depots", [])}
    chosen = [own.get(team + 1, office) for team in range(teams)]
    return [Depot(str(d["name"]), float(d["lon"]), float(d["lat"])) for d in chosen]


def service_seconds(config: dict[str, Any], category: str, colour: str) -> int:
    """On-site minutes by industry category × colour factor (plan.toml), in seconds."""
    minutes = config["service_minutes"].get(category, config["service_minutes"]["other"])
    return int(round(minutes * config["service_factor"][colour] * 60))


def make_plan(
    conn: Connection,
    start: dt.date,
    end: dt.date,
    *,
    township: str | None = None,
    teams: int = 4,
    time_limit_s: float | None = None,
    config: dict[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> int:
    """Plan the range's inspections for `teams` teams, store it, return the plan id; `progress` hears each stage
    in Chinese (the workbench shows it while the plan is made)."""
    if not 1 <= teams <= 50:
        raise InvalidInput(MSG["teams"].format(teams=teams))
    cfg = config or load_plan_config()
    settings = network_settings(cfg)
    started = time.perf_counter()
    say = progress or (lambda _stage: None)
    say("读取到期企业")
    days = working_days(start, end, weekdays=cfg["day"]["weekdays"])
    listed = load_due(conn, start, end, township=township, with_held=True)
    due = [s for s in listed if not s.item.held_back]
    held = [s for s in listed if s.item.held_back]  # the annual cap holds them back: kept as unplanned, with why
    depots = team_depots(cfg, teams)
    depot_nodes = _unique_depots(depots)
    points = [Stop(d.lon, d.lat) for d in depot_nodes] + [Stop(s.lon, s.lat) for s in due]
    say(f"应检查 {len(due)} 家；准备路网")
    ensure_network(conn, settings=settings)
    say(f"计算 {len(points)} 个地点之间的路网行程时间")
    t0 = time.perf_counter()
    tt = travel_times(conn, points, settings=settings)
    matrix, snaps = tt.matrix, tt.snaps
    matrix_s = time.perf_counter() - t0
    nd = len(depot_nodes)
    node_of_depot = {d: k for k, d in enumerate(depot_nodes)}
    vehicles = [Team(f"第{k + 1}组 {day:%m-%d}周{WEEKDAYS[day.weekday()]}", node_of_depot[depots[k]],
                     int(cfg["day"]["work_hours"] * 3600))
                for day in days for k in range(teams)]
    service = [0] * nd + [service_seconds(cfg, s.category, s.item.colour) for s in due]
    priorities = [1] * nd + [s.item.priority for s in due]
    if due:
        say(f"求解 {len(vehicles)} 条组·日路线（时限 {time_limit_s or cfg['day']['time_limit_s']} 秒）")
        solved = solve_routes(matrix, service, vehicles, RouteLimits(priorities=priorities),
                              time_limit_s or float(cfg["day"]["time_limit_s"]))
        routes, dropped, status, solve_s = solved.routes, solved.dropped, solved.status_label, solved.solve_s
    else:
        routes, dropped, status, solve_s = (), (), MSG["nothing_due"], 0.0
    legs = [(v, leg) for v, r in enumerate(routes) for a, b in _pairs(r.team.depot, r.nodes)
            if (leg := best_leg(tt, a, b)) is not None]
    say("沿路网绘制路线并保存")
    paths = route_paths(conn, legs)
    summary = {
        "day_start": cfg["day"]["start"], "work_hours": cfg["day"]["work_hours"],
        "due": len(due), "visited": sum(len(r.visits) for r in routes), "dropped": len(dropped),
        "held_back": len(held),
        "days": [d.isoformat() for d in days], "matrix_s": round(matrix_s, 3), "solve_s": round(solve_s, 3),
        "fallback_stops": sum(1 for s in snaps[nd:] if s.vertex is None),
        "depots": [{"name": d.name, "lon": d.lon, "lat": d.lat, "note": snaps[k].note}
                   for k, d in enumerate(depot_nodes)],
    }
    plan_id = conn.execute(text(
        "INSERT INTO inspection_plan (start_on, end_on, township_code, teams, status, solve_s, summary) "
        "VALUES (:s, :e, :t, :n, :st, :solve, CAST(:sum AS jsonb)) RETURNING id"),
        {"s": start, "e": end, "t": township, "n": teams, "st": status, "solve": solve_s,
         "sum": json.dumps(summary, ensure_ascii=False)}).scalar_one()
    route_ids = _store_routes(conn, plan_id, routes, days, teams, depots, points, tt, paths, settings)
    _store_stops(conn, plan_id, due, routes, dropped, route_ids, service, snaps, nd)
    _store_held(conn, plan_id, held)
    total_s = time.perf_counter() - started
    conn.execute(text("UPDATE inspection_plan SET summary = summary || CAST(:x AS jsonb) WHERE id = :id"),
                 {"x": json.dumps({"total_s": round(total_s, 3)}), "id": plan_id})
    return int(plan_id)


def _unique_depots(depots: list[Depot]) -> list[Depot]:
    """Depots in first-use order, each once (teams sharing an office share its node)."""
    return list(dict.fromkeys(depots))


def _pairs(depot: int, nodes: list[int]) -> list[tuple[int, int]]:
    """Consecutive node pairs of depot → stops → depot."""
    path = [depot, *nodes, depot] if nodes else []
    return list(zip(path, path[1:], strict=False))


def _route_metres(depot: int, nodes: list[int], points: list[Stop], tt: TravelTimes,
                  road_m: float, settings: NetworkSettings) -> float:
    """Road metres (pgRouting paths) + each road leg's access at both ends + fallback legs' estimates."""
    total = road_m
    for a, b in _pairs(depot, nodes):
        leg = best_leg(tt, a, b)
        total += leg.access_m if leg is not None else fallback_m(points[a], points[b], settings=settings)
    return total


def _store_routes(conn: Connection, plan_id: int, routes: Any, days: list[dt.date], teams: int,
                  depots: list[Depot], points: list[Stop], tt: TravelTimes,
                  paths: dict[int, tuple[Any, float]], settings: NetworkSettings) -> dict[int, int]:
    """One plan_route row per team-day with visits; returns solver vehicle index → plan_route id."""
    ids: dict[int, int] = {}
    for v, r in enumerate(routes):
        if not r.visits:
            continue
        geom, road_m = paths.get(v, (None, 0.0))
        depot = depots[v % teams]
        ids[v] = conn.execute(text(
            "INSERT INTO plan_route (plan_id, team, day_on, depot_name, depot_geom, travel_s, service_s, return_s, "
            "distance_m, geom) VALUES (:p, :team, :day, :dn, ST_SetSRID(ST_MakePoint(:lon, :lat), 4490), :tr, :sv, "
            ":ret, :dist, ST_GeomFromEWKT(:g)) RETURNING id"),
            {"p": plan_id, "team": f"第{v % teams + 1}组", "day": days[v // teams], "dn": depot.name,
             "lon": depot.lon, "lat": depot.lat, "tr": r.travel_s, "sv": r.service_s, "ret": r.return_s,
             "dist": _route_metres(r.team.depot, r.nodes, points, tt, road_m, settings), "g": geom},
        ).scalar_one()
    return ids


def _store_stops(conn: Connection, plan_id: int, due: list[DueStop], routes: Any, dropped: Any,
                 route_ids: dict[int, int], service: list[int], snaps: list[Snap], nd: int) -> None:
    """One plan_stop row per due enterprise: its route, order and arrival, or why it was dropped."""
    placed: dict[int, tuple[int, int, int]] = {}
    for v, r in enumerate(routes):
        for seq, visit in enumerate(r.visits, start=1):
            placed[visit.node] = (route_ids[v], seq, visit.arrival_s)
    reasons = {d.node: d.reason for d in dropped}
    rows = []
    for k, s in enumerate(due):
        node = nd + k
        route_id, seq, arrival = placed.get(node, (None, None, None))
        rows.append({
            "p": plan_id, "r": route_id, "seq": seq, "e": s.item.enterprise_id, "c": s.item.colour,
            "pr": s.item.priority, "rs": json.dumps(list(s.item.reasons), ensure_ascii=False), "a": arrival,
            "sv": service[node], "sn": snaps[node].vertex is not None, "am": snaps[node].access_m,
            "note": snaps[node].note, "d": reasons.get(node),
        })
    if rows:
        conn.execute(text(
            "INSERT INTO plan_stop (plan_id, route_id, seq, enterprise_id, colour, priority, reasons, arrival_s, "
            "service_s, snapped, access_m, snap_note, dropped_reason) VALUES (:p, :r, :seq, :e, :c, :pr, "
            "CAST(:rs AS jsonb), :a, :sv, :sn, :am, :note, :d)"), rows)


def _store_held(conn: Connection, plan_id: int, held: list[DueStop]) -> None:
    """One unplanned plan_stop per enterprise the annual cap holds back; its reason says so."""
    if held:
        conn.execute(text(
            "INSERT INTO plan_stop (plan_id, enterprise_id, colour, priority, reasons, service_s, snapped, "
            "dropped_reason) VALUES (:p, :e, :c, :pr, CAST(:rs AS jsonb), 0, false, :d)"),
            [{"p": plan_id, "e": s.item.enterprise_id, "c": s.item.colour, "pr": s.item.priority,
              "rs": json.dumps(list(s.item.reasons), ensure_ascii=False), "d": s.item.reasons[-1]} for s in held])


def clock(start: str, seconds: int | None) -> str | None:
    """'08:30' + seconds → 'HH:MM' (the arrival time printed on the route sheet)."""
    if seconds is None:
        return None
    h, m = (int(x) for x in start.split(":"))
    t = dt.datetime(2000, 1, 1, h, m) + dt.timedelta(seconds=seconds)
    return t.strftime("%H:%M")


def get_plan(conn: Connection, plan_id: int, *, config: dict[str, Any] | None = None) -> dict[str, Any]:
    """A stored plan as plain data: routes (ordered stops with arrival times, km, hours, GeoJSON), dropped stops."""
    cfg = config or load_plan_config()
    head = conn.execute(text("SELECT * FROM inspection_plan WHERE id = :id"), {"id": plan_id}).mappings().first()
    if head is None:
        raise NotFound(MSG["not_found"].format(id=plan_id))
    routes = conn.execute(text(
        "SELECT id, team, day_on, depot_name, ST_X(depot_geom) AS lon, ST_Y(depot_geom) AS lat, travel_s, service_s, "
        "return_s, distance_m, ST_AsGeoJSON(geom, 6) AS geojson FROM plan_route WHERE plan_id = :id "
        "ORDER BY day_on, id"), {"id": plan_id}).mappings().all()
    stops = conn.execute(text(
        "SELECT s.id, s.route_id, s.seq, s.enterprise_id, e.name, e.uscc, e.address, e.category, s.colour, "
        "s.priority, s.reasons, s.arrival_s, s.service_s, s.snapped, s.access_m, s.snap_note, s.dropped_reason, "
        "s.inspection_id, ST_X(e.geom) AS lon, ST_Y(e.geom) AS lat, g.officer_name, g.officer_phone "
        "FROM plan_stop s JOIN enterprise e ON e.id = s.enterprise_id "
        "LEFT JOIN LATERAL (SELECT c.officer_name, c.officer_phone FROM grid_cell c "
        "WHERE ST_Covers(c.geom, e.geom) ORDER BY c.id LIMIT 1) g ON true "
        "WHERE s.plan_id = :id ORDER BY s.route_id NULLS LAST, s.seq, s.priority DESC, s.id"),
        {"id": plan_id}).mappings().all()
    start = (head["summary"] or {}).get("day_start") or cfg["day"]["start"]  # the plan's own day start
    by_route: dict[int | None, list[dict[str, Any]]] = {}
    for s in stops:
        item = {
            "stop_id": s["id"], "seq": s["seq"], "enterprise_id": s["enterprise_id"], "name": s["name"],
            "uscc": s["uscc"], "address": s["address"], "category": s["category"],
            "category_label": INDUSTRY_CATEGORIES.get(s["category"], s["category"]), "colour": s["colour"],
            "colour_label": COLOUR_LABELS[s["colour"]], "priority": s["priority"], "reasons": s["reasons"],
            "arrival": clock(start, s["arrival_s"]), "arrival_s": s["arrival_s"],
            "service_min": round(s["service_s"] / 60), "snapped": s["snapped"], "snap_note": s["snap_note"],
            "dropped_reason": s["dropped_reason"], "inspection_id": s["inspection_id"],
            "contact": (f"网格员 {s['officer_name']} {s['officer_phone'] or ''}".strip() if s["officer_name"] else None),
            "lon": s["lon"], "lat": s["lat"],
        }
        by_route.setdefault(s["route_id"], []).append(item)
    out_routes = []
    for r in routes:
        out_routes.append({
            "route_id": r["id"], "team": r["team"], "day": r["day_on"].isoformat(), "depot": r["depot_name"],
            "depot_lon": r["lon"], "depot_lat": r["lat"], "km": round(r["distance_m"] / 1000, 1),
            "hours": round(r["return_s"] / 3600, 2), "travel_h": round(r["travel_s"] / 3600, 2),
            "service_h": round(r["service_s"] / 3600, 2), "return_s": r["return_s"],
            "return_at": clock(start, r["return_s"]),
            "geometry": json.loads(r["geojson"]) if r["geojson"] else None, "stops": by_route.get(r["id"], []),
        })
    return {
        "id": head["id"], "start": head["start_on"].isoformat(), "end": head["end_on"].isoformat(),
        "township": head["township_code"], "teams": head["teams"], "status": head["status"],
        "created_at": head["created_at"].isoformat(), "summary": head["summary"], "day_start": start,
        "routes": out_routes, "dropped": by_route.get(None, []),
        "fallback_stops": [s for items in by_route.values() for s in items if not s["snapped"]],
    }


def list_plans(conn: Connection, *, limit: int = 50) -> list[dict[str, Any]]:
    """The most recent stored plans, newest first, with their headline numbers."""
    rows = conn.execute(text(
        "SELECT id, start_on, end_on, township_code, teams, status, summary, created_at FROM inspection_plan "
        "ORDER BY id DESC LIMIT :n"), {"n": limit}).mappings().all()
    return [{"id": r["id"], "start": r["start_on"].isoformat(), "end": r["end_on"].isoformat(),
             "township": r["township_code"], "teams": r["teams"], "status": r["status"],
             "due": r["summary"].get("due"), "visited": r["summary"].get("visited"),
             "dropped": r["summary"].get("dropped"), "created_at": r["created_at"].isoformat()} for r in rows]
