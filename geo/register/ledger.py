"""The xlsx ledger of a register kind: items and per-township/pipeline counts, Chinese headers (openpyxl)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import Connection

from geo.io.xlsx import append_row
from geo.models import ENCROACHMENT_KINDS, HAZARD_LEVELS
from geo.register.core import ReportRow, get_lifecycle, list_items, summarise, total_row
from geo.timefmt import today as local_today

ITEM_HEADERS = ("编号", "状态", "类别", "乡镇代码", "乡镇", "发现日期", "整改期限", "是否逾期", "销号日期", "核查人",
                "督办部门")
REPORT_HEADERS = ("代码", "名称", "类别", "发现数", "已整改数", "整改率", "逾期数")
GROUP_TITLES = {"township": "按乡镇统计", "pipeline": "按管道统计"}
CATEGORY_LABELS = {**ENCROACHMENT_KINDS, **HAZARD_LEVELS}


def _report_line(row: ReportRow) -> list[object]:
    rate = f"{row.rectification_rate:.1%}" if row.rectification_rate is not None else "—"
    category = CATEGORY_LABELS.get(row.category or "", "全部")
    return [row.group_code or "", row.group_name, category, row.found, row.rectified, rate, row.overdue]


def _sheet(wb: Workbook, title: str, headers: tuple[str, ...], lines: list[list[object]]) -> None:
    ws = wb.create_sheet(title)
    append_row(ws, headers)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for line in lines:
        append_row(ws, line)
    ws.freeze_panes = "A2"


def write_ledger_xlsx(conn: Connection, path: Path, *, kind: str, groups: tuple[str, ...] = ("township",),
                      split: bool = False, today: dt.date | None = None) -> Path:
    """Write the ledger of `kind` (items, then one count sheet per group) to an xlsx file."""
    lc = get_lifecycle(kind)
    day = today or local_today()
    wb = Workbook()
    wb.remove(wb.active)
    items = [
        [i["code"], lc.status_label(i["status"]), CATEGORY_LABELS.get(i["category"], i["category"]),
         i["township_code"], i["township_name"], i["found_on"], i["deadline"], "是" if i["overdue"] else "否",
         i["closed_on"], i["closed_by"], i["supervising_department"]]
        for i in list_items(conn, kind, today=day)
    ]
    _sheet(wb, f"{lc.label}台账", ITEM_HEADERS, items)
    for group in groups:
        rows = summarise(conn, kind, by=group, split=split, today=day)
        totals = [total_row(rows, category=c) for c in sorted({r.category for r in rows if r.category})] if split \
            else [total_row(rows)]
        _sheet(wb, GROUP_TITLES[group], REPORT_HEADERS, [_report_line(r) for r in [*rows, *totals]])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
