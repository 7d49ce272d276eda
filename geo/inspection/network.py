"""The pgRouting road graph and stop-to-stop travel times (seconds), built from the `road` table.

Vertices are road end points merged within a tolerance (metres, in the county's Gauss–Krüger zone); edge
cost is length_m / the class speed (plan.toml), oneway roads get reverse_cost −1 (pgRouting: no way back).
Each stop is snapped to its nearest road and may drive off through either end of it (only forwards on a oneway
road): the time between two stops is the best of those ends' pgRouting costs plus the part of the road and the
off-road metres at each end. A stop too far from any road, or on a road piece cut off from the main network,
falls back to great-circle distance × detour factor at a default speed, and the fallback is reported per stop.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
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
    near_end_m: float


@dataclass(frozen=True)
class Stop:
    """A point to route to (lon/lat, EPSG:4490)."""

    lon: float
    lat: float


@dataclass(frozen=True)
class Access:
    """Getting between a stop and one end vertex of its road: seconds and metres (along the road, then off it)."""

    vertex: int
    seconds: float
    metres: float
    end_frac: float = 0.0
    """0 when the vertex is the road's first point (source), 1 when it is its last (target)."""


@dataclass(frozen=True)
class Snap:
    """Where a stop joins the road graph; vertex None = fallback (note says why).

    `vertex` is the nearer end of the stop's road and `access_m` the metres to it; `leave`/`arrive` are the
    ends a vehicle can drive off to / come in from (one of them only on a oneway road).
    """

    vertex: int | None
    access_m: float
    note: str | None
    edge: int | None = None
    frac: float = 0.0
    edge_s: float = 0.0
    off_m: float = 0.0
    oneway: bool = False
    leave: tuple[Access, ...] = ()
    arrive: tuple[Access, ...] = ()


@dataclass(frozen=True)
class TravelTimes:
    """Stop-to-stop seconds (ints, for the solver), the snaps, and road seconds between graph vertices."""

    matrix: list[list[int]]
    snaps: list[Snap]
    vertex_s: dict[tuple[int, int], float]


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
                           float(net["access_speed_kmh"]), float(net["near_end_m"]))


def build_network(conn: Connection, *, settings: NetworkSettings | None = None) -> dict[str, int]:
    """Rebuild road_vertex/road_edge from `road`: merged end points, metric lengths, class travel times."""
    s = settings or network_settings()
    srid = metric_srid(conn)
    conn.execute(text("TRUNCATE road_edge, road_vertex"))
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
    """Join each stop to its nearest road (≤ snap_max_m, main component), reachable from both ends unless oneway."""
    if not stops:
        return []
    srid = metric_srid(conn)
    rows = conn.execute(text((Path(__file__).with_name("snap.sql")).read_text(encoding="utf-8")), {
        "lon": [p.lon for p in stops], "lat": [p.lat for p in stops], "srid": srid}).all()
    found = {int(r.idx): r for r in rows}
    main = conn.execute(text("SELECT component FROM road_vertex GROUP BY component "
                             "ORDER BY count(*) DESC, component LIMIT 1")).scalar()
    return [_snap(found.get(i + 1), main, settings) for i in range(len(stops))]


def _snap(r: Any, main: int | None, s: NetworkSettings) -> Snap:
    """One stop's snap from its snap.sql row (None = no road at all)."""
    if r is None:
        return Snap(None, 0.0, MSG["no_roads"].format(detour=s.detour_factor))
    if r.distance_m > s.snap_max_m:
        return Snap(None, 0.0, MSG["too_far"].format(distance_m=r.distance_m, max_m=s.snap_max_m,
                                                   detour=s.detour_factor))
    if r.component != main:
        return Snap(None, 0.0, MSG["isolated"].format(detour=s.detour_factor))
    off_s = r.distance_m / (s.access_speed_kmh / 3.6)
    to_source = Access(int(r.source), r.frac * r.cost_s + off_s, r.frac * r.length_m + r.distance_m, 0.0)
    to_target = Access(int(r.target), (1 - r.frac) * r.cost_s + off_s, (1 - r.frac) * r.length_m + r.distance_m,
                       1.0)
    nearer = to_source if r.frac < 0.5 else to_target
    if r.oneway:
        leave, arrive = (to_target,), (to_source,)
    elif nearer.metres - r.distance_m <= s.near_end_m:  # close to a junction: one end is enough (fewer sources)
        leave = arrive = (nearer,)
    else:
        leave = arrive = (to_source, to_target)
    return Snap(nearer.vertex, nearer.metres, None, int(r.edge), float(r.frac), float(r.cost_s),
                float(r.distance_m), bool(r.oneway), leave, arrive)


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


def travel_times(conn: Connection, stops: Sequence[Stop], *, settings: NetworkSettings | None = None) -> TravelTimes:
    """Seconds between stops: the best end of each stop's road × pgRouting costs; fallback estimates elsewhere."""
    s = settings or network_settings()
    snaps = snap_stops(conn, stops, settings=s)
    ends = sorted({a.vertex for sn in snaps for a in (*sn.leave, *sn.arrive)})
    costs = vertex_costs(conn, ends)
    n = len(stops)
    road = np.full((n, n), np.inf)
    if ends:
        pos = {v: k for k, v in enumerate(ends)}
        between = np.full((len(ends), len(ends)), np.inf)
        np.fill_diagonal(between, 0.0)
        for (a, b), c in costs.items():
            between[pos[a], pos[b]] = c
        for k in range(2):
            leave_v, leave_s = _option_arrays(snaps, "leave", k, pos)
            for m in range(2):
                arrive_v, arrive_s = _option_arrays(snaps, "arrive", m, pos)
                combo = leave_s[:, None] + between[np.ix_(leave_v, arrive_v)] + arrive_s[None, :]
                np.minimum(road, combo, out=road)
    _same_edge(snaps, road, s)
    estimate = _fallback_matrix(stops, s)
    seconds = np.where(np.isfinite(road), road, estimate)
    np.fill_diagonal(seconds, 0.0)
    return TravelTimes(np.rint(seconds).astype(int).tolist(), snaps, costs)


