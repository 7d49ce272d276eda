"""Mapbox vector tiles straight from PostGIS (ST_AsMVT) for the layers that grow with the county.

What a tile carries depends on the zoom: buildings only from z14 (a z10 tile with every building is
2–3.5 MB), enterprises clustered on a pixel grid below z13 (count and worst level per cluster), pipeline
segments merged per pipeline and colour below z13, everything else whole. Risk levels are joined at request time, so a tile never shows a stale colour.
Rows whose ST_AsMVTGeom is NULL (nothing left inside the tile) are not filtered out in SQL: ST_AsMVT skips
them itself, and a `WHERE geom IS NOT NULL` above the rows is pushed down into the scan, where PostgreSQL
computes ST_AsMVTGeom a second time for every row (a third of a building tile's time).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import Connection, text

from geo.errors import InvalidInput, NotFound

EXTENT = 4096


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """Web-Mercator tile column and row (the slippy-map numbering /tiles uses) holding a lon/lat point."""
    n = 2 ** z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)


@dataclass(frozen=True)
class TileLayer:
    name: str
    sql: str
    """SELECT of the tile's rows; `bounds` is the tile envelope in EPSG:3857, `:z` the zoom."""
    min_zoom: int = 0


_LEVEL_JOIN = ("LEFT JOIN risk_assessment r ON r.kind = '{kind}' AND r.object_id = t.id AND r.valid_to IS NULL")

_BUILDING = TileLayer("building", f"""
    SELECT t.id, t.use_class, t.floors,
           ST_AsMVTGeom(t.geom_3857, bounds.geom, {EXTENT}, 64, true) AS geom
    FROM building t, bounds WHERE t.geom_3857 && bounds.geom
""", min_zoom=14)

_ENTERPRISE_POINTS = f"""
    SELECT t.id, t.name, t.category, coalesce(r.level, 'none') AS level, 1 AS n,
           ST_AsMVTGeom(t.geom_3857, bounds.geom, {EXTENT}, 64, true) AS geom
    FROM enterprise t {_LEVEL_JOIN.format(kind='enterprise')}, bounds WHERE t.geom_3857 && bounds.geom
"""

_ENTERPRISE_CLUSTERS = f"""
    SELECT min(t.id) AS id, NULL::text AS name, NULL::text AS category,
           (ARRAY['none', 'blue', 'yellow', 'orange', 'red'])[max(CASE r.level WHEN 'red' THEN 5
              WHEN 'orange' THEN 4 WHEN 'yellow' THEN 3 WHEN 'blue' THEN 2 ELSE 1 END)] AS level,
           count(*) AS n,
           ST_AsMVTGeom(ST_MakePoint(avg(ST_X(t.geom_3857)), avg(ST_Y(t.geom_3857))), bounds.geom, {EXTENT}, 64,
                        true) AS geom
    FROM enterprise t {_LEVEL_JOIN.format(kind='enterprise')}, bounds WHERE t.geom_3857 && bounds.geom
    GROUP BY ST_SnapToGrid(t.geom_3857, bounds.cell), bounds.geom
"""

_SEGMENT = TileLayer("pipeline_segment", f"""
    SELECT t.id, t.pipeline_id, t.seq, coalesce(r.level, 'none') AS level,
           ST_AsMVTGeom(t.geom_3857, bounds.geom, {EXTENT}, 64, true) AS geom
    FROM pipeline_segment t {_LEVEL_JOIN.format(kind='pipeline_segment')}, bounds
    WHERE t.geom_3857 && bounds.geom
""")

_ROAD = TileLayer("road", f"""
    SELECT t.id, t.name, t.road_class,
           ST_AsMVTGeom(t.geom_3857, bounds.geom, {EXTENT}, 64, true) AS geom
    FROM road t, bounds WHERE t.geom_3857 && bounds.geom
""", min_zoom=11)

_GRID = TileLayer("grid_cell", f"""
    SELECT t.id, t.code, coalesce(r.level, 'none') AS level,
           ST_AsMVTGeom(t.geom_3857, bounds.geom, {EXTENT}, 64, true) AS geom
    FROM grid_cell t {_LEVEL_JOIN.format(kind='grid_cell')}, bounds WHERE t.geom_3857 && bounds.geom
""")

