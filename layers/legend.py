"""The legend (four colours with the database's counts for the page's scope, and every other colour the page
draws), the print/export controls and the signed-in user's box."""

from __future__ import annotations

from typing import ClassVar

import folium
from branca.element import MacroElement, Template
from folium.elements import JSCSSMixin
from sqlalchemy import Connection

from geo.features import COUNTED_KINDS, LEVELS, scope_level_counts
from geo.timefmt import today as local_today
from layers.elements import Script
from layers.style import (
    BUILDING_LEGEND,
    ENCROACHMENT_STATUS_COLOURS,
    ENCROACHMENT_STATUS_NAMES,
    LEVEL_COLOURS,
    LEVEL_NAMES,
    MINE_ZONE_COLOURS,
    MINE_ZONE_NAMES,
    OVER_BOUNDARY,
    TUNNEL,
    UNASSESSED,
    WATER,
    WORKINGS,
    ZONE_COLOURS,
    ZONE_NAMES,
)
from layers.web import render

_LEGEND = Template("""
{% macro html(this, kwargs) %}
<div id="rm-legend" class="leaflet-control">{{ this.body }}</div>
{% endmacro %}
""")


class Legend(MacroElement):
    """The legend box; `body` is HTML rendered by layers/templates/legend.html (autoescaped)."""

    def __init__(self, body: str) -> None:
        super().__init__()
        self._template = _LEGEND
        self.body = body


class PrintControl(JSCSSMixin, Script):
    """leaflet-easyprint's 打印 and 导出图片 buttons, A4/A3 (riskmap.printControl)."""

    default_js: ClassVar[list[tuple[str, str]]] = [("easyprint", "leaflet-easyprint/dist/bundle.js")]

    def __init__(self, title: str) -> None:
        super().__init__("printControl", {"title": title, "date": local_today().strftime("%Y年%m月%d日")})


class AccountControl(Script):
    """The signed-in user and 退出 (POST /logout with the CSRF token), read from /auth/me by the page itself."""

    def __init__(self) -> None:
        super().__init__("accountControl")


def rollup_notes() -> tuple[str, str]:
    """How areas are rolled up, from the rules in force: the method (就高 …) and how objects are counted."""
    from geo.risk.rules import load_rules

    ru = load_rules()["rollup"]
    return str(ru["legend"][ru["method"]]), str(ru["legend_counting"])


def legend_sections(*, buildings: bool) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """Every colour a page draws besides the four levels: (heading, [(colour, label, shape)])."""
    out = [
        ("占压点（按整改状态）", [(ENCROACHMENT_STATUS_COLOURS[k], v, "dot") for k, v in ENCROACHMENT_STATUS_NAMES.items()]),
        ("矿山", [(WORKINGS, "开采范围", "outline"), (OVER_BOUNDARY, "越界开采（许可证范围外）", "fill")]),
        ("矿产规划分区", [(MINE_ZONE_COLOURS[k], v, "outline") for k, v in MINE_ZONE_NAMES.items()]),
        ("管道保护范围（石油天然气管道保护法 第三十条、第三十五条）",
         [(ZONE_COLOURS[k], v, "fill") for k, v in ZONE_NAMES.items()]),
        ("河流与管道隧道", [(WATER, "河流", "line"), (TUNNEL, "管道专用隧道", "line")]),
    ]
    if buildings:
        out.append(("建筑（按用途）", [(c, label, "fill") for c, label in BUILDING_LEGEND]))
    return out


def legend_html(counts: dict[str, dict[str, int]], *, title: str, illustrative: bool, scope_note: str = "",
                buildings: bool = False) -> str:
    method, counting = rollup_notes()
    return render("legend.html", counts=counts, title=title, illustrative=illustrative, kinds=COUNTED_KINDS,
                  levels=LEVELS, colours=LEVEL_COLOURS, names=LEVEL_NAMES, rollup_method=method,
                  rollup_counting=counting, unassessed=UNASSESSED, scope_note=scope_note,
                  sections=legend_sections(buildings=buildings), more_open=False,
                  date=local_today().strftime("%Y年%m月%d日"))


def add_legend(m: folium.Map, conn: Connection, *, township: str | None, grid: str | None, title: str,
               illustrative: bool, bbox: tuple[float, float, float, float] | None = None,
               scope_note: str = "", buildings: bool = False) -> None:
    """Legend 重大/较大/一般/低风险 with the counts in the database of what the page draws (its scope)."""
    counts = scope_level_counts(conn, township=township, grid=grid, bbox=bbox)
    m.add_child(Legend(legend_html(counts, title=title, illustrative=illustrative, scope_note=scope_note,
                                   buildings=buildings)))
    Script("legendControl").add_to(m)


def add_print_control(m: folium.Map, title: str = "") -> None:
    PrintControl(title).add_to(m)


def add_account_control(m: folium.Map) -> None:
    AccountControl().add_to(m)
