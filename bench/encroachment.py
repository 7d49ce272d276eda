"""Benchmark: every building of the ×N county against every pipeline: the 5 m zone (占压, 石油天然气管道保护法
第三十条) and, for oil lines, the 15 m design-code separation (GB 50253, 本地规定) — the building zones of zones.toml.

    .venv/bin/python -m bench.encroachment [--scale 1] [--database NAME] [--runs 3] [--whole-lines] [--both]

Prints seconds (median of the runs) of riskmap's check (geo.encroachment.find_encroachments) and, from the
same run, its ratio to (a) the best bare PostGIS formulation, hand-written SQL on subdivided pieces (the
fastest of the variants below, each fetched as the driver's plain tuples, as riskmap fetches its rows), and
(b) the GeoPandas path a user would write (read_postgis + sjoin with dwithin in the metric zone, load
included). Every variant must give the same (pipeline, building, zone) set. riskmap's check with the
candidates' points (what the stored register keeps) is timed too, for information. Beside wall seconds it
prints CPU seconds (this process + the connection's server backend; parallel workers not counted) and their
ratios, which hold still while other jobs load the machine. --whole-lines also times ST_DWithin against whole
lines.
The stored check is timed too, run by run (`riskmap encroach check` without its start-up: search, refresh of
encroachment_candidate with new ones opened and vanished ones closed, and the list of open candidates, one
committed transaction each): run 1 on an emptied register, the later runs over the register the previous one
left (issue 17: on a stock server the later runs were the slow ones). `--both` (bench/servers.py) measures the
embedded cluster and a stock PostgreSQL in one run and prints one column each.
The county comes from bench.generate.generate_county (written into the database if it has no county);
--fallback uses bench.encroachment_data instead.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import geopandas as gpd
from sqlalchemy import Connection, Engine, text

from bench import servers
from geo.county import metric_srid
from geo.encroachment import check_encroachments, find_encroachments
from geo.encroachment.check import ensure_pipeline_pieces

ZONES = ("zone_5m", "oil_building")
RADIUS_M = 15
OIL = "(SELECT id FROM pipeline WHERE medium IN ('crude', 'product'))"
ZONE_CASE = f"CASE WHEN distance_m <= 5 THEN 'zone_5m' WHEN pipeline_id IN {OIL} THEN 'oil_building' END"
"""The zone of a building at distance_m of a pipeline (NULL: beyond 5 m of a line that is not oil)."""

BARE_PIECES = """SELECT * FROM (
    SELECT pipeline_id, feature_id, distance_m, {zone_case} AS zone
    FROM (
        SELECT DISTINCT ON (p.pipeline_id, b.id) p.pipeline_id, b.id AS feature_id,
               ST_Distance(ST_Transform(b.geom, :srid), p.geom_m) AS distance_m
        FROM pipeline_piece p
        JOIN building b ON b.geom && ST_Expand(p.geom, {r} / 110000.0 / cos(radians(ST_YMax(p.geom))), {r} / 110000.0)
        WHERE ST_DWithin(ST_Transform(b.geom, :srid), p.geom_m, {r})
        ORDER BY p.pipeline_id, b.id, distance_m
    ) near
) zoned WHERE zone IS NOT NULL""".format(zone_case=ZONE_CASE, r=RADIUS_M)
"""Bare (a1): the stored ≤100 m metric pieces, buildings found through their own GiST index; ST_DWithin, then
ST_Distance of the pairs kept."""

BARE_PIECES_ONCE = """SELECT * FROM (
    SELECT pipeline_id, feature_id, distance_m, {zone_case} AS zone
    FROM (
        SELECT DISTINCT ON (p.pipeline_id, b.id) p.pipeline_id, b.id AS feature_id, d.distance_m
        FROM pipeline_piece p
        JOIN building b ON b.geom && ST_Expand(p.geom, {r} / 110000.0 / cos(radians(ST_YMax(p.geom))), {r} / 110000.0)
        CROSS JOIN LATERAL (SELECT ST_Distance(ST_Transform(b.geom, :srid), p.geom_m) AS distance_m OFFSET 0) d
        WHERE d.distance_m <= {r}
        ORDER BY p.pipeline_id, b.id, d.distance_m
    ) near
) zoned WHERE zone IS NOT NULL""".format(zone_case=ZONE_CASE, r=RADIUS_M)
"""Bare (a2): as (a1), but each pair's distance computed once in a per-row subquery (OFFSET 0 keeps the planner
from inlining it twice) and compared with 50 m: one transform and one distance per pair instead of two and two.
The subquery's outer references keep the plan serial."""