_MINE = TileLayer("mine", f"""
    SELECT t.id, t.name, coalesce(r.level, 'none') AS level,
           ST_AsMVTGeom(ST_Transform(t.licence_boundary, 3857), bounds.geom, {EXTENT}, 64, true) AS geom
    FROM mine t {_LEVEL_JOIN.format(kind='mine')}, bounds
    WHERE t.licence_boundary && ST_Transform(bounds.geom, 4490)
""")

_ENCROACHMENT = TileLayer("encroachment", f"""
    SELECT t.id, t.code, t.status AS level,
           ST_AsMVTGeom(t.geom_3857, bounds.geom, {EXTENT}, 64, true) AS geom
    FROM encroachment t, bounds WHERE t.geom_3857 && bounds.geom
""", min_zoom=8)

_SEGMENT_RUNS = f"""
    SELECT min(t.id) AS id, t.pipeline_id, min(t.seq) AS seq, coalesce(r.level, 'none') AS level,
           ST_AsMVTGeom(ST_Simplify(ST_LineMerge(ST_Collect(t.geom_3857)), bounds.px), bounds.geom, {EXTENT}, 64,
                        true) AS geom
    FROM pipeline_segment t {_LEVEL_JOIN.format(kind='pipeline_segment')}, bounds
    WHERE t.geom_3857 && bounds.geom
    GROUP BY t.pipeline_id, coalesce(r.level, 'none'), bounds.geom, bounds.px
"""
SEGMENT_RUNS_BELOW_ZOOM = 13
"""Below this zoom a pipeline's segments of one colour come as one line (a segment is ~100–200 m, a few pixels):
a ×10 county's z10 tile held 5,000 segment features (130 KB) for what draws as a few coloured lines."""

TILE_LAYERS = {"building": _BUILDING, "pipeline_segment": _SEGMENT, "road": _ROAD, "grid_cell": _GRID,
               "mine": _MINE, "encroachment": _ENCROACHMENT}
CLUSTER_BELOW_ZOOM = 13


def _check(z: int, x: int, y: int) -> None:
    if not 0 <= z <= 22:
        raise InvalidInput(f"瓦片缩放级别应在 0–22 之间，收到 {z}")
    n = 1 << z
    if not (0 <= x < n and 0 <= y < n):
        raise InvalidInput(f"瓦片行列号超出范围：z={z} 时 x、y 应在 0–{n - 1} 之间")


TUNE_SQL = ("SELECT set_config('jit', 'off', true), set_config('max_parallel_workers_per_gather', '0', true), "
            "set_config('random_page_cost', '1.1', true);")
"""Leads every tile's SQL: for its transaction no JIT, no parallel workers, index probes priced as the cached reads
they are. psycopg2 sends both statements in one simple-protocol message and PostgreSQL plans the tile's only after
this one has run, so it costs no extra round trip.

A tile is a few milliseconds of work: on a server with default settings JIT compiles a big tile's plan for longer
than it runs, and starting a parallel worker costs more than it saves (×1 building tiles at z14, under load: p95
99 → 60 ms). With random_page_cost at its default 4 a county-view tile joins the current levels by reading the
whole risk_assessment table (187 MB at ×10) instead of looking up its few thousand rows (×10 z10 pipeline tile
812 → 250 ms; enterprise tiles about half)."""


