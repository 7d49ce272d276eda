"""Basemap choice from settings: none, OpenStreetMap, 天地图 (CGCS2000), 高德 (GCJ-02), local MBTiles.

高德 tiles are drawn in GCJ-02, so with that basemap every overlay is shifted to GCJ-02 before it is
drawn (`overlay_shift`); 天地图 is not shifted and its Web-Mercator set ('w') lines up directly.
`tile_origins` lists the hosts the configured basemap loads images from (the pages' CSP img-src).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import folium

from geo.config import Settings

OSM_ATTR = "© OpenStreetMap contributors"
TIANDITU = ("https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
            "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}")


@dataclass(frozen=True)
class Tiles:
    url: str
    attr: str
    name: str
    subdomains: str = "abc"
    overlay: bool = False


def _tiles(s: Settings, *, link_base: str = "") -> list[Tiles]:
    """The tile layers of the configured basemap ("none": no background, for an intranet with no internet)."""
    if s.basemap == "osm":
        return [Tiles("https://tile.openstreetmap.org/{z}/{x}/{y}.png", OSM_ATTR, "OpenStreetMap")]
    if s.basemap == "tianditu" and s.tianditu_key:
        return [Tiles(TIANDITU.replace("{layer}", layer).replace("{key}", s.tianditu_key), "天地图 GS(2024)0650号",
                      name, "01234567", overlay=layer == "cva")
                for layer, name in (("vec", "天地图矢量"), ("cva", "天地图注记"))]
    if s.basemap == "amap":
        return [Tiles("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
                      "高德地图（GCJ-02）", "高德地图", "1234")]
    if s.basemap == "mbtiles" and s.mbtiles_path:
        return [Tiles(f"{link_base}/basemap/{{z}}/{{x}}/{{y}}", "本地底图 MBTiles", "本地底图")]
    return []


def add_basemap(m: folium.Map, s: Settings, *, link_base: str = "", bounds: list[list[float]] | None = None) -> None:
    """The configured basemap, and the offline reference basemap from the county's own data: shown when no
    online or MBTiles basemap is configured, a choice beside it otherwise (not with 高德, whose tiles are GCJ-02).
    `bounds` ([[south, west], [north, east]]): the reference basemap asks for no tile outside them."""
    from layers.reference import ReferenceBasemap

    tiles = _tiles(s, link_base=link_base)
    for t in tiles:
        folium.TileLayer(t.url, attr=t.attr, name=t.name, subdomains=t.subdomains, overlay=t.overlay).add_to(m)
    if not overlay_shift(s):
        ReferenceBasemap(link_base=link_base, show=not tiles, bounds=bounds).add_to(m)


def tile_origins(s: Settings) -> list[str]:
    """Every https origin the basemap's tiles come from ({s} expanded); the app's own tiles are 'self'."""
    out: list[str] = []
    for t in _tiles(s):
        if not t.url.startswith("https://"):
            continue
        for sub in (t.subdomains if "{s}" in t.url else "-"):
            parts = urlsplit(t.url.replace("{s}", sub))
            origin = f"{parts.scheme}://{parts.hostname}"
            if origin not in out:
                out.append(origin)
    return out


def overlay_shift(s: Settings) -> bool:
    """True when overlays must be shifted CGCS2000 → GCJ-02 to line up with the basemap (高德)."""
    return s.basemap == "amap"


def editor_tiles(s: Settings) -> list[dict[str, str]]:
    """The basemap's tile layers for the map editor (/data/edit) as Leaflet options; none with 高德 (GCJ-02),
    whose shifted tiles would make a point placed on them land off its true CGCS2000 position."""
    if overlay_shift(s):
        return []
    return [{"url": t.url, "attr": t.attr, "subdomains": t.subdomains} for t in _tiles(s)]
