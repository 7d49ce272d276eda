"""One function per map layer; each reads through geo.features and returns a Folium feature group."""

from __future__ import annotations

import json
from collections.abc import Callable
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
from layers.elements import FeatureLayer
from layers.style import (
    AREA_OPACITY,
    ENCROACHMENT_STATUS_COLOURS,
    ENCROACHMENT_STATUS_NAMES,
    MINE_ZONE_COLOURS,
    OVER_BOUNDARY,
    TUNNEL,
    UNASSESSED,
    WATER,
    WORKINGS,
    ZONE_COLOURS,
    building_colour,
    level_colour,
)
from layers.web import macro, url_path

MAX_FEATURES = 5000


@dataclass(frozen=True)
class Where:
    """Which part of the county a page's layers read: one township and/or a bounding box (EPSG:4490)."""

    township: str | None = None
    bbox: tuple[float, float, float, float] | None = None

    def kw(self) -> dict[str, Any]:
        return {"township": self.township, "bbox": self.bbox}


_POPUP = macro("popups.html", "popup")


def _risk(props: dict[str, Any], *, score: bool = True) -> dict[str, Any]:
    """The risk block of a popup: level label and colour, score (only where it means something to an officer:
    not the roll-up totals of townships and grid cells), (reason, clause) pairs."""
    level = props.get("level")
    if not level:
        return {"label": None}
    reasons = []
    for r in props.get("reasons") or []:
        if isinstance(r, dict):
            reasons.append((str(r.get("text") or r.get("reason") or r.get("message") or ""), r.get("clause")))
        else:
            reasons.append((str(r), None))
    value = props.get("score") if score else None
    return {"label": LEVEL_LABELS[level], "colour": level_colour(level),
            "score": value if isinstance(value, (int, float)) else None, "reasons": reasons}


def _popup(title: Any, rows: list[tuple[str, Any]], props: dict[str, Any], *, link: str | None = None,
           risk: bool = True, score: bool = True) -> str:
    """A feature's popup body, rendered by the popups.html macro (autoescaped)."""
    return str(_POPUP(str(title), rows, _risk(props, score=score) if risk else None, link))


