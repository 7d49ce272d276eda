"""Encroachment reports: counts per township/pipeline and the map layers' data (GeoJSON-ready, EPSG:4490)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import Connection, text

from geo.county import metric_srid
from geo.encroachment.zones import load_zones
from geo.register import ReportRow, get_lifecycle, summarise
from geo.timefmt import today as local_today

KIND = "encroachment"


def report_encroachments(conn: Connection, *, by: str = "township", today: dt.date | None = None) -> list[ReportRow]:
    """Found, rectified, rectification rate and overdue encroachments per township or pipeline."""
    return summarise(conn, KIND, by=by, today=today)


_POINTS_SQL = """
    SELECT e.code, e.status, e.kind, e.nature, p.code AS pipeline_code, p.name AS pipeline_name,
           t.name AS township_name, e.deadline,
           (e.deadline < :today AND e.status <> ALL(:done)) IS TRUE AS overdue,
           ST_AsGeoJSON(ST_PointOnSurface(e.geom), 7) AS geometry
    FROM encroachment e
    LEFT JOIN pipeline p ON p.id = e.pipeline_id
    LEFT JOIN township t ON t.id = e.township_id
    ORDER BY e.code
"""


def encroachment_points(conn: Connection, *, today: dt.date | None = None) -> list[dict[str, Any]]:
    """One point per encroachment (on its footprint) with status and label, for a map layer coloured by status."""
    lc = get_lifecycle(KIND)
    rows = conn.execute(text(_POINTS_SQL), {"today": today or local_today(), "done": sorted(lc.done)})
    return [
        {"type": "Feature", "geometry": json.loads(r.geometry),
         "properties": {"code": r.code, "status": r.status, "status_label": lc.status_label(r.status),
                        "kind": r.kind, "nature": r.nature, "pipeline_code": r.pipeline_code,
                        "pipeline_name": r.pipeline_name, "township_name": r.township_name, "deadline": r.deadline.isoformat() if r.deadline else None,
                        "overdue": r.overdue}}
        for r in rows
    ]


_ZONES_SQL = """
    WITH lines AS (
        -- the centreline in metres, cut to the area asked for (with room for the widest band)
        SELECT p.id, p.code,
               CASE WHEN CAST(:x0 AS float8) IS NULL THEN ST_Transform(p.geom, :srid)
                    ELSE ST_Intersection(ST_Transform(p.geom, :srid),
                                         ST_Expand(ST_Transform(ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4490), :srid),
                                                   :margin)) END AS geom
        FROM pipeline p
        WHERE (CAST(:pipeline_code AS text) IS NULL OR p.code = :pipeline_code)
          AND (CAST(:x0 AS float8) IS NULL OR p.geom && ST_Expand(ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4490), 0.01))
    ), bands AS (
        SELECT l.id, l.code, z.code AS zone, z.label, z.inner_m, z.outer_m,
               ST_Buffer(l.geom, z.outer_m, :style) AS outer_m_geom,
               CASE WHEN z.inner_m > 0 THEN ST_Buffer(l.geom, z.inner_m, :style) END AS inner_m_geom
        FROM lines l,
             unnest(CAST(:codes AS text[]), CAST(:labels AS text[]), CAST(:inner AS float8[]),
                    CAST(:outer AS float8[])) AS z(code, label, inner_m, outer_m)
        WHERE NOT ST_IsEmpty(l.geom)
    )
    SELECT id AS pipeline_id, code AS pipeline_code, zone, label, inner_m, outer_m,
           ST_AsGeoJSON(ST_Transform(ST_SimplifyPreserveTopology(
               COALESCE(ST_Difference(outer_m_geom, inner_m_geom), outer_m_geom), :tolerance), 4490), :digits)
               AS geometry
    FROM bands ORDER BY code, outer_m
"""


def pipeline_zone_bands(conn: Connection, *, pipeline_code: str | None = None,
                        bbox: tuple[float, float, float, float] | None = None, for_display: bool = False
                        ) -> list[dict[str, Any]]:
    """The line zones of zones.toml marked band (5 / 50 / 200 m) as bands along each pipeline, GeoJSON in EPSG:4490.

    `bbox` (lon/lat) keeps only what lies near it; `for_display` draws them for a map page: coarser round
    ends and 0.5 m simplification, 6 decimals (≈0.1 m) — a county's bands stay a few hundred KB, not MB.
    """
    zones = [z for z in load_zones().line if z.band]
    limits = [z.max_distance_m for z in zones]
    x0, y0, x1, y1 = bbox or (None, None, None, None)
    rows = conn.execute(text(_ZONES_SQL), {
        "srid": metric_srid(conn), "codes": [z.code for z in zones], "labels": [z.label for z in zones],
        "inner": [0.0, *limits[:-1]], "outer": limits, "pipeline_code": pipeline_code,
        "x0": x0, "y0": y0, "x1": x1, "y1": y1, "margin": max(limits) * 1.5,
        "style": "quad_segs=2" if for_display else "quad_segs=8",
        "tolerance": 0.5 if for_display else 0.0, "digits": 6 if for_display else 7,
    })
    return [
        {"type": "Feature", "geometry": json.loads(r.geometry),
         "properties": {"pipeline_id": r.pipeline_id, "pipeline_code": r.pipeline_code, "zone": r.zone,
                        "label": r.label, "inner_m": r.inner_m, "outer_m": r.outer_m}}
        for r in rows
    ]
