-- Dynamic segmentation of the pipelines in risk_scope_pipeline into risk_new_segment (EPSG:4490 output).
-- Work is in the county's Gauss–Krüger zone (:srid, metres): cuts every :seg_m metres along each merged part,
-- plus a cut wherever the line crosses a township boundary; each piece takes the township holding its midpoint.
CREATE TEMP TABLE risk_new_segment ON COMMIT DROP AS
WITH parts AS (
    SELECT p.id AS pipeline_id, d.path[1] AS part_no, d.geom AS g
    FROM pipeline p
    JOIN risk_scope_pipeline s USING (id)
    CROSS JOIN LATERAL ST_Dump(ST_LineMerge(ST_Transform(p.geom, :srid))) d
    WHERE ST_Length(d.geom) > 0
), parts_m AS (
    SELECT pipeline_id, COALESCE(part_no, 1) AS part_no, g, ST_Length(g) AS len_m,
           COALESCE(sum(ST_Length(g)) OVER (PARTITION BY pipeline_id ORDER BY part_no
                                            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS offset_m
    FROM parts
), cuts AS (
    SELECT pm.pipeline_id, pm.part_no, k * CAST(:seg_m AS double precision) AS m
    FROM parts_m pm CROSS JOIN LATERAL generate_series(0, CAST(ceil(pm.len_m / :seg_m) AS integer)) k
    WHERE k * :seg_m < pm.len_m
    UNION ALL
    SELECT pipeline_id, part_no, len_m FROM parts_m
    UNION ALL
    SELECT pm.pipeline_id, pm.part_no, ST_LineLocatePoint(pm.g, x.geom) * pm.len_m
    FROM parts_m pm
    JOIN township t ON ST_Intersects(ST_Transform(t.geom, :srid), pm.g)
    CROSS JOIN LATERAL ST_DumpPoints(ST_Intersection(pm.g, ST_Boundary(ST_Transform(t.geom, :srid)))) x
), ordered AS (
    SELECT DISTINCT pipeline_id, part_no, round(CAST(m AS numeric), 2) AS m FROM cuts
), pieces AS (
    SELECT pipeline_id, part_no, CAST(m AS double precision) AS a,
           CAST(lead(m) OVER (PARTITION BY pipeline_id, part_no ORDER BY m) AS double precision) AS b
    FROM ordered
), geoms AS MATERIALIZED (  -- each piece cut and transformed once (inlined, the township look-up below redid it)
    SELECT pc.pipeline_id, pc.part_no, pc.a, pm.offset_m + pc.a AS from_m, pm.offset_m + pc.b AS to_m,
           ST_Transform(ST_LineSubstring(pm.g, LEAST(pc.a / pm.len_m, 1), LEAST(pc.b / pm.len_m, 1)), 4490) AS geom
    FROM pieces pc JOIN parts_m pm USING (pipeline_id, part_no)
    WHERE pc.b IS NOT NULL AND pc.b - pc.a > 0.05
)
SELECT g.pipeline_id,
       CAST(row_number() OVER (PARTITION BY g.pipeline_id ORDER BY g.part_no, g.a) AS integer) AS seq,
       g.from_m, g.to_m,
       (SELECT t.id FROM township t WHERE ST_Intersects(t.geom, ST_LineInterpolatePoint(g.geom, 0.5))
        ORDER BY t.id LIMIT 1) AS township_id,
       g.geom
FROM geoms g;

INSERT INTO pipeline_segment AS s (pipeline_id, seq, from_m, to_m, township_id, geom)
SELECT pipeline_id, seq, from_m, to_m, township_id, geom FROM risk_new_segment
ON CONFLICT (pipeline_id, seq) DO UPDATE
SET from_m = EXCLUDED.from_m, to_m = EXCLUDED.to_m, township_id = EXCLUDED.township_id, geom = EXCLUDED.geom
WHERE (s.from_m, s.to_m, s.township_id) IS DISTINCT FROM (EXCLUDED.from_m, EXCLUDED.to_m, EXCLUDED.township_id)
   OR NOT ST_OrderingEquals(s.geom, EXCLUDED.geom);

-- Segments past the new last one (the line got shorter) go; seq runs 1..n per pipeline.
DELETE FROM pipeline_segment s
USING (SELECT p.id, COALESCE(max(n.seq), 0) AS last_seq
       FROM risk_scope_pipeline p LEFT JOIN risk_new_segment n ON n.pipeline_id = p.id
       GROUP BY p.id) k
WHERE s.pipeline_id = k.id AND s.seq > k.last_seq;

DROP TABLE risk_new_segment;
