"""Coordinate systems: CGCS2000 storage, the metric Gauss–Krüger zone, and GCJ-02 ↔ WGS 84.

Storage is EPSG:4490 (CGCS2000 geographic); CGCS2000 and WGS 84 agree to well under 1 m, so
EPSG:4326 input is taken as is (CGCS2000 and WGS 84 agree to well under 1 m). Distances, areas and buffers are computed in
the CGCS2000 3-degree Gauss–Krüger zone whose central meridian is nearest the data.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

STORAGE_SRID = 4490

# EPSG:4534 is "CGCS2000 / 3-degree Gauss-Kruger CM 75E"; each next code moves the CM by 3°, to 135°E.
_GK3_FIRST_SRID = 4534
_GK3_FIRST_CM = 75


def metric_srid(lon: float) -> int:
    """EPSG code of the CGCS2000 3° Gauss–Krüger zone (no false-easting prefix) for a longitude."""
    cm = 3 * round(lon / 3)
    cm = min(max(cm, _GK3_FIRST_CM), 135)
    return _GK3_FIRST_SRID + (cm - _GK3_FIRST_CM) // 3


# --- GCJ-02 (constants and series as in the published algorithm) ---------------
_A = 6378245.0
_EE = 0.00669342162296594323
# "Out of China" box: eviltransform's (lng 72.004–137.8347, lat 0.8293–55.8271).
_CHINA_LNG = (72.004, 137.8347)
_CHINA_LAT = (0.8293, 55.8271)


def _in_china(lng: NDArray[np.float64], lat: NDArray[np.float64]) -> NDArray[np.bool_]:
    return (lng >= _CHINA_LNG[0]) & (lng <= _CHINA_LNG[1]) & (lat >= _CHINA_LAT[0]) & (lat <= _CHINA_LAT[1])


def _delta(lng: NDArray[np.float64], lat: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """GCJ-02 offsets (Δlng, Δlat) in degrees at WGS 84 positions."""
    x = lng - 105.0
    y = lat - 35.0
    pi = math.pi
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x)) + common
    d_lat += (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    d_lat += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    d_lng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x)) + common
    d_lng += (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    d_lng += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    rad_lat = lat / 180.0 * pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * pi)
    d_lng = (d_lng * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * pi)
    inside = _in_china(lng, lat)
    return np.where(inside, d_lng, 0.0), np.where(inside, d_lat, 0.0)


def wgs84_to_gcj02(lng: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """WGS 84 (≈ CGCS2000) → GCJ-02, degrees; points outside China are returned unchanged."""
    lng_a = np.asarray(lng, dtype=float)
    lat_a = np.asarray(lat, dtype=float)
    d_lng, d_lat = _delta(lng_a, lat_a)
    return lng_a + d_lng, lat_a + d_lat


def gcj02_to_wgs84(lng: ArrayLike, lat: ArrayLike, *, tolerance_deg: float = 1e-9) -> tuple[
    NDArray[np.float64], NDArray[np.float64]
]:
    """GCJ-02 → WGS 84 by fixed-point iteration (converges to < 1e-9°, i.e. millimetres)."""
    g_lng = np.asarray(lng, dtype=float)
    g_lat = np.asarray(lat, dtype=float)
    w_lng, w_lat = g_lng.copy(), g_lat.copy()
    for _ in range(30):
        f_lng, f_lat = wgs84_to_gcj02(w_lng, w_lat)
        e_lng, e_lat = f_lng - g_lng, f_lat - g_lat
        w_lng = w_lng - e_lng
        w_lat = w_lat - e_lat
        if np.all(np.abs(e_lng) < tolerance_deg) and np.all(np.abs(e_lat) < tolerance_deg):
            break
    return w_lng, w_lat


def _transform_geometries(geoms: ArrayLike, fn: object) -> NDArray[np.object_]:
    def xy(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        lng, lat = fn(coords[:, 0], coords[:, 1])  # type: ignore[operator]
        return np.column_stack([lng, lat])

    return shapely.transform(np.asarray(geoms, dtype=object), xy)


def geometries_gcj02_to_wgs84(geoms: ArrayLike) -> NDArray[np.object_]:
    """Shift shapely geometries from GCJ-02 to WGS 84 (CGCS2000)."""
    return _transform_geometries(geoms, gcj02_to_wgs84)


def geometries_wgs84_to_gcj02(geoms: ArrayLike) -> NDArray[np.object_]:
    """Shift shapely geometries from WGS 84 (CGCS2000) to GCJ-02, e.g. to overlay 高德 tiles."""
    return _transform_geometries(geoms, wgs84_to_gcj02)
