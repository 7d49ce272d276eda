"""The statistics page: a per-township stacked bar chart of the four colours (inline SVG) and its table."""

from __future__ import annotations

import html
from typing import Any

from geo.features import COUNTED_KINDS, LEVEL_LABELS, LEVELS
from layers.style import LEVEL_COLOURS


def bar_chart_svg(rows: list[dict[str, Any]], *, width: int = 900, bar_h: int = 26) -> str:
    """Horizontal stacked bars, one per township, drawn server-side so the page needs no chart library."""
    left, top = 120, 30
    peak = max((r["total"] for r in rows), default=0) or 1
    scale = (width - left - 60) / peak
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{top + len(rows) * (bar_h + 8) + 10}'"
             " font-family='Microsoft YaHei,PingFang SC,Noto Sans CJK SC,sans-serif' font-size='13'>"]
    for i, lv in enumerate(LEVELS):
        parts.append(f"<rect x='{left + i * 130}' y='4' width='14' height='14' fill='{LEVEL_COLOURS[lv]}'/>"
                     f"<text x='{left + i * 130 + 18}' y='16'>{LEVEL_LABELS[lv]}</text>")
    for j, r in enumerate(rows):
        y = top + j * (bar_h + 8)
        parts.append(f"<text x='{left - 6}' y='{y + bar_h * 0.7}' text-anchor='end'>{html.escape(r['name'])}</text>")
        x = float(left)
        for lv in LEVELS:
            w = r[lv] * scale
            if w > 0:
                parts.append(f"<rect class='bar' data-township='{r['code']}' data-level='{lv}' x='{x:.1f}' y='{y}' "
                             f"width='{w:.1f}' height='{bar_h}' fill='{LEVEL_COLOURS[lv]}'><title>{html.escape(r['name'])} "
                             f"{LEVEL_LABELS[lv]} {r[lv]}</title></rect>")
            x += w
        parts.append(f"<text x='{x + 4:.1f}' y='{y + bar_h * 0.7}'>{r['total']}</text>")
    parts.append("</svg>")
    return "".join(parts)


def stats_page(rows: list[dict[str, Any]], *, kind: str, title: str) -> str:
    head = "".join(f"<th>{LEVEL_LABELS[lv]}</th>" for lv in LEVELS)
    body = "".join(
        f"<tr><td>{r['code']}</td><td><a href='/maps/township/{r['code']}'>{html.escape(r['name'])}</a></td>"
        + "".join(f"<td>{r[lv]}</td>" for lv in LEVELS) + f"<td>{r['total']}</td></tr>" for r in rows)
    total = ("<tr><td></td><th>全县合计</th>" + "".join(f"<th>{sum(r[lv] for r in rows)}</th>" for lv in LEVELS)
             + f"<th>{sum(r['total'] for r in rows)}</th></tr>")
    kinds = " | ".join(f"<a href='/stats?kind={k}'>{v}</a>" for k, v in COUNTED_KINDS.items())
    return f"""<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:'Microsoft YaHei','PingFang SC','Noto Sans CJK SC',sans-serif;margin:24px}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 10px;text-align:right}}
td:nth-child(2),th:nth-child(2){{text-align:left}}@media print{{.noprint{{display:none}}}}</style></head>
<body><h2>{html.escape(title)}</h2><p class="noprint">对象：{kinds} · <a href="/stats/townships.xlsx?kind={kind}">导出
 Excel</a> · <a href="/maps">返回地图</a> · <a href="javascript:window.print()">打印</a></p>
{bar_chart_svg(rows)}
<table id="stats"><tr><th>乡镇代码</th><th>乡镇名称</th>{head}<th>合计</th></tr>{body}{total}</table></body></html>"""
