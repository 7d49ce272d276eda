"""Source coordinate systems of imported files, and their conversion to storage CGCS2000 (EPSG:4490).

Accepted: CGCS2000 and WGS 84 lon/lat taken as is (they agree to well under 1 m);
CGCS2000 Gauss–Krüger zones EPSG:4491–4554 (6° and 3°, with or without zone prefix) projected back
with pyproj; GCJ-02 (高德/腾讯) only when declared, shifted with geo.crs. A file without CRS whose
numbers look like projected metres is refused rather than guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from geo.crs import geometries_gcj02_to_wgs84
from geo.errors import InvalidInput

GCJ02 = "gcj02"
GEOGRAPHIC_EPSG = (4490, 4326, 4479, 4480)
"""CGCS2000 (2-D, geocentric-derived 3-D) and WGS 84 lon/lat: stored as is."""
GK_EPSG = range(4491, 4555)
"""CGCS2000 / Gauss–Krüger: 6° zones 13–23 (4491–4501, prefixed), CM 75–135 (4502–4512), 3° zones
25–45 prefixed (4513–4533), 3° CM 75–135 without prefix (4534–4554)."""
MAX_COORDINATE = 1e9
"""No supported CRS has coordinates this large (prefixed Gauss–Krüger eastings stay below 5e7)."""
_GK6_PREFIXED_FIRST = (13, 4491)
_GK3_PREFIXED_FIRST = (25, 4513)


@dataclass(frozen=True)
class SourceCrs:
    """What the coordinates of a file are in: a pyproj CRS, or GCJ-02 lon/lat."""

    crs: CRS | None
    gcj02: bool = False

    def describe(self) -> str:
        if self.gcj02:
            return "GCJ-02（火星坐标）"
        if self.crs is None:
            return "未声明（按 CGCS2000 经纬度）"
        epsg = self.crs.to_epsg(min_confidence=70)
        return f"EPSG:{epsg} {self.crs.name}" if epsg else self.crs.name


def parse_crs_option(value: str | None) -> SourceCrs | None:
    """The --crs option: None/'auto' → detect from the file; 'gcj02'; or any EPSG/WKT pyproj reads."""
    if value is None or value.strip().lower() in ("", "auto"):
        return None
    text = value.strip()
    if text.lower().replace("-", "").replace("_", "") in ("gcj02", "gcj", "火星坐标", "高德"):
        return SourceCrs(None, gcj02=True)
    try:
        return SourceCrs(CRS.from_user_input(text))
    except CRSError:
        raise InvalidInput(f"无法识别的坐标系 {value}（示例：EPSG:4490、EPSG:4326、EPSG:4546、gcj02）") from None


def usable(coords: np.ndarray) -> np.ndarray:
    """Per coordinate pair: finite and within MAX_COORDINATE (the rest are refused row by row)."""
    with np.errstate(invalid="ignore"):
        return np.asarray(np.isfinite(coords).all(axis=1) & (np.abs(coords) < MAX_COORDINATE).all(axis=1))


def _finite_bounds(geoms: np.ndarray) -> tuple[float, float, float, float] | None:
    """Bounds (minx, miny, maxx, maxy) of the finite coordinates of present, non-empty geometries."""
    present = geoms[~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)] if len(geoms) else geoms
    if len(present) == 0:
        return None
    coords = shapely.get_coordinates(present)
    coords = coords[usable(coords)]
    if len(coords) == 0:
        return None
    return (float(coords[:, 0].min()), float(coords[:, 1].min()), float(coords[:, 0].max()),
            float(coords[:, 1].max()))


def _zone_hint(bounds: tuple[float, float, float, float]) -> str:
    """Which EPSG code projected X values suggest (zone prefix of Gauss–Krüger eastings)."""
    x = bounds[0] / 2 + bounds[2] / 2  # no overflow for 1e308
    if 1e7 <= x < 1e9:
        zone = int(x // 1e6)
        if _GK3_PREFIXED_FIRST[0] <= zone <= 45:
            return f"（X 坐标带号 {zone}，可能是 EPSG:{_GK3_PREFIXED_FIRST[1] + zone - _GK3_PREFIXED_FIRST[0]}）"
        if _GK6_PREFIXED_FIRST[0] <= zone <= 23:
            return f"（X 坐标带号 {zone}，可能是 EPSG:{_GK6_PREFIXED_FIRST[1] + zone - _GK6_PREFIXED_FIRST[0]}）"
    return "（不带带号的 3° 带为 EPSG:4534–4554，河曲县为 EPSG:4546）"


def projected_without_crs(bounds: tuple[float, float, float, float]) -> InvalidInput:
    """The error for numbers that look like projected metres while the file declares none (or lon/lat)."""
    return InvalidInput(
        f"坐标数值（X {bounds[0]:.0f}–{bounds[2]:.0f}，Y {bounds[1]:.0f}–{bounds[3]:.0f}）像是投影坐标（米），"
        f"不是经纬度，而文件未声明（或被指定为经纬度）坐标系。请用 --crs 指定投影坐标系，"
        f"例如 --crs EPSG:4546{_zone_hint(bounds)}"
    )


def resolve_source(declared: SourceCrs | None, file_crs: CRS | None) -> SourceCrs:
    """Declared CRS wins over the file's; a file's unsupported CRS is refused with a Chinese message."""
    source = declared or SourceCrs(file_crs)
    if source.gcj02 or source.crs is None:
        return source
    crs = source.crs
    epsg = crs.to_epsg(min_confidence=70)
    if epsg in GEOGRAPHIC_EPSG or (crs.is_geographic and _is_cgcs_or_wgs(crs)):
        return SourceCrs(CRS.from_epsg(4490) if epsg != 4326 else crs)
    if (epsg in GK_EPSG) or (crs.is_projected and _is_cgcs_or_wgs(crs)):
        return source
    raise InvalidInput(
        f"不支持的坐标系 {source.describe()}；支持 CGCS2000 经纬度 EPSG:4490、WGS 84 EPSG:4326、"
        "CGCS2000 高斯–克吕格投影 EPSG:4491–4554，以及声明的 GCJ-02（--crs gcj02）。"
        "西安80、北京54 等坐标系请先用专业软件按控制点转换为 CGCS2000"
    )


def _is_cgcs_or_wgs(crs: CRS) -> bool:
    """True for CRSs on the CGCS2000 or WGS 84 datum (they agree to well under 1 m)."""
    datum = (crs.datum.name if crs.datum else "").lower()
    return "china" in datum and "2000" in datum or "world geodetic system 1984" in datum or "wgs_1984" in datum


def projected_share(geoms: np.ndarray) -> float:
    """Share of finite coordinates beyond ±180: near 1 for projected metres, 0 for lon/lat."""
    coords = shapely.get_coordinates(geoms)
    coords = coords[usable(coords)]
    if len(coords) == 0:
        return 0.0
    return float((np.abs(coords) > 180).any(axis=1).mean())


def to_storage(geoms: np.ndarray, source: SourceCrs, *, max_projected_share: float = 0.5) -> np.ndarray:
    """Geometries in `source` → 2-D CGCS2000 lon/lat (EPSG:4490); refuses metres posing as degrees.

    A few out-of-range rows are left for the row checks (outside the county, lon/lat swapped).
    """
    geoms = np.asarray(geoms, dtype=object)
    if (shapely.has_z(geoms) | shapely.has_m(geoms)).any():  # force_2d copies every geometry: only when needed
        geoms = shapely.force_2d(geoms)
    bounds = _finite_bounds(geoms)
    if bounds is None:
        return geoms
    share = projected_share(geoms)
    geographic = source.gcj02 or source.crs is None or source.crs.is_geographic
    if geographic and share > max_projected_share:
        raise projected_without_crs(bounds)
    if source.gcj02:
        return geometries_gcj02_to_wgs84(geoms)
    if source.crs is None or source.crs.is_geographic:
        return geoms
    if share == 0.0:
        raise InvalidInput(f"文件声明为投影坐标系 {source.describe()}，但坐标数值像是经纬度；请检查 --crs")
    transformer = Transformer.from_crs(source.crs, CRS.from_epsg(4490), always_xy=True)

    def project(xy: np.ndarray) -> np.ndarray:
        lon, lat = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geoms, project)
