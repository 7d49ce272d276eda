"""Grid cells and townships: counts per colour of the objects inside, highest level, density index.

No national aggregation formula (本地规定; the four colours per 安委办〔2016〕11号) — highest level wins (就高), raised one step when red+orange
objects per km² reach the rules' threshold. Counts are of real-world objects (a mine with its enterprise is one; a run
of adjacent segments of one pipeline with the same cause is one). Areas in km² in the county's Gauss–Krüger zone.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from geo.risk.findings import Assessment, Finding, combine_findings, dict_rows, fmt_number
from geo.risk.rules import LEVEL_RANK, LEVELS, Rules, raise_level

# Each real-world object is placed at one or more points and counts once per area (its highest level there):
# an enterprise at its point; a mine at a point on its licence polygon, as one object with the enterprise that runs
# it; a pipeline object — a run of adjacent segments of one pipeline with the same cause (one high-consequence
# stretch, one register item, one mine nearby…) — at the midpoints of its segments. Segments assessed before
# causes were recorded count as one cause per level.
POINTS_SQL = """
CREATE TEMP TABLE risk_obj_pt ON COMMIT DROP AS
WITH seg AS (
    SELECT a.object_id, a.score, s.pipeline_id, s.seq, p.name, ST_LineInterpolatePoint(s.geom, 0.5) AS pt,
           COALESCE(a.details->'causes', jsonb_build_array(jsonb_build_object('key', a.level, 'level', a.level,
                                                                              'label', ''))) AS causes
    FROM risk_assessment a
    JOIN pipeline_segment s ON s.id = a.object_id
    JOIN pipeline p ON p.id = s.pipeline_id
    WHERE a.kind = 'pipeline_segment' AND a.valid_to IS NULL
      AND 'pipeline_segment' = ANY(CAST(:kinds AS text[]))
), cause AS (
    SELECT seg.object_id, seg.score, seg.pipeline_id, seg.seq, seg.name, seg.pt,
           c->>'key' AS cause, c->>'level' AS level, COALESCE(c->>'label', '') AS label
    FROM seg CROSS JOIN LATERAL jsonb_array_elements(seg.causes) c
), run AS (
    SELECT cause.*, seq - row_number() OVER (PARTITION BY pipeline_id, cause ORDER BY seq) AS grp FROM cause
)
SELECT 'pipeline_segment' AS kind, object_id, 'p' || pipeline_id || ':' || cause || ':' || grp AS obj,
       level, score, name, label, seq, pt
FROM run
UNION ALL
SELECT 'enterprise', e.id, 'e' || e.id, a.level, a.score, e.name, '', NULL, e.geom
FROM risk_assessment a JOIN enterprise e ON e.id = a.object_id
WHERE a.kind = 'enterprise' AND a.valid_to IS NULL AND 'enterprise' = ANY(CAST(:kinds AS text[]))
UNION ALL
SELECT 'mine', m.id, COALESCE('e' || m.enterprise_id, 'm' || m.id), a.level, a.score, m.name, '', NULL,
       ST_PointOnSurface(m.licence_boundary)
FROM risk_assessment a JOIN mine m ON m.id = a.object_id
WHERE a.kind = 'mine' AND a.valid_to IS NULL AND 'mine' = ANY(CAST(:kinds AS text[]));
CREATE INDEX ON risk_obj_pt USING gist (pt);
ANALYZE risk_obj_pt (kind);  -- the row count is what the plan needs: the points' statistics took 0.08 s of a ×1 run
"""

# The areas of the run (risk_scope_area) with their km², and — from `hit` (per area and object: rank, score,
# member, name, label, first and last segment) — each area's counts per colour and its highest object (就高).
AREAS_CTE = """
    SELECT 'grid_cell' AS kind, c.id, COALESCE(c.name, c.code) AS name, c.township_id, c.geom,
           ST_Area(ST_Transform(c.geom, :srid)) / 1e6 AS area_km2
    FROM grid_cell c JOIN risk_scope_area s ON s.kind = 'grid_cell' AND s.id = c.id
    UNION ALL
    SELECT 'township', t.id, t.name, t.id, t.geom, ST_Area(ST_Transform(t.geom, :srid)) / 1e6
    FROM township t JOIN risk_scope_area s ON s.kind = 'township' AND s.id = t.id
