"""Colours and Chinese labels of the four risk levels and of statuses, shared by every layer and legend."""

from __future__ import annotations

LEVEL_COLOURS = {"red": "#e60012", "orange": "#ff8c00", "yellow": "#ffd400", "blue": "#1f6fd6"}
UNASSESSED = "#9e9e9e"
LEVEL_NAMES = {"red": "重大风险（红）", "orange": "较大风险（橙）", "yellow": "一般风险（黄）", "blue": "低风险（蓝）"}

ENCROACHMENT_STATUS_COLOURS = {
    "found": "#e60012", "confirmed": "#ff8c00", "rectifying": "#ffd400", "rectified": "#2e9d4c", "closed": "#607d8b",
}
ENCROACHMENT_STATUS_NAMES = {
    "found": "发现", "confirmed": "认定", "rectifying": "整改中", "rectified": "已整改", "closed": "销号",
}
MINE_ZONE_COLOURS = {"no_mining_zone": "#b71c1c", "restricted_zone": "#f9a825", "mining_zone": "#43a047"}


def level_colour(level: str | None) -> str:
    return LEVEL_COLOURS.get(level or "", UNASSESSED)
