"""`riskmap province …`: compute every county of a city or province (in-process or on Dask), show the roll-up."""

from __future__ import annotations

import argparse
from pathlib import Path

from geo.cli import registrar

KIND_ORDER = ("red", "orange", "yellow", "blue")


def _province(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from geo.province.config import load_province

    return load_province(Path(args.province) if args.province else None)


def _compute(args: argparse.Namespace) -> int:
    from geo.codes import KIND_LABELS
    from geo.province.run import compute_province
    from geo.province.task import STAGES
    from geo.risk import LEVEL_LABELS

    province = _province(args)
    chosen = args.county or [c.code for c in province.counties]
    where = f" Dask 调度器 {args.scheduler} " if args.scheduler else "本进程（逐县依次计算）"
    print(f"{province.name}：{len(chosen)} 个县区，在{where}上计算风险等级与占压排查")
    total = len(chosen)
    finished = 0

    def on_result(r) -> None:  # type: ignore[no-untyped-def]
        nonlocal finished
        finished += 1
        township = r.levels.get("township", {})
        colours = "，".join(f"{LEVEL_LABELS[lv]} {township[lv]}" for lv in KIND_ORDER if township.get(lv))
        print(f"[{finished}/{total}] {r.code} {r.name}（{r.shard}）完成，用时 {r.seconds:.1f} 秒："
              f"{KIND_LABELS['township']} {sum(township.values())} 个（{colours or '无'}）；"
              f"占压候选 {r.candidates} 处（其中跨县界 {r.cross_border_candidates} 处）；"
              f"邻县边界附近地物 建筑 {r.halo.get('building', 0)}、道路 {r.halo.get('road', 0)}")

    def on_failure(county, message: str) -> None:  # type: ignore[no-untyped-def]
        nonlocal finished
        finished += 1
        print(f"[{finished}/{total}] {county.code} {county.name} 失败（该县数据保持上次计算的结果）：{message}")

    names = {c.code: c.name for c in province.counties}

    def on_stage(code: str, stage: str) -> None:
        print(f"  … {code} {names.get(code, '')}：{STAGES.get(stage, stage)}", flush=True)

    run = compute_province(province, scheduler=args.scheduler, counties=args.county, halo=not args.no_halo,
                           on_result=on_result, on_failure=on_failure, on_stage=on_stage)
    print(f"完成 {len(run.results)} 个县区，失败 {len(run.failed)} 个")
    return 1 if run.failed else 0


def _plan(args: argparse.Namespace) -> int:
    from geo.province.run import plan_province

    province = _province(args)
    chosen = args.county or [c.code for c in province.counties]
    where = f" Dask 调度器 {args.scheduler} " if args.scheduler else "本进程（逐县依次规划）"
    print(f"{province.name}：{len(chosen)} 个县区，在{where}上编制 {args.week} 巡查计划（每县 {args.teams} 个组）")
    finished = 0

    def on_result(r) -> None:  # type: ignore[no-untyped-def]
        nonlocal finished
        finished += 1
        print(f"[{finished}/{len(chosen)}] {r.code} {r.name}：计划 #{r.plan_id}，应检 {r.due} 家，安排 {r.visited} 家，"
              f"未安排 {r.dropped} 家，用时 {r.seconds:.1f} 秒")

    def on_failure(county, message: str) -> None:  # type: ignore[no-untyped-def]
        nonlocal finished
        finished += 1
        print(f"[{finished}/{len(chosen)}] {county.code} {county.name} 失败（未保存计划）：{message}")

    run = plan_province(province, week=args.week, teams=args.teams, time_limit_s=args.time_limit,
                        rebuild_network=args.rebuild_network, scheduler=args.scheduler, counties=args.county,
                        on_result=on_result, on_failure=on_failure)
    print(f"完成 {len(run.results)} 个县区，失败 {len(run.failed)} 个")
    return 1 if run.failed else 0


def _rollup(args: argparse.Namespace) -> int:
    from geo.province.rollup import rollup
    from geo.province.task import engine_for
    from geo.risk import LEVEL_LABELS

    province = _province(args)
    eng = engine_for(province.rollup_database)
    try:
        with eng.connect() as conn:
            tree = rollup(conn, city=args.city)
    finally:
        eng.dispose()
    if tree["level"] is None:
        print(f"{province.name}：汇总表中还没有任何县区的结果，请先运行 riskmap province compute")
        return 0
    print(f"{province.name}：{LEVEL_LABELS[tree['level']]}")
    for c in tree["cities"]:
        print(f"  {c['name']}（{c['code']}）：{LEVEL_LABELS[c['level']]}")
        for k in c["counties"]:
            counts = {lv: sum(1 for t in k["townships"] if t["level"] == lv) for lv in KIND_ORDER}
            print(f"    {k['name']}（{k['code']}）：{LEVEL_LABELS[k['level']]}；乡镇 "
                  + "，".join(f"{LEVEL_LABELS[lv]} {n}" for lv, n in counts.items() if n))
    return 0


def _shards(args: argparse.Namespace) -> int:
    province = _province(args)
    for shard, codes in province.shards().items():
        print(f"{shard}：{len(codes)} 个县区（{'、'.join(codes)}）")
    return 0


@registrar
def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("province", help="市/省级：compute | plan（逐县计算/规划，可分布到 Dask）| rollup | shards")
    p.add_argument("--province", metavar="FILE", help="省级县区清单 province.toml（缺省取 RISKMAP_PROVINCE_FILE）")
    ps = p.add_subparsers(dest="province_command", required=True)
    c = ps.add_parser("compute", help="每个县区一个任务：邻县边界附近地物 → 风险等级 → 占压排查 → 乡镇汇总（每县一个事务）")
    c.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask 调度器地址，如 tcp://10.0.0.5:8786（缺省：在本进程中逐县计算）")
    c.add_argument("--county", nargs="+", metavar="CODE", help="只计算这些县区（6 位代码）")
    c.add_argument("--no-halo", action="store_true", help="不读取邻县边界附近的地物（只算本县，跨县界的占压会漏掉）")
    c.set_defaults(func=_compute)
    pl = ps.add_parser("plan", help="每个县区一个任务：编制一周巡查计划（同 riskmap plan --week）")
    pl.add_argument("--week", required=True, help="ISO 周次，如 2026-W50")
    pl.add_argument("--teams", type=int, default=4, help="每县巡查组数（默认 4）")
    pl.add_argument("--time-limit", type=float, default=None, help="每县求解时限（秒，默认见 plan.toml）")
    pl.add_argument("--rebuild-network", action="store_true", help="先从道路表重建各县路网")
    pl.add_argument("--scheduler", metavar="ADDRESS", help="Dask 调度器地址（缺省：在本进程中逐县规划）")
    pl.add_argument("--county", nargs="+", metavar="CODE", help="只规划这些县区（6 位代码）")
    pl.set_defaults(func=_plan)
    r = ps.add_parser("rollup", help="省 → 市 → 县 → 乡镇 四色汇总（只读汇总表）")
    r.add_argument("--city", metavar="CODE", help="只看该市（6 位代码）")
    r.set_defaults(func=_rollup)
    s = ps.add_parser("shards", help="各数据库服务器（分片）上的县区")
    s.set_defaults(func=_shards)
