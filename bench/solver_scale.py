"""Solve times of geo.inspection.solve_routes for 50, 200 and 500 stops with 4 teams; prints medians.

Seeded random county (60 km × 60 km, units clustered round towns, 4 offices), travel seconds =
straight-line metres × 1.3 detour / 40 km/h, 15 min per inspection, 8 h days. Guided local search runs
until its time limit, so the numbers that matter are the time to the first plan and to the last
improvement; with 200 and 500 stops one day cannot hold every unit, and the dropped count is printed.

    .venv/bin/python bench/solver_scale.py [--repeats 3] [--sizes 50,200,500] [--days 1]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from bench import servers
from geo.inspection import RouteLimits, Team, solve_routes

SPEED_M_S = 40_000 / 3600
DETOUR = 1.3
SERVICE_S = 15 * 60
TIME_LIMIT_S = {50: 10.0, 200: 20.0, 500: 30.0}


def make_instance(n_stops: int, *, seed: int) -> tuple[list[list[int]], list[int], list[Team], RouteLimits]:
    """4 offices then n_stops units in a 60 km square; travel seconds on a detour-scaled straight line."""
    rng = np.random.default_rng(seed)
    towns = rng.uniform(5_000, 55_000, size=(8, 2))
    offices = towns[:4]
    units = towns[rng.integers(0, len(towns), size=n_stops)] + rng.normal(0, 4_000, size=(n_stops, 2))
    pts = np.vstack([offices, np.clip(units, 0, 60_000)])
    dist_m = np.sqrt(((pts[:, None, :] - pts[None, :, :]) ** 2).sum(axis=2))
    matrix = np.rint(dist_m * DETOUR / SPEED_M_S).astype(int).tolist()
    service = [0] * 4 + [SERVICE_S] * n_stops
    teams = [Team(f"{k + 1}队", k) for k in range(4)]
    priorities = [1] * 4 + rng.choice([10, 20, 30, 40], size=n_stops, p=[0.5, 0.3, 0.15, 0.05]).tolist()
    return matrix, service, teams, RouteLimits(priorities=priorities)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="路线求解规模基准：4 队，50/200/500 个检查点")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sizes", default="50,200,500")
    ap.add_argument("--days", type=int, default=1, help="working days: teams × days vehicles (a weekly plan: 5)")
    servers.add_arguments(ap)
    args = ap.parse_args(argv)
    servers.no_database(args)
    print("检查点 stops  时限 limit s  首个方案 first s  末次改进 last s  总耗时 wall s  舍弃 dropped  "
          f"行驶 travel h  最长队 max team h   (medians of {args.repeats} seeded runs, {args.days} day(s))")
    for n in (int(x) for x in args.sizes.split(",")):
        limit = TIME_LIMIT_S.get(n, 30.0)
        rows = []
        for seed in range(args.repeats):
            matrix, service, teams, limits = make_instance(n, seed=seed)
            teams = [Team(f"{t.name} 第{d + 1}天", t.depot) for d in range(args.days) for t in teams]
            t0 = time.perf_counter()
            plan = solve_routes(matrix, service, teams, limits, limit)
            wall = time.perf_counter() - t0
            first = plan.improvements[0][0] if plan.improvements else float("nan")
            last = plan.improvements[-1][0] if plan.improvements else float("nan")
            rows.append((first, last, wall, len(plan.dropped), plan.travel_s / 3600,
                         max(r.total_h for r in plan.routes)))
        med = [statistics.median(col) for col in zip(*rows)]
        print(f"{n:>12} {limit:>12.0f} {med[0]:>16.2f} {med[1]:>15.1f} {med[2]:>13.1f} {med[3]:>12.0f}"
              f" {med[4]:>13.1f} {med[5]:>17.2f}")


if __name__ == "__main__":
    main()