BARE_PIECES_AFTER = """SELECT * FROM (
    SELECT pipeline_id, feature_id, distance_m, {zone_case} AS zone
    FROM (
        SELECT DISTINCT ON (p.pipeline_id, b.id) p.pipeline_id, b.id AS feature_id,
               ST_Distance(ST_Transform(b.geom, :srid), p.geom_m) AS distance_m
        FROM pipeline_piece p
        JOIN building b ON b.geom && ST_Expand(p.geom, {r} / 110000.0 / cos(radians(ST_YMax(p.geom))), {r} / 110000.0)
        ORDER BY p.pipeline_id, b.id, distance_m
    ) near
    WHERE distance_m <= {r}
) zoned WHERE zone IS NOT NULL""".format(zone_case=ZONE_CASE, r=RADIUS_M)
"""Bare (a3): one distance per pair whose boxes meet, nearest piece kept, 50 m applied after (riskmap's form;
the plan may use parallel workers)."""

BARE_SUBDIVIDE = """SELECT * FROM (
    WITH pieces AS MATERIALIZED (
        SELECT id AS pipeline_id, ST_Subdivide(ST_Segmentize(ST_Transform(geom, :srid), 100), 8) AS geom_m
        FROM pipeline
    ), boxes AS MATERIALIZED (
        SELECT pipeline_id, geom_m, ST_Transform(ST_Expand(geom_m, {r} + 5), 4490) AS box FROM pieces
    )
    SELECT pipeline_id, feature_id, distance_m, {zone_case} AS zone
    FROM (
        SELECT DISTINCT ON (p.pipeline_id, b.id) p.pipeline_id, b.id AS feature_id,
               ST_Distance(ST_Transform(b.geom, :srid), p.geom_m) AS distance_m
        FROM boxes p
        JOIN building b ON b.geom && p.box
        WHERE ST_DWithin(ST_Transform(b.geom, :srid), p.geom_m, {r})
        ORDER BY p.pipeline_id, b.id, distance_m
    ) near
) zoned WHERE zone IS NOT NULL""".format(zone_case=ZONE_CASE, r=RADIUS_M)
"""Bare (a4): ST_Subdivide on the fly (nothing stored beforehand), boxes transformed back to 4490."""

WHOLE_LINES = """
    SELECT p.id, b.id, ST_Distance(ST_Transform(b.geom, :srid), ST_Transform(p.geom, :srid))
    FROM pipeline p
    JOIN building b ON b.geom && ST_Expand(p.geom, {r} / 110000.0 / cos(radians(ST_YMax(p.geom))), {r} / 110000.0)
    WHERE ST_DWithin(ST_Transform(b.geom, :srid), ST_Transform(p.geom, :srid), 50)
""".format(r=RADIUS_M)
"""The slow formulation: whole long lines, whose GiST box covers most of the county."""


def _timed(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    """Median seconds of `runs` calls and the last result."""
    seconds, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), result


class Timing(NamedTuple):
    """Medians of one variant: wall seconds, and CPU seconds of this process plus its server backend."""

    seconds: float
    cpu_s: float
    result: Any


def _backend_cpu_s(pid: int) -> float:
    """CPU seconds the server process `pid` has used (Linux schedstat); NaN when the server is elsewhere."""
    try:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return float("nan")


def _interleaved(variants: dict[str, Callable[[], Any]], runs: int, backend_pid: int) -> dict[str, Timing]:
    """Medians and last result of each variant, run in turn so that they share the machine's load.

    CPU time (client process + the connection's server backend) hardly moves with other jobs' load, so it
    gives a steadier ratio than wall time on a shared machine; parallel query workers are not counted.
    """
    seconds: dict[str, list[float]] = {name: [] for name in variants}
    cpu: dict[str, list[float]] = {name: [] for name in variants}
    results: dict[str, Any] = {}
    for _ in range(runs):
        for name, fn in variants.items():
            gc.collect()
            server, client, start = _backend_cpu_s(backend_pid), time.process_time(), time.perf_counter()
            results[name] = fn()
            seconds[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - client + _backend_cpu_s(backend_pid) - server)
    return {name: Timing(statistics.median(seconds[name]), statistics.median(cpu[name]), results[name])
            for name in variants}


def run_riskmap(conn: Connection, *, points: bool = False) -> set[tuple[int, int, str]]:
    found = find_encroachments(conn, zones=ZONES, feature_types=("building",), points=points)
    return {(c.pipeline_id, c.feature_id, c.zone) for c in found}


