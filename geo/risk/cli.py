"""`riskmap risk …`: compute levels, explain one object, list levels, show history (Chinese output)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from geo.cli import registrar
from geo.codes import KIND_LABELS, KINDS
from geo.progress import with_progress


def _compute(args: argparse.Namespace) -> int:
    from geo.county import metric_srid
    from geo.db import get_engine
    from geo.risk import LEVEL_LABELS, Scope, compute, load_rules
    from geo.risk.changes import changed_scope, last_computed_at
    from geo.risk.scope import township_id_for
    from geo.timefmt import local_minute

    rules = load_rules(Path(args.rules) if args.rules else None)
    with get_engine().begin() as conn:
        scope = Scope(
            township_id=township_id_for(conn, args.township) if args.township else None,
            enterprise_ids=tuple(args.enterprise) if args.enterprise else None,
            mine_ids=tuple(args.mine) if args.mine else None,
            pipeline_ids=tuple(args.pipeline) if args.pipeline else None,
        )
        since = last_computed_at(conn) if args.changed else None
        if since is not None:
            scope = changed_scope(conn, rules, since=since, srid=metric_srid(conn))
            print(f"自 {local_minute(since)} 以来有变动：企业 {len(scope.enterprise_ids or ())} 个、"
                  f"矿山 {len(scope.mine_ids or ())} 个、管道 {len(scope.pipeline_ids or ())} 条"
                  f"（另有管段 {len(scope.segment_ids or ())} 段）需重算")
        report = compute(conn, scope=scope, rules=rules)
    print(f"风险计算完成（规则版本 {report.rules_version}，摘要 {report.rules_hash[:12]}）")
    for kind in KINDS:
        if kind not in report.assessed:
            continue
        levels = "，".join(f"{LEVEL_LABELS[lv]} {n}" for lv, n in sorted(
            report.levels[kind].items(), key=lambda kv: ["red", "orange", "yellow", "blue"].index(kv[0])))
        w = report.written[kind]
        print(f"  {KIND_LABELS[kind]}：{report.assessed[kind]} 个（{levels or '无'}）；"
              f"新增 {w['new']}、变化 {w['changed']}、未变 {w['unchanged']}")
    if report.closed:
        print(f"  已删除对象的评估结果归档 {report.closed} 条")
    return 0


def _explain(args: argparse.Namespace) -> int:
    from geo.db import get_engine
    from geo.risk import explain, format_explanation

    with get_engine().connect() as conn:
        result = explain(conn, args.kind, args.id)
    print(json.dumps(result, ensure_ascii=False, indent=2, default=str) if args.json else format_explanation(result))
    return 0


def _levels(args: argparse.Namespace) -> int:
    from geo.db import get_engine
    from geo.risk import levels

    with get_engine().connect() as conn:
        rows = levels(conn, args.kind, township=args.township, colour=args.colour)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return 0
    for r in rows[: args.limit]:
        top = r["reasons"][0]["text"] if r["reasons"] else ""
        name = r["details"].get("name") or r["details"].get("pipeline", "")
        print(f"{r['level_label']}\t{r['score']:g}\t{r['object_id']}\t{name}\t{top}")
    print(f"共 {len(rows)} 个{KIND_LABELS[args.kind]}")
    return 0


def _history(args: argparse.Namespace) -> int:
    from geo.db import get_engine
    from geo.risk import history

    with get_engine().connect() as conn:
        rows = history(conn, args.kind, args.id)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return 0
    for r in rows:
        print(f"{r['valid_from']} → {r['valid_to'] or '至今'}\t{r['level_label']}\t{r['score']:g}\t规则 {r['rules_version']}")
    return 0


@registrar
def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    risk = sub.add_parser("risk", help="风险等级：compute | explain | levels | history")
    rs = risk.add_subparsers(dest="risk_command", required=True)
    kinds = "、".join(f"{k}（{v}）" for k, v in KIND_LABELS.items())

    c = rs.add_parser("compute", help="计算（或按乡镇/对象重新计算）风险等级")
    c.add_argument("--township", metavar="CODE", help="只计算该乡镇（12 位统计用区划代码）")
    c.add_argument("--enterprise", type=int, nargs="+", metavar="ID", help="只计算这些企业")
    c.add_argument("--mine", type=int, nargs="+", metavar="ID", help="只计算这些矿山")
    c.add_argument("--pipeline", type=int, nargs="+", metavar="ID", help="只计算这些管道的管段")
    c.add_argument("--changed", action="store_true",
                   help="只重算上次计算后数据有变动（及受其影响）的对象；删除的数据请按乡镇或全县重算")
    c.add_argument("--rules", metavar="FILE", help="本局风险规则文件（缺省取 RISKMAP_RULES_FILE）")
    c.set_defaults(func=with_progress("正在计算风险等级")(_compute))

    e = rs.add_parser("explain", help="显示一个对象的风险等级、分值和理由")
    e.add_argument("kind", choices=KINDS, help=f"对象类型：{kinds}")
    e.add_argument("id", type=int, help="对象编号")
    e.add_argument("--json", action="store_true", help="输出 JSON")
    e.set_defaults(func=_explain)

    lv = rs.add_parser("levels", help="列出某类对象的风险等级（高风险在前）")
    lv.add_argument("kind", choices=KINDS, help=f"对象类型：{kinds}")
    lv.add_argument("--township", metavar="CODE", help="只列该乡镇（12 位乡镇代码）")
    lv.add_argument("--colour", choices=["red", "orange", "yellow", "blue"], help="只列该颜色：红 red、橙 orange、黄 yellow、蓝 blue")
    lv.add_argument("--limit", type=int, default=50, help="最多列出条数（默认 50）")
    lv.add_argument("--json", action="store_true", help="输出 JSON")
    lv.set_defaults(func=_levels)

    h = rs.add_parser("history", help="一个对象的历史风险等级")
    h.add_argument("kind", choices=KINDS, help=f"对象类型：{kinds}")
    h.add_argument("id", type=int, help="对象编号")
    h.add_argument("--json", action="store_true", help="输出 JSON")
    h.set_defaults(func=_history)
