"""One function per map layer; each reads through geo.features and returns a Folium feature group."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import folium
import shapely
import shapely.geometry
from folium import plugins
from sqlalchemy import Connection, text

from geo.config import get_settings
from geo.crs import geometries_wgs84_to_gcj02
from geo.features import LEVEL_LABELS, read_features, segment_runs
from geo.models import (
    BUILDING_USES,
    ENCROACHMENT_KINDS,
    INDUSTRY_CATEGORIES,
    MINE_TYPES,
    MINE_ZONE_KINDS,
    MINING_METHODS,
    PIPELINE_MEDIA,
)
from layers.basemap import overlay_shift
from layers.style import (
    ENCROACHMENT_STATUS_COLOURS,
    ENCROACHMENT_STATUS_NAMES,
    MINE_ZONE_COLOURS,
    UNASSESSED,
    level_colour,
)

MAX_FEATURES = 5000


@dataclass(frozen=True)
class Where:
    """Which part of the county a page's layers read: one township and/or a bounding box (EPSG:4490)."""

    township: str | None = None
    bbox: tuple[float, float, float, float] | None = None

    def kw(self) -> dict[str, Any]:
        return {"township": self.township, "bbox": self.bbox}


def _reasons_html(reasons: Any) -> str:
    if not reasons:
        return ""
    items = []
    for r in reasons:
        if isinstance(r, dict):
            txt = r.get("text") or r.get("reason") or r.get("message") or ""
            clause = r.get("clause")
            items.append(html.escape(str(txt)) + (f" <small>（{html.escape(str(clause))}）</small>" if clause else ""))
        else:
            items.append(html.escape(str(r)))
    return "<ul style='margin:4px 0 0 16px;padding:0'>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"


def _level_html(props: dict[str, Any]) -> str:
    level = props.get("level")
    if not level:
        return "<div>风险等级：<b>未评估</b></div>"
    score = props.get("score")
    score_txt = f"（分值 {score:.1f}）" if isinstance(score, (int, float)) else ""
    return (f"<div>风险等级：<b style='color:{level_colour(level)}'>{LEVEL_LABELS[level]}</b>{score_txt}</div>"
            f"{_reasons_html(props.get('reasons'))}")


def _popup(title: str, rows: list[tuple[str, Any]], props: dict[str, Any], *, link: str | None = None,
           risk: bool = True) -> str:
    body = "".join(
        f"<tr><th style='padding-right:6px;white-space:nowrap'>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in rows if v not in (None, "")
    )
    out = (f"<div class='rm-popup' style='max-height:340px;overflow:auto'><h4 style='margin:0 0 4px'>"
           f"{html.escape(title)}</h4><table>{body}</table>")
    if risk:
        out += _level_html(props)
    if link:
        out += f"<div style='margin-top:4px'><a href='{link}' target='_top'>查看详情 →</a></div>"
    return out + "</div>"


def _collection(features: list[dict[str, Any]]) -> dict[str, Any]:
    if overlay_shift(get_settings()):
        features = [_to_gcj02(f) for f in features]
    return {"type": "FeatureCollection", "features": features}


def _to_gcj02(feature: dict[str, Any]) -> dict[str, Any]:
    geom = geometries_wgs84_to_gcj02([shapely.geometry.shape(feature["geometry"])])[0]
    return {**feature, "geometry": shapely.geometry.mapping(geom)}


def _geojson(name: str, features: list[dict[str, Any]], style: Any, *, show: bool = True,
             tooltip_field: str = "name", **kw: Any) -> folium.GeoJson:
    return folium.GeoJson(
        _collection(features), name=name, show=show, style_function=style,
        tooltip=folium.GeoJsonTooltip(fields=[tooltip_field], labels=False) if features else None,
        popup=folium.GeoJsonPopup(fields=["popup_html"], labels=False, max_width=380) if features else None,
        **kw,
    )


