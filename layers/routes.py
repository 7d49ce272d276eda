"""Inspection routes on the map: one coloured polyline per team-day, numbered stop markers with popups."""

from __future__ import annotations

import html
from typing import Any

import folium

from layers.style import level_colour

TEAM_COLOURS = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")


def _popup(stop: dict[str, Any], team: str) -> str:
    rows = [("巡查组", team), ("序号", stop["seq"]), ("风险等级", f"{stop['colour_label']}色"),
            ("预计到达", stop["arrival"]), ("服务时长", f"{stop['service_min']} 分钟"), ("地址", stop["address"]),
            ("联系方式", stop["contact"]), ("事由", "；".join(stop["reasons"])), ("路网", stop["snap_note"] or "已吸附")]
    body = "".join(f"<tr><th>{k}</th><td>{html.escape(str(v or ''))}</td></tr>" for k, v in rows)
    return f"<b>{html.escape(stop['name'])}</b><table>{body}</table>"


def route_layer(plan: dict[str, Any], *, show: bool = True) -> folium.FeatureGroup:
    """All routes of a plan (geo.inspection.plan.get_plan): road geometry in EPSG:4490 lon/lat, numbered stops."""
    group = folium.FeatureGroup(name=f"巡查路线（计划 #{plan['id']}）", show=show)
    for k, r in enumerate(plan["routes"]):
        colour = TEAM_COLOURS[int("".join(c for c in r["team"] if c.isdigit()) or k) % len(TEAM_COLOURS)]
        label = f"{r['team']} {r['day']}"
        if r["geometry"]:
            for line in r["geometry"]["coordinates"]:
                folium.PolyLine([(y, x) for x, y in line], color=colour, weight=4, opacity=0.85,
                                tooltip=f"{label}：{r['km']} 公里，{r['hours']} 小时").add_to(group)
        for s in r["stops"]:
            icon = folium.DivIcon(html=(
                f"<div style='background:{colour};color:#fff;border:2px solid {level_colour(s['colour'])};"
                f"border-radius:50%;width:22px;height:22px;line-height:18px;text-align:center;font-size:11px'>"
                f"{s['seq']}</div>"), icon_size=(22, 22), icon_anchor=(11, 11))
            folium.Marker((s["lat"], s["lon"]), icon=icon, tooltip=f"{label} #{s['seq']} {s['name']}",
                          popup=folium.Popup(_popup(s, label), max_width=360)).add_to(group)
    depots = {(r["depot_lon"], r["depot_lat"]): r["depot"] for r in plan["routes"]}
    for (lon, lat), name in depots.items():
        folium.Marker((lat, lon), tooltip=f"驻地：{name}", icon=folium.Icon(color="black", icon="home")).add_to(group)
    for s in plan["dropped"]:
        folium.CircleMarker((s["lat"], s["lon"]), radius=5, color="#555", fill=True, fill_opacity=0.4,
                            tooltip=f"未安排：{s['name']}（{s['dropped_reason']}）").add_to(group)
    return group


def route_map_page(plan: dict[str, Any]) -> str:
    """A page with just the plan's routes over OpenStreetMap (fits the routes' extent)."""
    m = folium.Map(tiles="OpenStreetMap", control_scale=True)
    m.get_root().header.add_child(folium.Element(f"<title>巡查路线 {plan['start']} 至 {plan['end']}</title>"))
    route_layer(plan).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    pts = [(s["lat"], s["lon"]) for r in plan["routes"] for s in r["stops"]]
    pts += [(r["depot_lat"], r["depot_lon"]) for r in plan["routes"]]
    if pts:
        m.fit_bounds([[min(p[0] for p in pts), min(p[1] for p in pts)], [max(p[0] for p in pts),
                                                                       max(p[1] for p in pts)]])
    return m.get_root().render()
