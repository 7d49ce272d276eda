"""Encroachment/hazard register: life-cycle events, encroachment candidates, metric pipeline pieces.

Revision ID: 0003
Revises: 0002

- register_event: every change of a register object (encroachment, hazard), one row each.
- register_item: one view over both registers, so reports are written once.
- pipeline_piece: pipelines cut into short pieces (≤8 vertices ≤100 m apart) in the county's Gauss–Krüger zone (geom_m) and in
  EPSG:4490 (geom), kept by a trigger on pipeline; the encroachment check is driven from these pieces
  because the GiST box of a whole long line covers half the county.
- encroachment_candidate: the result of the automatic check, refreshed by each check (open/closed).
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

PIECE_VERTEX_SPACING_M = 100.0
"""Vertices are added so that none is further than this from the next (metres, GK zone)."""
PIECE_MAX_VERTICES = 8
"""ST_Subdivide limit: pieces of at most 8 vertices, i.e. at most 700 m of centreline (measured fastest)."""

UPGRADE = [
    """
    CREATE TABLE register_event (
        id bigserial PRIMARY KEY,
        object_kind varchar(20) NOT NULL,
        object_id integer NOT NULL,
        from_status varchar(12),
        to_status varchar(12),
        changed_by varchar(50) NOT NULL,
        changed_at timestamptz NOT NULL DEFAULT now(),
        note text,
        changes jsonb NOT NULL DEFAULT '{}'::jsonb,
        CONSTRAINT ck_register_event_kind CHECK (object_kind IN ('encroachment', 'hazard'))
    )
    """,
    "CREATE INDEX ix_register_event_object ON register_event (object_kind, object_id, id)",
    """
    CREATE TABLE pipeline_piece (
        id bigserial PRIMARY KEY,
        pipeline_id integer NOT NULL REFERENCES pipeline (id) ON DELETE CASCADE,
        geom geometry(LineString, 4490) NOT NULL,
        geom_m geometry(LineString) NOT NULL
    )
    """,
    "CREATE INDEX ix_pipeline_piece_pipeline_id ON pipeline_piece (pipeline_id)",
    "CREATE INDEX ix_pipeline_piece_geom_gist ON pipeline_piece USING gist (geom)",
    # No GiST index on geom_m on purpose: with one, the planner drives the check from the far larger
    # feature table and transforms every footprint; searches go through geom (EPSG:4490) instead.
    # Cut one pipeline into pieces in the given Gauss–Krüger zone (also called to rebuild all pieces).
    f"""
    CREATE FUNCTION riskmap_cut_pipeline(p_id integer, zone integer) RETURNS void AS $$
        DELETE FROM pipeline_piece WHERE pipeline_id = p_id;
        INSERT INTO pipeline_piece (pipeline_id, geom, geom_m)
        SELECT p.id, ST_Transform(s.geom, 4490), s.geom
        FROM pipeline p,
             ST_Subdivide(ST_Segmentize(ST_Transform(p.geom, zone), {PIECE_VERTEX_SPACING_M}),
                          {PIECE_MAX_VERTICES}) AS s(geom)
        WHERE p.id = p_id AND p.geom IS NOT NULL;
    $$ LANGUAGE sql
    """,
    # The county's zone when a county is loaded, else the 3° zone of the line's own longitude.
    """
    CREATE FUNCTION riskmap_pipeline_pieces() RETURNS trigger AS $$
    DECLARE
        zone integer;
    BEGIN
        SELECT metric_srid INTO zone FROM county ORDER BY code LIMIT 1;
        IF zone IS NULL AND NEW.geom IS NOT NULL THEN
            zone := 4534 + (LEAST(GREATEST(3 * round(ST_X(ST_Centroid(NEW.geom)) / 3), 75), 135) - 75) / 3;
        END IF;
        PERFORM riskmap_cut_pipeline(NEW.id, zone);
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER pipeline_pieces AFTER INSERT OR UPDATE OF geom ON pipeline
    FOR EACH ROW EXECUTE FUNCTION riskmap_pipeline_pieces()
    """,
    """
    CREATE TABLE encroachment_candidate (
        id serial PRIMARY KEY,
        pipeline_id integer NOT NULL REFERENCES pipeline (id) ON DELETE CASCADE,
        feature_type varchar(20) NOT NULL,
        feature_id bigint NOT NULL,
        zone varchar(20) NOT NULL,
        distance_m double precision NOT NULL,
        township_id integer REFERENCES township (id) ON DELETE SET NULL,
        geom geometry(Point, 4490),
        status varchar(8) NOT NULL DEFAULT 'open',
        closed_reason varchar(20),
        encroachment_id integer REFERENCES encroachment (id) ON DELETE SET NULL,
        first_found_at timestamptz NOT NULL DEFAULT now(),
        last_checked_at timestamptz NOT NULL DEFAULT now(),
        closed_at timestamptz,
        CONSTRAINT uq_encroachment_candidate UNIQUE (pipeline_id, feature_type, feature_id, zone),
        CONSTRAINT ck_encroachment_candidate_status CHECK (status IN ('open', 'closed'))
    )
    """,
    "CREATE INDEX ix_encroachment_candidate_geom_gist ON encroachment_candidate USING gist (geom)",
    """
    CREATE VIEW register_item AS
    SELECT 'encroachment'::varchar(20) AS object_kind, e.id AS object_id, e.code, e.status, e.deadline,
           e.township_id, e.pipeline_id, e.kind AS category, e.found_on, e.closed_on, e.closed_by,
           NULL::varchar(100) AS supervising_department
    FROM encroachment e
    UNION ALL
    SELECT 'hazard', h.id, h.code, h.status, h.deadline,
           en.township_id, NULL::integer, h.level, h.found_on, h.closed_on, h.closed_by,
           h.supervising_department
    FROM hazard h JOIN enterprise en ON en.id = h.enterprise_id
    """,
]

DOWNGRADE = [
    "DROP VIEW IF EXISTS register_item",
    "DROP TABLE IF EXISTS encroachment_candidate",
    "DROP TRIGGER IF EXISTS pipeline_pieces ON pipeline",
    "DROP FUNCTION IF EXISTS riskmap_pipeline_pieces()",
    "DROP FUNCTION IF EXISTS riskmap_cut_pipeline(integer, integer)",
    "DROP TABLE IF EXISTS pipeline_piece",
    "DROP TABLE IF EXISTS register_event",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
