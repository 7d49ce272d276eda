"""Bulk operations audited as one entry per table, not one JSON copy per row (issue #17).

An operation that writes many rows at once (an import, the scale generator, the demo load, a restore) sets the
transaction-local `riskmap.bulk_operation` to a JSON object saying what it is (`{"kind": "import", "source":
"<file>", "sha256": "<content hash>"}`, see geo/access/bulk.py). While it is set, the audit trigger of migration
0008 writes no copy of each row: per transaction, table and action it keeps ONE audit row (record_id empty) whose
`after` is `{"bulk": <the operation>, "rows": n, "ids": [[first, last], …]}` — the affected ids as closed ranges
(or the key values, for a table keyed by text). Every row written stays traceable to its entry, and single edits,
which never set the flag, keep their before/after rows.

`riskmap_audit_covers(after, record_id)` tells whether a bulk entry covers a record (the audit reader's filter).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

ID_RANGES = """
CREATE OR REPLACE FUNCTION riskmap_id_ranges(ids bigint[]) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_array(lo, hi) ORDER BY lo), '[]'::jsonb)
    FROM (SELECT min(i) AS lo, max(i) AS hi
          FROM (SELECT i, i - row_number() OVER (ORDER BY i) AS g FROM (SELECT DISTINCT unnest(ids) AS i) d) t
          GROUP BY g) r
$$
"""
"""Sorted ids as closed ranges: {1,2,3,7} → [[1,3],[7,7]]."""

MERGE_RANGES = """
CREATE OR REPLACE FUNCTION riskmap_merge_ranges(r jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_array(lo, hi) ORDER BY lo), '[]'::jsonb)
    FROM (SELECT min(lo) AS lo, max(hi) AS hi
          FROM (SELECT lo, hi, sum(brk) OVER (ORDER BY lo, hi) AS grp
                FROM (SELECT lo, hi, CASE WHEN lo <= max(hi) OVER (ORDER BY lo, hi ROWS BETWEEN UNBOUNDED PRECEDING
                                                                   AND 1 PRECEDING) + 1 THEN 0 ELSE 1 END AS brk
                      FROM (SELECT (e ->> 0)::bigint AS lo, (e ->> 1)::bigint AS hi
                            FROM jsonb_array_elements(r) e) x) y) z
          GROUP BY grp) w
$$
"""
"""Closed ranges merged where they touch or overlap: [[1,1000],[1001,2000],[5,7]] → [[1,2000]] (later statements
of one operation append their ranges)."""

COVERS = """
CREATE OR REPLACE FUNCTION riskmap_audit_covers(after jsonb, rid text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN rid ~ '^-?[0-9]{1,18}$' THEN EXISTS (
                    SELECT 1 FROM jsonb_array_elements(after -> 'ids') e
                    WHERE jsonb_typeof(e) = 'array' AND (e ->> 0)::bigint <= rid::bigint
                      AND rid::bigint <= (e ->> 1)::bigint)
                ELSE false END
           OR coalesce(after -> 'ids' @> jsonb_build_array(rid), false)
$$
"""

# 0008's trigger, with the bulk branch first.
AUDIT_WITH_BULK = """
CREATE OR REPLACE FUNCTION riskmap_audit() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
DECLARE
    who text := coalesce(nullif(current_setting('riskmap.user', true), ''), session_user::text);
    what text := nullif(current_setting('riskmap.role', true), '');
    k text := TG_ARGV[0];
    bulk jsonb := nullif(current_setting('riskmap.bulk_operation', true), '')::jsonb;
    act text := lower(TG_OP);
    n bigint;
    ids jsonb;
    cols text;
    j text;
BEGIN
    IF bulk IS NOT NULL THEN
        -- one entry per transaction, table and action: the affected keys, no copy of the rows
        IF (SELECT a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype) FROM pg_attribute a
            WHERE a.attrelid = TG_RELID AND a.attname = k) THEN
            EXECUTE format('SELECT count(*), riskmap_id_ranges(array_agg(r.%I::bigint)) FROM %s r', k,
                           CASE WHEN TG_OP = 'DELETE' THEN 'old_rows' ELSE 'new_rows' END) INTO n, ids;
        ELSE
            EXECUTE format('SELECT count(*), coalesce(jsonb_agg(r.%I::text ORDER BY r.%I::text), ''[]'') FROM %s r',
                           k, k, CASE WHEN TG_OP = 'DELETE' THEN 'old_rows' ELSE 'new_rows' END) INTO n, ids;
        END IF;
        IF n = 0 THEN
            RETURN NULL;
        END IF;
        UPDATE audit_log SET after = jsonb_set(jsonb_set(after, '{rows}', to_jsonb((after ->> 'rows')::bigint + n)),
                                               '{ids}', CASE WHEN jsonb_typeof(ids -> 0) = 'array'
                                                             THEN riskmap_merge_ranges((after -> 'ids') || ids)
                                                             ELSE (after -> 'ids') || ids END)
        WHERE txid = txid_current() AND record_id IS NULL AND table_name = TG_TABLE_NAME AND action = act
          AND after -> 'bulk' = bulk;
        IF NOT FOUND THEN
            INSERT INTO audit_log (actor, actor_role, action, table_name, record_id, after)
            VALUES (who, what, act, TG_TABLE_NAME, NULL,
                    jsonb_build_object('bulk', bulk, 'rows', n, 'ids', ids));
        END IF;
        RETURN NULL;
    END IF;
    -- the row's columns, each geometry as its summary (never turned into GeoJSON), the tile column left out
    cols := (
        SELECT string_agg(CASE WHEN a.atttypid = 'geometry'::regtype
                               THEN format('riskmap_geom_summary(r.%1$I) AS %1$I', a.attname)
                               ELSE format('r.%I', a.attname) END, ', ' ORDER BY a.attnum)
        FROM pg_attribute a
        WHERE a.attrelid = TG_RELID AND a.attnum > 0 AND NOT a.attisdropped AND a.attname <> 'geom_3857');
    j := format('riskmap_audit_row((SELECT to_jsonb(x) FROM (SELECT %s) x))', cols);
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


def upgrade() -> None:
    op.execute(ID_RANGES)
    op.execute(MERGE_RANGES)
    op.execute(COVERS)
    op.execute(AUDIT_WITH_BULK)


def downgrade() -> None:
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("riskmap_0008", Path(__file__).with_name("0008_scope.py"))
    assert spec is not None and spec.loader is not None
    scope = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scope)
    op.execute(scope.AUDIT_COMPACT)  # 0008's trigger, without the bulk branch
    op.execute("DROP FUNCTION IF EXISTS riskmap_audit_covers(jsonb, text)")
    op.execute("DROP FUNCTION IF EXISTS riskmap_merge_ranges(jsonb)")
    op.execute("DROP FUNCTION IF EXISTS riskmap_id_ranges(bigint[])")
