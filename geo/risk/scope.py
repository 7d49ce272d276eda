"""Which objects a compute run touches: all, one township, or some object ids (and the areas holding them)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, text

from geo.codes import KIND_LABELS, KINDS  # noqa: F401  (risk object kinds, light for the CLI)
from geo.errors import NotFound


@dataclass(frozen=True)
class Scope:
    """A compute run's reach; None everywhere = the whole county."""

    township_id: int | None = None
    enterprise_ids: tuple[int, ...] | None = None
    mine_ids: tuple[int, ...] | None = None
    pipeline_ids: tuple[int, ...] | None = None
    segment_ids: tuple[int, ...] | None = None
    """Segments to reassess besides those of `pipeline_ids` (their pipelines are not re-segmented)."""
    since: dt.datetime | None = None
    """For a `--changed` run: the previous run's time the ids were found from (None otherwise)."""

    @property
    def is_full(self) -> bool:
        return self.township_id is None and self.enterprise_ids is None and self.mine_ids is None \
            and self.pipeline_ids is None and self.segment_ids is None

    @property
    def by_ids(self) -> bool:
        return self.township_id is None and not self.is_full


def township_id_for(conn: Connection, code: str) -> int:
    """Township id for a 12-digit code (or its 9-digit prefix); NotFound in Chinese otherwise."""
    row = conn.execute(text("SELECT id FROM township WHERE code = :c OR left(code, 9) = :c ORDER BY code LIMIT 1"),
                       {"c": code}).scalar()
    if row is None:
        raise NotFound(f"没有代码为 {code} 的乡镇")
    return int(row)


def _ids(values: tuple[int, ...] | None) -> list[int] | None:
    return list(values) if values is not None else None


SCOPE_SQL = {
    "enterprise": """
        CREATE TEMP TABLE risk_scope_enterprise ON COMMIT DROP AS
        SELECT e.id FROM enterprise e
        WHERE (CAST(:full AS boolean))
           OR (CAST(:tid AS integer) IS NOT NULL AND ST_Intersects(e.geom, (SELECT geom FROM township WHERE id = :tid)))
           OR e.id = ANY(CAST(:eids AS integer[]))
           OR e.id IN (SELECT m.enterprise_id FROM mine m
                       WHERE m.id = ANY(CAST(:mids AS integer[]))
                          OR (CAST(:tid AS integer) IS NOT NULL
                              AND ST_Intersects(m.licence_boundary, (SELECT geom FROM township WHERE id = :tid))))""",
    "mine": """
        CREATE TEMP TABLE risk_scope_mine ON COMMIT DROP AS
        SELECT m.id FROM mine m
        WHERE (CAST(:full AS boolean))
           OR (CAST(:tid AS integer) IS NOT NULL
               AND ST_Intersects(m.licence_boundary, (SELECT geom FROM township WHERE id = :tid)))
           OR m.id = ANY(CAST(:mids AS integer[]))
           OR m.enterprise_id IN (SELECT id FROM risk_scope_enterprise)""",
    "pipeline": """
        CREATE TEMP TABLE risk_scope_pipeline ON COMMIT DROP AS
        SELECT p.id FROM pipeline p
        WHERE (CAST(:full AS boolean))
           OR (CAST(:tid AS integer) IS NOT NULL AND ST_Intersects(p.geom, (SELECT geom FROM township WHERE id = :tid)))
           OR p.id = ANY(CAST(:pids AS integer[]))""",
}


def create_object_scope(conn: Connection, scope: Scope) -> None:
    """Temp tables risk_scope_enterprise/_mine/_pipeline with the ids this run assesses (dropped at commit).

    An enterprise and the mines it runs are always assessed together, since mine violations raise the
    enterprise's level (wherever the mine lies).
    """
    params = {"full": scope.is_full, "tid": scope.township_id, "eids": _ids(scope.enterprise_ids),
              "mids": _ids(scope.mine_ids), "pids": _ids(scope.pipeline_ids)}
    script = ";\n".join(f"DROP TABLE IF EXISTS risk_scope_{kind};\n{sql};\n"
                         f"ALTER TABLE risk_scope_{kind} ADD PRIMARY KEY (id);\nANALYZE risk_scope_{kind}"
                         for kind, sql in SCOPE_SQL.items())
    conn.execute(text(script), params)  # one round trip: a small run sends few statements


