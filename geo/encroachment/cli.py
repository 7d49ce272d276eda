"""`riskmap encroach …` (占压排查、一点一档) and `riskmap hazard …` (隐患台账): one register, two kinds."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import Any

from geo.cli import registrar
from geo.encroachment.zones import FEATURE_TYPES, load_zones
from geo.errors import InvalidInput
from geo.progress import with_progress

STATUS_HELP = "新状态（代码或中文，如 confirmed/认定、rectifying/整改中、rectified/已整改、closed/销号）"


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期格式应为 YYYY-MM-DD，不是 {value}") from None


def _engine() -> Any:
    from geo.db import get_engine

    return get_engine()


def _rate(value: float | None) -> str:
    return f"{value:.1%}" if value is not None else "—"


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


# --- encroach ------------------------------------------------------------------------------------------

def _check(args: argparse.Namespace) -> int:
    from geo.encroachment import check_encroachments

    with _engine().begin() as conn:
        found = check_encroachments(conn, pipeline_code=args.pipeline, township_code=args.township)
    if args.json:
        _print_json([c.as_dict() for c in found])
        return 0
    zones = load_zones()
    print(f"占压排查：共 {len(found)} 处候选（在保护范围内的地物）")
    for zone in zones.all():
        n = sum(1 for c in found if c.zone == zone.code)
        if n:
            print(f"  {zone.label}：{n} 处")
    for c in found:
        zone = zones.by_code(c.zone)
        print(f"  候选 {c.candidate_id}：管道 {c.pipeline_code} {c.pipeline_name or ''}（{c.operator or '运营单位未填'}）"
              f" {FEATURE_TYPES.get(c.feature_type, c.feature_type)} {c.feature_label or c.feature_id}，距离 {c.distance_m:.1f} 米，"
              f"{zone.label}〔{zone.clause}〕，{c.township_name or '乡镇未定'}")
    return 0


def _confirm(args: argparse.Namespace) -> int:
    from geo.encroachment.register import confirm_candidate

    with _engine().begin() as conn:
        code = confirm_candidate(conn, args.candidate, by=args.by, nature=args.nature, measure=args.measure,
                                 deadline=args.deadline, formed_on=args.formed_on, attachments=args.attach)
    print(f"已认定并建档：占压点 {code}（一点一档）")
    return 0


def _record(args: argparse.Namespace) -> int:
    from geo.encroachment.register import field_wkt, record_encroachment

    wkt = field_wkt(lon=args.lon, lat=args.lat, wkt=args.wkt)
    with _engine().begin() as conn:
        code = record_encroachment(
            conn, wkt=wkt, by=args.by, pipeline_code=args.pipeline, township_code=args.township, kind=args.kind,
            nature=args.nature, description=args.description, formed_on=args.formed_on, measure=args.measure,
            deadline=args.deadline, attachments=args.attach,
        )
    print(f"已登记现场发现的占压点 {code}（状态：发现）")
    return 0


def _status(args: argparse.Namespace) -> int:
    from geo.register import change_status, get_lifecycle

    lc = get_lifecycle(args.kind)
    with _engine().begin() as conn:
        event = change_status(conn, args.kind, args.code, args.status, by=args.by, verified_by=args.verified_by,
                              note=args.note)
    print(f"{lc.label} {args.code}：{lc.status_label(event.from_status)} → {lc.status_label(event.to_status)}"
          f"（经办人 {event.changed_by}）")
    return 0


def _history(args: argparse.Namespace) -> int:
    from geo.register import get_lifecycle, history

    lc = get_lifecycle(args.kind)
    with _engine().connect() as conn:
        events = history(conn, args.kind, args.code)
    print(f"{lc.label} {args.code} 的全部变更：")
    for e in events:
        move = (f"{lc.status_label(e.from_status)} → {lc.status_label(e.to_status)}"
                if e.from_status != e.to_status else "修改档案")
        fields = f" {json.dumps(e.changes, ensure_ascii=False, default=str)}" if e.changes else ""
        print(f"  {e.changed_at:%Y-%m-%d %H:%M} {e.changed_by}：{move}{'，' + e.note if e.note else ''}{fields}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from geo.register import get_lifecycle, summarise, total_row
    from geo.register.ledger import CATEGORY_LABELS, write_ledger_xlsx

    lc = get_lifecycle(args.kind)
    split = args.kind == "hazard"
    groups = (args.by,) if args.kind == "hazard" else tuple(dict.fromkeys((args.by, "township", "pipeline")))
    with _engine().connect() as conn:
        rows = summarise(conn, args.kind, by=args.by, split=split)
        if args.xlsx:
            write_ledger_xlsx(conn, Path(args.xlsx), kind=args.kind, groups=groups, split=split)
    if args.json:
        _print_json([r.as_dict() for r in rows])
        return 0
    categories = sorted({r.category for r in rows if r.category}) if split else [None]
    for category in categories:
        total = total_row(rows, category=category)
        name = CATEGORY_LABELS.get(category or "", lc.label)
        print(f"{name}：{total.found} 处，已完成整改 {total.rectified} 处，整改率 {_rate(total.rectification_rate)}，"
              f"逾期 {total.overdue} 处")
    for r in rows:
        cat = f"[{CATEGORY_LABELS.get(r.category, r.category)}] " if r.category else ""
        print(f"  {cat}{r.group_name}：发现 {r.found}，已整改 {r.rectified}，整改率 {_rate(r.rectification_rate)}，"
              f"逾期 {r.overdue}")
    if args.xlsx:
        print(f"台账已导出：{args.xlsx}")
    return 0


def _ledger(args: argparse.Namespace) -> int:
    """The filtered ledger to xlsx, as the workbench's 导出 Excel writes it (title row with the filter)."""
    from geo.register.browse import LedgerFilter, describe, write_filtered_xlsx

    f = LedgerFilter(township=args.township, status=args.status, level=getattr(args, "level", None),
                     kind=getattr(args, "category", None), nature=getattr(args, "nature", None),
                     pipeline=getattr(args, "pipeline", None), overdue=args.overdue, date_from=args.date_from,
                     date_to=args.date_to)
    with _engine().connect() as conn:
        write_filtered_xlsx(conn, Path(args.xlsx), kind=args.kind, f=f)
        print(f"台账已导出（筛选：{describe(conn, args.kind, f)}）：{args.xlsx}")
    return 0


