"""Colours and Chinese labels of the four risk levels and of statuses, shared by every layer and legend."""

from __future__ import annotations

LEVEL_COLOURS = {"red": "#e60012", "orange": "#ff8c00", "yellow": "#ffd400", "blue": "#1f6fd6"}
UNASSESSED = "#9e9e9e"
LEVEL_NAMES = {"red": "重大风险（红）", "orange": "较大风险（橙）", "yellow": "一般风险（黄）", "blue": "低风险（蓝）"}

ENCROACHMENT_STATUS_COLOURS = {
    "found": "#d500f9", "confirmed": "#6a1b9a", "rectifying": "#00b8d4", "rectified": "#00c853", "closed": "#5d4037",
}
"""占压点 status colours: none of them is a risk colour, so a dot never reads as a risk level (own legend)."""
ENCROACHMENT_STATUS_NAMES = {
    "found": "发现", "confirmed": "认定", "rectifying": "整改中", "rectified": "已整改", "closed": "销号",
}
MINE_ZONE_COLOURS = {"no_mining_zone": "#b71c1c", "restricted_zone": "#f9a825", "mining_zone": "#43a047"}
"""禁采区/限采区/可采区 outlines (drawn unfilled, so they never tint the risk colours beneath)."""
MINE_ZONE_NAMES = {"no_mining_zone": "禁采区", "restricted_zone": "限采区", "mining_zone": "可采区"}
BUILDING_COLOURS = {"school": "#7b1fa2", "hospital": "#c2185b", "market": "#8d6e63", "industrial": "#546e7a",
                    "fuel_station": "#263238", "oil_depot": "#263238"}
BUILDING_OTHER = "#bdbdbd"
BUILDING_LEGEND = (("#7b1fa2", "学校"), ("#c2185b", "医院"), ("#8d6e63", "商场/市场"), ("#546e7a", "工业建筑"),
                   ("#263238", "加油站/油库"), (BUILDING_OTHER, "住宅及其他"))
ZONE_COLOURS = {"zone_5m": "#455a64", "zone_50m": "#78909c", "zone_200m": "#b0bec5"}
"""Pipeline protection bands in greys, under the line and never taking its clicks."""
ZONE_NAMES = {"zone_5m": "两侧 5 m", "zone_50m": "两侧 50 m", "zone_200m": "两侧 200 m"}
OVER_BOUNDARY = "#000000"
"""越界开采: the part of a mine's workings outside its licensed boundary."""
WORKINGS = "#3e2723"
WATER = "#4fc3f7"
"""Rivers in a light sky blue, so a river never reads as a low-risk (blue) pipeline."""
TUNNEL = "#212121"
AREA_OPACITY = 0.35
"""The one filled area layer (township or grid) is drawn at this opacity; the legend's swatches match it."""


def level_colour(level: str | None) -> str:
    return LEVEL_COLOURS.get(level or "", UNASSESSED)


def building_colour(use: str | None) -> str:
    return BUILDING_COLOURS.get(use or "", BUILDING_OTHER)
