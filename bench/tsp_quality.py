"""TSP quality of geo.inspection.solve_routes: one team, no limits, ≤10 s per instance; prints each gap.

No package reachable from the allowed registries ships the TSPLIB instances (checked 2026-11: PyPI
tsplib95, pycombinatorial, tsmtester, tsputil, tsp-tools, elkai, tspwplib, python-tsp, tisp — readers and
solvers only, no instance files; Debian has no TSPLIB package), so this bench does NOT compare with
TSPLIB's proven optima. It uses seeded random Euclidean instances of
the same sizes as eil51 … ch150 (integer coordinates in a 1000 × 1000 square, uniform or clustered,
TSPLIB EUC_2D distances nint(√(dx²+dy²))) and compares the tour with a proven LOWER bound, the
Held–Karp 1-tree bound (subgradient optimisation). gap = tour / bound − 1 ≥ the true gap to the optimum,
so "gap ≤ 2 %" here implies "within 2 % of the optimum". Optionally (--reference-s) it also reports the
gap to the best tour of several longer runs.

    .venv/bin/python bench/tsp_quality.py [--time-limit-s 10] [--reference-s 0] [--only N,N]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time

import numpy as np

from geo.inspection import Team, solve_routes

# (name, nodes, layout, seed): sizes of eil51, berlin52, st70, eil76, pr76, kroA100, eil101, lin105, ch130, ch150.
INSTANCES = [
    ("rnd51", 51, "uniform", 51),
    ("rnd52c", 52, "clustered", 52),
    ("rnd70", 70, "uniform", 70),
    ("rnd76", 76, "uniform", 76),
    ("rnd76c", 76, "clustered", 77),
    ("rnd100", 100, "uniform", 100),
    ("rnd101c", 101, "clustered", 101),
    ("rnd105", 105, "uniform", 105),
    ("rnd130", 130, "uniform", 130),
    ("rnd150", 150, "uniform", 150),
]


def make_points(n: int, *, layout: str, seed: int) -> np.ndarray:
    """Integer points in a 1000 × 1000 square; 'clustered' mimics towns with enterprises around them."""
    rng = np.random.default_rng(seed)
    if layout == "uniform":
        return rng.integers(0, 1001, size=(n, 2)).astype(float)
    centres = rng.uniform(100, 900, size=(max(3, n // 15), 2))
    which = rng.integers(0, len(centres), size=n)
    pts = centres[which] + rng.normal(0, 60, size=(n, 2))
    return np.clip(np.rint(pts), 0, 1000)


def euc_2d(points: np.ndarray) -> np.ndarray:
    """TSPLIB EUC_2D distance matrix: nint of the Euclidean distance."""
    diff = points[:, None, :] - points[None, :, :]
    return np.floor(np.sqrt((diff**2).sum(axis=2)) + 0.5).astype(np.int64)


def one_tree(w: np.ndarray) -> tuple[float, np.ndarray]:
    """Minimum 1-tree on weights w (MST over nodes 1..n-1 plus node 0's two cheapest edges): cost, degrees."""
    n = len(w)
    deg = np.zeros(n, dtype=int)
    in_tree = np.zeros(n, dtype=bool)
    in_tree[0] = True  # node 0 is the special node, kept out of the spanning tree
    in_tree[1] = True
    best = w[1].copy()
    parent = np.full(n, 1)
    cost = 0.0
    for _ in range(n - 2):
        cand = np.where(in_tree, np.inf, best)
        k = int(np.argmin(cand))
        cost += cand[k]
        deg[k] += 1
        deg[parent[k]] += 1
        in_tree[k] = True
        closer = w[k] < best
        best = np.where(closer, w[k], best)
        parent = np.where(closer, k, parent)
    two = np.argsort(w[0, 1:])[:2] + 1
    cost += w[0, two].sum()
    deg[0] += 2
    deg[two] += 1
    return cost, deg


def held_karp_bound(d: np.ndarray, *, upper: float, iterations: int = 1500) -> float:
    """Held–Karp lower bound on the optimal tour by subgradient ascent on node potentials (Polyak steps)."""
    n = len(d)
    pi = np.zeros(n)
    best = -np.inf
    step_scale = 2.0
    stall = 0
    for _ in range(iterations):
        w = d + pi[:, None] + pi[None, :]
        np.fill_diagonal(w, np.inf)
        cost, deg = one_tree(w)
        bound = cost - 2 * pi.sum()
        if bound > best + 1e-9:
            best, stall = bound, 0
        else:
            stall += 1
            if stall >= 30:
                step_scale, stall = step_scale / 2, 0
        g = deg - 2
        norm = float((g**2).sum())
        if norm == 0 or step_scale < 1e-6:
            break  # the 1-tree is a tour: the bound is the optimum
        pi += step_scale * (upper - bound) / norm * g
    return float(np.ceil(best - 1e-6))  # integer distances: the optimum is an integer


def tour_length(d: np.ndarray, nodes: list[int]) -> int:
    """Length of the closed tour 0 → nodes → 0."""
    path = [0, *nodes, 0]
    return int(sum(d[a, b] for a, b in itertools.pairwise(path)))


def main() -> None:
    ap = argparse.ArgumentParser(description="路线求解质量基准（随机欧氏实例，对照 Held–Karp 下界）")
    ap.add_argument("--time-limit-s", type=float, default=10.0)
    ap.add_argument("--reference-s", type=float, default=0.0, help="seconds of each of 3 longer runs (0 = skip)")
    ap.add_argument("--only", default="", help="comma-separated instance sizes")
    args = ap.parse_args()
    only = {int(x) for x in args.only.split(",") if x}
    print("实例 / instance      n  方案 tour  下界 bound  差距 gap  求解秒 s  末次改进秒 last-improvement s"
          "（精修的改进记在精修结束时 / polish gains stamped at its end）  参考 ref")
    gaps = []
    for name, n, layout, seed in INSTANCES:
        if only and n not in only:
            continue
        d = euc_2d(make_points(n, layout=layout, seed=seed))
        matrix = d.tolist()
        plan = solve_routes(matrix, [0] * n, [Team("一队", 0, max_work_s=None)], None, args.time_limit_s)
        tour = tour_length(d, plan.routes[0].nodes)
        assert tour == plan.objective and not plan.dropped
        t0 = time.perf_counter()
        bound = held_karp_bound(d, upper=tour)
        bound_s = time.perf_counter() - t0
        gap = tour / bound - 1
        gaps.append(gap)
        ref = ""
        if args.reference_s > 0:
            refs = [
                solve_routes(matrix, [0] * n, [Team("一队", 0, max_work_s=None)], None, args.reference_s,
                             first_solution=fs).objective
                for fs in ("PATH_CHEAPEST_ARC", "CHRISTOFIDES", "SAVINGS")
            ]
            ref = f"{min(refs)} ({tour / min(refs) - 1:+.2%})"
        last = plan.improvements[-1][0] if plan.improvements else float("nan")
        print(f"{name:<10} {layout:<9} {n:>4} {tour:>8} {bound:>10.0f} {gap:>8.2%} {plan.solve_s:>8.1f}"
              f" {last:>10.1f}   {ref}  (bound {bound_s:.1f}s)")
    if gaps:
        print(f"中位差距 median gap {statistics.median(gaps):.2%}，最大 max {max(gaps):.2%}；"
              f"≤2% 的实例 {sum(g <= 0.02 for g in gaps)}/{len(gaps)}（对照下界，真实差距不会更大）")


if __name__ == "__main__":
    main()
