"""`riskmap backup` and `riskmap restore`: the database in force to a pg_dump file and back."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from geo.cli import registrar
from geo.errors import RiskmapError
from geo.progress import with_progress


class NotConfirmed(RiskmapError):
    code = "restore_not_confirmed"


def _size(n_bytes: int) -> str:
    """Bytes in KB/MB/GB (1024-based) with one decimal."""
    value = float(n_bytes)
    for unit in ("字节", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{n_bytes} 字节" if unit == "字节" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n_bytes} 字节"


def _print_counts(counts: dict[str, int]) -> None:
    width = max((len(name) for name in counts), default=0)
    for name, n in counts.items():
        print(f"  {name:<{width}}  {n:>10,} 行")
    print(f"  共 {len(counts)} 张表，{sum(counts.values()):,} 行")


def _backup(args: argparse.Namespace) -> int:
    from geo.backup import backup_database

    result = backup_database(Path(args.output) if args.output else None)
    print(f"已备份数据库 {result.database}（PostgreSQL {result.server_version}）")
    print(f"  文件：{result.path}")
    print(f"  大小：{_size(result.size_bytes)}")
    print("各表行数（与备份取自同一快照）：")
    _print_counts(result.row_counts)
    print(f"恢复：riskmap restore {result.path}")
    return 0


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        return False
    try:
        return input(question).strip().lower() in ("yes", "y", "是")
    except EOFError:
        return False


def _restore(args: argparse.Namespace) -> int:
    from geo.backup import plan_restore, restore_database

    plan = plan_restore(Path(args.file), database=args.database)
    info = plan.dump
    print(f"备份文件：{info.path}")
    print(f"  来自数据库 {info.database or '?'}（PostgreSQL {info.source_version or '?'}），"
          f"生成于 {info.created or '?'}，{info.table_count} 张表的数据")
    target = f"数据库 {plan.target.database}（服务器 {plan.target.server}，PostgreSQL {plan.server_version}）"
    if plan.exists:
        print(f"将恢复到{target}：其现有的全部数据将被备份中的内容替换")
        if not args.yes and not _confirm("确认恢复请输入 yes（Confirm with yes）："):
            raise NotConfirmed("未确认，未作任何改动（非交互运行时请加 --yes）")
    else:
        print(f"将新建{target}并恢复到其中")
    result = restore_database(Path(args.file), database=args.database, plan=plan)
    state = "新建并恢复" if result.created else "恢复"
    print(f"已{state}数据库 {result.database}，数据库结构版本：{result.revision or '无'}")
    print("各表行数：")
    _print_counts(result.row_counts)
    return 0


@registrar
def register_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `backup` and `restore` to the riskmap command line."""
    bk = sub.add_parser("backup", help="备份当前数据库（pg_dump 自定义格式）")
    bk.add_argument("-o", "--output", help="备份文件（缺省 .riskmap/backups/riskmap-<库名>-<时间>.dump）")
    bk.set_defaults(func=with_progress("正在备份")(_backup))
    rs = sub.add_parser("restore", help="从备份文件恢复（整体成功或不作任何改动）")
    rs.add_argument("file", help="riskmap backup 生成的备份文件")
    rs.add_argument("--database", help="恢复到同一服务器上的另一个数据库（不存在则新建），缺省为当前数据库")
    rs.add_argument("--yes", action="store_true", help="不再询问，直接替换现有数据")
    rs.set_defaults(func=_restore)