def _option_arrays(snaps: list[Snap], side: str, k: int, pos: dict[int, int]) -> tuple[Any, Any]:
    """Vertex positions and access seconds of each stop's k-th leave/arrive option (inf when it has none)."""
    idx = np.zeros(len(snaps), dtype=int)
    sec = np.full(len(snaps), np.inf)
    for i, sn in enumerate(snaps):
        options = getattr(sn, side)
        if k < len(options):
            idx[i], sec[i] = pos[options[k].vertex], options[k].seconds
    return idx, sec


def _same_edge(snaps: list[Snap], road: Any, s: NetworkSettings) -> None:
    """Two stops on the same road drive straight along it (forward only on a oneway road)."""
    by_edge: dict[int, list[int]] = {}
    for i, sn in enumerate(snaps):
        if sn.edge is not None:
            by_edge.setdefault(sn.edge, []).append(i)
    off_ms = s.access_speed_kmh / 3.6
    for members in by_edge.values():
        for i in members:
            for j in members:
                a, b = snaps[i], snaps[j]
                if i == j or (a.oneway and b.frac < a.frac):
                    continue
                direct = abs(b.frac - a.frac) * a.edge_s + (a.off_m + b.off_m) / off_ms
                road[i, j] = min(road[i, j], direct)


def _fallback_matrix(stops: Sequence[Stop], s: NetworkSettings) -> Any:
    """Great-circle metres (haversine) × detour factor at the fallback speed, seconds, every pair."""
    lon = np.radians([p.lon for p in stops])
    lat = np.radians([p.lat for p in stops])
    h = (np.sin((lat[None, :] - lat[:, None]) / 2) ** 2
         + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin((lon[None, :] - lon[:, None]) / 2) ** 2)
    metres = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(h)) * s.detour_factor
    return metres / (s.fallback_speed_kmh / 3.6)


def travel_matrix(
    conn: Connection, stops: Sequence[Stop], *, settings: NetworkSettings | None = None
) -> tuple[list[list[int]], list[Snap]]:
    """Integer travel seconds between stops over the road graph (fallback estimates where routing fails), snaps."""
    tt = travel_times(conn, stops, settings=settings)
    return tt.matrix, tt.snaps


@dataclass(frozen=True)
class Leg:
    """How a road leg runs: between graph vertices, with the part of each stop's own road (edge, from, to frac)."""

    source: int
    target: int
    access_m: float
    pieces: tuple[tuple[int, float, float], ...]


def best_leg(tt: TravelTimes, i: int, j: int) -> Leg | None:
    """The road ends a leg i → j drives between and the partial roads at both ends; None = fallback estimate."""
    a, b = tt.snaps[i], tt.snaps[j]
    if a.vertex is None or b.vertex is None or a.edge is None or b.edge is None:
        return None
    options = [(x.seconds + (0.0 if x.vertex == y.vertex else tt.vertex_s.get((x.vertex, y.vertex), math.inf))
                + y.seconds, x, y) for x in a.leave for y in b.arrive]
    seconds, x, y = min(options, key=lambda o: o[0])
    if not math.isfinite(seconds):
        return None
    return Leg(x.vertex, y.vertex, x.metres + y.metres, ((a.edge, a.frac, x.end_frac), (b.edge, y.end_frac, b.frac)))


def route_paths(conn: Connection, legs: Sequence[tuple[int, Leg]]) -> dict[int, tuple[Any, float]]:
    """Road geometry (EWKT MultiLineString, EPSG:4490) and graph metres per route for its legs (route_key, Leg).

    One pgr_dijkstra call over the distinct vertex pairs (combinations SQL read from a temporary table); the
    partial roads from each stop to the vertex it leaves by are added to the geometry (their metres are in
    the legs' access_m).
    """
    if not legs:
        return {}
    pairs = [(k, leg.source, leg.target) for k, leg in legs if leg.source != leg.target]
    pieces = [(k, *p) for k, leg in legs for p in leg.pieces if p[1] != p[2]]
    conn.execute(text("CREATE TEMP TABLE IF NOT EXISTS plan_leg (route_key int, source bigint, target bigint) "
                      "ON COMMIT DROP"))
    conn.execute(text("TRUNCATE plan_leg"))
    if pairs:
        conn.execute(text("INSERT INTO plan_leg SELECT * FROM unnest(CAST(:k AS int[]), CAST(:a AS bigint[]), "
                          "CAST(:b AS bigint[]))"),
                     {"k": [p[0] for p in pairs], "a": [p[1] for p in pairs], "b": [p[2] for p in pairs]})
    rows = conn.execute(text((Path(__file__).with_name("paths.sql")).read_text(encoding="utf-8")), {
        "edges": EDGES_SQL, "pk": [p[0] for p in pieces], "pe": [p[1] for p in pieces],
        "pf": [p[2] for p in pieces], "pt": [p[3] for p in pieces]}).all()
    return {int(k): (g, float(m or 0.0)) for k, g, m in rows}
