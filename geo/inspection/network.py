"""The pgRouting road graph and stop-to-stop travel times (seconds), built from the `road` table.

Vertices are road end points merged within a tolerance (metres, in the county's Gauss–Krüger zone); edge
cost is length_m / the class speed (plan.toml), oneway roads get reverse_cost −1 (pgRouting: no way back).
Stops are snapped to the nearest road end of the nearest road; a stop too far from any road, or on a road
piece cut off from the main network, falls back to great-circle distance × detour factor at a default speed,
and the fallback is reported per stop.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from geo.county import metric_srid
from geo.models import ROAD_CLASSES

PLAN_FILE = Path(__file__).with_name("plan.toml")
EDGES_SQL = "SELECT id, source, target, cost_s AS cost, reverse_cost_s AS reverse_cost FROM road_edge"
EARTH_RADIUS_M = 6_371_008.8

MSG = {
    "too_far": "距最近道路 {distance_m:.0f} 米，超过 {max_m:.0f} 米，按直线距离 × {detour} 估算",
    "isolated": "所在道路与主路网不连通，按直线距离 × {detour} 估算",
    "no_roads": "路网为空（没有道路），按直线距离 × {detour} 估算",
    "speed_class": "plan.toml [network.speed_kmh] 中的道路等级“{name}”不在道路等级代码表中",
}


@dataclass(frozen=True)
class NetworkSettings:
    """Speeds by road class code (km/h), snapping and fallback settings (plan.toml [network])."""

    speed_kmh: dict[str, float]
    vertex_tolerance_m: float
    snap_max_m: float
    detour_factor: float
    fallback_speed_kmh: float
    access_speed_kmh: float


@dataclass(frozen=True)
class Stop:
    """A point to route to (lon/lat, EPSG:4490)."""

    lon: float
    lat: float


@dataclass(frozen=True)
class Snap:
    """Where a stop joins the road graph: vertex, access metres/seconds from the stop; vertex None = fallback."""

    vertex: int | None
    access_m: float
    access_s: float
    note: str | None


def load_plan_config(path: Path | None = None) -> dict[str, Any]:
    """The planner's settings file (default geo/inspection/plan.toml)."""
    with open(path or PLAN_FILE, "rb") as f:
        return tomllib.load(f)


def network_settings(config: dict[str, Any] | None = None) -> NetworkSettings:
    """Network settings with speeds keyed by road_class code (the file keys them by Chinese label)."""
    net = (config or load_plan_config())["network"]
    by_label = {label: code for code, label in ROAD_CLASSES.items()}
    speeds: dict[str, float] = {}
    for name, kmh in net["speed_kmh"].items():
        code = by_label.get(name, name if name in ROAD_CLASSES else None)
        if code is None:
            from geo.errors import InvalidInput

            raise InvalidInput(MSG["speed_class"].format(name=name))
        speeds[code] = float(kmh)
    return NetworkSettings(speeds, float(net["vertex_tolerance_m"]), float(net["snap_max_m"]),
                           float(net["detour_factor"]), float(net["fallback_speed_kmh"]),
                           float(net["access_speed_kmh"]))


def build_network(conn: Connection, *, settings: NetworkSettings | None = None) -> dict[str, int]:
    """Rebuild road_vertex/road_edge from `road`: merged end points, metric lengths, class travel times."""
    s = settings or network_settings()
    srid = metric_srid(conn)
    conn.execute(text("TRUNCATE road_edge, road_vertex RESTART IDENTITY"))
    sql = (Path(__file__).with_name("network.sql")).read_text(encoding="utf-8")
    conn.execute(text(sql), {"srid": srid, "tol": s.vertex_tolerance_m, "speeds": json.dumps(s.speed_kmh),
                             "default_kmh": s.fallback_speed_kmh})
    conn.execute(text(
        "UPDATE road_vertex v SET component = c.component "
        "FROM pgr_connectedComponents(:edges) c WHERE c.node = v.id"), {"edges": EDGES_SQL})
    row = conn.execute(text("SELECT (SELECT count(*) FROM road_vertex), (SELECT count(*) FROM road_edge), "
                            "(SELECT count(DISTINCT component) FROM road_vertex)")).one()
    return {"vertices": int(row[0]), "edges": int(row[1]), "components": int(row[2])}


def ensure_network(conn: Connection, *, settings: NetworkSettings | None = None) -> None:
    """Build the graph when roads exist but the graph is empty or older than the newest road edit."""
    stale = conn.execute(text(
        "SELECT (SELECT count(*) FROM road) > 0 AND ((SELECT count(*) FROM road_edge) = 0 "
        "OR (SELECT count(*) FROM road) <> (SELECT count(DISTINCT road_id) FROM road_edge))")).scalar()
    if stale:
        build_network(conn, settings=settings)