def _progress(args: argparse.Namespace) -> int:
    from geo.register.dossier import add_progress

    with _engine().begin() as conn:
        add_progress(conn, args.kind, args.code, month=args.month, entry=args.entry, by=args.by)
    print(f"{args.code}：已记录 {args.month} 整改进展")
    return 0


def _attach(args: argparse.Namespace) -> int:
    from geo.register.dossier import add_attachment

    path = Path(args.file)
    if not path.is_file():
        raise InvalidInput(f"找不到附件文件：{args.file}")
    with _engine().begin() as conn:
        found = add_attachment(conn, args.kind, args.code, name=path.name, data=path.read_bytes(), by=args.by)
    print(f"{args.code}：已上传附件 {found.id} {found.filename}（{found.size_bytes} 字节，SHA-256 {found.sha256}）")
    return 0


# --- hazard --------------------------------------------------------------------------------------------

def _hazard_record(args: argparse.Namespace) -> int:
    from geo.register.hazard import record_hazard

    with _engine().begin() as conn:
        code = record_hazard(conn, enterprise_uscc=args.enterprise, level=args.level, by=args.by,
                             description=args.description, found_on=args.found_on, deadline=args.deadline)
    print(f"已登记隐患 {code}（状态：发现）")
    return 0


def _hazard_supervise(args: argparse.Namespace) -> int:
    from geo.register.hazard import list_for_supervision, supervised_hazards

    if args.code:
        if not args.department:
            raise InvalidInput("挂牌督办须写明督办部门（--department）")
        with _engine().begin() as conn:
            list_for_supervision(conn, args.code, department=args.department, by=args.by, deadline=args.deadline)
        print(f"重大隐患 {args.code} 已挂牌督办，督办部门：{args.department}")
        return 0
    with _engine().connect() as conn:
        listed = supervised_hazards(conn)
    print(f"挂牌督办的重大隐患：{len(listed)} 处")
    for h in listed:
        print(f"  {h['code']} {h['township_name'] or ''} 督办部门 {h['supervising_department']}，"
              f"期限 {h['deadline'] or '未定'}{'（已逾期）' if h['overdue'] else ''}")
    return 0


