"""Printable outputs of a stored plan (geo.inspection.plan.get_plan): PDF of the route sheet, xlsx; all Chinese.

The route sheet HTML itself is a template of the pages (layers.routes.route_sheet_page).

PDF: the HTML printed by the Debian chromium already on the machine (headless --print-to-pdf) — no extra
Python package and the same CJK fonts the browser tests use; weasyprint would need pango from apt.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from geo.errors import RiskmapError

CHROMIUM = "/usr/bin/chromium"
XLSX_COLUMNS = ("计划编号", "巡查组", "日期", "序号", "企业名称", "统一社会信用代码", "地址", "行业类别", "风险等级",
                "优先级", "预计到达", "服务时长（分钟）", "联系方式", "巡查事由", "路网吸附说明", "未安排原因")
MSG = {"no_chromium": "生成 PDF 需要 Chromium（{path}），本机未找到", "pdf_failed": "Chromium 生成 PDF 失败：{err}"}


class PdfFailed(RiskmapError):
    code = "pdf_failed"


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
