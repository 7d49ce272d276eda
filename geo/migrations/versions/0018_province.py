"""Many counties (issue #16): neighbours' features near the border (halo) and the province roll-up.

- `halo_building`, `halo_road`: copies of a neighbouring county's buildings and roads within the largest zone
  distance of this county's boundary, read from the neighbour's database before each provincial computation
  (geo/province/halo.py). `id` is negative (−(neighbour's place in province.toml × 10¹² + its own id)), so it never
  meets a local id; `county_code` and `source_id` name the original. Refreshed in the computation's transaction.
- `province_township_level`: the roll-up a city or province reads — each county's townships with their current
  colour, score and reasons, written after the county's computation (geo/province/rollup.py). Kept in the
  database named by province.toml's [rollup]; every database has the (possibly empty) table.

Revision ID: 0018_province
Revises: 0015_field
"""

from __future__ import annotations

from alembic import op

revision = "0018_province"
down_revision = "0015_field"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE halo_building (LIKE building INCLUDING DEFAULTS,
                            county_code varchar(6) NOT NULL, source_id bigint NOT NULL);
ALTER TABLE halo_building ADD PRIMARY KEY (id);
CREATE INDEX ix_halo_building_geom ON halo_building USING gist (geom);
CREATE INDEX ix_halo_building_county ON halo_building (county_code);
CREATE TABLE halo_road (LIKE road INCLUDING DEFAULTS,
                        county_code varchar(6) NOT NULL, source_id bigint NOT NULL);
ALTER TABLE halo_road ADD PRIMARY KEY (id);
CREATE INDEX ix_halo_road_geom ON halo_road USING gist (geom);
CREATE INDEX ix_halo_road_county ON halo_road (county_code);
CREATE TABLE province_township_level (
    county_code varchar(6) NOT NULL,
    county_name text NOT NULL,
    city_code varchar(6) NOT NULL,
    city_name text NOT NULL,
    township_code varchar(12) NOT NULL,
    township_name text NOT NULL,
    level text NOT NULL CHECK (level IN ('red', 'orange', 'yellow', 'blue')),
    score double precision NOT NULL,
    reasons jsonb NOT NULL DEFAULT '[]'::jsonb,
    computed_at timestamptz NOT NULL,
    geom geometry(MultiPolygon, 4490),
    PRIMARY KEY (county_code, township_code)
);
CREATE INDEX ix_province_township_level_geom ON province_township_level USING gist (geom);
CREATE INDEX ix_province_township_level_city ON province_township_level (city_code);
"""

DOWNGRADE = """
DROP TABLE IF EXISTS province_township_level;
DROP TABLE IF EXISTS halo_road;
DROP TABLE IF EXISTS halo_building;
"""


def upgrade() -> None:
    from geo.access.roles import ensure_roles

    op.execute(UPGRADE)
    ensure_roles(op.get_bind())  # every data role reads the new tables (the roll-up is meant for reading)


def downgrade() -> None:
    op.execute(DOWNGRADE)