"""
AREA_TOTALS = """, named AS (
    SELECT hit.*, (ARRAY['blue', 'yellow', 'orange', 'red'])[rank] AS level,
           name || CASE WHEN seq0 IS NULL THEN ''
                        WHEN seq0 = seq1 THEN ' 第' || seq0 || '段'
                        ELSE ' 第' || seq0 || '–' || seq1 || '段' END
                || CASE WHEN label <> '' THEN '：' || label ELSE '' END AS title
    FROM hit
)
SELECT ar.kind, ar.id, ar.name, ar.township_id, ar.area_km2,
       count(n.obj) FILTER (WHERE n.level = 'red') AS red,
       count(n.obj) FILTER (WHERE n.level = 'orange') AS orange,
       count(n.obj) FILTER (WHERE n.level = 'yellow') AS yellow,
       count(n.obj) FILTER (WHERE n.level = 'blue') AS blue,
       (array_agg(n.member || ':' || n.level || ':' || n.title ORDER BY n.rank DESC, n.score DESC, n.member, n.obj)
            FILTER (WHERE n.obj IS NOT NULL))[1] AS top
FROM areas ar
LEFT JOIN named n ON n.area_kind = ar.kind AND n.area_id = ar.id
GROUP BY ar.kind, ar.id, ar.name, ar.township_id, ar.area_km2  -- not by geom: equal polygons compared per row
"""

AREAS_SQL = """
WITH areas AS (""" + AREAS_CTE + """
), hit AS (
    SELECT ar.kind AS area_kind, ar.id AS area_id, o.obj,
           max(CASE o.level WHEN 'red' THEN 4 WHEN 'orange' THEN 3 WHEN 'yellow' THEN 2 ELSE 1 END) AS rank,
           max(o.score) AS score,
           (array_agg(o.kind || ':' || o.object_id ORDER BY o.kind, o.seq, o.object_id))[1] AS member,
           (array_agg(o.name ORDER BY o.kind, o.object_id))[1] AS name,
           (array_agg(o.label ORDER BY o.seq))[1] AS label,
           min(o.seq) AS seq0, max(o.seq) AS seq1
    FROM areas ar
    JOIN risk_obj_pt o ON o.pt && ar.geom AND ST_Intersects(ar.geom, o.pt)
    GROUP BY ar.kind, ar.id, o.obj
)
""" + AREA_TOTALS


# A scoped run (some objects, or one township: the few areas of risk_scope_area) rolls up in one statement, without
# risk_obj_pt, its index and its ANALYZE: each object is placed straight into the areas holding it, found through
# the tables' GiST indexes from those areas. Per pipeline it reads every segment from the first to the last with
# its midpoint in one of them: whether two such segments belong to one run depends only on the segments between
# them, so each area counts exactly what a full run counts. Per area and object, the member, name and label a full
# run takes (AREAS_SQL's ordered array_aggs) all come from the object's first row by kind, segment, id — a run's
# segments share their pipeline's name; an enterprise and its mines have no segment and no label — so one sorted
# window pass gives them. tests/risk/test_mine_and_rollup.py holds the two to the same results.
SCOPED_AREAS_SQL = """
WITH areas AS MATERIALIZED (""" + AREAS_CTE + """
), seg_in AS MATERIALIZED (
    SELECT ar.kind AS area_kind, ar.id AS area_id, g.id, g.pipeline_id, g.seq
    FROM areas ar JOIN pipeline_segment g ON g.geom && ar.geom
    WHERE ST_Intersects(ar.geom, ST_LineInterpolatePoint(g.geom, 0.5))
      AND 'pipeline_segment' = ANY(CAST(:kinds AS text[]))
), span AS (
    SELECT pipeline_id, min(seq) AS lo, max(seq) AS hi FROM seg_in GROUP BY pipeline_id
), cause AS (
    SELECT a.object_id, a.score, s.pipeline_id, s.seq, p.name, c.key AS cause, c.level, COALESCE(c.label, '') AS label
    FROM span
    JOIN pipeline p ON p.id = span.pipeline_id
    JOIN pipeline_segment s ON s.pipeline_id = span.pipeline_id AND s.seq BETWEEN span.lo AND span.hi
    JOIN risk_assessment a ON a.kind = 'pipeline_segment' AND a.object_id = s.id AND a.valid_to IS NULL
    CROSS JOIN LATERAL jsonb_to_recordset(COALESCE(
        a.details->'causes',
        jsonb_build_array(jsonb_build_object('key', a.level, 'level', a.level, 'label', '')))
    ) AS c(key text, level text, label text)
), run AS (
    SELECT cause.*, seq - row_number() OVER (PARTITION BY pipeline_id, cause ORDER BY seq) AS grp FROM cause
), placed AS (
    SELECT h.area_kind, h.area_id, 'pipeline_segment' AS kind, r.object_id,
           'p' || r.pipeline_id || ':' || r.cause || ':' || r.grp AS obj, r.level, r.score, r.name, r.label, r.seq
    FROM run r JOIN seg_in h ON h.id = r.object_id
    UNION ALL
    SELECT ar.kind, ar.id, 'enterprise', e.id, 'e' || e.id, a.level, a.score, e.name, '', NULL
    FROM areas ar
    JOIN enterprise e ON e.geom && ar.geom AND ST_Intersects(ar.geom, e.geom)
    JOIN risk_assessment a ON a.kind = 'enterprise' AND a.object_id = e.id AND a.valid_to IS NULL
    WHERE 'enterprise' = ANY(CAST(:kinds AS text[]))
    UNION ALL
    SELECT ar.kind, ar.id, 'mine', m.id, COALESCE('e' || m.enterprise_id, 'm' || m.id), a.level, a.score, m.name, '',
           NULL
    FROM areas ar
    JOIN mine m ON m.licence_boundary && ar.geom AND ST_Intersects(ar.geom, ST_PointOnSurface(m.licence_boundary))
    JOIN risk_assessment a ON a.kind = 'mine' AND a.object_id = m.id AND a.valid_to IS NULL
    WHERE 'mine' = ANY(CAST(:kinds AS text[]))
), hit AS (
    SELECT DISTINCT ON (o.area_kind, o.area_id, o.obj) o.area_kind, o.area_id, o.obj,
           max(CASE o.level WHEN 'red' THEN 4 WHEN 'orange' THEN 3 WHEN 'yellow' THEN 2 ELSE 1 END) OVER w AS rank,
           max(o.score) OVER w AS score, o.kind || ':' || o.object_id AS member, o.name, o.label,
           min(o.seq) OVER w AS seq0, max(o.seq) OVER w AS seq1
    FROM placed o
    WINDOW w AS (PARTITION BY o.area_kind, o.area_id, o.obj ORDER BY o.kind, o.seq, o.object_id
                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
    ORDER BY o.area_kind, o.area_id, o.obj, o.kind, o.seq, o.object_id
)
""" + AREA_TOTALS


def rollup_findings(row: dict[str, Any], rules: Rules) -> tuple[list[Finding], str, dict[str, Any]]:
    """Findings of one area: counts, highest level (就高) and the density step; returns its level too."""
    ru = rules["rollup"]
    kind, aid = str(row["kind"]), int(row["id"])
    counts = {lv: int(row[lv]) for lv in LEVELS}
    findings = [Finding(kind, aid, "rollup.counts", None, 0.0, ru["text_counts"].format(**counts), ru["clause"], counts)]
    level = "blue"
    details: dict[str, Any] = {"name": row["name"], "counts": counts, "area_km2": round(float(row["area_km2"]), 3)}
    if row["top"]:
        top_kind, top_id, top_level, top_name = str(row["top"]).split(":", 3)
        level = top_level
        findings.append(Finding(kind, aid, "rollup.highest", top_level, float(LEVEL_RANK[top_level]),
                                ru["text_highest"].format(level=rules.label(top_level), name=top_name), ru["clause"],
                                {"kind": top_kind, "id": int(top_id)}))
    n = counts["red"] + counts["orange"]
    area = float(row["area_km2"])
    threshold = float(ru["density_threshold_per_km2"][kind])
    density = n / area if area > 0 else 0.0
    details["density_per_km2"] = round(density, 4)
    if ru["method"] == "highest_with_density" and n and density >= threshold:
        raised = raise_level(level)
        findings.append(Finding(kind, aid, "rollup.density", raised, 0.0,
                                ru["text_density"].format(n=n, area_km2=fmt_number(area, 2),
                                                          density=fmt_number(density, 2),
                                                          threshold=fmt_number(threshold, 2)),
                                ru["clause"], {"density_per_km2": round(density, 4)}))
        level = raised
    return findings, level, details


def assess_areas(conn: Connection, rules: Rules, *, srid: int, scoped: bool = False) -> list[Assessment]:
    """Roll up the current object levels into every grid cell and township in risk_scope_area.

    `scoped` (a run over some objects or one township) places only the objects in those areas (and the stretch of
    each line through them), not the county's; the counts are those of a full run.
    """
    kinds = list(rules["rollup"]["kinds"])
    if scoped:
        rows = conn.execute(text(SCOPED_AREAS_SQL), {"kinds": kinds, "srid": srid})
    else:
        conn.execute(text("DROP TABLE IF EXISTS risk_obj_pt;" + POINTS_SQL), {"kinds": kinds})
        rows = conn.execute(text(AREAS_SQL), {"srid": srid})
    out: list[Assessment] = []
    for row in dict_rows(rows):
        findings, level, details = rollup_findings(row, rules)
        a = combine_findings(str(row["kind"]), int(row["id"]), findings, township_id=row["township_id"],
                             details=details, base_level=level)
        a.score = float(row["red"]) * 1000 + float(row["orange"]) * 100 + float(row["yellow"]) * 10 + float(row["blue"])
        out.append(a)
    return out
