-- Encroachment points (占压点) beside the pipelines: 占压 within :encroachment_offset_m of the centreline,
-- 安全距离不足 between :distance_min and :distance_max metres off it (perpendicular, GK zone), crossings on it.
INSERT INTO encroachment (id, code, pipeline_id, geom, kind, description, formed_on, nature, township_id, status,
                          found_on, measure, deadline, responsible_operator, closed_on, closed_by, dossier, source)
WITH e AS (
    SELECT g AS id,
           1 + floor(pg_temp.u(:s, g, 1) * :n_lines)::int AS pipeline_id,
           0.001 + 0.998 * pg_temp.u(:s, g, 2) AS fraction,
           width_bucket(pg_temp.u(:s, g, 3), CAST(:kind_cum AS float8[])) AS kk,
           (CAST(:natures AS text[]))[width_bucket(pg_temp.u(:s, g, 4), CAST(:nature_cum AS float8[]))] AS nature,
           (CAST(:statuses AS text[]))[width_bucket(pg_temp.u(:s, g, 5), CAST(:status_cum AS float8[]))] AS status,
           CASE WHEN pg_temp.u(:s, g, 6) < 0.5 THEN -1 ELSE 1 END AS side,
           pg_temp.u(:s, g, 7) AS u_off,
           pg_temp.u(:s, g, 8) < :polygon_share AS is_polygon,
           CAST(:base_date AS date) - 365 - floor(pg_temp.u(:s, g, 9) * 365 * 20)::int AS formed_on
    FROM generate_series(1, :n) AS g
), placed AS (
    SELECT e.*, (CAST(:kinds AS text[]))[e.kk] AS kind, (CAST(:kind_labels AS text[]))[e.kk] AS kind_label,
           ST_LineInterpolatePoint(p.geom, e.fraction) AS on_line,
           ST_Azimuth(ST_LineInterpolatePoint(p.geom, e.fraction - 0.0005),
                      ST_LineInterpolatePoint(p.geom, e.fraction + 0.0005)) AS azimuth
    FROM e
    JOIN t_pipe p ON p.id = e.pipeline_id
), shifted AS MATERIALIZED (
    SELECT placed.*,
           ST_Translate(on_line,
                        off_m * sin(azimuth + side * pi() / 2), off_m * cos(azimuth + side * pi() / 2)) AS pt,
           ST_Transform(ST_Translate(on_line, off_m * sin(azimuth + side * pi() / 2),
                                     off_m * cos(azimuth + side * pi() / 2)), 4490) AS pt_stored
    FROM placed
    CROSS JOIN LATERAL (SELECT CASE kind WHEN 'crossing' THEN 0
                                         WHEN 'encroachment' THEN :encroachment_offset_m * u_off
                                         ELSE :distance_min + (:distance_max - :distance_min) * u_off END AS off_m) AS o
)
SELECT s.id,
       'SCALE-ZY-' || lpad(s.id::text, 6, '0'),
       s.pipeline_id,
       CASE WHEN s.is_polygon THEN ST_Transform(ST_Expand(s.pt, 3 + 5 * s.u_off), 4490) ELSE s.pt_stored END,
       s.kind,
       '合成' || s.kind_label || '点' || s.id,
       s.formed_on,
       s.nature,
       tw.id,
       s.status,
       LEAST(s.formed_on + 180, CAST(:base_date AS date)),
       (CAST(:measures AS text[]))[1 + mod(s.id, cardinality(CAST(:measures AS text[])))],
       LEAST(s.formed_on + 180, CAST(:base_date AS date)) + 365,
       pl.operator,
       CASE WHEN s.status = 'closed' THEN LEAST(s.formed_on + 210 + mod(s.id, 300), CAST(:base_date AS date)) END,
       CASE WHEN s.status = 'closed' THEN '合成验收组' END,
       jsonb_build_object('synthetic', true, 'generator', 'bench.generate'),
       :source
FROM shifted s
JOIN pipeline pl ON pl.id = s.pipeline_id
LEFT JOIN LATERAL (
    SELECT t.id FROM t_town t WHERE ST_Intersects(t.geom, s.pt_stored) ORDER BY t.id LIMIT 1
) AS tw ON true;