def township_layer(conn: Connection, where: Where, *, link_base: str = "") -> folium.FeatureGroup:
    """Townships filled by their rolled-up level."""
    feats = read_features(conn, "township", **where.kw(), limit=MAX_FEATURES, simplify_m=5).features
    for f in feats:
        p = f["properties"]
        note = "示意边界" if p.get("is_illustrative") else None
        p["popup_html"] = _popup(p["name"], [("代码", p["code"]), ("边界", note)], p,
                                 link=f"{link_base}/maps/township/{p['code']}")
    fg = folium.FeatureGroup(name="乡镇（按风险着色）", show=True)
    feats = _slim(feats, ("name", "code", "level", "is_illustrative"))
    _geojson("乡镇", feats, lambda f: {
        "fillColor": level_colour(f["properties"].get("level")), "color": "#333", "weight": 2,
        "fillOpacity": 0.35, "dashArray": "6 4" if f["properties"].get("is_illustrative") else None,
    }).add_to(fg)
    return fg


def grid_layer(conn: Connection, where: Where, *, show: bool, highlight: str | None = None
               ) -> folium.FeatureGroup:
    """Grid cells filled by level, with their grid officers."""
    feats = read_features(conn, "grid_cell", **where.kw(), limit=MAX_FEATURES, simplify_m=5).features
    for f in feats:
        p = f["properties"]
        p["name"] = p.get("name") or p["code"]
        p["popup_html"] = _popup(f"网格 {p['name']}", [("编号", p["code"]), ("网格员", p.get("officer_name")),
                                                      ("电话", p.get("officer_phone"))], p,
                                 link=f"/maps/grid/{p['code']}")
    fg = folium.FeatureGroup(name="网格（按风险着色）", show=show)
    feats = _slim(feats, ("name", "code", "level"))
    _geojson("网格", feats, lambda f: {
        "fillColor": level_colour(f["properties"].get("level")), "color": "#555",
        "weight": 3 if f["properties"]["code"] == highlight else 0.8, "fillOpacity": 0.3,
    }).add_to(fg)
    return fg


def enterprise_layer(conn: Connection, where: Where, *, grid: str | None = None, link_base: str = ""
                     ) -> tuple[folium.FeatureGroup, folium.GeoJson | None]:
    """Enterprises as markers coloured by level, clustered; returns the group and the searchable layer."""
    feats = read_features(conn, "enterprise", **where.kw(), limit=100_000).features
    if grid:
        ids = set(conn.execute(text(
            "SELECT e.id FROM enterprise e JOIN grid_cell g ON ST_Covers(g.geom, e.geom) WHERE g.code = :g"),
            {"g": grid}).scalars())
        feats = [f for f in feats if f["id"] in ids]
    for f in feats:
        p = f["properties"]
        p["popup_html"] = _popup(p["name"], [
            ("统一社会信用代码", p["uscc"]), ("行业", INDUSTRY_CATEGORIES.get(p["category"], p["category"])),
            ("地址", p.get("address")), ("从业人数", p.get("employees")),
            ("重大危险源", "是" if p.get("major_hazard_source") else None),
            ("化工园区内", "是" if p.get("in_chemical_park") else None),
        ], p, link=f"{link_base}/maps/township/{p['township_code']}" if p.get("township_code") else None)
        p["colour"] = level_colour(p.get("level"))
    fg = folium.FeatureGroup(name="企业（按风险着色）", show=True)
    if not feats:
        return fg, None
    cluster = plugins.MarkerCluster(name="企业聚合", options={"disableClusteringAtZoom": 14,
                                                              "maxClusterRadius": 40}).add_to(fg)
    feats = _slim(feats, ("name", "colour", "level"))
    layer = folium.GeoJson(
        _collection(feats), name="企业",
        marker=folium.CircleMarker(radius=7, weight=1, fill=True, fill_opacity=0.9),
        style_function=lambda f: {"fillColor": f["properties"]["colour"], "color": "#222"},
        tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
        popup=folium.GeoJsonPopup(fields=["popup_html"], labels=False, max_width=380),
    )
    layer.add_to(cluster)
    return fg, layer