def _add_status_commands(sub: Any, kind: str) -> None:
    st = sub.add_parser("status", help="变更状态（全部变更留痕）")
    st.add_argument("code", help="编号")
    st.add_argument("status", help=STATUS_HELP)
    st.add_argument("--by", required=True, help="经办人")
    st.add_argument("--verified-by", help="核查人（销号时必填）")
    st.add_argument("--note", help="说明")
    st.set_defaults(func=_status, kind=kind)
    hi = sub.add_parser("history", help="全部变更记录")
    hi.add_argument("code", help="台账编号")
    hi.set_defaults(func=_history, kind=kind)
    rp = sub.add_parser("report", help="统计：发现、已整改、整改率、逾期")
    rp.add_argument("--by", choices=("township", "pipeline") if kind == "encroachment" else ("township",),
                    default="township", help="按乡镇或按管道")
    rp.add_argument("--xlsx", help="导出 Excel 台账的路径")
    rp.add_argument("--json", action="store_true", help="输出 JSON")
    rp.set_defaults(func=_report, kind=kind)
    lg = sub.add_parser("ledger", help="按筛选条件导出台账 Excel（首行写明县名、筛选条件和日期）")
    lg.add_argument("--xlsx", required=True, help="导出路径")
    lg.add_argument("--township", help="乡镇代码（12 位）")
    lg.add_argument("--status", help="状态代码（如 rectifying）")
    if kind == "hazard":
        lg.add_argument("--level", choices=("general", "major"), help="隐患级别")
    else:
        lg.add_argument("--kind", dest="category", help="类型：encroachment / insufficient_distance / crossing")
        lg.add_argument("--nature", help="性质：illegal_construction / historical / legality_pending")
        lg.add_argument("--pipeline", help="管道编号")
    lg.add_argument("--overdue", action="store_true", help="仅逾期未整改")
    lg.add_argument("--from", dest="date_from", type=_date, help="发现日期起 YYYY-MM-DD")
    lg.add_argument("--to", dest="date_to", type=_date, help="发现日期止 YYYY-MM-DD")
    lg.set_defaults(func=_ledger, kind=kind)
    pg = sub.add_parser("progress", help="记录月度整改进展")
    pg.add_argument("code", help="台账编号")
    pg.add_argument("month", help="月份 YYYY-MM")
    pg.add_argument("entry", help="进展情况")
    pg.add_argument("--by", required=True, help="记录人")
    pg.set_defaults(func=_progress, kind=kind)
    at = sub.add_parser("attach", help="上传附件（JPEG/PNG/WebP 照片或 PDF，大小受限；存于数据库）")
    at.add_argument("code", help="台账编号")
    at.add_argument("file", help="文件路径")
    at.add_argument("--by", required=True, help="经办人")
    at.set_defaults(func=_attach, kind=kind)


def _add_dossier_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--by", required=True, help="经办人")
    p.add_argument("--nature", help="占压性质：违法建设 / 历史遗留 / 合法性待认定")
    p.add_argument("--measure", help="整改措施（一点一策）")
    p.add_argument("--deadline", type=_date, help="整改期限 YYYY-MM-DD")
    p.add_argument("--formed-on", type=_date, help="形成时间 YYYY-MM-DD")
    p.add_argument("--attach", action="append", help="附件引用（照片、文书的路径或编号），可重复")


@registrar
def register_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `encroach` and `hazard` to the riskmap command line."""
    enc = sub.add_parser("encroach", help="管道占压排查与占压点台账（一点一档）")
    es = enc.add_subparsers(dest="encroach_command", required=True)
    ck = es.add_parser("check", help="按石油天然气管道保护法自动排查占压")
    ck.add_argument("--pipeline", help="只看此管道编号")
    ck.add_argument("--township", help="只看此乡镇代码（12 位）")
    ck.add_argument("--json", action="store_true", help="输出 JSON")
    ck.set_defaults(func=with_progress("正在排查占压")(_check))
    cf = es.add_parser("confirm", help="认定排查候选为占压点并建档")
    cf.add_argument("candidate", type=int, help="候选编号（见 encroach check）")
    _add_dossier_options(cf)
    cf.set_defaults(func=_confirm)
    rc = es.add_parser("record", help="登记现场发现的占压点（GPS 点或勾绘多边形）")
    rc.add_argument("--lon", type=float, help="经度（CGCS2000）")
    rc.add_argument("--lat", type=float, help="纬度（CGCS2000）")
    rc.add_argument("--wkt", help="多边形 WKT（经纬度）")
    rc.add_argument("--pipeline", help="管道编号（缺省取最近的管道）")
    rc.add_argument("--township", help="责任乡镇代码（缺省取所在乡镇）")
    rc.add_argument("--kind", default="encroachment", help="类型：encroachment 占压 / insufficient_distance "
                                                           "安全距离不足 / crossing 交叉穿越")
    rc.add_argument("--description", help="情况描述")
    _add_dossier_options(rc)
    rc.set_defaults(func=_record)
    _add_status_commands(es, "encroachment")

    hz = sub.add_parser("hazard", help="隐患台账（与占压点同一套流程）")
    hs = hz.add_subparsers(dest="hazard_command", required=True)
    hr = hs.add_parser("record", help="登记隐患")
    hr.add_argument("--enterprise", required=True, help="企业统一社会信用代码")
    hr.add_argument("--level", choices=("general", "major"), required=True, help="general 一般 / major 重大")
    hr.add_argument("--description", help="隐患描述")
    hr.add_argument("--found-on", type=_date, help="发现日期")
    hr.add_argument("--deadline", type=_date, help="整改期限")
    hr.add_argument("--by", required=True, help="经办人")
    hr.set_defaults(func=_hazard_record)
    sv = hs.add_parser("supervise", help="重大隐患挂牌督办；不给编号则列出督办清单")
    sv.add_argument("code", nargs="?", help="隐患编号")
    sv.add_argument("--department", help="督办部门")
    sv.add_argument("--deadline", type=_date, help="督办整改期限")
    sv.add_argument("--by", default="", help="经办人")
    sv.set_defaults(func=_hazard_supervise)
    _add_status_commands(hs, "hazard")
