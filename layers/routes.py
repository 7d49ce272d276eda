"""Inspection routes on the map: one coloured polyline per team-day, numbered stop markers with popups."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import folium

from geo.config import Settings, get_settings
from geo.crs import wgs84_to_gcj02
from layers import basemap
from layers.assets import localise
from layers.style import level_colour

LatLon = tuple[float, float]

TEAM_COLOURS = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")


def _popup(stop: dict[str, Any], team: str) -> str:
    rows = [("巡查组", team), ("序号", stop["seq"]), ("风险等级", f"{stop['colour_label']}色"),
            ("预计到达", stop["arrival"]), ("服务时长", f"{stop['service_min']} 分钟"), ("地址", stop["address"]),
            ("联系方式", stop["contact"]), ("事由", "；".join(stop["reasons"])), ("路网", stop["snap_note"] or "已吸附")]
    body = "".join(f"<tr><th>{k}</th><td>{html.escape(str(v or ''))}</td></tr>" for k, v in rows)
    return f"<b>{html.escape(stop['name'])}</b><table>{body}</table>"


def _identity(lon: float, lat: float) -> LatLon:
    return lat, lon


def _gcj02(lon: float, lat: float) -> LatLon:
    x, y = wgs84_to_gcj02([lon], [lat])
    return float(y[0]), float(x[0])


def _add_route(group: folium.FeatureGroup, r: dict[str, Any], k: int, at: Callable[[float, float], LatLon]) -> None:
    """One team-day: its road polyline and numbered stop markers (border = the stop's risk colour)."""
    colour = TEAM_COLOURS[int("".join(c for c in r["team"] if c.isdigit()) or k) % len(TEAM_COLOURS)]
    label = f"{r['team']} {r['day']}"
    if r["geometry"]:
        for line in r["geometry"]["coordinates"]:
            folium.PolyLine([at(x, y) for x, y in line], color=colour, weight=4, opacity=0.85,
                            tooltip=f"{label}：{r['km']} 公里，{r['hours']} 小时").add_to(group)
    for s in r["stops"]:
        icon = folium.DivIcon(html=(
            f"<div style='background:{colour};color:#fff;border:2px solid {level_colour(s['colour'])};"
            f"border-radius:50%;width:22px;height:22px;line-height:18px;text-align:center;font-size:11px'>"
            f"{s['seq']}</div>"), icon_size=(22, 22), icon_anchor=(11, 11))
        folium.Marker(at(s["lon"], s["lat"]), icon=icon, tooltip=f"{label} #{s['seq']} {s['name']}",
                      popup=folium.Popup(_popup(s, label), max_width=360)).add_to(group)


def _add_depots_and_dropped(group: folium.FeatureGroup, plan: dict[str, Any],
                            at: Callable[[float, float], LatLon]) -> None:
    depots = {(r["depot_lon"], r["depot_lat"]): r["depot"] for r in plan["routes"]}
    for (lon, lat), name in depots.items():
        folium.CircleMarker(at(lon, lat), radius=9, color="#000", weight=3, fill=True, fill_color="#fff",
                            fill_opacity=1, tooltip=f"驻地：{name}").add_to(group)
    for s in plan["dropped"]:
        folium.CircleMarker(at(s["lon"], s["lat"]), radius=5, color="#555", fill=True, fill_opacity=0.4,
                            tooltip=f"未安排：{s['name']}（{s['dropped_reason']}）").add_to(group)


def route_layer(plan: dict[str, Any], *, show: bool = True, gcj02: bool = False) -> folium.FeatureGroup:
    """All routes of a plan (geo.inspection.plan.get_plan) in one layer: road geometry (EPSG:4490), numbered stops.

    gcj02=True shifts everything to GCJ-02 for the 高德 basemap (layers.basemap.overlay_shift).
    """
    at: Callable[[float, float], LatLon] = _gcj02 if gcj02 else _identity
    group = folium.FeatureGroup(name=f"巡查路线（计划 #{plan['id']}）", show=show)
    for k, r in enumerate(plan["routes"]):
        _add_route(group, r, k, at)
    _add_depots_and_dropped(group, plan, at)
    return group


def route_layers_by_day(plan: dict[str, Any], *, gcj02: bool = False) -> list[folium.FeatureGroup]:
    """One layer per working day (first day shown), plus depots and the stops left out, for the plan page."""
    at: Callable[[float, float], LatLon] = _gcj02 if gcj02 else _identity
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


def route_map_page(plan: dict[str, Any], *, asset_base: str = "/vendor", settings: Settings | None = None) -> str:
    """A page with the plan's routes over the configured basemap, fitted to the routes, with local assets."""
    s = settings or get_settings()
    m = folium.Map(tiles=None, control_scale=True, max_zoom=19)
    m.get_root().header.add_child(folium.Element(f"<title>巡查路线 {plan['start']} 至 {plan['end']}</title>"))
    basemap.add_basemap(m, s)
    for group in route_layers_by_day(plan, gcj02=basemap.overlay_shift(s)):
        group.add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    pts = [(s_["lat"], s_["lon"]) for r in plan["routes"] for s_ in r["stops"]]
    pts += [(r["depot_lat"], r["depot_lon"]) for r in plan["routes"]]
    if pts:
        m.fit_bounds([[min(p[0] for p in pts), min(p[1] for p in pts)],
                      [max(p[0] for p in pts), max(p[1] for p in pts)]])
    else:
        m.location = [39.38, 111.15]
        m.options["zoom"] = 10
    localise(m.get_root(), base_url=asset_base)
    return m.get_root().render()