SEGMENT_SCOPE_SQL = """
CREATE TEMP TABLE risk_scope_segment ON COMMIT DROP AS
SELECT s.id FROM pipeline_segment s JOIN risk_scope_pipeline p ON p.id = s.pipeline_id
WHERE CAST(:tid AS integer) IS NULL OR s.township_id = :tid
UNION
SELECT s.id FROM pipeline_segment s WHERE s.id = ANY(CAST(:sids AS integer[]))
"""


def create_segment_scope(conn: Connection, scope: Scope) -> int:
    """Temp table risk_scope_segment: segments of the scoped pipelines (in the township, when scoped so) and the
    scope's own segment ids; returns how many."""
    params = {"tid": scope.township_id, "sids": _ids(scope.segment_ids) or []}
    n = conn.execute(text("DROP TABLE IF EXISTS risk_scope_segment;" + SEGMENT_SCOPE_SQL), params).rowcount
    conn.execute(text("ALTER TABLE risk_scope_segment ADD PRIMARY KEY (id); ANALYZE risk_scope_segment"))
    return int(n)


AREA_SCOPE_SQL = """
CREATE TEMP TABLE risk_scope_area ON COMMIT DROP AS
WITH touched AS (
    SELECT e.geom FROM enterprise e JOIN risk_scope_enterprise s USING (id)
    UNION ALL SELECT ST_PointOnSurface(m.licence_boundary) FROM mine m JOIN risk_scope_mine s USING (id)
    UNION ALL SELECT ST_LineInterpolatePoint(g.geom, 0.5) FROM pipeline_segment g JOIN risk_scope_segment s USING (id)
)
SELECT 'grid_cell'::text AS kind, c.id FROM grid_cell c
WHERE CAST(:full AS boolean) OR c.township_id = :tid
   OR EXISTS (SELECT 1 FROM touched t WHERE ST_Intersects(c.geom, t.geom))
UNION
SELECT 'township', w.id FROM township w
WHERE CAST(:full AS boolean) OR w.id = :tid
   OR EXISTS (SELECT 1 FROM touched t WHERE ST_Intersects(w.geom, t.geom))
"""


# What the roll-up reads of an object's result (geo/risk/rollup.py): level, score, causes (a segment's, with their
# levels and labels) and name. Kept before a `--changed` run writes its results, so that only the areas holding an
# object whose roll-up input changed are rolled up again.
ROLLUP_INPUT_SQL = """
CREATE TEMP TABLE risk_prev_input ON COMMIT DROP AS
SELECT a.kind, a.object_id, a.level, a.score, a.details->'name' AS name, a.details->'causes' AS causes
FROM risk_scope_enterprise s
JOIN risk_assessment a ON a.kind = 'enterprise' AND a.object_id = s.id AND a.valid_to IS NULL
UNION ALL
SELECT a.kind, a.object_id, a.level, a.score, a.details->'name', a.details->'causes'
FROM risk_scope_mine s JOIN risk_assessment a ON a.kind = 'mine' AND a.object_id = s.id AND a.valid_to IS NULL
UNION ALL
SELECT a.kind, a.object_id, a.level, a.score, a.details->'name', a.details->'causes'
FROM risk_scope_segment s
JOIN risk_assessment a ON a.kind = 'pipeline_segment' AND a.object_id = s.id AND a.valid_to IS NULL
"""


def remember_rollup_inputs(conn: Connection, scope: Scope) -> None:
    """Temp table risk_prev_input: the roll-up inputs of the objects a `--changed` run reassesses, before it writes
    (nothing for other runs: they roll up every area holding an object they assess)."""
    if scope.by_ids and scope.since is not None:
        conn.execute(text("DROP TABLE IF EXISTS risk_prev_input;" + ROLLUP_INPUT_SQL))


