"""Basemap choice from settings: none, OpenStreetMap, 天地图 (CGCS2000), 高德 (GCJ-02), local MBTiles.

高德 tiles are drawn in GCJ-02, so with that basemap every overlay is shifted to GCJ-02 before it is
drawn (`overlay_shift`); 天地图 is not shifted and its Web-Mercator set ('w') lines up directly.
"""

from __future__ import annotations

import folium

from geo.config import Settings

OSM_ATTR = "© OpenStreetMap contributors"


def add_basemap(m: folium.Map, s: Settings, *, link_base: str = "") -> None:
    if s.basemap == "osm":
        folium.TileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", attr=OSM_ATTR, name="OpenStreetMap").add_to(m)
    elif s.basemap == "tianditu" and s.tianditu_key:
        for layer, name in (("vec", "天地图矢量"), ("cva", "天地图注记")):
            folium.TileLayer(
                f"https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
                f"&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}"
                f"&TILECOL={{x}}&tk={s.tianditu_key}",
                attr="天地图 GS(2024)0650号", name=name, subdomains="01234567", overlay=layer == "cva",
            ).add_to(m)
    elif s.basemap == "amap":
        folium.TileLayer(
            "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
            attr="高德地图（GCJ-02）", name="高德地图", subdomains="1234",
        ).add_to(m)
    elif s.basemap == "mbtiles" and s.mbtiles_path:
        folium.TileLayer(f"{link_base}/basemap/{{z}}/{{x}}/{{y}}", attr="本地底图 MBTiles", name="本地底图").add_to(m)
    # "none": no background at all, which works on an intranet with no internet


def overlay_shift(s: Settings) -> bool:
    """True when overlays must be shifted CGCS2000 → GCJ-02 to line up with the basemap (高德)."""
    return s.basemap == "amap"