def tile(conn: Connection, layer: str, z: int, x: int, y: int, *, name: str | None = None) -> bytes:
    """One MVT tile of `layer` (EPSG:3857 tile scheme, extent 4096); empty below the layer's zoom.
    `reference` is the offline reference basemap (geo/reference.py), several MVT layers in one tile.
    `name`: the layer's name inside the tile (default `layer`; the province's tiles name each county's own)."""
    _check(z, x, y)
    if layer == "reference":
        from geo.reference import reference_tile

        return reference_tile(conn, z, x, y)
    if layer == "enterprise":
        rows_sql = _ENTERPRISE_CLUSTERS if z < CLUSTER_BELOW_ZOOM else _ENTERPRISE_POINTS
        min_zoom = 0
    elif layer == "pipeline_segment" and z < SEGMENT_RUNS_BELOW_ZOOM:
        rows_sql, min_zoom = _SEGMENT_RUNS, 0
    elif layer in TILE_LAYERS:
        rows_sql, min_zoom = TILE_LAYERS[layer].sql, TILE_LAYERS[layer].min_zoom
    else:
        raise NotFound(f"图层 {layer} 没有矢量瓦片；可用：enterprise、{'、'.join(TILE_LAYERS)}、reference（参考底图）")
    if z < min_zoom:
        return b""
    sql = f"""{TUNE_SQL}
        WITH bounds AS (
            SELECT ST_TileEnvelope(:z, :x, :y) AS geom,
                   (ST_XMax(ST_TileEnvelope(:z, :x, :y)) - ST_XMin(ST_TileEnvelope(:z, :x, :y))) / 16.0 AS cell,
                   (ST_XMax(ST_TileEnvelope(:z, :x, :y)) - ST_XMin(ST_TileEnvelope(:z, :x, :y))) / 512.0 AS px
        ), rows AS ({rows_sql})
        SELECT ST_AsMVT(rows, :layer, {EXTENT}, 'geom', 'id') FROM rows
    """
    data = conn.execute(text(sql), {"z": z, "x": x, "y": y, "layer": name or layer}).scalar_one()
    return bytes(data or b"")


# ---------------------------------------------------------------------- TileJSON / OGC API – Tiles (interoperability)

MAX_ZOOM = 22
"""Deepest zoom _check accepts."""
TILE_FIELDS: dict[str, dict[str, str]] = {
    "enterprise": {"id": "编号", "name": "企业名称", "category": "行业类别", "level": "风险颜色（red/orange/yellow/blue/none）",
                   "n": "聚合的企业数（z13 以下按像素网格聚合）"},
    "building": {"id": "编号", "use_class": "用途", "floors": "层数"},
    "pipeline_segment": {"id": "编号（z13 以下为合并管段中的最小编号）", "pipeline_id": "管道编号",
                         "seq": "管段序号（z13 以下同一管道同一颜色的管段合为一条线，取首段序号）", "level": "风险颜色"},
    "road": {"id": "编号", "name": "道路名称", "road_class": "道路等级"},
    "grid_cell": {"id": "编号", "code": "网格代码", "level": "风险颜色"},
    "mine": {"id": "编号", "name": "矿山名称", "level": "风险颜色"},
    "encroachment": {"id": "编号", "code": "占压点编号", "level": "整改状态"},
}
"""The attributes each tile layer carries (TileJSON vector_layers)."""


def tiled_layers() -> dict[str, int]:
    """Every layer with vector tiles and the zoom it starts at."""
    return {"enterprise": 0, **{name: spec.min_zoom for name, spec in TILE_LAYERS.items()}}


def tilejson(layer: str, base_url: str, title: str, bounds: list[float] | None) -> dict[str, object]:
    """TileJSON 3.0.0 of one tile layer, so MapLibre and QGIS add it by URL (`base_url` = the server's root)."""
    layers = tiled_layers()
    if layer not in layers:
        raise NotFound(f"图层 {layer} 没有矢量瓦片；可用：{'、'.join(layers)}")
    out: dict[str, object] = {
        "tilejson": "3.0.0", "name": title, "description": f"{title}矢量瓦片（MVT，EPSG:3857，坐标源自 CGCS2000）",
        "scheme": "xyz", "tiles": [f"{base_url}/tiles/{layer}/{{z}}/{{x}}/{{y}}.pbf"],
        "minzoom": layers[layer], "maxzoom": MAX_ZOOM,
        "vector_layers": [{"id": layer, "description": title, "minzoom": layers[layer], "maxzoom": MAX_ZOOM,
                           "fields": TILE_FIELDS.get(layer, {"id": "编号"})}],
    }
    if bounds:
        out["bounds"] = bounds
        out["center"] = [round((bounds[0] + bounds[2]) / 2, 6), round((bounds[1] + bounds[3]) / 2, 6), 10]
    return out
