"""Inspection planner on the ×1 synthetic county: road-graph build, travel-time matrix and solve times for 50,
200 and 500 stops with 4 teams (medians).

The database (default riskmap_plan_x1, its own, never the shared riskmap_x1) is generated with
bench.generate.generate_county(engine, scale=1, seed=1) when it has no enterprises. Stops are enterprises picked
by a seeded hash of their id; the depot is the enterprise nearest the county's centroid. Matrix = snapping +
pgr_dijkstraCostMatrix + fallbacks (geo.inspection.network.travel_matrix); the graph is built in a transaction
that is rolled back, so the database is left as it was.

    .venv/bin/python -m bench.plan [--database riskmap_plan_x1] [--sizes 50,200,500] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url

from bench import servers
from geo.inspection.network import Stop, build_network, network_settings, travel_matrix
from geo.inspection.solver import RouteLimits, Team, solve_routes

TIME_LIMIT_S = {50: 10.0, 200: 20.0, 500: 30.0}
SERVICE_S = 30 * 60
TEAMS = 4


def pick_stops(conn: Connection, n: int, *, seed: int) -> list[Stop]:
    """The depot (enterprise nearest the county centroid) then n enterprises chosen by a seeded hash of their id."""
    depot = conn.execute(text(
        "SELECT ST_X(e.geom), ST_Y(e.geom) FROM enterprise e, county c "
        "ORDER BY e.geom <-> ST_Centroid(c.geom) LIMIT 1")).one()
    rows = conn.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM enterprise ORDER BY md5(id::text || :s) LIMIT :n"),
                        {"s": str(seed), "n": n}).all()
    return [Stop(float(depot[0]), float(depot[1]))] + [Stop(float(x), float(y)) for x, y in rows]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database", default="riskmap_plan_x1")
    ap.add_argument("--sizes", default="50,200,500")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--solve-repeats", type=int, default=1)
    servers.add_arguments(ap)
    args = ap.parse_args(argv)

    report = servers.Report("巡查路线：矩阵中位数 / 首解 / 求解（秒）")
    for server in servers.each(args):
        from geo.db import database_url

        url = make_url(database_url()).set(database=args.database)
        engine = create_engine(url)
        from geo import migrate

        migrate.upgrade(engine)  # the planner's tables (revision 0005) may be newer than the generated database
        with engine.connect() as conn:
            empty = not conn.execute(text("SELECT to_regclass('enterprise') IS NOT NULL")).scalar() or \
                not conn.execute(text("SELECT count(*) FROM enterprise")).scalar()
        if empty:
            from bench.generate import generate_county

            print(f"数据库 {args.database} 没有企业，生成 ×1 合成县（种子 1）…")
            generate_county(engine, scale=1, seed=1)
        settings = network_settings()
        with engine.connect() as conn:
            roads = conn.execute(text("SELECT count(*) FROM road")).scalar()
            t0 = time.perf_counter()
            built = build_network(conn, settings=settings)
            build_s = time.perf_counter() - t0
            report.add(server, "建路网（秒）", f"{build_s:.1f}")
            print(f"路网：道路 {roads} 条 → 节点 {built['vertices']}，路段 {built['edges']}，连通分量 "
                  f"{built['components']}；建图 {build_s:.1f} 秒")
            print(f"{'站点':>6} {'矩阵中位(秒)':>12} {'吸附失败':>8} {'首解(秒)':>9} {'末次改进(秒)':>12} {'求解(秒)':>9} "
                  f"{'安排':>5} {'舍弃':>5}")
            for n in (int(x) for x in args.sizes.split(",")):
                stops = pick_stops(conn, n, seed=1)
                times, snaps = [], []
                for _ in range(args.repeats):
                    t = time.perf_counter()
                    matrix, snaps = travel_matrix(conn, stops, settings=settings)
                    times.append(time.perf_counter() - t)
                teams = [Team(f"第{k + 1}组", 0) for k in range(TEAMS)]
                service = [0] + [SERVICE_S] * n
                limits = RouteLimits(priorities=[1] + [10 + (k % 4) * 10 for k in range(n)])
                firsts, lasts, solves, plan = [], [], [], None
                for _ in range(args.solve_repeats):
                    plan = solve_routes(matrix, service, teams, limits, TIME_LIMIT_S.get(n, 30.0))
                    solves.append(plan.solve_s)
                    firsts.append(plan.improvements[0][0] if plan.improvements else plan.solve_s)
                    lasts.append(plan.improvements[-1][0] if plan.improvements else plan.solve_s)
                assert plan is not None
                visited = sum(len(r.visits) for r in plan.routes)
                print(f"{n:>6} {statistics.median(times):>12.2f} {sum(s.vertex is None for s in snaps[1:]):>8} "
                      f"{statistics.median(firsts):>9.2f} {statistics.median(lasts):>12.2f} "
                      f"{statistics.median(solves):>9.1f} {visited:>5} {len(plan.dropped):>5}")
                report.add(server, f"{n} 个站点", f"{statistics.median(times):.2f} / {statistics.median(firsts):.2f} / "
                                               f"{statistics.median(solves):.1f}")
            conn.rollback()  # the graph was only for this run
        engine.dispose()
    report.print()


if __name__ == "__main__":
    main()