# A `--changed` run rolls up only the areas whose result can have moved. An object counts in an area by its level,
# score and causes (a segment's, with their levels and labels) at its place; its name shows only where it is the
# highest object (the area's 就高 reason names it). So an area is rolled up again when it holds an object whose
# level, score or causes differ from before the run (or that had no result), whose place may have moved (its own row
# was edited since the previous run and the audit log does not show the place unchanged: a mine's licence polygon
# and company, an enterprise's point), or a segment of a re-segmented line; or when its 就高 reason names an object
# whose name changed. An area holding none of these counts and reads exactly as before: nothing else in it was
# reassessed. {placed} is the audit-log test, or false when this login cannot read the log.
CHANGED_AREA_SCOPE_TEMPLATE = """
CREATE TEMP TABLE risk_scope_area ON COMMIT DROP AS
WITH scoped AS (
    -- edited: its own row changed since the previous run (a segment: its line was re-segmented)
    SELECT 'enterprise'::text AS kind, e.id, e.geom AS pt, e.updated_at > :since AS edited
    FROM risk_scope_enterprise s JOIN enterprise e USING (id)
    UNION ALL
    SELECT 'mine', m.id, ST_PointOnSurface(m.licence_boundary), m.updated_at > :since
    FROM risk_scope_mine s JOIN mine m USING (id)
    UNION ALL
    SELECT 'pipeline_segment', g.id, ST_LineInterpolatePoint(g.geom, 0.5),
           g.pipeline_id IN (SELECT id FROM risk_scope_pipeline)
    FROM risk_scope_segment s JOIN pipeline_segment g USING (id)
), moved AS MATERIALIZED (
    SELECT o.kind, o.id, o.pt, o.edited,
           p.object_id IS NULL
               OR (a.level, a.score, a.details->'causes') IS DISTINCT FROM (p.level, p.score, p.causes) AS counted,
           a.details->'name' IS DISTINCT FROM p.name AS named
    FROM scoped o
    JOIN risk_assessment a ON a.kind = o.kind AND a.object_id = o.id AND a.valid_to IS NULL
    LEFT JOIN risk_prev_input p ON p.kind = o.kind AND p.object_id = o.id
), placed AS (
    SELECT o.*, o.edited AND NOT CASE o.kind WHEN 'enterprise' THEN {placed_enterprise}
                                             WHEN 'mine' THEN {placed_mine} ELSE false END AS replaced
    FROM moved o WHERE o.counted OR o.named OR o.edited
), touched AS (
    -- named_only: the object's name is all that moved, so only the areas it heads change
    SELECT pt AS geom, NOT (counted OR replaced) AS named_only, kind, id AS object_id
    FROM placed WHERE counted OR named OR replaced
    {left}
), area AS (
    SELECT 'grid_cell'::text AS kind, c.id, c.geom FROM grid_cell c
    UNION ALL
    SELECT 'township', w.id, w.geom FROM township w
)
SELECT DISTINCT ar.kind, ar.id FROM area ar JOIN touched t ON ar.geom && t.geom AND ST_Intersects(ar.geom, t.geom)
WHERE NOT t.named_only
   OR EXISTS (SELECT 1 FROM risk_assessment r
              WHERE r.kind = ar.kind AND r.object_id = ar.id AND r.valid_to IS NULL
                AND r.reasons @> jsonb_build_array(jsonb_build_object(
                        'code', 'rollup.highest', 'value', jsonb_build_object('kind', t.kind, 'id', t.object_id))))
"""

