"""The statistics page: a per-township stacked bar chart of the four colours (inline SVG) and its table."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from geo.features import COUNTED_KINDS, LEVEL_LABELS, LEVELS
from layers.style import LEVEL_COLOURS
from layers.web import render


def bar_chart_svg(rows: list[dict[str, Any]], *, width: int = 900, bar_h: int = 26) -> Markup:
    """Horizontal stacked bars, one per township, drawn server-side so the page needs no chart library."""
    left, top = 120, 30
    peak = max((r["total"] for r in rows), default=0) or 1
    scale = (width - left - 60) / peak
    bars = []
    for j, r in enumerate(rows):
        x, parts = float(left), []
        for lv in LEVELS:
            w = r[lv] * scale
            if w > 0:
                parts.append({"level": lv, "x": x, "w": w, "n": r[lv]})
            x += w
        bars.append({"name": r["name"], "code": r["code"], "total": r["total"], "y": top + j * (bar_h + 8),
                     "parts": parts, "end": x})
    return Markup(render("bar_chart.svg", rows=rows, bars=bars, width=width, bar_h=bar_h, left=left, top=top,
                         levels=LEVELS, colours=LEVEL_COLOURS, level_labels=LEVEL_LABELS))


def stats_context(rows: list[dict[str, Any]], *, kind: str, title: str) -> dict[str, Any]:
    """What stats.html needs besides the user: the table, its chart and the kind links."""
    return {"rows": rows, "kind": kind, "title": title, "chart": bar_chart_svg(rows), "kinds": COUNTED_KINDS,
            "levels": LEVELS, "level_labels": LEVEL_LABELS}
