"""The bureau's county: its outline and metric zone, which every import and metric query uses."""

from __future__ import annotations

from sqlalchemy import Connection, text

from geo.config import get_settings
from geo.crs import metric_srid as _zone_for_lon
from geo.errors import NotFound


def metric_srid(conn: Connection) -> int:
    """EPSG code of the county's CGCS2000 Gauss–Krüger zone (set when the county outline is loaded)."""
    srid = conn.execute(text("SELECT metric_srid FROM county WHERE code = :c"),
                        {"c": get_settings().county_code}).scalar()
    if srid is None:
        raise NotFound(f"数据库中没有县区 {get_settings().county_code} 的边界，请先导入县界或运行 riskmap demo load")
    return int(srid)


def upsert_county(conn: Connection, *, code: str, name: str, wkb_hex: str, source: str) -> int:
    """Store (or replace) the county outline (EWKB hex in EPSG:4490); returns its metric SRID."""
    lon = conn.execute(text("SELECT ST_X(ST_Centroid(ST_GeomFromWKB(decode(:g, 'hex'))))"), {"g": wkb_hex}).scalar_one()
    srid = _zone_for_lon(float(lon))
    conn.execute(
        text(
            "INSERT INTO county (code, name, metric_srid, geom, source) "
            "VALUES (:code, :name, :srid, ST_Multi(ST_SetSRID(ST_GeomFromWKB(decode(:g, 'hex')), 4490)), :source) "
            "ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, metric_srid = EXCLUDED.metric_srid, "
            "geom = EXCLUDED.geom, source = EXCLUDED.source"
        ),
        {"code": code, "name": name, "srid": srid, "g": wkb_hex, "source": source},
    )
    return srid