# The place of an object whose own row was edited is unchanged when every audit row of it since the previous run is
# an update with the same place before and after (the audit trigger keeps a geometry as the SHA-256 of its EWKB,
# migration 0008). A bulk write is audited per table, not per row: then nothing says so, and the object counts as
# moved.
PLACED_SQL = """(EXISTS (SELECT 1 FROM audit_log l WHERE l.table_name = '{table}'
                AND l.record_id = CAST({alias}.id AS text) AND l.at > :since)
        AND NOT EXISTS (SELECT 1 FROM audit_log l WHERE l.table_name = '{table}'
                        AND l.record_id = CAST({alias}.id AS text) AND l.at > :since
                        AND (l.action <> 'update' OR {differs})))"""


# The places an edited enterprise or mine left since the previous run (the box of its geometry before each
# update, from the audit log): the areas there lose it. A point's box is the point; a licence's box holds it.
LEFT_SQL = """
    UNION ALL
    SELECT ST_SetSRID(ST_Envelope(ST_MakeLine(ST_MakePoint(CAST(x.b->>0 AS float8), CAST(x.b->>1 AS float8)),
                                              ST_MakePoint(CAST(x.b->>2 AS float8), CAST(x.b->>3 AS float8)))), 4490),
           false, l.table_name, CAST(l.record_id AS integer)
    FROM audit_log l
    CROSS JOIN LATERAL (SELECT CASE l.table_name WHEN 'mine' THEN 'licence_boundary' ELSE 'geom' END AS col) c
    CROSS JOIN LATERAL (SELECT l.before->c.col->'bbox' AS b) x
    WHERE l.at > :since AND l.action = 'update' AND x.b IS NOT NULL
      AND l.before->c.col IS DISTINCT FROM l.after->c.col
      AND ((l.table_name = 'enterprise' AND l.record_id IN (SELECT CAST(id AS text) FROM risk_scope_enterprise))
           OR (l.table_name = 'mine' AND l.record_id IN (SELECT CAST(id AS text) FROM risk_scope_mine)))"""


def audit_readable(conn: Connection) -> bool:
    """Whether this login may read the audit log (a `--changed` run learns deletions and moves from it)."""
    return bool(conn.execute(text("SELECT has_table_privilege('audit_log', 'SELECT')")).scalar())


def changed_area_scope_sql(readable: bool) -> str:
    """CHANGED_AREA_SCOPE_TEMPLATE with the audit-log test of an edited object's place (or none, if unreadable)."""
    if not readable:
        return CHANGED_AREA_SCOPE_TEMPLATE.format(placed_enterprise="false", placed_mine="false", left="")
    return CHANGED_AREA_SCOPE_TEMPLATE.format(
        left=LEFT_SQL,
        placed_enterprise=PLACED_SQL.format(table="enterprise", alias="o",
                                            differs="l.before->'geom' IS DISTINCT FROM l.after->'geom'"),
        placed_mine=PLACED_SQL.format(table="mine", alias="o", differs="(l.before->'licence_boundary', "
                                      "l.before->'enterprise_id') IS DISTINCT FROM (l.after->'licence_boundary', "
                                      "l.after->'enterprise_id')"))


def create_area_scope(conn: Connection, scope: Scope) -> None:
    """Temp table risk_scope_area(kind, id): grid cells and townships whose roll-up the run may change."""
    if scope.by_ids and scope.since is not None:
        conn.execute(text("DROP TABLE IF EXISTS risk_scope_area;" + changed_area_scope_sql(audit_readable(conn))),
                     {"since": scope.since})
        return
    conn.execute(text("DROP TABLE IF EXISTS risk_scope_area;" + AREA_SCOPE_SQL),
                 {"full": scope.is_full, "tid": scope.township_id})


PREV_SEGMENT_SQL = """
CREATE TEMP TABLE risk_prev_segment ON COMMIT DROP AS
SELECT s.id FROM pipeline_segment s JOIN risk_scope_pipeline p ON p.id = s.pipeline_id
"""


def remember_segments(conn: Connection) -> None:
    """Temp table risk_prev_segment: the scoped pipelines' segments before re-segmentation (to close the ones cut)."""
    conn.execute(text("DROP TABLE IF EXISTS risk_prev_segment;" + PREV_SEGMENT_SQL))
