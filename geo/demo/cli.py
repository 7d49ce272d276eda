"""`riskmap demo load` and `riskmap demo summary`: the demo county 河曲县."""

from __future__ import annotations

import argparse
import datetime as dt

from geo.cli import registrar
from geo.progress import with_progress

TABLE_LABELS = {
    "county": "县界", "township": "乡镇（示意边界）", "village": "村/社区", "grid_cell": "网格",
    "enterprise": "企业", "chemical_inventory": "危化品储量", "hazard": "隐患", "accident": "事故",
    "inspection": "执法检查", "pipeline": "管道", "pipeline_facility": "管道附属设施", "encroachment": "占压点",
    "building": "建筑", "road": "道路", "mine": "矿山", "mine_zone": "矿产规划分区",
}


def _load(args: argparse.Namespace) -> int:
    from geo.demo.load import load_demo

    as_of = dt.date.fromisoformat(args.as_of) if args.as_of else None
    counts = load_demo(seed=args.seed, as_of=as_of)
    print("示范县 河曲县（140930）已载入：县界、乡镇/村名称与代码为真实数据，乡镇边界为示意，其余为合成示意数据。")
    for table, label in TABLE_LABELS.items():
        print(f"  {label}：{counts.get(table, 0)}")
    return 0


def _accounts(args: argparse.Namespace) -> int:
    from geo.db import get_engine
    from geo.demo.accounts import ensure_demo_accounts

    password, made = ensure_demo_accounts(get_engine())
    print(f"示范账号（密码均为 {password}；可用 RISKMAP_DEMO_PASSWORD 指定，或见 .riskmap/demo-accounts.txt）：")
    for username, name, scope in made:
        print(f"  {username:<10} {name}（{scope}）")
    return 0


def _summary(args: argparse.Namespace) -> int:
    from geo.db import get_engine
    from geo.demo.summary import format_summary, township_summary

    with get_engine().connect() as conn:
        rows = township_summary(conn)
    print("河曲县 各乡镇概况（乡镇边界为示意）")
    print(format_summary(rows))
    return 0


@registrar
def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    demo = sub.add_parser("demo", help="示范县（山西河曲县）：load | summary")
    ds = demo.add_subparsers(dest="demo_command", required=True)
    load = ds.add_parser("load", help="载入示范县（先升级数据库结构；重复运行结果相同）")
    load.add_argument("--seed", type=int, default=None, help="随机种子（默认见 geo/demo/demo.toml）")
    load.add_argument("--as-of", default=None, help="日期基准 YYYY-MM-DD（隐患、检查日期截至该日；默认今天）")
    load.set_defaults(func=with_progress("正在载入示范县")(_load))
    ds.add_parser("accounts", help="创建/重置示范账号（每种角色一个）并显示密码").set_defaults(func=_accounts)
    ds.add_parser("summary", help="按乡镇汇总：网格、企业、隐患、管道、占压点、矿山").set_defaults(func=_summary)
