"""A synthetic county for the encroachment benchmark when bench.generate is not available.

Same shape as the issue's ×1 county: 200,000 building footprints and 1,000 km of 500-vertex pipelines
per unit of scale, inside the real 河曲县 outline's box; built in EPSG:4546 metres, stored in EPSG:4490.
"""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import Transformer
from sqlalchemy import Engine, text

from geo.county import upsert_county

HEQU_OUTLINE = "data/boundaries/hequ_county_tianditu_cgcs2000.geojson"
SOURCE = "合成基准数据 (synthetic benchmark)"


def _load_county(engine: Engine) -> None:
    import geopandas as gpd

    outline = gpd.read_file(HEQU_OUTLINE)
    with engine.begin() as conn:
        upsert_county(conn, code="140930", name="河曲县", wkb_hex=outline.geometry.iloc[0].wkb_hex, source=SOURCE)


def _townships(engine: Engine) -> None:
    """Eleven illustrative townships: vertical strips of the county outline."""
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO township (code, name, county_code, geom, is_illustrative, source) "
            "SELECT '140930' || lpad(i::text, 3, '0') || '000', '示意乡镇' || i, '140930', "
            "       ST_Multi(ST_CollectionExtract(ST_Intersection(c.geom, ST_MakeEnvelope("
            "           ST_XMin(c.geom) + (i - 1) * (ST_XMax(c.geom) - ST_XMin(c.geom)) / 11, ST_YMin(c.geom), "
            "           ST_XMin(c.geom) + i * (ST_XMax(c.geom) - ST_XMin(c.geom)) / 11, ST_YMax(c.geom), 4490)), 3)), "
            "       true, :src "
            "FROM county c, generate_series(1, 11) AS i"), {"src": SOURCE})


def _buildings(engine: Engine, *, count: int, seed: int) -> None:
    """Square footprints of 8–20 m in EPSG:4546 at random places in the county's box."""
    with engine.begin() as conn:
        conn.execute(text("SELECT setseed(:s)"), {"s": (seed % 1000) / 1000.0})
        conn.execute(text(
            "INSERT INTO building (geom, source) "
            "SELECT ST_Multi(ST_Transform(ST_Expand(ST_SetSRID(ST_MakePoint("
            "           ST_XMin(b) + random() * (ST_XMax(b) - ST_XMin(b)), "
            "           ST_YMin(b) + random() * (ST_YMax(b) - ST_YMin(b))), 4546), 4 + random() * 6), 4490)), :src "
            "FROM (SELECT ST_Transform(geom, 4546)::box2d AS b FROM county) c, generate_series(1, :n)"),
            {"n": count, "src": SOURCE})


def _pipelines(engine: Engine, *, total_km: float, seed: int) -> None:
    """50 km random-walk lines of 500 vertices (100 m apart) starting inside the county's box."""
    rng = np.random.default_rng(seed)
    to_geo = Transformer.from_crs(4546, 4490, always_xy=True)
    x0, y0, x1, y1 = 480_000.0, 4_307_000.0, 523_000.0, 4_368_000.0
    rows = []
    for i in range(int(round(total_km / 50))):
        heading = rng.uniform(0, 2 * np.pi) + np.cumsum(rng.normal(0, 0.05, 500))
        steps = 50_000 / 499
        xs = rng.uniform(x0, x1) + np.concatenate([[0], np.cumsum(steps * np.cos(heading[1:]))])
        ys = rng.uniform(y0, y1) + np.concatenate([[0], np.cumsum(steps * np.sin(heading[1:]))])
        lon, lat = to_geo.transform(xs, ys)
        line = shapely.multilinestrings([shapely.linestrings(np.column_stack([lon, lat]))])
        rows.append({"code": f"BENCH-{i:04d}", "name": f"基准管道{i}", "wkb": line.wkb_hex, "src": SOURCE})
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO pipeline (code, name, operator, medium, geom, source) "
            "VALUES (:code, :name, '合成运营单位', 'gas', ST_SetSRID(ST_GeomFromWKB(decode(:wkb, 'hex')), 4490), :src)"),
            rows)


def generate_bench_county(engine: Engine, *, scale: int = 1, seed: int = 1) -> None:
    """Fill an empty migrated database with the synthetic benchmark county (×scale)."""
    _load_county(engine)
    _townships(engine)
    _buildings(engine, count=200_000 * scale, seed=seed)
    _pipelines(engine, total_km=1_000.0 * scale, seed=seed)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
