-- Roads: a jittered grid of nodes :spacing_m apart (GK zone, metres) joined to their east and north neighbours,
-- so the network is connected and segments share their end points exactly; every n-th grid line is a higher class.
CREATE TEMP TABLE t_node ON COMMIT DROP AS
SELECT i, j,
       :ix0 + :spacing_m * (i + 0.5) + :jitter * :spacing_m * (2 * pg_temp.u(:s, i * 100000 + j, 1) - 1) AS x,
       :iy0 + :spacing_m * (j + 0.5) + :jitter * :spacing_m * (2 * pg_temp.u(:s, i * 100000 + j, 2) - 1) AS y
FROM generate_series(0, :nx - 1) AS i
CROSS JOIN generate_series(0, :ny - 1) AS j;

CREATE UNIQUE INDEX ON t_node (i, j);
ANALYZE t_node;

INSERT INTO road (id, code, name, road_class, oneway, geom, source)
WITH seg AS (
    SELECT 1 AS dir, a.j AS line_no, a.i AS pos, a.x AS ax, a.y AS ay, b.x AS bx, b.y AS by
    FROM t_node a JOIN t_node b ON b.i = a.i + 1 AND b.j = a.j
    UNION ALL
    SELECT 2, a.i, a.j, a.x, a.y, b.x, b.y
    FROM t_node a JOIN t_node b ON b.i = a.i AND b.j = a.j + 1
), classed AS (
    SELECT row_number() OVER (ORDER BY dir, line_no, pos) AS id, seg.*,
           CASE WHEN mod(line_no + 1, :every_trunk) = 0 THEN 'trunk'
                WHEN mod(line_no + 1, :every_primary) = 0 THEN 'primary'
                WHEN mod(line_no + 1, :every_secondary) = 0 THEN 'secondary'
                WHEN mod(line_no + 1, :every_tertiary) = 0 THEN 'tertiary'
                ELSE 'unclassified' END AS road_class
    FROM seg
)
SELECT c.id,
       'SCALE-DL-' || lpad(c.id::text, 8, '0'),
       '合成' || l.label || CASE c.dir WHEN 1 THEN '东西' ELSE '南北' END || (c.line_no + 1) || '线',
       c.road_class,
       false,
       ST_Transform(ST_SetSRID(ST_MakeLine(ST_MakePoint(c.ax, c.ay), ST_MakePoint(c.bx, c.by)), :srid), 4490),
       :source
FROM classed c
JOIN unnest(CAST(:classes AS text[]), CAST(:class_labels AS text[])) AS l(road_class, label) USING (road_class);