def run_sql(conn: Connection, sql: str) -> set[tuple[int, int, str]]:
    """Run bare SQL (`:srid` bound) and fetch the driver's plain tuples, the cheapest way to get rows."""
    srid = metric_srid(conn)
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql.replace(":srid", "%(srid)s"), {"srid": srid})
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return {(r[0], r[1], r[3]) for r in rows} if rows and len(rows[0]) > 3 else {(r[0], r[1], "") for r in rows}


def run_geopandas(conn: Connection) -> set[tuple[int, int, str]]:
    """What a user would write: load both layers, project to the metric zone, sjoin with dwithin 15 m."""
    srid = metric_srid(conn)
    buildings = gpd.read_postgis("SELECT id, geom FROM building", conn, geom_col="geom").to_crs(srid)
    lines = gpd.read_postgis("SELECT id, medium, geom FROM pipeline", conn, geom_col="geom").to_crs(srid)
    pairs = gpd.sjoin(buildings, lines, predicate="dwithin", distance=float(RADIUS_M), lsuffix="b", rsuffix="p")
    partner = gpd.GeoSeries(lines.set_index("id").geometry.loc[pairs["id_p"]].values, index=pairs.index, crs=srid)
    distance = pairs.geometry.distance(partner)
    oil = set(lines.loc[lines["medium"].isin(["crude", "product"]), "id"])
    zone = ["zone_5m" if d <= 5.0 else "oil_building" if p in oil else None for d, p in zip(distance, pairs["id_p"])]
    return {(p, b, z) for p, b, z in zip(pairs["id_p"], pairs["id_b"], zone, strict=True) if z is not None}


def ensure_county(engine: Engine, *, scale: float, seed: int, fallback: bool) -> None:
    """Write the synthetic county unless the database already holds one."""
    with engine.connect() as conn:
        if conn.execute(text("SELECT count(*) FROM county")).scalar():
            return
    started = time.perf_counter()
    if fallback:
        from bench.encroachment_data import generate_bench_county

        generate_bench_county(engine, scale=int(scale), seed=seed)
    else:
        from bench.generate import generate_county

        generate_county(engine, scale=scale, seed=seed)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    print(f"已生成合成县 ×{scale:g}，用时 {time.perf_counter() - started:.0f} 秒")


def stored_check_seconds(engine: Engine, runs: int) -> tuple[list[float], int]:
    """Seconds of each run of the stored check (refresh + list, committed), the first on an emptied register,
    and the open candidates the last run listed."""
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM encroachment_candidate"))
    seconds, listed = [], 0
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        with engine.begin() as conn:
            listed = len(check_encroachments(conn))
        seconds.append(time.perf_counter() - start)
    return seconds, listed


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.encroachment", description="占压排查基准：建筑 5 米（占压）与输油管道 15 米")
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--database", help="默认 riskmap_encroach_x<N>")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--whole-lines", action="store_true", help="同时计时整条管线上的 ST_DWithin（慢）")
    p.add_argument("--fallback", action="store_true", help="用 bench.encroachment_data 生成数据")
    p.add_argument("--skip-geopandas", action="store_true", help="不计时 GeoPandas（×10 时它要数分钟）")
    servers.add_arguments(p)
    args = p.parse_args(argv)
    from bench.generate import ensure_database, target_url

    database = args.database or "riskmap_encroach_x" + f"{args.scale:g}".replace(".", "_")
    report = servers.Report(f"占压排查 ×{args.scale:g}（{database}），{args.runs} 次")
    for label in servers.each(args):
        engine = ensure_database(target_url(database))
        ensure_county(engine, scale=args.scale, seed=args.seed, fallback=args.fallback)
        with engine.connect() as conn:
            counts = conn.execute(text(
                "SELECT (SELECT count(*) FROM building), (SELECT count(*) FROM pipeline), "
                "(SELECT coalesce(sum(ST_Length(geom::geography)), 0) / 1000 FROM pipeline)")).one()
        print(f"数据库 {database}：建筑 {counts[0]} 栋，管道 {counts[1]} 条共 {counts[2]:.0f} km；"
              f"每项取 {args.runs} 次中位数")
        with engine.begin() as conn:  # pieces cut (and committed) once, as after any change of the pipelines
            ensure_pipeline_pieces(conn, srid=metric_srid(conn))
        with engine.connect() as conn:  # one connection: its server backend's CPU time is measured
            _compare(conn, args, report, label)
        seconds, listed = stored_check_seconds(engine, args.runs)
        print(f"入库排查（riskmap encroach check：检索、更新登记、列出）逐次：{' / '.join(f'{t:.2f}' for t in seconds)} 秒，"
              f"未结候选 {listed} 处")
        report.add(label, "入库排查逐次（秒；第 1 次为空登记）", " / ".join(f"{t:.2f}" for t in seconds))
        report.add(label, "入库排查中位数（秒）", f"{statistics.median(seconds):.2f}")
        engine.dispose()
    report.print()
    return 0


