"""The offline reference basemap: roads by class, rivers, the county outline, place names and pipeline stations
and valves, drawn from the county's own tables as one MVT tileset (`reference`), so an intranet map is not grey.

Generalisation by zoom: main roads from z7, county roads from z9, township roads from z11, village roads and the
rest from z12; below z12 the roads of one class and name are merged and every line is simplified to about half a
pixel. Township names from z9, villages from z12, grid names from z13; stations from z10, valves from z12,
their names from z13.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from geo.tiles import EXTENT, TUNE_SQL, _check

ROAD_MIN_ZOOM = {"motorway": 6, "trunk": 6, "primary": 7, "secondary": 9, "tertiary": 11, "unclassified": 12}
"""Zoom from which each road class is drawn; classes not named here (街巷、专用道路、机耕路) from z13."""
OTHER_ROADS_ZOOM = 13
MERGE_BELOW_ZOOM = 12
PLACE_MIN_ZOOM = {"township": 9, "village": 12, "grid": 13}
FACILITY_MIN_ZOOM = {"station": 10, "depot": 10, "valve": 12}
"""Other facility kinds (阀室以外的附属设施) from z13."""
FACILITY_LABEL_ZOOM = 13
"""Stations and valves are named from this zoom (drawn as symbols before it)."""

_BOUNDS = """
    bounds AS (
        SELECT ST_TileEnvelope(:z, :x, :y) AS geom,
               ST_Transform(ST_TileEnvelope(:z, :x, :y, margin => 0.05), 4490) AS geom_4490,
               (ST_XMax(ST_TileEnvelope(:z, :x, :y)) - ST_XMin(ST_TileEnvelope(:z, :x, :y))) / 512.0 AS px
    )"""

_ROAD_ZOOM = ("CASE r.road_class " + " ".join(f"WHEN '{c}' THEN {z}" for c, z in ROAD_MIN_ZOOM.items())
              + f" ELSE {OTHER_ROADS_ZOOM} END")
_FACILITY_ZOOM = ("CASE f.kind " + " ".join(f"WHEN '{k}' THEN {z}" for k, z in FACILITY_MIN_ZOOM.items())
                  + " ELSE 13 END")

_ROAD_SQL = f"""
    SELECT min(r.id) AS id, r.name, r.road_class,
           ST_AsMVTGeom(CASE WHEN :z < {MERGE_BELOW_ZOOM}
                             THEN ST_Simplify(ST_LineMerge(ST_Collect(r.geom_3857)), bounds.px)
                             ELSE ST_Collect(r.geom_3857) END, bounds.geom, {EXTENT}, 64, true) AS geom
    FROM road r, bounds
    WHERE r.geom_3857 && bounds.geom AND {_ROAD_ZOOM} <= :z
    GROUP BY r.road_class, r.name, bounds.geom, bounds.px, CASE WHEN :z < {MERGE_BELOW_ZOOM} THEN 0 ELSE r.id END
"""

_WATER_SQL = f"""
    SELECT w.id, coalesce(w.name, '河流') AS name, w.kind, w.is_illustrative,
           ST_AsMVTGeom(ST_Simplify(ST_Transform(w.geom, 3857), bounds.px), bounds.geom, {EXTENT}, 64, true) AS geom
    FROM waterway w, bounds WHERE w.geom && bounds.geom_4490
"""

_BOUNDARY_SQL = f"""
    SELECT 1 AS id, c.name,
           ST_AsMVTGeom(ST_Simplify(ST_Boundary(ST_Transform(c.geom, 3857)), bounds.px), bounds.geom, {EXTENT}, 64,
                        true) AS geom
    FROM county c, bounds WHERE c.geom && bounds.geom_4490
"""

_PLACES = f"""
    SELECT t.id, t.name, 'township' AS kind, ST_PointOnSurface(t.geom) AS pt
    FROM township t, bounds WHERE :z >= {PLACE_MIN_ZOOM['township']} AND t.geom && bounds.geom_4490
    UNION ALL
    SELECT v.id, regexp_replace(v.name, '(村民委员会|村委会|居民委员会|社区居委会|居委会)$', ''), 'village', v.geom
    FROM village v, bounds WHERE :z >= {PLACE_MIN_ZOOM['village']} AND v.geom && bounds.geom_4490
    UNION ALL
    SELECT g.id, coalesce(g.name, g.code), 'grid', ST_PointOnSurface(g.geom)
    FROM grid_cell g, bounds WHERE :z >= {PLACE_MIN_ZOOM['grid']} AND g.geom && bounds.geom_4490
    UNION ALL
    SELECT f.id, coalesce(f.name, ''), f.kind, f.geom
    FROM pipeline_facility f, bounds WHERE {_FACILITY_ZOOM} <= :z AND f.geom && bounds.geom_4490
