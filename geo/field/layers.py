"""The reference and risk layers a phone keeps for offline use: what the user's scope holds, as GeoJSON (EPSG:4490).

Township outlines, pipelines, enterprises with their current colour, and open 占压点 — read on the request's
connection, so row-level security gives each user its own townships only. Outlines and pipelines are simplified to
about 1 m (1e-5°) and coordinates cut to 6 decimals: the whole township is one answer the phone caches.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, text

SIMPLIFY_DEG = 1e-5
"""Douglas–Peucker tolerance in degrees (≈ 1 m at 39° N)."""

_SQL = {
    "township": "SELECT code, name, ST_AsGeoJSON(ST_SimplifyPreserveTopology(geom, :tol), 6) AS g FROM township",
    "pipeline": "SELECT code, name, operator, medium, ST_AsGeoJSON(ST_Simplify(geom, :tol), 6) AS g FROM pipeline",
    "enterprise": """
        SELECT e.id, e.name, e.address, r.level AS colour, ST_AsGeoJSON(e.geom, 6) AS g
        FROM enterprise e
        LEFT JOIN risk_assessment r ON r.kind = 'enterprise' AND r.object_id = e.id AND r.valid_to IS NULL
        WHERE e.geom IS NOT NULL""",
    "encroachment": """
        SELECT code, status, kind, ST_AsGeoJSON(ST_PointOnSurface(geom), 6) AS g FROM encroachment
        WHERE status NOT IN ('rectified', 'closed')""",
}


def field_layers(conn: Connection) -> dict[str, Any]:
    """{layer: FeatureCollection} for township, pipeline, enterprise and encroachment in the user's scope."""
    out: dict[str, Any] = {}
    for layer, sql in _SQL.items():
        rows = conn.execute(text(sql), {"tol": SIMPLIFY_DEG}).mappings().all()
        out[layer] = {"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": json.loads(r["g"]) if r["g"] else None,
             "properties": {k: v for k, v in r.items() if k != "g"}} for r in rows]}
    return out
