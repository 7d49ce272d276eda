-- Pipelines: meandering walks of :vertices vertices, :step_m apart (GK zone, metres), the heading turning by at
-- most :max_turn_deg per vertex, reflected at the inner box so each line stays one connected line in the county.
CREATE TEMP TABLE t_pipe ON COMMIT DROP AS
WITH lines AS (
    SELECT l,
           :ix0 + (:ix1 - :ix0) * pg_temp.u(:s, l, 1) AS x_start,
           :iy0 + (:iy1 - :iy0) * pg_temp.u(:s, l, 2) AS y_start,
           2 * pi() * pg_temp.u(:s, l, 3) AS heading0
    FROM generate_series(1, :n_lines) AS l
), turns AS (
    SELECT l.l, i, l.x_start, l.y_start,
           l.heading0 + sum(CASE WHEN i = 0 THEN 0
                                 ELSE radians(:max_turn_deg) * (2 * pg_temp.u(:s, l.l * 100000 + i, 4) - 1) END)
                        OVER (PARTITION BY l.l ORDER BY i) AS heading
    FROM lines l
    CROSS JOIN generate_series(0, :vertices - 1) AS i
), walk AS (
    SELECT l, i,
           x_start + sum(CASE WHEN i = 0 THEN 0 ELSE :step_m * cos(heading) END) OVER w AS x,
           y_start + sum(CASE WHEN i = 0 THEN 0 ELSE :step_m * sin(heading) END) OVER w AS y
    FROM turns
    WINDOW w AS (PARTITION BY l ORDER BY i)
)
SELECT l AS id,
       ST_SetSRID(ST_MakeLine(array_agg(ST_MakePoint(pg_temp.fold(x, :ix0, :ix1), pg_temp.fold(y, :iy0, :iy1))
                                        ORDER BY i)), :srid) AS geom
FROM walk
GROUP BY l;

CREATE UNIQUE INDEX ON t_pipe (id);
ANALYZE t_pipe;

INSERT INTO pipeline (id, code, name, operator, medium, design_pressure_mpa, outside_diameter_mm, burial_depth_m,
                      commissioning_year, geom, source)
WITH p AS (
    SELECT id, geom, width_bucket(pg_temp.u(:s, id, 5), CAST(:media_cum AS float8[])) AS k
    FROM t_pipe
)
SELECT id,
       'SCALE-GD-' || lpad(id::text, 5, '0'),
       '合成' || (CAST(:media_labels AS text[]))[k] || '管道' || lpad(id::text, 5, '0'),
       (CAST(:operators AS text[]))[1 + floor(pg_temp.u(:s, id, 6) * cardinality(CAST(:operators AS text[])))::int],
       (CAST(:media AS text[]))[k],
       round((:pressure_min + (:pressure_max - :pressure_min) * pg_temp.u(:s, id, 7))::numeric, 1)::float8,
       (CAST(:diameters AS float8[]))[1 + floor(pg_temp.u(:s, id, 8) * cardinality(CAST(:diameters AS float8[])))::int],
       round((:depth_min + (:depth_max - :depth_min) * pg_temp.u(:s, id, 9))::numeric, 1)::float8,
       :year_min + floor(pg_temp.u(:s, id, 10) * (:year_max - :year_min + 1))::int,
       ST_Multi(ST_Transform(geom, 4490)),
       :source
FROM p;

INSERT INTO pipeline_facility (id, pipeline_id, kind, name, geom, source)
SELECT row_number() OVER (ORDER BY p.id, f.n)::int,
       p.id, f.kind,
       '合成管道' || lpad(p.id::text, 5, '0') || (CAST(:facility_labels AS text[]))[f.n] || f.n,
       ST_Transform(ST_LineInterpolatePoint(p.geom, f.fraction), 4490),
       :source
FROM t_pipe p
CROSS JOIN unnest(CAST(:fractions AS float8[]), CAST(:facility_kinds AS text[])) WITH ORDINALITY AS f(fraction, kind, n);