def _collection(features: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if overlay_shift(get_settings()):
        features = [_to_gcj02(f) for f in features]
    return features


def _to_gcj02(feature: dict[str, Any]) -> dict[str, Any]:
    geom = geometries_wgs84_to_gcj02([shapely.geometry.shape(feature["geometry"])])[0]
    return {**feature, "geometry": shapely.geometry.mapping(geom)}


def _round(coords: Any) -> Any:
    """Coordinates to 5 decimals (about 1 m), which is what a screen shows: pages stay small."""
    if isinstance(coords, (int, float)):
        return round(coords, 5)
    if coords and isinstance(coords[0], (int, float)):  # a position: no call per number
        return [round(c, 5) for c in coords]
    return [_round(c) for c in coords]


def _layer(features: list[dict[str, Any]], style: Callable[[dict[str, Any]], dict[str, Any]], *,
           kind: str = "shape", keep: tuple[str, ...] = ("name",), interactive: bool = True) -> FeatureLayer:
    """A FeatureLayer of `features`: each keeps its popup HTML, tooltip text (its name), style and `keep`."""
    out = []
    for f in features:
        p = f["properties"]
        geom = f["geometry"]
        if geom and "coordinates" in geom:
            geom = {"type": geom["type"], "coordinates": _round(geom["coordinates"])}
        props = {"tooltip": p.get("name"), "style": style(f), **{k: p.get(k) for k in keep}}
        if p.get("popup_html"):
            props["popup_html"] = p["popup_html"]
        out.append({"type": "Feature", "id": f.get("id"), "geometry": geom, "properties": props})
    # style values every feature shares go once, with the layer (riskmap.featureLayer merges them back)
    styles = [o["properties"]["style"] for o in out]
    common = {k: v for k, v in styles[0].items() if all(st.get(k, object()) == v for st in styles)} if styles else {}
    for st in styles:
        for k in common:
            del st[k]
    return FeatureLayer(_collection(out), kind=kind, interactive=interactive, style=common)


def township_layer(conn: Connection, where: Where, *, link_base: str = "") -> folium.FeatureGroup:
    """Townships filled by their rolled-up level."""
    feats = read_features(conn, "township", **where.kw(), limit=MAX_FEATURES, simplify_m=5).features
    for f in feats:
        p = f["properties"]
        note = "示意边界" if p.get("is_illustrative") else None
        p["popup_html"] = _popup(p["name"], [("代码", p["code"]), ("边界", note)], p, score=False,
                                 link=url_path("maps", "township", p["code"], base=link_base))
    fg = folium.FeatureGroup(name="乡镇（按风险着色）", show=True)
    _layer(feats, lambda f: {
        "fillColor": level_colour(f["properties"].get("level")), "color": "#333", "weight": 2,
        "fillOpacity": AREA_OPACITY, "dashArray": "6 4" if f["properties"].get("is_illustrative") else None,
    }).add_to(fg)
    return fg


def grid_layer(conn: Connection, where: Where, *, show: bool, highlight: str | None = None,
               link_base: str = "") -> folium.FeatureGroup:
    """Grid cells filled by level, with their grid officers; a grid page (`highlight`) draws its cell only."""
    feats = read_features(conn, "grid_cell", **where.kw(), limit=MAX_FEATURES, simplify_m=5).features
    if highlight:
        feats = [f for f in feats if f["properties"]["code"] == highlight]
    for f in feats:
        p = f["properties"]
        p["name"] = p.get("name") or p["code"]
        p["popup_html"] = _popup(f"网格 {p['name']}", [("编号", p["code"]), ("网格员", p.get("officer_name")),
                                                      ("电话", p.get("officer_phone"))], p, score=False,
                                 link=url_path("maps", "grid", p["code"], base=link_base))
    fg = folium.FeatureGroup(name="网格（按风险着色）", show=show)
    _layer(feats, lambda f: {
        "fillColor": level_colour(f["properties"].get("level")), "color": "#555",
        "weight": 3 if f["properties"]["code"] == highlight else 0.8, "fillOpacity": AREA_OPACITY,
    }).add_to(fg)
    return fg


def enterprise_layer(conn: Connection, where: Where, *, grid: str | None = None, link_base: str = ""
                     ) -> tuple[folium.FeatureGroup, FeatureLayer | None]:
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
        ], p, link=url_path("maps", "township", p["township_code"], base=link_base)
            if p.get("township_code") else None)
    fg = folium.FeatureGroup(name="企业（按风险着色）", show=True)
    if not feats:
        return fg, None
    # a bubble takes the colour of the worst enterprise inside it and lists the counts per colour on hover
    # (riskmap.clusterIcon, layers/static/mapview.js); the enterprises are drawn only through the cluster
    cluster = plugins.MarkerCluster(name="企业聚合", control=False, icon_create_function="riskmap.clusterIcon",
                                    options={"disableClusteringAtZoom": 14, "maxClusterRadius": 40,
                                             "showCoverageOnHover": False}).add_to(fg)
    layer = _layer(feats, lambda f: {"radius": 7, "weight": 1, "fill": True, "fillOpacity": 0.9, "color": "#222",
                                     "fillColor": level_colour(f["properties"].get("level"))},
                   kind="point", keep=("name", "level"))
    layer.add_to(cluster)
    return fg, layer


