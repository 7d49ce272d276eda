"""Match a file's column headers to a layer's fields (Chinese or English, full- or half-width)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from geo.io.layers import Layer

LON_HEADERS = ("经度", "lon", "lng", "long", "longitude", "x", "东经", "经度(°)")
LAT_HEADERS = ("纬度", "lat", "latitude", "y", "北纬", "纬度(°)")
WKT_HEADERS = ("几何(WKT)", "几何", "wkt", "geometry", "geom", "空间位置(WKT)")
ROW_HEADERS = ("行号", "序号", "fid", "id")
"""Columns that number rows in a ledger; neither data nor an unknown column."""

_UNIT = re.compile(r"\((?:[^()]*)\)$")


def normalize_header(header: object) -> str:
    """Header key for matching: NFKC (full-width → half-width), lower case, no spaces."""
    text = unicodedata.normalize("NFKC", str(header)).strip().lower()
    return re.sub(r"\s+", "", text)


def _keys(header: str) -> tuple[str, ...]:
    key = normalize_header(header)
    bare = _UNIT.sub("", key)
    return (key, bare) if bare and bare != key else (key,)


@dataclass(frozen=True)
class ColumnMap:
    """Which file column feeds each field, and the lon/lat/WKT columns of a table."""

    fields: dict[str, str]
    lon: str | None
    lat: str | None
    wkt: str | None
    unknown: tuple[str, ...]


def _alias_index(layer: Layer) -> dict[str, str]:
    """Normalised alias → field name, for every header, column name and shapefile name of a layer."""
    index: dict[str, str] = {}
    for f in layer.fields:
        for alias in (*f.headers, f.name, f.shp_name):
            for key in _keys(alias):
                index.setdefault(key, f.name)
    return index


def is_known_header(layer: Layer, header: object) -> bool:
    """True when a header names a field of the layer or a coordinate column (for finding the header row)."""
    index = _alias_index(layer)
    extra = {normalize_header(h) for h in (*LON_HEADERS, *LAT_HEADERS, *WKT_HEADERS)}
    return any(k in index or k in extra for k in _keys(str(header)))


DBF_NAME_BYTES = 10
"""dBase field names hold 10 bytes: GDAL cuts 统一社会信用代码 to 统一社会信 (GBK) or 统一社 (UTF-8)."""


def _truncated_match(index: dict[str, str], key: str) -> str | None:
    """The field whose alias a shapefile's cut-off field name begins (only when the name is cut off)."""
    if len(key) < 2 or max(len(key.encode("gbk", "replace")), len(key.encode("utf-8"))) < DBF_NAME_BYTES - 1:
        return None
    found = {name for alias, name in index.items() if alias.startswith(key) and alias != key}
    return found.pop() if len(found) == 1 else None


def map_columns(layer: Layer, headers: list[str], *, ignore: frozenset[str] = frozenset(),
                dbf: bool = False) -> ColumnMap:
    """Map file headers to fields: exact aliases, aliases without a trailing (unit), cut-off dBase names."""
    index = _alias_index(layer)
    fields: dict[str, str] = {}
    lon = lat = wkt = None
    unknown: list[str] = []
    coord = {
        "lon": {normalize_header(h) for h in LON_HEADERS},
        "lat": {normalize_header(h) for h in LAT_HEADERS},
        "wkt": {normalize_header(h) for h in WKT_HEADERS},
    }
    rows = {normalize_header(h) for h in ROW_HEADERS}
    for header in headers:
        keys = _keys(header)
        name = next((index[k] for k in keys if k in index), None)
        if name is None and dbf:
            name = _truncated_match(index, keys[0])
        if name is not None and name not in fields:
            fields[name] = header
        elif any(k in coord["lon"] for k in keys) and lon is None:
            lon = header
        elif any(k in coord["lat"] for k in keys) and lat is None:
            lat = header
        elif any(k in coord["wkt"] for k in keys) and wkt is None:
            wkt = header
        elif header not in ignore and not any(k in rows for k in keys):
            unknown.append(header)
    return ColumnMap(fields=fields, lon=lon, lat=lat, wkt=wkt, unknown=tuple(unknown))
