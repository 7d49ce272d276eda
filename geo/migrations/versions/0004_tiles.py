"""Web-Mercator copies of the geometry the vector tiles draw (stored, generated, GiST-indexed).

Building a tile from a stored EPSG:3857 column avoids transforming every candidate row per request
(measured about twice as fast for dense building tiles).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = {"building": "MultiPolygon", "enterprise": "Point", "road": "LineString", "township": "MultiPolygon",
          "grid_cell": "MultiPolygon", "pipeline": "MultiLineString", "encroachment": "Geometry",
          "pipeline_segment": "LineString"}


def upgrade() -> None:
    for table, gtype in TABLES.items():
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN geom_3857 geometry({gtype}, 3857) "
            "GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED"
        )
        op.execute(f"CREATE INDEX ix_{table}_geom_3857_gist ON {table} USING gist (geom_3857)")


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP INDEX IF EXISTS ix_{table}_geom_3857_gist")
        op.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS geom_3857")