"""

_PLACE_SQL = f"""
    SELECT p.id, p.name, p.kind,
           ST_AsMVTGeom(ST_Transform(p.pt, 3857), bounds.geom, {EXTENT}, 0, true) AS geom
    FROM ({_PLACES}) p, bounds WHERE p.kind IN ('township', 'village', 'grid')
"""

_FACILITY_SQL = f"""
    SELECT p.id, p.name, p.kind,
           ST_AsMVTGeom(ST_Transform(p.pt, 3857), bounds.geom, {EXTENT}, 0, true) AS geom
    FROM ({_PLACES}) p, bounds WHERE p.kind NOT IN ('township', 'village', 'grid')
"""

REFERENCE_LAYERS = {"boundary": _BOUNDARY_SQL, "water": _WATER_SQL, "road": _ROAD_SQL, "place": _PLACE_SQL,
                    "facility": _FACILITY_SQL}
"""The MVT layers of the `reference` tileset, bottom to top."""

REFERENCE_FIELDS = {
    "boundary": {"id": "编号", "name": "县区名称"},
    "water": {"id": "编号", "name": "河流名称", "kind": "类型（river/canal）", "is_illustrative": "示意（合成数据）"},
    "road": {"id": "编号", "name": "道路名称", "road_class": "道路等级"},
    "place": {"id": "编号", "name": "地名", "kind": "township 乡镇 / village 村 / grid 网格"},
    "facility": {"id": "编号", "name": "名称", "kind": "管道附属设施类型（站场、阀室等）"},
}


def reference_tile(conn: Connection, z: int, x: int, y: int) -> bytes:
    """One MVT tile of the reference basemap: every layer of REFERENCE_LAYERS that has features there."""
    _check(z, x, y)
    # ST_AsMVT skips rows whose geometry is NULL (see geo.tiles: a filter would compute ST_AsMVTGeom twice)
    parts = [f"(SELECT ST_AsMVT(q, '{name}', {EXTENT}, 'geom', 'id') FROM ({sql}) q)"
             for name, sql in REFERENCE_LAYERS.items()]
    sql = f"{TUNE_SQL} WITH {_BOUNDS} SELECT {' || '.join(parts)}"
    data = conn.execute(text(sql), {"z": z, "x": x, "y": y}).scalar_one()
    return bytes(data or b"")


LABEL_SIZE = 256
"""Label positions are in the pixels of a 256-px Leaflet tile."""


def reference_labels(conn: Connection, z: int, x: int, y: int) -> list[dict[str, Any]]:
    """The names the reference basemap writes on one tile (township, village, grid, station, valve), each with
    its position in the tile's pixels — the browser writes them as text, so no font is needed in the tiles."""
    _check(z, x, y)
    sql = f"""
        WITH {_BOUNDS}, pts AS (
            SELECT p.id, p.name, p.kind, ST_AsMVTGeom(ST_Transform(p.pt, 3857), bounds.geom, {LABEL_SIZE}, 0, true) AS g
            FROM ({_PLACES}) p, bounds
            WHERE p.name <> '' AND (p.kind IN ('township', 'village', 'grid') OR :z >= {FACILITY_LABEL_ZOOM})
        )
        SELECT id, name, kind, ST_X(g) AS px, ST_Y(g) AS py FROM pts WHERE g IS NOT NULL
        ORDER BY CASE kind WHEN 'township' THEN 0 WHEN 'grid' THEN 1 WHEN 'village' THEN 2 ELSE 3 END, id
    """
    rows = conn.execute(text(sql), {"z": z, "x": x, "y": y}).all()
    return [{"name": r.name, "kind": r.kind, "x": round(r.px, 1), "y": round(r.py, 1)} for r in rows]
