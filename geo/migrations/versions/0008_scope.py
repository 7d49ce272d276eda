"""Scope and bounds: inspector writes decided by the database, compact audit geometry, scope leaks (security issue #11, findings 5, 10, 11).

- Roles and policies are re-applied (geo/access/roles.py): an inspector inserts inspections, hazards and their
  register events only for enterprises its own teams visit; risk rows follow their object's current township.
- Audit rows keep a geometry as its summary (`{"type", "sha256" of its EWKB, "bbox", "points"}`), not the whole shape; rows
  written before stay as they were (the reader summarises them, geo/access/audit.py).
- Derived tables (risk results, pipeline segments and pieces, encroachment candidates, plan routes, the road
  graph) get one audit row per transaction, table and kind of change: who, when, how many rows.
- `riskmap_code_taken` is dropped: it told a township editor that a code existed in another township. The
  unique constraints refuse duplicates; geo/edit.py turns that into a 409 naming only the field.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BULK_AUDITED = ("risk_assessment", "risk_rules_version", "pipeline_segment", "pipeline_piece",
                "encroachment_candidate", "plan_route", "road_edge", "road_vertex")
"""Derived tables: audited as one counted row per transaction, table and action (not row by row)."""

GEOM_SUMMARY = """
CREATE OR REPLACE FUNCTION riskmap_geom_summary(g geometry) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN g IS NULL THEN 'null'::jsonb ELSE jsonb_build_object(
        'type', replace(ST_GeometryType(g), 'ST_', ''),
        'sha256', encode(sha256(ST_AsEWKB(g)), 'hex'),
        'bbox', CASE WHEN ST_IsEmpty(g) THEN NULL
                     ELSE jsonb_build_array(ST_XMin(g), ST_YMin(g), ST_XMax(g), ST_YMax(g)) END,
        'points', ST_NPoints(g)) END
$$
"""

# Like 0006's, but each geometry column enters the row as its summary (computed from the geometry itself).
AUDIT_COMPACT = """
CREATE OR REPLACE FUNCTION riskmap_audit() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
DECLARE
    who text := coalesce(nullif(current_setting('riskmap.user', true), ''), session_user::text);
    what text := nullif(current_setting('riskmap.role', true), '');
    k text := TG_ARGV[0];
    -- the row's columns, each geometry as its summary (never turned into GeoJSON), the tile column left out
    cols text := (
        SELECT string_agg(CASE WHEN a.atttypid = 'geometry'::regtype
                               THEN format('riskmap_geom_summary(r.%1$I) AS %1$I', a.attname)
                               ELSE format('r.%I', a.attname) END, ', ' ORDER BY a.attnum)
        FROM pg_attribute a
        WHERE a.attrelid = TG_RELID AND a.attnum > 0 AND NOT a.attisdropped AND a.attname <> 'geom_3857');
    j text := format('riskmap_audit_row((SELECT to_jsonb(x) FROM (SELECT %s) x))', cols);
BEGIN
    IF TG_OP = 'INSERT' THEN
        EXECUTE format('INSERT INTO audit_log (actor, actor_role, action, table_name, record_id, after) '
                       'SELECT $1, $2, ''insert'', $3, j ->> $4, j FROM (SELECT %s AS j FROM new_rows r) s', j)
            USING who, what, TG_TABLE_NAME, k;
    ELSIF TG_OP = 'UPDATE' THEN
        EXECUTE format('INSERT INTO audit_log (actor, actor_role, action, table_name, record_id, before, after) '
                       'SELECT $1, $2, ''update'', $3, b.j ->> $4, b.j, a.j '
                       'FROM (SELECT %1$s AS j FROM old_rows r) b JOIN (SELECT %1$s AS j FROM new_rows r) a '
                       'ON a.j -> $4 = b.j -> $4 '
                       'WHERE (a.j - ''updated_at'' - ''version'' - ''last_used_at'') '
                       'IS DISTINCT FROM (b.j - ''updated_at'' - ''version'' - ''last_used_at'')', j)
            USING who, what, TG_TABLE_NAME, k;
    ELSE
        EXECUTE format('INSERT INTO audit_log (actor, actor_role, action, table_name, record_id, before) '
                       'SELECT $1, $2, ''delete'', $3, j ->> $4, j FROM (SELECT %s AS j FROM old_rows r) s', j)
            USING who, what, TG_TABLE_NAME, k;
    END IF;
    RETURN NULL;
