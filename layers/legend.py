"""The legend (four colours with the database's counts), the print control and the signed-in user's box."""

from __future__ import annotations

from typing import ClassVar

import folium
from branca.element import MacroElement, Template
from folium.elements import JSCSSMixin
from sqlalchemy import Connection

from geo.features import COUNTED_KINDS, LEVELS, level_counts
from layers.elements import Script
from layers.style import LEVEL_COLOURS, LEVEL_NAMES
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
    """leaflet-easyprint's print/export button (riskmap.printControl)."""

    default_js: ClassVar[list[tuple[str, str]]] = [("easyprint", "leaflet-easyprint/dist/bundle.js")]

    def __init__(self) -> None:
        super().__init__("printControl")


class AccountControl(Script):
    """The signed-in user and 退出 (POST /logout with the CSRF token), read from /auth/me by the page itself."""

    def __init__(self) -> None:
        super().__init__("accountControl")


def rollup_notes() -> tuple[str, str]:
    """How areas are rolled up, from the rules in force: the method (就高 …) and how objects are counted."""
    from geo.risk.rules import load_rules

    ru = load_rules()["rollup"]
    return str(ru["legend"][ru["method"]]), str(ru["legend_counting"])


def legend_html(counts: dict[str, dict[str, int]], *, title: str, illustrative: bool) -> str:
    method, counting = rollup_notes()
    return render("legend.html", counts=counts, title=title, illustrative=illustrative, kinds=COUNTED_KINDS,
                  levels=LEVELS, colours=LEVEL_COLOURS, names=LEVEL_NAMES, rollup_method=method,
                  rollup_counting=counting)


def add_legend(m: folium.Map, conn: Connection, *, township: str | None, grid: str | None, title: str,
               illustrative: bool) -> None:
    """Legend 重大/较大/一般/低风险 with the counts in the database for the page's scope."""
    counts = level_counts(conn, township=township)
    m.add_child(Legend(legend_html(counts, title=title, illustrative=illustrative)))


def add_print_control(m: folium.Map) -> None:
    PrintControl().add_to(m)


def add_account_control(m: folium.Map) -> None:
    AccountControl().add_to(m)
