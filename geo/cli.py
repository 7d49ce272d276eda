"""The `riskmap` command line: database, import/export, demo county, summaries."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

from geo.errors import RiskmapError

Handler = Callable[[argparse.Namespace], int]

ARGPARSE_ZH: dict[str, str] = {
    "usage: ": "用法：",
    "positional arguments": "位置参数",
    "options": "选项",
    "subcommands": "子命令",
    "show this help message and exit": "显示本帮助并退出",
    "%(prog)s: error: %(message)s\n": "%(prog)s：错误：%(message)s\n",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "the following arguments are required: %s": "缺少必需的参数：%s",
    "one of the arguments %s is required": "必须给出以下参数之一：%s",
    "not allowed with argument %s": "不能与参数 %s 同时使用",
    "invalid choice: %(value)r (choose from %(choices)s)": "无效的取值 %(value)r（可选：%(choices)s）",
    "invalid %(type)s value: %(value)r": "无效的取值 %(value)r（应为 %(type)s 类型）",
    "unrecognized arguments: %s": "无法识别的参数：%s",
    "unknown parser %(parser_name)r (choices: %(choices)s)": "未知的子命令 %(parser_name)r（可选：%(choices)s）",
    "expected one argument": "需要一个值",
    "expected at most one argument": "最多只能给一个值",
    "expected at least one argument": "至少需要一个值",
    "expected %s argument": "需要 %s 个值",
    "expected %s arguments": "需要 %s 个值",
    "ignored explicit argument %r": "多余的值 %r 被忽略",
    "ambiguous option: %(option)s could match %(matches)s": "选项 %(option)s 有歧义，可能是：%(matches)s",
    "unexpected option string: %s": "意外的选项：%s",
    "can't open '%(filename)s': %(error)s": "无法打开 '%(filename)s'：%(error)s",
}
"""argparse's own messages (its gettext msgids, the same keys Python's translators use) → Chinese."""


def _gettext_zh(message: str) -> str:
    return ARGPARSE_ZH.get(message, message)


def _ngettext_zh(singular: str, plural: str, n: int) -> str:
    return _gettext_zh(singular if n == 1 else plural)


@contextmanager
def _argparse_in_chinese() -> Iterator[None]:
    """While our parsers build, parse or format, argparse's `_`/`ngettext` hooks answer in Chinese.

    argparse looks every message up through these module-level gettext hooks at the moment it needs it, so
    translating by msgid covers all of its boilerplate without matching its formatted output; an msgid a
    later Python adds falls back to English. Scoped to our parsers (restored afterwards), other argparse
    users in the same process are untouched.
    """
    saved = argparse._, argparse.ngettext  # type: ignore[attr-defined]
    argparse._, argparse.ngettext = _gettext_zh, _ngettext_zh  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved  # type: ignore[attr-defined]


class ChineseArgumentParser(argparse.ArgumentParser):
    """The parser of `riskmap` and (via add_subparsers' parser_class) of every sub-command: help and errors in Chinese."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        with _argparse_in_chinese():
            super().__init__(*args, **kwargs)

    def add_subparsers(self, **kwargs: Any) -> Any:
        kwargs.setdefault("metavar", "命令")  # else errors name the dest, e.g. "缺少必需的参数：risk_command"
        with _argparse_in_chinese():
            action = super().add_subparsers(**kwargs)
        add_parser = action.add_parser

        def add_described(name: str, **kw: Any) -> Any:
            """A sub-command's own --help opens with its (Chinese) one-line help when it has no description."""
            if kw.get("help") and not kw.get("description"):
                kw["description"] = kw["help"]
            return add_parser(name, **kw)

        action.add_parser = add_described
        return action

    def parse_known_args(self, *args: Any, **kwargs: Any) -> Any:
        with _argparse_in_chinese():
            return super().parse_known_args(*args, **kwargs)

    def parse_args(self, *args: Any, **kwargs: Any) -> Any:
        with _argparse_in_chinese():
            return super().parse_args(*args, **kwargs)

    def format_usage(self) -> str:
        with _argparse_in_chinese():
            return super().format_usage()

    def format_help(self) -> str:
        with _argparse_in_chinese():
            return super().format_help()

    def error(self, message: str) -> NoReturn:
        with _argparse_in_chinese():
            super().error(message)


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
    p = ChineseArgumentParser(prog="riskmap", description="县区安全风险四色图 riskmap")
    sub = p.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="数据库：start | stop | status | upgrade | downgrade")
    dbs = db.add_subparsers(dest="db_command", required=True)
    dbs.add_parser("start", help="启动内置 PostGIS（首次会初始化）").set_defaults(func=_db_start)
    dbs.add_parser("stop", help="停止内置 PostGIS").set_defaults(func=_db_stop)
    dbs.add_parser("status", help="数据库状态").set_defaults(func=_db_status)
    up = dbs.add_parser("upgrade", help="升级数据库结构（Alembic）")
    up.add_argument("revision", nargs="?", default="head", help="目标版本（默认 head，即最新）")
    up.set_defaults(func=_db_upgrade)
    down = dbs.add_parser("downgrade", help="降级数据库结构")
    down.add_argument("revision", nargs="?", default="base", help="目标版本（默认 base，即删除全部表）")
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
    except Exception as exc:
        from sqlalchemy.exc import OperationalError  # imported here: `riskmap --help` loads no ORM

        if not isinstance(exc, OperationalError):
            raise
        # the server is not reachable, refuses the login, or DATABASE_URL names a database that does not exist
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
        print(f"错误 [database_unavailable]：无法连接数据库（{reason}）。请检查 DATABASE_URL 或内置数据库"
              f"（riskmap db status）；DATABASE_URL 所指的数据库须先建好（createdb）。", file=sys.stderr)
        return 2


if __name__ == "__main__":
    # run through the imported module, so sub-commands register with the same registrar list
    from geo.cli import main as _main

    sys.exit(_main())