def pipeline_layer(conn: Connection, where: Where, *, link_base: str = "", chosen: str | None = None
                   ) -> folium.FeatureGroup:
    """Pipelines (segment colours when the risk engine has segmented them); the `chosen` one of a pipeline page
    is drawn wider over a dark casing so it stands out from its neighbours."""
    fg = folium.FeatureGroup(name="油气管道", show=True)
    segs = _segments(conn, where, link_base=link_base)
    if segs:
        mine = [f for f in segs if chosen and f["properties"]["pipeline_code"] == chosen]
        if mine:
            _layer(mine, lambda f: {"color": "#000000", "weight": 11, "opacity": 0.85},
                   keep=("pipeline_code",)).add_to(fg)
        _layer(segs, lambda f: {
            "color": level_colour(f["properties"].get("level")),
            "weight": 7 if chosen and f["properties"]["pipeline_code"] == chosen else 4},
            keep=("name", "pipeline_code")).add_to(fg)
    else:
        feats = read_features(conn, "pipeline", bbox=where.bbox, limit=MAX_FEATURES).features
        for f in feats:
            p = f["properties"]
            p["popup_html"] = _popup(p["name"], [
                ("编号", p["code"]), ("介质", PIPELINE_MEDIA.get(p["medium"], p["medium"])), ("运营单位", p.get("operator")),
                ("设计压力 MPa", p.get("design_pressure_mpa")), ("最大允许操作压力 MPa", p.get("maop_mpa")),
                ("管径 mm", p.get("outside_diameter_mm")),
                ("投产年份", p.get("commissioning_year")), ("数据来源", p.get("source"))], p, risk=False,
                link=url_path("maps", "pipeline", p["code"], base=link_base))
        _layer(feats, lambda f: {"color": UNASSESSED if f["properties"]["code"] != chosen else "#000000",
                                 "weight": 7 if f["properties"]["code"] == chosen else 3}).add_to(fg)
    return fg


def _segments(conn: Connection, where: Where, *, link_base: str = "") -> list[dict[str, Any]]:
    """Pipeline segments as runs of equal level, when the risk engine has assessed them."""
    feats = segment_runs(conn, **where.kw())
    for f in feats:
        p = f["properties"]
        p["popup_html"] = _popup(f"{p['name']} 第 {p['first_seq']}–{p['last_seq']} 段", [
            ("管道编号", p["pipeline_code"]), ("里程 m", f"{p['from_m']:.0f}–{p['to_m']:.0f}"),
            ("管段数", p["segments"])], p, link=url_path("maps", "pipeline", p["pipeline_code"], base=link_base))
    return feats


def encroachment_layer(conn: Connection, where: Where) -> folium.FeatureGroup:
    """Encroachment points coloured by their register status."""
    feats = read_features(conn, "encroachment", **where.kw(), limit=MAX_FEATURES).features
    for f in feats:
        p = f["properties"]
        p["name"] = p["code"]
        p["popup_html"] = _popup(f"占压点 {p['code']}", [
            ("类型", ENCROACHMENT_KINDS.get(p["kind"], p["kind"])),
            ("状态", ENCROACHMENT_STATUS_NAMES.get(p["status"], p["status"])),
            ("形成时间", p.get("formed_on")), ("整改期限", p.get("deadline")), ("措施", p.get("measure")),
            ("描述", p.get("description"))], p, risk=False)
    fg = folium.FeatureGroup(name="占压点（按整改状态）", show=True)
    if feats:
        _layer(feats, lambda f: {"radius": 5, "weight": 2, "fill": True, "fillOpacity": 1, "color": "#000",
                                 "fillColor": ENCROACHMENT_STATUS_COLOURS.get(f["properties"]["status"], UNASSESSED)},
               kind="point").add_to(fg)
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
            link=url_path("maps", "mine", p["licence_no"], base=link_base))
    fg = folium.FeatureGroup(name="矿山（矿区范围）", show=True)
    # opaque: a mine's colour is its level exactly, never blended with the area beneath
    _layer(feats, lambda f: {"fillColor": level_colour(f["properties"].get("level")),
                             "color": "#4e342e", "weight": 2, "fillOpacity": 1}).add_to(fg)
    work = _workings(conn, where)
    if work:
        _layer(work, lambda f: {"color": WORKINGS, "weight": 2, "dashArray": "4 3",
                                "fill": f["properties"]["part"] == "over",
                                "fillColor": OVER_BOUNDARY if f["properties"]["part"] == "over" else WORKINGS,
                                "fillOpacity": 1 if f["properties"]["part"] == "over" else 0},
               keep=("name", "part")).add_to(fg)
    return fg