def pipeline_layer(conn: Connection, where: Where) -> folium.FeatureGroup:
    """Pipelines (segment colours when the risk engine has segmented them) with 5/50/200 m zones."""
    fg = folium.FeatureGroup(name="油气管道", show=True)
    segs = _segments(conn, where)
    if segs is not None:
        _geojson("管段", segs, lambda f: {"color": level_colour(f["properties"].get("level")), "weight": 4},
                 tooltip_field="name").add_to(fg)
    else:
        feats = read_features(conn, "pipeline", bbox=where.bbox, limit=MAX_FEATURES).features
        for f in feats:
            p = f["properties"]
            p["popup_html"] = _popup(p["name"], [
                ("编号", p["code"]), ("介质", PIPELINE_MEDIA.get(p["medium"], p["medium"])), ("运营单位", p.get("operator")),
                ("设计压力 MPa", p.get("design_pressure_mpa")), ("管径 mm", p.get("outside_diameter_mm")),
                ("投产年份", p.get("commissioning_year")), ("数据来源", p.get("source"))], p, risk=False,
            link=f"/maps/pipeline/{p['code']}")
        _geojson("管道", feats, lambda f: {"color": "#6a1b9a", "weight": 3}).add_to(fg)
    return fg


def _segments(conn: Connection, where: Where) -> list[dict[str, Any]] | None:
    """Pipeline segments as runs of equal level, when the risk engine has assessed them."""
    feats = segment_runs(conn, **where.kw())
    for f in feats:
        p = f["properties"]
        p["popup_html"] = _popup(f"{p['name']} 第 {p['first_seq']}–{p['last_seq']} 段", [
            ("管道编号", p["pipeline_code"]), ("里程 m", f"{p['from_m']:.0f}–{p['to_m']:.0f}"),
            ("管段数", p["segments"])], p, link=f"/maps/pipeline/{p['pipeline_code']}")
    return _slim(feats, ("name", "level")) or None


def _slim(features: list[dict[str, Any]], keep: tuple[str, ...]) -> list[dict[str, Any]]:
    """Only what the page draws and shows: the popup HTML and the properties styles and tooltips read."""
    out = []
    for f in features:
        p = f["properties"]
        out.append({"type": "Feature", "id": f.get("id"), "geometry": f["geometry"],
                    "properties": {"popup_html": p.get("popup_html"), **{k: p.get(k) for k in keep}}})
    return out


def encroachment_layer(conn: Connection, where: Where) -> folium.FeatureGroup:
    """Encroachment points coloured by their register status."""
    feats = read_features(conn, "encroachment", **where.kw(), limit=MAX_FEATURES).features
    for f in feats:
        p = f["properties"]
        p["name"] = p["code"]
        p["colour"] = ENCROACHMENT_STATUS_COLOURS.get(p["status"], UNASSESSED)
        p["popup_html"] = _popup(f"占压点 {p['code']}", [
            ("类型", ENCROACHMENT_KINDS.get(p["kind"], p["kind"])),
            ("状态", ENCROACHMENT_STATUS_NAMES.get(p["status"], p["status"])),
            ("形成时间", p.get("formed_on")), ("整改期限", p.get("deadline")), ("措施", p.get("measure")),
            ("描述", p.get("description"))], p, risk=False)
    fg = folium.FeatureGroup(name="占压点（按整改状态）", show=True)
    if feats:
        feats = _slim(feats, ("name", "colour", "status"))
        folium.GeoJson(
            _collection(feats), name="占压点",
            marker=folium.CircleMarker(radius=5, weight=2, fill=True, fill_opacity=1),
            style_function=lambda f: {"fillColor": f["properties"]["colour"], "color": "#000"},
            tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
            popup=folium.GeoJsonPopup(fields=["popup_html"], labels=False),
        ).add_to(fg)
    return fg


def mine_layer(conn: Connection, where: Where, *, link_base: str = "") -> folium.FeatureGroup:
    """Mine licence boundaries coloured by level."""
    feats = read_features(conn, "mine", **where.kw(), limit=MAX_FEATURES).features
    for f in feats:
        p = f["properties"]
        p["popup_html"] = _popup(p["name"], [
            ("采矿许可证号", p["licence_no"]), ("矿种", p.get("mineral")),
            ("类型", MINE_TYPES.get(p["mine_type"], p["mine_type"])),
            ("开采方式", MINING_METHODS.get(p["method"], p["method"]))], p,
            link=f"{link_base}/maps/mine/{p['licence_no']}")
    fg = folium.FeatureGroup(name="矿山（矿区范围）", show=True)
    feats = _slim(feats, ("name", "level"))
    _geojson("矿山", feats, lambda f: {"fillColor": level_colour(f["properties"].get("level")),
                                      "color": "#4e342e", "weight": 2, "fillOpacity": 0.5}).add_to(fg)
    return fg


