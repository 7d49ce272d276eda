"""`riskmap attachment add|list|get`: a record's photos and documents from the command line (geo/attachments.py)."""

from __future__ import annotations

import argparse
import json
import uuid
from pathlib import Path

from geo.cli import registrar
from geo.errors import InvalidInput

KIND_HELP = "所属记录类型：hazard 隐患 / encroachment 占压点 / inspection 检查记录 / enterprise 企业 / plan_stop 巡查站点"


def _engine():  # type: ignore[no-untyped-def]
    from geo.db import get_engine

    return get_engine()


def _size(n: int) -> str:
    return f"{n} 字节" if n < 1024 else f"{n / 1024:.1f} KB" if n < 1048576 else f"{n / 1048576:.1f} MB"


def _add(args: argparse.Namespace) -> int:
    from geo.attachments import check_size, store_attachment

    path = Path(args.file)
    if not path.is_file():
        raise InvalidInput(f"找不到附件文件：{args.file}")
    check_size(path.stat().st_size)
    client_id = None
    if args.client_id:
        try:
            client_id = uuid.UUID(args.client_id)
        except ValueError:
            raise InvalidInput(f"--client-id 应为 UUID，不是“{args.client_id[:40]}”") from None
    with _engine().begin() as conn:
        meta = store_attachment(conn, owner_kind=args.kind, owner_id=args.id, filename=path.name,
                                content_type=args.type or "", data=path.read_bytes(), by=args.by, client_id=client_id)
    verb = "已存在（同一 client_id，未重复保存）" if meta.replayed else "已上传"
    print(f"附件 {meta.id} {verb}：{meta.filename}（{meta.content_type}，{_size(meta.size_bytes)}，SHA-256 {meta.sha256}）")
    if meta.taken_at or meta.lon is not None:
        where = f"，位置 {meta.lon:.6f}, {meta.lat:.6f}" if meta.lon is not None and meta.lat is not None else ""
        print(f"  照片信息：拍摄时间 {meta.taken_at.isoformat() if meta.taken_at else '无'}{where}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from geo.attachments import list_attachments

    with _engine().connect() as conn:
        found = list_attachments(conn, args.kind, args.id)
    if args.json:
        print(json.dumps([m.to_json() for m in found], ensure_ascii=False, indent=2))
        return 0
    print(f"{args.kind} {args.id} 的附件：{len(found)} 个")
    for m in found:
        where = f" 位置 {m.lon:.6f},{m.lat:.6f}" if m.lon is not None and m.lat is not None else ""
        taken = f" 拍摄 {m.taken_at:%Y-%m-%d %H:%M}" if m.taken_at else ""
        print(f"  {m.id}  {m.filename}  {m.content_type}  {_size(m.size_bytes)}  {m.created_by} "
              f"{m.created_at:%Y-%m-%d %H:%M}{taken}{where}")
    return 0


def _get(args: argparse.Namespace) -> int:
    from geo.attachments import read_attachment, safe_filename

    with _engine().connect() as conn:
        meta, data = read_attachment(conn, args.id, thumbnail=args.thumbnail)
    default = f"缩略图-{safe_filename(meta.filename)}.jpg" if args.thumbnail else safe_filename(meta.filename)
    out = Path(args.output) if args.output else Path(default)
    if out.exists() and not args.force:
        raise InvalidInput(f"文件已存在：{out}（用 --force 覆盖，或用 -o 指定另一路径）")
    out.write_bytes(data)
    print(f"附件 {meta.id} 已保存到 {out}（{_size(len(data))}）")
    return 0


@registrar
def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    at = sub.add_parser("attachment", help="附件：照片、文书（存于数据库，随备份恢复）")
    ats = at.add_subparsers(dest="attachment_command", required=True)
    add = ats.add_parser("add", help="为一条记录上传附件（JPEG/PNG/WebP 照片或 PDF，大小受限）")
    add.add_argument("kind", choices=("hazard", "encroachment", "inspection", "enterprise", "plan_stop"),
                     help=KIND_HELP)
    add.add_argument("id", type=int, help="所属记录的编号（id）")
    add.add_argument("file", help="文件路径")
    add.add_argument("--by", required=True, help="上传人（经办人）")
    add.add_argument("--type", help="声明的文件类型（如 image/jpeg）；不给则按文件内容识别")
    add.add_argument("--client-id", help="客户端编号（UUID）：同一编号重复上传只保存一次")
    add.set_defaults(func=_add)
    ls = ats.add_parser("list", help="列出一条记录的附件")
    ls.add_argument("kind", choices=("hazard", "encroachment", "inspection", "enterprise", "plan_stop"),
                    help=KIND_HELP)
    ls.add_argument("id", type=int, help="所属记录的编号（id）")
    ls.add_argument("--json", action="store_true", help="输出 JSON")
    ls.set_defaults(func=_list)
    get = ats.add_parser("get", help="取出一个附件（或其缩略图）存为文件")
    get.add_argument("id", type=int, help="附件编号")
    get.add_argument("-o", "--output", help="保存路径（默认：当前目录下的原文件名）")
    get.add_argument("--thumbnail", action="store_true", help="取缩略图（JPEG）")
    get.add_argument("--force", action="store_true", help="覆盖已有文件")
    get.set_defaults(func=_get)
