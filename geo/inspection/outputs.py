"""Printable outputs of a stored plan (geo.inspection.plan.get_plan): route sheet HTML, PDF, xlsx; all Chinese.

PDF: the HTML printed by the Debian chromium already on the machine (headless --print-to-pdf) — no extra
Python package and the same CJK fonts the browser tests use; weasyprint would need pango from apt.
"""

from __future__ import annotations

import html
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from geo.errors import RiskmapError

CHROMIUM = "/usr/bin/chromium"
SHEET_COLUMNS = ("序号", "企业名称", "地址", "行业类别", "风险等级", "预计到达", "服务时长（分钟）", "联系方式", "巡查事由")
XLSX_COLUMNS = ("计划编号", "巡查组", "日期", "序号", "企业名称", "统一社会信用代码", "地址", "行业类别", "风险等级",
                "优先级", "预计到达", "服务时长（分钟）", "联系方式", "巡查事由", "路网吸附说明", "未安排原因")
MSG = {"no_chromium": "生成 PDF 需要 Chromium（{path}），本机未找到", "pdf_failed": "Chromium 生成 PDF 失败：{err}"}


class PdfFailed(RiskmapError):
    code = "pdf_failed"


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _stop_cells(s: dict[str, Any]) -> list[Any]:
    return [s["seq"], s["name"], s["address"], s["category_label"], f"{s['colour_label']}色", s["arrival"],
            s["service_min"], s["contact"], "；".join(s["reasons"])]


def route_sheet_html(plan: dict[str, Any]) -> str:
    """The route sheet: one section per team and day (ordered stops, arrival, service time, contact), A4 print."""
    title = f"巡查路线单 {plan['start']} 至 {plan['end']}（计划 #{plan['id']}）"
    parts = [
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>", f"<title>{_e(title)}</title>",
        "<style>body{font-family:'Noto Sans CJK SC','WenQuanYi Micro Hei',sans-serif;font-size:11pt;margin:1.5em}"
        "table{border-collapse:collapse;width:100%;margin-bottom:1em}th,td{border:1px solid #555;padding:3px 5px}"
        "th{background:#eee}section{page-break-after:always}.red{color:#e60012}.orange{color:#ff8c00}"
        ".yellow{color:#b59a00}.blue{color:#1f6fd6}@page{size:A4 landscape;margin:12mm}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f"<p>巡查组 {plan['teams']} 个；应检 {plan['summary'].get('due', 0)} 家，安排 "
        f"{plan['summary'].get('visited', 0)} 家，未安排 {len(plan['dropped'])} 家。求解：{_e(plan['status'])}</p>",
    ]
    for r in plan["routes"]:
        parts.append(f"<section><h2>{_e(r['team'])} · {_e(r['day'])}</h2><p>出发：{_e(r['depot'])} "
                     f"{_e(plan['day_start'])}，返回 {_e(r['return_at'])}；里程 {r['km']} 公里，"
                     f"用时 {r['hours']} 小时（行车 {r['travel_h']}，检查 {r['service_h']}）</p>")
        parts.append("<table><tr>" + "".join(f"<th>{c}</th>" for c in SHEET_COLUMNS) + "</tr>")
        for s in r["stops"]:
            cells = _stop_cells(s)
            row = "".join(f"<td class='{s['colour']}'>{_e(c)}</td>" if k == 4 else f"<td>{_e(c)}</td>"
                          for k, c in enumerate(cells))
            parts.append(f"<tr>{row}</tr>")
        parts.append("</table>")
        notes = [s for s in r["stops"] if s["snap_note"]]
        if notes:
            parts.append("<p>路网说明：" + "；".join(f"{_e(s['name'])} {_e(s['snap_note'])}" for s in notes) + "</p>")
        parts.append("</section>")
    if plan["dropped"]:
        parts.append("<section><h2>未安排的企业</h2><table><tr><th>企业名称</th><th>风险等级</th><th>优先级</th>"
                     "<th>原因</th></tr>")
        for s in plan["dropped"]:
            parts.append(f"<tr><td>{_e(s['name'])}</td><td class='{s['colour']}'>{_e(s['colour_label'])}色</td>"
                         f"<td>{s['priority']}</td><td>{_e(s['dropped_reason'])}</td></tr>")
        parts.append("</table></section>")
    parts.append("</body></html>")
    return "".join(parts)


def write_xlsx(plan: dict[str, Any], path: Path) -> Path:
    """One row per due enterprise (visited in route order, then the ones not scheduled), Chinese headers."""
    from openpyxl import Workbook

    from geo.io.xlsx import append_row

    wb = Workbook()
    ws = wb.active
    ws.title = "巡查计划"
    append_row(ws, XLSX_COLUMNS)
    rows = [(r, s) for r in plan["routes"] for s in r["stops"]] + [(None, s) for s in plan["dropped"]]
    for r, s in rows:
        append_row(ws, [plan["id"], r["team"] if r else None, r["day"] if r else None, s["seq"], s["name"],
                        s["uscc"], s["address"], s["category_label"], f"{s['colour_label']}色", s["priority"],
                        s["arrival"], s["service_min"], s["contact"], "；".join(s["reasons"]), s["snap_note"],
                        s["dropped_reason"]])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def write_pdf(sheet_html: str, path: Path, *, chromium: str = CHROMIUM) -> Path:
    """Print the route sheet HTML to PDF with headless Chromium."""
    if not Path(chromium).exists() and shutil.which(chromium) is None:
        raise PdfFailed(MSG["no_chromium"].format(path=chromium))
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "sheet.html"
        src.write_text(sheet_html, encoding="utf-8")
        cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
               f"--user-data-dir={tmp}/profile", f"--print-to-pdf={path.resolve()}", src.as_uri()]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    if not path.exists() or path.stat().st_size == 0:
        raise PdfFailed(MSG["pdf_failed"].format(err=(done.stderr or "")[-300:]))
    return path
