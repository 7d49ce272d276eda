"""Statistics per township: objects of each risk colour, the table behind the bar chart and its xlsx."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from geo.features import COUNTED_KINDS, LEVEL_LABELS, LEVELS


def township_level_table(conn: Connection, *, kind: str = "enterprise") -> list[dict[str, Any]]:
    """One row per township: code, name, and the number of current `kind` objects per colour."""
    if not conn.execute(text("SELECT to_regclass('risk_assessment') IS NOT NULL")).scalar_one():
        rows = conn.execute(text("SELECT code, name FROM township ORDER BY code")).all()
        return [{"code": c, "name": n, **{lv: 0 for lv in LEVELS}, "total": 0} for c, n in rows]
    rows = conn.execute(text("""
        SELECT t.code, t.name,
               count(*) FILTER (WHERE r.level = 'red') AS red,
               count(*) FILTER (WHERE r.level = 'orange') AS orange,
               count(*) FILTER (WHERE r.level = 'yellow') AS yellow,
               count(*) FILTER (WHERE r.level = 'blue') AS blue,
               count(r.id) AS total
        FROM township t
        LEFT JOIN risk_assessment r ON r.township_id = t.id AND r.kind = :kind AND r.valid_to IS NULL
        GROUP BY t.id ORDER BY t.code"""), {"kind": kind}).mappings().all()
    return [dict(r) for r in rows]


def write_township_xlsx(rows: list[dict[str, Any]], path: Path, *, kind: str = "enterprise") -> Path:
    """The table as an xlsx with Chinese headers and a county total row."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    from geo.io.xlsx import append_row

    wb = Workbook()
    ws = wb.active
    ws.title = "分乡镇风险统计"
    append_row(ws, [f"各乡镇{COUNTED_KINDS.get(kind, kind)}风险等级统计"])
    ws["A1"].font = Font(bold=True, size=14)
    header = ["乡镇代码", "乡镇名称", *(LEVEL_LABELS[lv] for lv in LEVELS), "合计"]
    append_row(ws, header)
    fills = {"red": "FFE60012", "orange": "FFFF8C00", "yellow": "FFFFD400", "blue": "FF1F6FD6"}
    for i, lv in enumerate(LEVELS):
        ws.cell(row=2, column=3 + i).fill = PatternFill("solid", fgColor=fills[lv])
    for r in rows:
        append_row(ws, [r["code"], r["name"], *(r[lv] for lv in LEVELS), r["total"]])
    append_row(ws, ["", "全县合计", *(sum(r[lv] for r in rows) for lv in LEVELS), sum(r["total"] for r in rows)])
    for col, width in zip("ABCDEFG", (16, 14, 12, 12, 12, 12, 10), strict=True):
        ws.column_dimensions[col].width = width
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
