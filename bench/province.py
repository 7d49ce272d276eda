"""Benchmark: a synthetic province's full recompute — one process (county after county) vs a Dask LocalCluster.

    .venv/bin/python -m bench.province [--counties 8] [--scale 1] [--workers 2] [--province FILE] [--generate]

Each county's task = halo read + risk compute + encroachment check + roll-up, one transaction (geo/province/task.py).
A warm-up run (timed, printed as "首次") brings every county to its steady state; then the same recompute runs
in one process and on `--workers` Dask worker processes (1 thread each). Printed: wall seconds, speed-up, each
county's cost and its steps, the worker process's CPU share (the rest is PostgreSQL's), peak RSS per worker, the
load average; then the per-county cost extrapolated to 117 counties (山西) and 2,800 (national) for a full
recompute under 10 minutes.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

TARGET_S = 600.0


def load() -> str:
    a, b, c = os.getloadavg()
    return f"{a:.1f}/{b:.1f}/{c:.1f}"


def timed_run(province, scheduler=None):  # type: ignore[no-untyped-def]
    from geo.province.run import compute_province

    t0 = time.perf_counter()
    run = compute_province(province, scheduler=scheduler)
    wall = time.perf_counter() - t0
    if run.failed:
        raise SystemExit(f"失败：{run.failed}")
    return wall, run.results


def describe(label: str, wall: float, results) -> None:  # type: ignore[no-untyped-def]
    per = [r.seconds for r in results]
    print(f"{label}：{len(results)} 县共 {wall:.1f} 秒（每县中位数 {statistics.median(per):.1f} 秒，"
          f"最短 {min(per):.1f}，最长 {max(per):.1f}；负载 {load()}）")
    for r in results:
        steps = "，".join(f"{k} {v:.1f}" for k, v in r.steps.items())
        print(f"    {r.code} {r.name}：{r.seconds:.1f} 秒（{steps}）；进程 CPU {r.cpu_s:.1f} 秒；"
              f"峰值内存 {r.max_rss_mb:.0f} MB；邻县地物 建筑 {r.halo.get('building', 0)}；"
              f"跨县界占压候选 {r.cross_border_candidates}；进程 {r.worker_pid}")


def extrapolate(per_county_s: float, db_share: float, rss_mb: float) -> None:
    print(f"外推（每县 {per_county_s:.1f} 秒，其中约 {db_share:.0%} 在 PostgreSQL，"
          f"工作进程峰值内存 {rss_mb:.0f} MB；目标全部重算 < {TARGET_S / 60:.0f} 分钟）：")
    for n, label in ((117, "一个省（山西 117 县区）"), (2800, "全国（约 2,800 县区）")):
        tasks = math.ceil(n * per_county_s / (TARGET_S * 0.8))  # 80 %: stragglers and scheduling
        cores = math.ceil(tasks * db_share)
        shards = math.ceil(cores / 16)
        hosts = math.ceil(tasks * rss_mb / 1024 / 24)
        print(f"  {label}：单进程需 {n * per_county_s / 60:.0f} 分钟；同时运行 {tasks} 个县任务"
              f"（Dask 工作进程 {tasks} 个，每个 1 线程、约 {rss_mb:.0f} MB，内存合计 {tasks * rss_mb / 1024:.1f} GB，"
              f"约 {hosts} 台 24 GB 计算机）；数据库侧约 {cores} 个 CPU 核同时忙，"
              f"按每台 16 核计需 {shards} 台 PostgreSQL 服务器（分片），每台存 {math.ceil(n / shards)} 县")


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.province", description="合成省全部重算：单进程 vs Dask 工作进程")
    p.add_argument("--counties", type=int, default=8)
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--province", metavar="FILE", help="已生成的 province.toml（缺省 .riskmap/bench/province_p<N>.toml）")
    p.add_argument("--generate", action="store_true", help="先生成合成省（python -m bench.generate --counties N）")
    args = p.parse_args(argv)

    from distributed import Client, LocalCluster

    from geo.config import get_settings
    from geo.province.config import load_province

    tag = f"{args.scale:g}".replace(".", "_")
    path = Path(args.province or get_settings().home / "bench" / f"province_p{tag}.toml")
    if args.generate or not path.exists():
        from bench.generate.__main__ import main as generate

        path.parent.mkdir(parents=True, exist_ok=True)
        rc = generate(["--counties", str(args.counties), "--scale", str(args.scale), "--database", f"riskmap_p{tag}",
                       "--province-file", str(path)])
        if rc:
            return rc
    province = load_province(path)
    print(f"合成省 {len(province.counties)} 县 ×{args.scale:g}，分片 {len(province.shards())} 个；"
          f"本机 {os.cpu_count()} 核；负载 {load()}")

    wall, results = timed_run(province)
    describe("首次（预热，写入全部历史）", wall, results)
    one_wall, one = timed_run(province)
    describe("单进程逐县", one_wall, one)
    cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, memory_limit="3GiB",
                           dashboard_address=None)
    client = Client(cluster)
    try:
        dask_wall, on_dask = timed_run(province, client)
    finally:
        client.close()
        cluster.close()
    describe(f"Dask {args.workers} 个工作进程", dask_wall, on_dask)
    print(f"加速比 {one_wall / dask_wall:.2f}×（单进程 {one_wall:.1f} 秒 / Dask {dask_wall:.1f} 秒；"
          f"本机 {os.cpu_count()} 核同时承担 PostgreSQL 与工作进程；负载 {load()}）")
    per = statistics.median(r.seconds for r in one)
    share = 1 - statistics.median(r.cpu_s / r.seconds for r in one)
    rss = max(r.max_rss_mb for r in on_dask)
    extrapolate(per, share, rss)
    return 0


if __name__ == "__main__":
    sys.exit(main())