def snap_stops(conn: Connection, stops: Sequence[Stop], *, settings: NetworkSettings) -> list[Snap]:
    """Join each stop to the nearer end vertex of its nearest road (≤ snap_max_m, main component), else fall back."""
    if not stops:
        return []
    srid = metric_srid(conn)
    rows = conn.execute(text((Path(__file__).with_name("snap.sql")).read_text(encoding="utf-8")), {
        "lon": [p.lon for p in stops], "lat": [p.lat for p in stops], "srid": srid,
        "access_ms": settings.access_speed_kmh / 3.6,
    }).all()
    found = {int(r.idx): r for r in rows}
    main = conn.execute(text("SELECT component FROM road_vertex GROUP BY component "
                             "ORDER BY count(*) DESC, component LIMIT 1")).scalar()
    snaps: list[Snap] = []
    for i in range(len(stops)):
        r = found.get(i + 1)
        if r is None:
            snaps.append(Snap(None, 0.0, 0.0, MSG["no_roads"].format(detour=settings.detour_factor)))
        elif r.distance_m > settings.snap_max_m:
            snaps.append(Snap(None, 0.0, 0.0, MSG["too_far"].format(
                distance_m=r.distance_m, max_m=settings.snap_max_m, detour=settings.detour_factor)))
        elif r.component != main:
            snaps.append(Snap(None, 0.0, 0.0, MSG["isolated"].format(detour=settings.detour_factor)))
        else:
            snaps.append(Snap(int(r.vertex), float(r.distance_m + r.along_m), float(r.access_s), None))
    return snaps


def fallback_m(a: Stop, b: Stop, *, settings: NetworkSettings) -> float:
    """Great-circle metres (haversine, mean Earth radius) × detour factor — the estimate when a road route fails."""
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    h = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(b.lon - a.lon) / 2) ** 2)
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h)) * settings.detour_factor


def vertex_costs(conn: Connection, vertices: Sequence[int]) -> dict[tuple[int, int], float]:
    """Travel seconds between every ordered pair of graph vertices (pgr_dijkstraCostMatrix, directed)."""
    ids = sorted(set(vertices))
    if len(ids) < 2:
        return {}
    rows = conn.execute(text("SELECT start_vid, end_vid, agg_cost FROM pgr_dijkstraCostMatrix(:edges, "
                             "CAST(:ids AS bigint[]), directed => true)"), {"edges": EDGES_SQL, "ids": ids})
    return {(int(a), int(b)): float(c) for a, b, c in rows}


def travel_matrix(
    conn: Connection, stops: Sequence[Stop], *, settings: NetworkSettings | None = None
) -> tuple[list[list[int]], list[Snap]]:
    """Integer travel seconds between stops over the road graph, fallback estimates where routing fails."""
    s = settings or network_settings()
    snaps = snap_stops(conn, stops, settings=s)
    costs = vertex_costs(conn, [sn.vertex for sn in snaps if sn.vertex is not None])
    fallback_ms = s.fallback_speed_kmh / 3.6
    n = len(stops)
    matrix = [[0] * n for _ in range(n)]
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            a, b = snaps[i], snaps[j]
            road = None
            if a.vertex is not None and b.vertex is not None:
                road = 0.0 if a.vertex == b.vertex else costs.get((a.vertex, b.vertex))
            if road is None:
                seconds = fallback_m(stops[i], stops[j], settings=s) / fallback_ms
            else:
                seconds = a.access_s + road + b.access_s
            matrix[i][j] = int(round(seconds))
    return matrix, snaps


def route_paths(conn: Connection, legs: Sequence[tuple[int, int, int]]) -> dict[int, tuple[Any, float]]:
    """Road geometry (EWKT MultiLineString, EPSG:4490) and metres per route for legs (route_key, from, to vertex).

    One pgr_dijkstra call over the distinct vertex pairs (combinations SQL read from a temporary table).
    """
    pairs = [(k, a, b) for k, a, b in legs if a != b]
    if not pairs:
        return {}
    conn.execute(text("CREATE TEMP TABLE IF NOT EXISTS plan_leg (route_key int, source bigint, target bigint) "
                      "ON COMMIT DROP"))
    conn.execute(text("TRUNCATE plan_leg"))
    conn.execute(text("INSERT INTO plan_leg SELECT * FROM unnest(CAST(:k AS int[]), CAST(:a AS bigint[]), "
                      "CAST(:b AS bigint[]))"),
                 {"k": [p[0] for p in pairs], "a": [p[1] for p in pairs], "b": [p[2] for p in pairs]})
    rows = conn.execute(text(
        "WITH path AS (SELECT start_vid, end_vid, edge FROM pgr_dijkstra(:edges, "
        "'SELECT DISTINCT source, target FROM plan_leg', directed => true) WHERE edge > 0) "
        "SELECT l.route_key, ST_AsEWKT(ST_Multi(ST_LineMerge(ST_Collect(e.geom)))), sum(e.length_m) "
        "FROM plan_leg l JOIN path p ON p.start_vid = l.source AND p.end_vid = l.target "
        "JOIN road_edge e ON e.id = p.edge GROUP BY l.route_key"), {"edges": EDGES_SQL}).all()
    return {int(k): (g, float(m)) for k, g, m in rows}