_WORKINGS_SQL = """
    SELECT m.licence_no, m.name, part, ST_AsGeoJSON(g, 6) AS geometry, round(ST_Area(ST_Transform(g, c.metric_srid)))
           AS area_m2
    FROM mine m CROSS JOIN county c
    CROSS JOIN LATERAL (VALUES ('workings', m.workings),
                               ('over', ST_CollectionExtract(ST_Difference(m.workings, m.licence_boundary), 3))) v(part, g)
    WHERE m.workings IS NOT NULL AND NOT ST_IsEmpty(g)
      AND (CAST(:t AS text) IS NULL OR m.township_id = (SELECT id FROM township WHERE code = :t))
      AND (CAST(:x0 AS float8) IS NULL OR m.licence_boundary && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4490))
    ORDER BY part DESC, m.licence_no
"""


def _workings(conn: Connection, where: Where) -> list[dict[str, Any]]:
    """Each mine's workings (开采范围, dashed outline) and the part of them outside its licence boundary
    (越界开采, filled), for the mines `mine_layer` draws."""
    x0, y0, x1, y1 = where.bbox or (None, None, None, None)
    rows = conn.execute(text(_WORKINGS_SQL), {"t": where.township, "x0": x0, "y0": y0, "x1": x1, "y1": y1}).all()
    out = []
    for r in rows:
        what = "越界开采部分（采矿许可证范围外）" if r.part == "over" else "开采范围"
        props = {"name": f"{r.name} {what}", "part": r.part}
        props["popup_html"] = _popup(r.name, [("采矿许可证号", r.licence_no), ("图斑", what),
                                              ("面积 m²", f"{r.area_m2:.0f}")], props, risk=False)
        out.append({"type": "Feature", "id": None, "geometry": json.loads(r.geometry), "properties": props})
    return out


def mine_zone_layer(conn: Connection, where: Where, *, show: bool) -> folium.FeatureGroup:
    """禁采区/限采区/可采区 from the mineral-resources plan."""
    feats = read_features(conn, "mine_zone", bbox=where.bbox, limit=MAX_FEATURES, simplify_m=5).features
    for f in feats:
        p = f["properties"]
        p["name"] = p.get("name") or MINE_ZONE_KINDS[p["kind"]]
        p["popup_html"] = _popup(p["name"], [("分区", MINE_ZONE_KINDS[p["kind"]]),
                                             ("依据", p.get("source_document"))], p, risk=False)
    fg = folium.FeatureGroup(name="矿产规划分区", show=show)
    _layer(feats, lambda f: {"color": MINE_ZONE_COLOURS[f["properties"]["kind"]], "weight": 2, "dashArray": "8 4",
                             "fill": False, "fillOpacity": 0}).add_to(fg)
    return fg


def building_layer(conn: Connection, where: Where, *, grid: str | None = None) -> folium.FeatureGroup:
    """Building footprints (township and grid pages only), by use class."""
    feats = read_features(conn, "building", **where.kw(), limit=20_000).features
    if grid:
        ids = set(conn.execute(text(
            "SELECT b.id FROM building b JOIN grid_cell g ON ST_Intersects(g.geom, b.geom) WHERE g.code = :g"),
            {"g": grid}).scalars())
        feats = [f for f in feats if f["id"] in ids]
    for f in feats:
        p = f["properties"]
        # a tooltip, not a popup: a township's thousand footprints keep its page under 500 KB
        use = BUILDING_USES.get(p["use_class"], p["use_class"])
        facts = "，".join(x for x in (use, f"{p['floors']} 层" if p.get("floors") else None,
                                      f"{p['households']} 户" if p.get("households") else None) if x)
        p["name"] = f"{p['name']}（{facts}）" if p.get("name") else facts
    fg = folium.FeatureGroup(name="建筑", show=True)
    _layer(feats, lambda f: {"fillColor": building_colour(f["properties"]["use_class"]),
                             "color": "#616161", "weight": 0.5, "fillOpacity": 1}, keep=()).add_to(fg)
    return fg




