"""The roll-up map of a city or province: cities, counties and townships filled by their worst colour, read only
from province_township_level (geo/province/rollup.py), never from a county's detail."""

from __future__ import annotations

from typing import Any

import folium
from sqlalchemy import Connection

from geo.errors import NotFound
from layers.assets import localise
from layers.elements import LayerControl, LayerScript, RiskMap, Script
from layers.layers import _layer, _popup
from layers.legend import Legend
from layers.style import AREA_OPACITY, level_colour

TIERS = (("city", "地级市（按最高风险着色）", 3.0, False), ("county", "县区（按最高风险着色）", 2.0, True),
         ("township", "乡镇（按风险着色）", 0.8, False))


DETAIL = (("building", "县区明细：建筑", {"fill_opacity": 0.6, "line_colour": "#616161", "weight": 0.5}),
          ("pipeline_segment", "县区明细：油气管道（风险颜色）", {"weight": 4, "line_colour": None}),
          ("enterprise", "县区明细：企业（风险颜色）", {"fill_opacity": 1.0}))  # opaque: true colours over the fills
"""The counties' detail layers drawn once zoomed in (geo/province/tiles.py), bottom to top."""


def build_rollup_map(conn: Connection, *, title: str, city: str | None = None, asset_base: str = "/vendor",
                     detail: bool = False) -> RiskMap:
    """Province → city → county → township, four colours, Chinese popups (the township's reasons). `detail`: past
    the county level, each county's buildings, pipelines and enterprises, read from its own database (a region
    viewer's map on a service that has province.toml)."""
    from geo.province.tiles import DETAIL_MIN_ZOOM
    from layers.vector import ProvinceDetailLayer

    from geo.province.rollup import rollup_areas

    feats = rollup_areas(conn, city=city)
    if not feats:
        raise NotFound("汇总表中还没有任何县区的结果：请先运行 riskmap province compute")
    lons = [c[0] for f in feats for c in _coords(f["geometry"])]
    lats = [c[1] for f in feats for c in _coords(f["geometry"])]
    m = RiskMap(title, location=[(min(lats) + max(lats)) / 2, (min(lons) + max(lons)) / 2], zoom_start=8,
                tiles=None, control_scale=True, max_zoom=19, prefer_canvas=True).lean()
    groups = []
    for tier, name, weight, show in TIERS:
        chosen = [f for f in feats if f["properties"]["tier"] == tier]
        for f in chosen:
            p = f["properties"]
            rows: list[tuple[str, Any]] = [("代码", p["code"])]
            if tier == "township":
                rows += [("县区", p["county_name"]), ("地级市", p["city_name"])]
            elif tier == "county":
                rows += [("地级市", p["city_name"])]
            p["popup_html"] = _popup(p["name"], rows, p, score=False, link=p.get("map_url"))
        fg = folium.FeatureGroup(name=name, show=show)
        _layer(chosen, lambda f, w=weight: {
            "fillColor": level_colour(f["properties"]["level"]), "color": "#333", "weight": w,
            "fillOpacity": AREA_OPACITY}).add_to(fg)
        fg.add_to(m)
        groups.append(fg)
    if detail:
        counties = sorted({f["properties"]["code"] for f in feats if f["properties"]["tier"] == "county"})
        for layer, name, style in DETAIL:
            ProvinceDetailLayer(layer=layer, name=f"{name}（{DETAIL_MIN_ZOOM} 级起）", counties=counties,
                                min_zoom=DETAIL_MIN_ZOOM, **style).add_to(m)
    LayerControl(collapsed=False).add_to(m)
    LayerScript("areaLayers", groups).add_to(m)
    m.add_child(Legend(_legend(feats, title=title)))
    Script("legendControl").add_to(m)
    m.fit_bounds([[min(lats), min(lons)], [max(lats), max(lons)]])
    localise(m.get_root(), base_url=asset_base)
    return m


TIER_LABELS = {"city": "地级市", "county": "县区", "township": "乡镇"}


def _legend(feats: list[dict[str, Any]], *, title: str) -> str:
    """The map's legend (layers/templates/legend.html): how many cities, counties and townships of each colour."""
    import datetime as dt

    from geo.features import LEVELS
    from layers.style import LEVEL_COLOURS, LEVEL_NAMES, UNASSESSED
    from layers.web import render

    counts = {t: {lv: 0 for lv in LEVELS} for t in TIER_LABELS}
    for f in feats:
        counts[f["properties"]["tier"]][f["properties"]["level"]] += 1
    return render("legend.html", counts=counts, title=title, illustrative=False, kinds=TIER_LABELS, levels=LEVELS,
                  colours=LEVEL_COLOURS, names=LEVEL_NAMES, unassessed=UNASSESSED,
                  scope_note="读取市/省级汇总表（各县区计算后写入），不读各县明细",
                  rollup_method="县区、地级市、全省取所辖乡镇的最高风险等级", rollup_counting="乡镇等级为各县区计算结果",
                  sections=[], more_open=False, date=dt.date.today().strftime("%Y年%m月%d日"))


def _coords(geometry: dict[str, Any]) -> list[list[float]]:
    """Every position of a (Multi)Polygon."""
    c = geometry["coordinates"]
    if geometry["type"] == "Polygon":
        c = [c]
    return [pt for poly in c for ring in poly for pt in ring]


def render_rollup_page(conn: Connection, *, nonce: str = "", static_base: str = "/static", **kw: Any) -> str:
    return build_rollup_map(conn, **kw).get_root().render(nonce=nonce, static_base=static_base)
