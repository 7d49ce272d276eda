"""Per-township summary of the county (grid, enterprises, hazards, pipelines, encroachments, mines).

township_summary() returns plain rows so the CLI and the HTTP API share one query; lengths are
computed in metres in the county's Gauss–Krüger zone (geo.county.metric_srid).
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from geo.config import get_settings
from geo.county import metric_srid

SQL = (Path(__file__).with_name("township_summary.sql")).read_text(encoding="utf-8")

COUNT_FIELDS = ("grid_cells", "enterprises", "hazchem", "mining", "other", "hazards_open", "major_hazards_open",
                "encroachments", "encroachments_open", "mines")

COLUMNS: tuple[tuple[str, str], ...] = (
    ("name", "乡镇名称"),
    ("code", "乡镇代码"),
    ("grid_cells", "网格数"),
    ("enterprises", "企业数"),
    ("hazchem", "危化"),
    ("mining", "矿山企业"),
    ("other", "其他企业"),
    ("hazards_open", "隐患未整改"),
    ("major_hazards_open", "其中重大"),
    ("pipeline_length_km", "管道长度km"),
    ("encroachments", "占压点"),
    ("encroachments_open", "未销号"),
    ("mines", "矿山"),
)
TOTAL_NAME = "全县合计"


def township_summary(conn: Connection) -> list[dict[str, Any]]:
    """One dict per township of the county in force (ordered by code); pipeline lengths in m and km."""
    county = get_settings().county_code
    rows = conn.execute(text(SQL), {"county_code": county, "srid": metric_srid(conn)}).mappings().all()
    out = []
    for r in rows:
        row = dict(r)
        row["pipeline_length_m"] = float(row["pipeline_length_m"])
        row["pipeline_length_km"] = round(row["pipeline_length_m"] / 1000.0, 1)
        out.append(row)
    return out


def county_total(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The county line: the sum of the township rows."""
    total: dict[str, Any] = {"code": get_settings().county_code, "name": TOTAL_NAME}
    for key in COUNT_FIELDS:
        total[key] = sum(int(r[key]) for r in rows)
    total["pipeline_length_m"] = sum(r["pipeline_length_m"] for r in rows)
    total["pipeline_length_km"] = round(total["pipeline_length_m"] / 1000.0, 1)
    return total


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def _pad(s: str, width: int, *, right: bool) -> str:
    fill = " " * (width - _width(s))
    return fill + s if right else s + fill


def format_summary(rows: list[dict[str, Any]]) -> str:
    """A plain-text table in Chinese: one line per township and the county total."""
    lines = [*rows, county_total(rows)]
    cells = [[h for _, h in COLUMNS]] + [[str(r[k]) for k, _ in COLUMNS] for r in lines]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(COLUMNS))]
    text_rows = []
    for n, row in enumerate(cells):
        text_rows.append("  ".join(_pad(c, w, right=i >= 2 and n > 0) for i, (c, w) in enumerate(zip(row, widths,
                                                                                                     strict=True))))
        if n == 0 or n == len(cells) - 2:
            text_rows.append("-" * (sum(widths) + 2 * (len(widths) - 1)))
    return "\n".join(text_rows)