def protection_zone_layer(conn: Connection, *, pipeline_code: str | None = None, show: bool = False,
                          bbox: tuple[float, float, float, float] | None = None) -> folium.FeatureGroup:
    """The 5 / 50 / 200 m bands along pipelines (石油天然气管道保护法 Art 30, 35(2), 35(3)), near `bbox`."""
    from geo.encroachment.reports import pipeline_zone_bands

    feats = pipeline_zone_bands(conn, pipeline_code=pipeline_code, bbox=bbox, for_display=True)
    for f in feats:
        p = f["properties"]
        p["name"] = f"{p['pipeline_code']} {p.get('label') or p['zone']}"
        p["popup_html"] = _popup(p["name"], [("管道", p["pipeline_code"]), ("范围", p.get("label"))], p, risk=False)
    fg = folium.FeatureGroup(name="管道保护范围（5/50/200 m）", show=show)
    # bands are drawn beneath the line and take no clicks: a click on the pipeline reaches the pipeline
    _layer(feats, lambda f: {
        "fillColor": ZONE_COLOURS.get(f["properties"]["zone"], UNASSESSED), "color": "#00000000", "weight": 0,
        "fillOpacity": 1}, keep=("name", "zone"), interactive=False).add_to(fg)
    return fg


# --- rivers and pipeline tunnels (石油天然气管道保护法 第三十二条、第三十三条) ---------------------------------

_WATER_SQL = """
    SELECT 'waterway' AS layer, w.id, COALESCE(w.name, w.code, '河流') AS name, w.is_illustrative, w.source,
           ST_AsGeoJSON(ST_SimplifyPreserveTopology(w.geom, 0.00002), 6) AS geometry
    FROM waterway w
    WHERE CAST(:x0 AS float8) IS NULL OR w.geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4490)
    UNION ALL
    SELECT 'tunnel', t.id, COALESCE(t.name, t.code, '管道隧道'), false, t.source, ST_AsGeoJSON(t.geom, 6)
    FROM pipeline_tunnel t
    WHERE CAST(:x0 AS float8) IS NULL OR t.geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4490)
"""


def water_and_tunnel_layer(conn: Connection, where: Where) -> folium.FeatureGroup:
    """Rivers (Art 32: 500 m each side of a pipeline's crossing) and pipeline tunnels (Art 33: 1,000 m each side);
    the layer name says so when any river is illustrative (示意（合成数据）)."""
    x0, y0, x1, y1 = where.bbox or (None, None, None, None)
    rows = conn.execute(text(_WATER_SQL), {"x0": x0, "y0": y0, "x1": x1, "y1": y1}).all()
    feats = []
    for r in rows:
        what = "河流" if r.layer == "waterway" else "管道专用隧道"
        article = "第三十二条：穿越处两侧各 500 米内禁止挖砂、采石、水下爆破等" if r.layer == "waterway" \
            else "第三十三条：两侧各 1000 米内禁止采石、采矿、爆破"
        props = {"name": r.name, "layer": r.layer}
        props["popup_html"] = _popup(r.name, [("类型", what), ("石油天然气管道保护法", article),
                                              ("数据来源", r.source)], props, risk=False)
        feats.append({"type": "Feature", "id": r.id, "geometry": json.loads(r.geometry), "properties": props})
    illustrative = any(r.is_illustrative for r in rows if r.layer == "waterway")
    fg = folium.FeatureGroup(name="河流与管道隧道" + ("（河流为示意（合成数据））" if illustrative else ""), show=True)
    if feats:
        _layer(feats, lambda f: {"color": WATER if f["properties"]["layer"] == "waterway" else TUNNEL,
                                 "weight": 4 if f["properties"]["layer"] == "waterway" else 6,
                                 "dashArray": None if f["properties"]["layer"] == "waterway" else "6 4"}).add_to(fg)
    return fg
