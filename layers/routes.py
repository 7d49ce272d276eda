"""Inspection routes on the map: one coloured line per team-day, numbered stops with popups (GeoJSON layers)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import folium

from geo.config import Settings, get_settings
from geo.crs import wgs84_to_gcj02
from layers import basemap
from layers.assets import localise
from layers.elements import FeatureLayer, RiskMap
from layers.style import level_colour
from layers.web import macro, render

LonLat = tuple[float, float]

SHEET_COLUMNS = ("序号", "企业名称", "地址", "行业类别", "风险等级", "预计到达", "服务时长（分钟）", "联系方式", "巡查事由")
TEAM_COLOURS = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")
_POPUP = macro("popups.html", "popup")


def _popup(stop: dict[str, Any], team: str) -> str:
    rows = [("巡查组", team), ("序号", stop["seq"]), ("风险等级", f"{stop['colour_label']}色"),
            ("预计到达", stop["arrival"]), ("服务时长", f"{stop['service_min']} 分钟"), ("地址", stop["address"]),
            ("联系方式", stop["contact"]), ("事由", "；".join(stop["reasons"])), ("路网", stop["snap_note"] or "已吸附")]
    return str(_POPUP(stop["name"], rows))


def _identity(lon: float, lat: float) -> LonLat:
    return lon, lat


def _gcj02(lon: float, lat: float) -> LonLat:
    x, y = wgs84_to_gcj02([lon], [lat])
    return float(x[0]), float(y[0])


def _point(at: Callable[[float, float], LonLat], lon: float, lat: float, props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": list(at(lon, lat))}, "properties": props}


def _add_route(group: folium.FeatureGroup, r: dict[str, Any], k: int, at: Callable[[float, float], LonLat]) -> None:
    """One team-day: its road lines and numbered stop markers (border = the stop's risk colour)."""
    colour = TEAM_COLOURS[int("".join(c for c in r["team"] if c.isdigit()) or k) % len(TEAM_COLOURS)]
    label = f"{r['team']} {r['day']}"
    if r["geometry"]:
        lines = [{"type": "Feature", "geometry": {"type": "LineString",
                                                  "coordinates": [list(at(x, y)) for x, y in line]},
                  "properties": {"tooltip": f"{label}：{r['km']} 公里，{r['hours']} 小时",
                                 "style": {"color": colour, "weight": 4, "opacity": 0.85}}}
                 for line in r["geometry"]["coordinates"]]
        FeatureLayer(lines).add_to(group)
    stops = [_point(at, s["lon"], s["lat"], {
        "seq": s["seq"], "team_colour": colour, "level_colour": level_colour(s["colour"]),
        "tooltip": f"{label} #{s['seq']} {s['name']}", "popup_html": _popup(s, label)}) for s in r["stops"]]
    if stops:
        FeatureLayer(stops, kind="stop").add_to(group)


def _add_depots_and_dropped(group: folium.FeatureGroup, plan: dict[str, Any],
                            at: Callable[[float, float], LonLat]) -> None:
    depots = {(r["depot_lon"], r["depot_lat"]): r["depot"] for r in plan["routes"]}
    points = [_point(at, lon, lat, {"tooltip": f"驻地：{name}", "style": {
        "radius": 9, "color": "#000", "weight": 3, "fill": True, "fillColor": "#fff", "fillOpacity": 1}})
        for (lon, lat), name in depots.items()]
    points += [_point(at, s["lon"], s["lat"], {"tooltip": f"未安排：{s['name']}（{s['dropped_reason']}）", "style": {
        "radius": 5, "color": "#555", "fill": True, "fillOpacity": 0.4}}) for s in plan["dropped"]]
    if points:
        FeatureLayer(points, kind="point").add_to(group)


def route_layer(plan: dict[str, Any], *, show: bool = True, gcj02: bool = False) -> folium.FeatureGroup:
    """All routes of a plan (geo.inspection.plan.get_plan) in one layer: road geometry (EPSG:4490), numbered stops.

    gcj02=True shifts everything to GCJ-02 for the 高德 basemap (layers.basemap.overlay_shift).
    """
    at: Callable[[float, float], LonLat] = _gcj02 if gcj02 else _identity
    group = folium.FeatureGroup(name=f"巡查路线（计划 #{plan['id']}）", show=show)
    for k, r in enumerate(plan["routes"]):
        _add_route(group, r, k, at)
    _add_depots_and_dropped(group, plan, at)
    return group


def route_layers_by_day(plan: dict[str, Any], *, gcj02: bool = False) -> list[folium.FeatureGroup]:
    """One layer per working day (first day shown), plus depots and the stops left out, for the plan page."""
    at: Callable[[float, float], LonLat] = _gcj02 if gcj02 else _identity
    days = sorted({r["day"] for r in plan["routes"]})
    groups = []
    for n, day in enumerate(days):
        group = folium.FeatureGroup(name=f"{day} 路线", show=n == 0)
        for k, r in enumerate(plan["routes"]):
            if r["day"] == day:
                _add_route(group, r, k, at)
        groups.append(group)
    extra = folium.FeatureGroup(name="驻地与未安排的企业")
    _add_depots_and_dropped(extra, plan, at)
    return [*groups, extra]


def route_map(plan: dict[str, Any], *, asset_base: str = "/vendor", settings: Settings | None = None) -> RiskMap:
    """The plan's routes over the configured basemap, fitted to the routes, with local assets."""
    s = settings or get_settings()
    m = RiskMap(f"巡查路线 {plan['start']} 至 {plan['end']}", tiles=None, control_scale=True, max_zoom=19)
    basemap.add_basemap(m, s)
    for group in route_layers_by_day(plan, gcj02=basemap.overlay_shift(s)):
        group.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    pts = [(s_["lat"], s_["lon"]) for r in plan["routes"] for s_ in r["stops"]]
    pts += [(r["depot_lat"], r["depot_lon"]) for r in plan["routes"]]
    if pts:
        m.initial_bounds = [[min(p[0] for p in pts), min(p[1] for p in pts)],
                            [max(p[0] for p in pts), max(p[1] for p in pts)]]
    else:
        m.location = [39.38, 111.15]
        m.options["zoom"] = 10
    localise(m.get_root(), base_url=asset_base)
    return m


def route_map_page(plan: dict[str, Any], *, nonce: str = "", asset_base: str = "/vendor",
                   static_base: str = "/static", settings: Settings | None = None) -> str:
    """The route map page as one HTML string (inline script carrying `nonce`)."""
    return route_map(plan, asset_base=asset_base, settings=settings).get_root().render(nonce=nonce,
                                                                                       static_base=static_base)


def route_sheet_page(plan: dict[str, Any], *, nonce: str = "", user: str | None = None) -> str:
    """The printable route sheet (one section per team and day), from layers/templates/route_sheet.html."""
    title = f"巡查路线单 {plan['start']} 至 {plan['end']}（计划 #{plan['id']}）"
    return render("route_sheet.html", plan=plan, title=title, columns=SHEET_COLUMNS, nonce=nonce, user=user)


def team_plan(plan: dict[str, Any], team: str | None) -> dict[str, Any]:
    """The plan with only `team`'s routes (all of them when team is None); the stops left out stay."""
    if team is None:
        return plan
    return {**plan, "routes": [r for r in plan["routes"] if r["team"] == team]}


def route_map_parts(plan: dict[str, Any], *, team: str | None = None, asset_base: str = "/vendor",
                    settings: Settings | None = None) -> dict[str, str]:
    """One team's routes as the three pieces a workbench page embeds: header (assets, style), the map's
    html and its script (to run under the page's nonce). Folium's own output, rendered as the map page does."""
    m = route_map(team_plan(plan, team), asset_base=asset_base, settings=settings)
    figure = m.get_root()
    for child in figure._children.values():
        child.render()
    return {"header": figure.header.render(), "html": figure.html.render(), "script": figure.script.render()}


def team_colour(team: str, k: int = 0) -> str:
    """The colour of a team's routes on the map (its number picks it), for the page's team key."""
    return TEAM_COLOURS[int("".join(c for c in team if c.isdigit()) or k) % len(TEAM_COLOURS)]
