"""`riskmap user add|grant|disable|enable|passwd|list|token` and `riskmap audit` (Chinese output)."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import sys

from geo.cli import registrar


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("密码：")
    if getpass.getpass("再次输入密码：") != first:
        from geo.errors import InvalidInput

        raise InvalidInput("两次输入的密码不一致")
    return first


def _codes(values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return [c for v in values for c in v.split(",") if c]


def _add(args: argparse.Namespace) -> int:
    from geo.access.users import add_user
    from geo.db import get_engine

    password = _password(args)
    with get_engine().begin() as conn:
        user = add_user(conn, args.username, password, args.role, townships=_codes(args.township),
                        teams=_codes(args.team), display_name=args.name, region=args.region)
    print(f"已创建用户 {user.username}：{_scope(user)}")
    return 0


def _scope(user: object) -> str:
    from geo.codes import ROLE_LABELS

    d = user.as_dict()  # type: ignore[attr-defined]
    from geo.access.principal import region_label

    scope = region_label(d["region_code"]) if d["role"] == "region_viewer" else "、".join(d["township_codes"]) or "全县"
    teams = f"，巡查组 {'、'.join(d['teams'])}" if d["teams"] else ""
    state = "（已停用）" if d["disabled"] else ""
    return f"{ROLE_LABELS[d['role']]}，范围 {scope}{teams}{state}"


def _grant(args: argparse.Namespace) -> int:
    from geo.access.users import grant
    from geo.db import get_engine

    with get_engine().begin() as conn:
        user = grant(conn, args.username, role=args.role, townships=_codes(args.township), teams=_codes(args.team),
                     region=args.region)
    print(f"已更新用户 {user.username}：{_scope(user)}")
    return 0


def _disable(args: argparse.Namespace) -> int:
    from geo.access.users import set_disabled
    from geo.db import get_engine

    with get_engine().begin() as conn:
        user = set_disabled(conn, args.username, args.disable)
    print(f"用户 {user.username} {'已停用，其令牌立即失效' if user.disabled else '已启用'}")
    return 0


def _passwd(args: argparse.Namespace) -> int:
    from geo.access.users import set_password
    from geo.db import get_engine

    password = _password(args)
    with get_engine().begin() as conn:
        set_password(conn, args.username, password)
    print(f"用户 {args.username} 的密码已更新，其全部登录会话与 API 令牌已失效")
    return 0


def _list(args: argparse.Namespace) -> int:
    from geo.access.users import list_users
    from geo.db import get_engine

    with get_engine().connect() as conn:
        users = list_users(conn)
    if args.json:
        print(json.dumps([u.as_dict() for u in users], ensure_ascii=False, indent=2))
    for u in users if not args.json else []:
        print(f"{u.username:<20} {_scope(u)}")
    return 0


def _token(args: argparse.Namespace) -> int:
    from geo.access.tokens import create_api_token, revoke_api_token
    from geo.db import get_engine

    with get_engine().begin() as conn:
        if args.revoke is not None:
            revoke_api_token(conn, args.revoke)
            print(f"API 令牌 {args.revoke} 已吊销")
            return 0
        made = create_api_token(conn, args.username, args.label, days=args.days)
    expires = f"{made['expires_at']:%Y-%m-%d}" if made["expires_at"] else "长期有效"
    print(f"API 令牌（编号 {made['id']}，{expires}，只显示这一次）：\n{made['token']}")
    return 0


def _audit(args: argparse.Namespace) -> int:
    from geo.access.audit import describe, entries
    from geo.access.bulk import describe_ids
    from geo.db import get_engine

    since = dt.datetime.fromisoformat(args.since) if args.since else None
    with get_engine().connect() as conn:
        found = entries(conn, table=args.table, record_id=args.id, actor=args.user, since=since, limit=args.limit)
    if args.json:
        print(json.dumps([e.as_dict() for e in found], ensure_ascii=False, indent=2, default=str))
        return 0
    if not found:
        print("没有符合条件的审计记录")
    for entry in found:
        print(describe(entry))
        if args.verbose and entry.bulk is not None:
            print(f"    内容 SHA-256：{entry.bulk.get('sha256', '')}")
            print(f"    编号（共 {entry.rows} 行）：{describe_ids(entry.ids, limit=50)}")
        if args.verbose:
            for field in entry.changed:
                before = (entry.before or {}).get(field)
                after = (entry.after or {}).get(field)
                print(f"    {field}: {before!r} → {after!r}")
    return 0


@registrar
def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from geo.codes import ROLE_LABELS

    roles = ", ".join(f"{k}={v}" for k, v in ROLE_LABELS.items())
    user = sub.add_parser("user", help="用户与权限：add | grant | disable | enable | passwd | list | token")
    us = user.add_subparsers(dest="user_cmd", required=True)

    add = us.add_parser("add", help="新建用户")
    add.add_argument("username", help="登录名")
    add.add_argument("--role", required=True, choices=list(ROLE_LABELS), help=f"角色：{roles}")
    add.add_argument("--township", action="append", help="所辖乡镇代码（可多次给出或逗号分隔）")
    add.add_argument("--team", action="append", help="巡查员所属巡查组")
    add.add_argument("--region", help="市/省级查看的地级市或省代码（6 位，如 140900、140000）")
    add.add_argument("--name", help="姓名")
    add.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码")
    add.set_defaults(func=_add)

    gr = us.add_parser("grant", help="修改角色、所辖乡镇或巡查组")
    gr.add_argument("username", help="登录名")
    gr.add_argument("--role", choices=list(ROLE_LABELS), help=f"新角色：{roles}")
    gr.add_argument("--township", action="append", help="所辖乡镇代码（可多次给出或逗号分隔）")
    gr.add_argument("--team", action="append", help="巡查员所属巡查组")
    gr.add_argument("--region", help="市/省级查看的地级市或省代码（6 位，如 140900、140000）")
    gr.set_defaults(func=_grant)

    for name, flag, text_ in (("disable", True, "停用用户（令牌立即失效）"), ("enable", False, "重新启用用户")):
        p = us.add_parser(name, help=text_)
        p.add_argument("username", help="登录名")
        p.set_defaults(func=_disable, disable=flag)

    pw = us.add_parser("passwd", help="重设密码")
    pw.add_argument("username", help="登录名")
    pw.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码")
    pw.set_defaults(func=_passwd)

    ls = us.add_parser("list", help="列出用户")
    ls.add_argument("--json", action="store_true", help="输出 JSON")
    ls.set_defaults(func=_list)

    tk = us.add_parser("token", help="为集成系统签发 API 令牌（或 --revoke 编号 吊销）")
    tk.add_argument("username", nargs="?", help="令牌所属用户的登录名（吊销时不必给出）")
    tk.add_argument("--label", default="integration", help="令牌用途")
    tk.add_argument("--days", type=int, help="有效天数（默认长期）")
    tk.add_argument("--revoke", type=int, metavar="ID", help="吊销该编号的令牌")
    tk.set_defaults(func=_token)

    au = sub.add_parser("audit", help="审计日志：谁在何时改了什么")
    au.add_argument("--table", help="表名，如 enterprise、hazard、encroachment")
    au.add_argument("--id", help="记录编号")
    au.add_argument("--user", help="操作人")
    au.add_argument("--since", help="起始时间，如 2026-11-01")
    au.add_argument("--limit", type=int, default=50, help="最多显示条数（默认 50）")
    au.add_argument("--verbose", "-v", action="store_true", help="逐字段列出修改前后")
    au.add_argument("--json", action="store_true", help="输出 JSON")
    au.set_defaults(func=_audit)