END;
$$
"""

AUDIT_0006 = """
CREATE OR REPLACE FUNCTION riskmap_audit() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
DECLARE
    who text := coalesce(nullif(current_setting('riskmap.user', true), ''), session_user::text);
    what text := nullif(current_setting('riskmap.role', true), '');
    k text := TG_ARGV[0];
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO audit_log (actor, actor_role, action, table_name, record_id, after)
        SELECT who, what, 'insert', TG_TABLE_NAME, j ->> k, j
        FROM (SELECT riskmap_audit_row(to_jsonb(n)) AS j FROM new_rows n) s;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO audit_log (actor, actor_role, action, table_name, record_id, before, after)
        SELECT who, what, 'update', TG_TABLE_NAME, b.j ->> k, b.j, a.j
        FROM (SELECT riskmap_audit_row(to_jsonb(o)) AS j FROM old_rows o) b
        JOIN (SELECT riskmap_audit_row(to_jsonb(n)) AS j FROM new_rows n) a ON a.j -> k = b.j -> k
        WHERE (a.j - 'updated_at' - 'version' - 'last_used_at') IS DISTINCT FROM (b.j - 'updated_at' - 'version' - 'last_used_at');
    ELSE
        INSERT INTO audit_log (actor, actor_role, action, table_name, record_id, before)
        SELECT who, what, 'delete', TG_TABLE_NAME, j ->> k, j
        FROM (SELECT riskmap_audit_row(to_jsonb(o)) AS j FROM old_rows o) s;
    END IF;
    RETURN NULL;
END;
$$
"""

# One row per transaction, table and action: the first statement inserts it, later ones add their count.
AUDIT_BULK = """
CREATE OR REPLACE FUNCTION riskmap_audit_bulk() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
DECLARE
    who text := coalesce(nullif(current_setting('riskmap.user', true), ''), session_user::text);
    what text := nullif(current_setting('riskmap.role', true), '');
    act text := lower(TG_OP);
    n bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN
        SELECT count(*) INTO n FROM old_rows;
    ELSE
        SELECT count(*) INTO n FROM new_rows;
    END IF;
    IF n = 0 THEN
        RETURN NULL;
    END IF;
    UPDATE audit_log SET after = jsonb_build_object('rows', (after ->> 'rows')::bigint + n)
    WHERE txid = txid_current() AND record_id IS NULL AND table_name = TG_TABLE_NAME AND action = act;
    IF NOT FOUND THEN
        INSERT INTO audit_log (actor, actor_role, action, table_name, record_id, after)
        VALUES (who, what, act, TG_TABLE_NAME, NULL, jsonb_build_object('rows', n));
    END IF;
    RETURN NULL;
END;
$$
"""

CODE_TAKEN_0006 = """
CREATE FUNCTION riskmap_code_taken(tbl text, col text, val text, exclude bigint) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    taken boolean;
BEGIN
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE %I = $1 AND ($2 IS NULL OR id <> $2))', tbl, col)
        INTO taken USING val, exclude;
    RETURN taken;
END;
$$
"""

_EVENTS = (("INSERT", "NEW TABLE AS new_rows"), ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
           ("DELETE", "OLD TABLE AS old_rows"))


def _existing(names: tuple[str, ...]) -> list[str]:
    rows = op.get_bind().execute(text(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename = ANY(:n)"), {"n": list(names)})
    return [r[0] for r in rows]


def upgrade() -> None:
    from geo.access.roles import ensure_roles

    op.execute(GEOM_SUMMARY)
    op.execute(AUDIT_COMPACT)
    op.execute(AUDIT_BULK)
    op.execute("CREATE INDEX ix_audit_log_bulk ON audit_log (txid, table_name) WHERE record_id IS NULL")
    for table in _existing(BULK_AUDITED):
        for event, ref in _EVENTS:
            op.execute(f"CREATE TRIGGER {table}_audit_bulk_{event.lower()} AFTER {event} ON {table} "
                       f"REFERENCING {ref} FOR EACH STATEMENT EXECUTE FUNCTION riskmap_audit_bulk()")
    op.execute("DROP FUNCTION IF EXISTS riskmap_code_taken(text, text, text, bigint)")
    ensure_roles(op.get_bind())


def downgrade() -> None:
    # Grants and policies stay as roles.py makes them: they only narrow what 0006 allowed.
    op.execute(CODE_TAKEN_0006)
    for table in _existing(BULK_AUDITED):
        for event, _ in _EVENTS:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_audit_bulk_{event.lower()} ON {table}")
    op.execute("DROP INDEX IF EXISTS ix_audit_log_bulk")
    op.execute("DROP FUNCTION IF EXISTS riskmap_audit_bulk()")
    op.execute(AUDIT_0006)
    op.execute("DROP FUNCTION IF EXISTS riskmap_geom_summary(geometry)")
