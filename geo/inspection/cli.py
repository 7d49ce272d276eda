"""`riskmap plan …` (weekly inspection routes) and `riskmap inspect record …` (a visit and its findings)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import Any

from geo.cli import registrar
from geo.progress import with_progress
from geo.timefmt import today as local_today


def _plan(args: argparse.Namespace) -> int:
    from geo.db import get_engine
    from geo.inspection.network import build_network
    from geo.inspection.plan import get_plan, make_plan, plan_range

    if args.show:
        with get_engine().connect() as conn:
            plan = get_plan(conn, args.show)
        _print_or_json(plan, args)
        _write_outputs(plan, args)
        return 0
    start, end = plan_range(week=args.week, start=args.start, end=args.end)
    with get_engine().begin() as conn:
        if args.rebuild_network:
            built = build_network(conn)
            print(f"路网已重建：节点 {built['vertices']}，路段 {built['edges']}，连通分量 {built['components']}")
        plan_id = make_plan(conn, start, end, township=args.township, teams=args.teams,
                            time_limit_s=args.time_limit)
        plan = get_plan(conn, plan_id)
    _print_or_json(plan, args)
    _write_outputs(plan, args)
    return 0


def _print_or_json(plan: dict[str, Any], args: argparse.Namespace) -> None:
    if args.json:
        print(json.dumps(plan, ensure_ascii=False, indent=2, default=str))
    else:
        _print_plan(plan)


def _print_plan(plan: dict[str, Any]) -> None:
    s = plan["summary"]
    print(f"巡查计划 #{plan['id']}：{plan['start']} 至 {plan['end']}，{plan['teams']} 个组；应检 {s['due']} 家，"
          f"安排 {s['visited']} 家，未安排 {s['dropped']} 家；{plan['status']}")
    print(f"  用时：行程矩阵 {s['matrix_s']} 秒，求解 {s['solve_s']} 秒，合计 {s.get('total_s', '?')} 秒")
    for r in plan["routes"]:
        names = " → ".join(f"{x['seq']}.{x['name']}({x['arrival']})" for x in r["stops"])
        print(f"  {r['team']} {r['day']}：{len(r['stops'])} 家，{r['km']} 公里，{r['hours']} 小时｜{names}")
    for x in plan["fallback_stops"]:
        print(f"  路网说明：{x['name']} {x['snap_note']}")
    for x in plan["dropped"]:
        print(f"  未安排：{x['name']}（{x['colour_label']}色，优先级 {x['priority']}）{x['dropped_reason']}")


def _write_outputs(plan: dict[str, Any], args: argparse.Namespace) -> None:
    from geo.inspection.outputs import write_pdf, write_xlsx
    from layers.routes import route_sheet_page  # the CLI is the composition root (geo/commands.py)

    if args.xlsx:
        print(f"已写出 xlsx：{write_xlsx(plan, Path(args.xlsx))}")
    if args.html:
        Path(args.html).parent.mkdir(parents=True, exist_ok=True)
        Path(args.html).write_text(route_sheet_page(plan), encoding="utf-8")
        print(f"已写出路线单：{args.html}")
    if args.pdf:
        print(f"已写出 PDF：{write_pdf(route_sheet_page(plan), Path(args.pdf))}")
    if args.map:
        from layers.assets import STATIC_DIR, copy_assets
        from layers.routes import route_map_page  # the CLI is the composition root (geo/commands.py)

        out = Path(args.map)
        vendor = out.parent / f"{out.stem}_files"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(route_map_page(plan, asset_base=vendor.name,
                                       static_base=f"{vendor.name}/{STATIC_DIR}"), encoding="utf-8")
        copy_assets(vendor)
        print(f"已写出路线地图：{out}（前端资源在 {vendor}/，可离线打开）")


def _record(args: argparse.Namespace) -> int:
    from geo.db import get_engine
    from geo.inspection.results import parse_finding, record_inspection

    findings = [parse_finding(f) for f in args.finding or []]
    plan_stop = (args.plan, args.stop) if args.plan and args.stop else None
    with get_engine().begin() as conn:
        out = record_inspection(conn, enterprise=args.enterprise, inspected_on=args.date, team=args.team,
                                result=args.result, findings=findings, plan_stop=plan_stop)
    print(f"已记录检查 #{out['inspection_id']}（企业 {out['enterprise_id']}，{args.date}）；"
          f"新增隐患 {len(out['hazard_ids'])} 条")
    return 0


@registrar
def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("plan", help="巡查计划：按风险颜色排出到期企业并优化各组路线")
    p.add_argument("--week", help="ISO 周次，如 2026-W48")
    p.add_argument("--show", type=int, metavar="ID", help="不重新规划，显示/导出已存的计划")
    p.add_argument("--start", type=dt.date.fromisoformat, help="开始日期（不用 --week 时）")
    p.add_argument("--end", type=dt.date.fromisoformat, help="结束日期（不用 --week 时）")
    p.add_argument("--township", help="只排某乡镇（12 位代码）")
    p.add_argument("--teams", type=int, default=4, help="巡查组数（默认 4）")
    p.add_argument("--time-limit", type=float, default=None, help="求解时限（秒，默认见 plan.toml）")
    p.add_argument("--rebuild-network", action="store_true", help="先从道路表重建路网")
    p.add_argument("--json", action="store_true", help="输出 JSON")
    p.add_argument("--xlsx", help="写出 xlsx 路线表")
    p.add_argument("--html", help="写出可打印的路线单（HTML）")
    p.add_argument("--pdf", help="写出路线单 PDF（Chromium 打印）")
    p.add_argument("--map", help="写出路线地图（HTML）")
    p.set_defaults(func=with_progress("正在编排巡查路线")(_plan))

    ins = sub.add_parser("inspect", help="执法检查记录")
    isub = ins.add_subparsers(dest="inspect_command", required=True)
    r = isub.add_parser("record", help="记录一次检查及发现的隐患")
    r.add_argument("--enterprise", required=True, help="企业编号或统一社会信用代码")
    r.add_argument("--date", type=dt.date.fromisoformat, default=local_today(), help="检查日期（默认今天）")
    r.add_argument("--team", help="巡查组")
    r.add_argument("--result", help="检查结论")
    r.add_argument("--finding", action="append", help="隐患：等级:描述[:整改期限]，如 general:灭火器过期:2026-12-31；可多次")
    r.add_argument("--plan", type=int, help="巡查计划编号（与 --stop 一起把记录挂到计划站点）")
    r.add_argument("--stop", type=int, help="计划站点编号")
    r.set_defaults(func=_record)
