"""The `riskmap` command line: database, import/export, demo county, summaries."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable, Sequence

from geo.errors import RiskmapError

Handler = Callable[[argparse.Namespace], int]


def _db_start(args: argparse.Namespace) -> int:
    from geo import cluster
    from geo.config import get_settings

    if get_settings().database_url:
        print("已设置 DATABASE_URL，使用外部数据库，无需启动内置数据库")
        return 0
    print(cluster.start().describe())
    return 0


def _db_stop(args: argparse.Namespace) -> int:
    from geo import cluster

    print(cluster.stop().describe())
    return 0


def _db_status(args: argparse.Namespace) -> int:
    from geo import cluster, migrate
    from geo.config import get_settings
    from geo.db import get_engine, server_versions

    s = get_settings()
    if not s.database_url:
        st = cluster.status()
        print(st.describe())
        if not st.running:
            return 3
    else:
        print("使用外部数据库（DATABASE_URL）")
    engine = get_engine()
    versions = server_versions(engine)
    print("  " + "，".join(f"{k} {v}" for k, v in versions.items()))
    print(f"  数据库结构版本：{migrate.current(engine) or '未建表'}")
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    from geo import migrate

    migrate.upgrade(revision=args.revision)
    print(f"数据库结构已升级到 {migrate.current()}")
    return 0


def _db_downgrade(args: argparse.Namespace) -> int:
    from geo import migrate

    migrate.downgrade(revision=args.revision)
    print(f"数据库结构已降级到 {migrate.current() or '空'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="riskmap", description="县区安全风险四色图 riskmap")
    sub = p.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="数据库：start | stop | status | upgrade | downgrade")
    dbs = db.add_subparsers(dest="db_command", required=True)
    dbs.add_parser("start", help="启动内置 PostGIS（首次会初始化）").set_defaults(func=_db_start)
    dbs.add_parser("stop", help="停止内置 PostGIS").set_defaults(func=_db_stop)
    dbs.add_parser("status", help="数据库状态").set_defaults(func=_db_status)
    up = dbs.add_parser("upgrade", help="升级数据库结构（Alembic）")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(func=_db_upgrade)
    down = dbs.add_parser("downgrade", help="降级数据库结构")
    down.add_argument("revision", nargs="?", default="base")
    down.set_defaults(func=_db_downgrade)

    for register in _REGISTRARS:
        register(sub)
    return p


_REGISTRARS: list[Callable[[argparse._SubParsersAction], None]] = []  # type: ignore[type-arg]


def registrar(fn: Callable[[argparse._SubParsersAction], None]) -> Callable[[argparse._SubParsersAction], None]:  # type: ignore[type-arg]
    """Modules that add sub-commands register here (see geo/commands.py)."""
    _REGISTRARS.append(fn)
    return fn


def _identify_operator() -> None:
    """Writes made from the command line are audited as `cli:<login name>` (the service sets its own user)."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    who = "".join(ch for ch in who if ch.isalnum() or ch in "._-") or "unknown"
    option = f"-c riskmap.user=cli:{who}"
    if option not in os.environ.get("PGOPTIONS", ""):
        os.environ["PGOPTIONS"] = f"{os.environ.get('PGOPTIONS', '')} {option}".strip()


def main(argv: Sequence[str] | None = None) -> int:
    import geo.commands  # noqa: F401  (registers the sub-commands)

    args = build_parser().parse_args(argv)
    _identify_operator()
    try:
        return int(args.func(args) or 0)
    except RiskmapError as exc:
        print(f"错误 [{exc.code}]：{exc.message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    # run through the imported module, so sub-commands register with the same registrar list
    from geo.cli import main as _main

    sys.exit(_main())