def mine_zone_layer(conn: Connection, where: Where, *, show: bool) -> folium.FeatureGroup:
    """禁采区/限采区/可采区 from the mineral-resources plan."""
    feats = read_features(conn, "mine_zone", bbox=where.bbox, limit=MAX_FEATURES, simplify_m=5).features
    for f in feats:
        p = f["properties"]
        p["name"] = p.get("name") or MINE_ZONE_KINDS[p["kind"]]
        p["popup_html"] = _popup(p["name"], [("分区", MINE_ZONE_KINDS[p["kind"]]),
                                             ("依据", p.get("source_document"))], p, risk=False)
    fg = folium.FeatureGroup(name="矿产规划分区", show=show)
    feats = _slim(feats, ("name", "kind"))
    _geojson("矿产规划分区", feats, lambda f: {"fillColor": MINE_ZONE_COLOURS[f["properties"]["kind"]],
                                            "color": MINE_ZONE_COLOURS[f["properties"]["kind"]], "weight": 1,
                                            "fillOpacity": 0.15}).add_to(fg)
    return fg


def building_layer(conn: Connection, where: Where, *, grid: str | None = None) -> folium.FeatureGroup:
    """Building footprints (township and grid pages only), by use class."""
    feats = read_features(conn, "building", **where.kw(), limit=20_000).features
    if grid:
        ids = set(conn.execute(text(
            "SELECT b.id FROM building b JOIN grid_cell g ON ST_Intersects(g.geom, b.geom) WHERE g.code = :g"),
            {"g": grid}).scalars())
        feats = [f for f in feats if f["id"] in ids]
    colours = {"school": "#8e24aa", "hospital": "#d81b60", "market": "#fb8c00", "industrial": "#546e7a"}
    for f in feats:
        p = f["properties"]
        p["name"] = p.get("name") or BUILDING_USES.get(p["use_class"], p["use_class"])
        p["popup_html"] = _popup(p["name"], [("用途", BUILDING_USES.get(p["use_class"])), ("层数", p["floors"])],
                                 p, risk=False)
    fg = folium.FeatureGroup(name="建筑", show=True)
    feats = _slim(feats, ("name", "use_class"))
    _geojson("建筑", feats, lambda f: {"fillColor": colours.get(f["properties"]["use_class"], "#9e9e9e"),
                                      "color": "#616161", "weight": 0.5, "fillOpacity": 0.6}).add_to(fg)
    return fg


ZONE_STYLE = {"zone_5m": ("#b71c1c", 0.45), "zone_50m": ("#ef6c00", 0.25), "zone_200m": ("#fbc02d", 0.15)}


def protection_zone_layer(conn: Connection, *, pipeline_code: str | None = None, show: bool = False,
                          bbox: tuple[float, float, float, float] | None = None) -> folium.FeatureGroup:
    """The 5 / 50 / 200 m bands along pipelines (石油天然气管道保护法 Art 30, 35(2), 35(3)), near `bbox`."""
    from geo.encroachment.reports import pipeline_zone_bands

    feats = pipeline_zone_bands(conn, pipeline_code=pipeline_code, bbox=bbox, for_display=True)
    for f in feats:
        p = f["properties"]
        p["name"] = f"{p['pipeline_code']} {p.get('label') or p['zone']}"
        p["popup_html"] = _popup(p["name"], [("管道", p["pipeline_code"]), ("范围", p.get("label"))], p, risk=False)
    feats = _slim(feats, ("name", "zone"))
    fg = folium.FeatureGroup(name="管道保护范围（5/50/200 m）", show=show)
    _geojson("管道保护范围", feats, lambda f: {
        "fillColor": ZONE_STYLE.get(f["properties"]["zone"], ("#999", 0.1))[0], "color": "#00000000", "weight": 0,
        "fillOpacity": ZONE_STYLE.get(f["properties"]["zone"], ("#999", 0.1))[1]}).add_to(fg)
    return fg
