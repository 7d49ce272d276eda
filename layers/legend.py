"""The legend (four colours with the database's counts) and the print control."""

from __future__ import annotations

import html

import folium
from branca.element import MacroElement, Template
from sqlalchemy import Connection

from geo.features import COUNTED_KINDS, LEVELS, level_counts
from layers.style import LEVEL_COLOURS, LEVEL_NAMES

_LEGEND = Template("""
{% macro html(this, kwargs) %}
<div id="rm-legend" class="leaflet-control" style="position:fixed;bottom:28px;right:12px;z-index:9999;
 background:rgba(255,255,255,.95);padding:8px 10px;border-radius:6px;box-shadow:0 1px 4px rgba(0,0,0,.3);
 font:13px/1.4 'Microsoft YaHei','PingFang SC','Noto Sans CJK SC',sans-serif">
{{ this.body }}
</div>
{% endmacro %}
""")

_PRINT = Template("""
{% macro script(this, kwargs) %}
if (L.easyPrint) {
  L.easyPrint({title: '打印/导出图片', position: 'topleft', exportOnly: false, hideControlContainer: false,
               sizeModes: ['Current', 'A4Landscape', 'A4Portrait'], filename: 'riskmap'}).addTo({{ this._parent.get_name() }});
}
{% endmacro %}
""")


_ACCOUNT = Template("""
{% macro script(this, kwargs) %}
(function (map) {
  // Served pages: who is signed in, their scope, and 退出. A saved offline file has no /auth/me: nothing shows.
  if (location.protocol === 'file:') { return; }
  fetch('/auth/me', {credentials: 'same-origin'}).then(function (r) { return r.ok ? r.json() : null; })
    .then(function (me) {
      if (!me) { return; }
      var box = L.control({position: 'topright'});
      box.onAdd = function () {
        var div = L.DomUtil.create('div', 'leaflet-bar rm-account');
        div.style.cssText = 'background:#fff;padding:4px 8px;font:13px/1.4 "Microsoft YaHei","Noto Sans CJK SC",sans-serif';
        var who = document.createElement('span');
        who.textContent = '当前用户：' + me.label + ' ';
        var out = document.createElement('a');
        out.href = '/logout'; out.textContent = '退出';
        div.appendChild(who); div.appendChild(out);
        L.DomEvent.disableClickPropagation(div);
        return div;
      };
      box.addTo(map);
    }).catch(function () {});
})({{ this._parent.get_name() }});
{% endmacro %}
""")


class AccountControl(MacroElement):
    """The signed-in user and a 退出 (sign out) link, read from /auth/me by the page itself."""

    def __init__(self) -> None:
        super().__init__()
        self._template = _ACCOUNT


class Legend(MacroElement):
    def __init__(self, body: str) -> None:
        super().__init__()
        self._template = _LEGEND
        self.body = body


class PrintControl(MacroElement):
    default_js = [("easyprint", "leaflet-easyprint/dist/bundle.js")]

    def __init__(self) -> None:
        super().__init__()
        self._template = _PRINT


def legend_html(counts: dict[str, dict[str, int]], *, title: str, illustrative: bool) -> str:
    head = "".join(f"<th style='padding:0 4px'>{html.escape(v)}</th>" for v in COUNTED_KINDS.values())
    rows = []
    for lv in LEVELS:
        cells = "".join(f"<td class='rm-count' data-kind='{k}' data-level='{lv}' style='text-align:right;"
                        f"padding:0 4px'>{counts[k][lv]}</td>" for k in COUNTED_KINDS)
        rows.append(f"<tr><td><span style='display:inline-block;width:14px;height:14px;margin-right:4px;"
                    f"vertical-align:middle;background:{LEVEL_COLOURS[lv]}'></span>{LEVEL_NAMES[lv]}</td>{cells}</tr>")
    note = ("<div style='color:#b71c1c;margin-top:4px'>注：乡镇边界为示意边界，非法定界线</div>" if illustrative else "")
    return (f"<div style='font-weight:bold;margin-bottom:4px'>{html.escape(title)}</div>"
            f"<table><tr><th>风险等级</th>{head}</tr>{''.join(rows)}</table>"
            "<div style='color:#666;margin-top:4px'>区域等级按“就高”原则汇总（风险规则见 /risk/rules）</div>" + note)


def add_legend(m: folium.Map, conn: Connection, *, township: str | None, grid: str | None, title: str,
               illustrative: bool) -> None:
    """Legend 重大/较大/一般/低风险 with the counts in the database for the page's scope."""
    counts = level_counts(conn, township=township)
    m.add_child(Legend(legend_html(counts, title=title, illustrative=illustrative)))


def add_print_control(m: folium.Map) -> None:
    PrintControl().add_to(m)


def add_account_control(m: folium.Map) -> None:
    AccountControl().add_to(m)