def _compare(conn: Connection, args: argparse.Namespace, report: servers.Report | None = None,
             label: str = servers.CURRENT) -> int:
    """Time riskmap's check against the bare formulations and GeoPandas on `conn`; print seconds and ratios."""
    run_riskmap(conn)  # warm-up: caches filled
    pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    variants: dict[str, Callable[[], Any]] = {
        "pieces": lambda: run_sql(conn, BARE_PIECES),
        "riskmap": lambda: run_riskmap(conn),
        "pieces_once": lambda: run_sql(conn, BARE_PIECES_ONCE),
        "riskmap_points": lambda: run_riskmap(conn, points=True),
        "pieces_after": lambda: run_sql(conn, BARE_PIECES_AFTER),
        "subdivide": lambda: run_sql(conn, BARE_SUBDIVIDE),
    }
    timed = _interleaved(variants, args.runs, pid)
    ours = timed.pop("riskmap")
    with_points = timed.pop("riskmap_points")
    bare = timed
    gpd_t = Timing(float("nan"), float("nan"), ours.result) if args.skip_geopandas else \
        _interleaved({"geopandas": lambda: run_geopandas(conn)}, args.runs, pid)["geopandas"]
    best_name = min(bare, key=lambda k: bare[k].seconds)
    best = bare[best_name]
    best_cpu_name = min(bare, key=lambda k: bare[k].cpu_s)
    best_cpu = bare[best_cpu_name]
    found = ours.result
    agree = all(t.result == found for t in bare.values()) and gpd_t.result == found == with_points.result
    print("（括号内为 CPU 秒：本进程 + 服务器后端进程，几乎不受他人负载影响）")
    print(f"riskmap 占压排查（建筑 × 管道，5 米/输油管道 15 米）：{ours.seconds:.3f} 秒（CPU {ours.cpu_s:.3f}），"
          f"{len(found)} 处候选")
    print(f"  riskmap 连同候选点位（points=True，入库排查所需）：{with_points.seconds:.3f} 秒（CPU {with_points.cpu_s:.3f}）")
    for name, t in bare.items():
        print(f"  裸 PostGIS（{name}）：{t.seconds:.3f} 秒（CPU {t.cpu_s:.3f}）")
    print(f"  GeoPandas（read_postgis + sjoin dwithin，含读取）：{gpd_t.seconds:.3f} 秒（CPU {gpd_t.cpu_s:.3f}）")
    print(f"比值：riskmap / 最佳裸 PostGIS（{best_name}）= {ours.seconds / best.seconds:.2f}（目标 ≤ 1.2）；"
          f"GeoPandas / riskmap = {gpd_t.seconds / ours.seconds:.1f}（目标 ≥ 10）；结果逐条一致：{'是' if agree else '否'}")
    print(f"CPU 比值：riskmap / 最佳裸 PostGIS（{best_cpu_name}）= {ours.cpu_s / best_cpu.cpu_s:.2f}；"
          f"连同点位 {with_points.cpu_s / best_cpu.cpu_s:.2f}；GeoPandas / riskmap = {gpd_t.cpu_s / ours.cpu_s:.1f}")
    if report is not None:
        report.add(label, "riskmap 检索（秒，CPU 秒）", f"{ours.seconds:.3f}（{ours.cpu_s:.3f}）")
        report.add(label, "最佳裸 SQL（秒）", f"{best.seconds:.3f}（{best_name}）")
        report.add(label, "riskmap / 最佳裸 SQL（墙钟；CPU）",
                   f"{ours.seconds / best.seconds:.2f}；{ours.cpu_s / best_cpu.cpu_s:.2f}")
        report.add(label, "GeoPandas / riskmap", f"{gpd_t.seconds / ours.seconds:.1f}")
        report.add(label, "结果逐条一致", "是" if agree else "否")
    if args.whole_lines:
        whole, _ = _timed(lambda: run_sql(conn, WHOLE_LINES), 1)
        print(f"  整条管线 ST_DWithin：{whole:.3f} 秒（单次）= riskmap 的 {whole / ours.seconds:.0f} 倍")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
