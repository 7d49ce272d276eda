-- Villages: seeded points over the county, each in the township that contains it; t_village keeps the
-- metric coordinates, the centres that enterprises and buildings cluster around.
CREATE TEMP TABLE t_village ON COMMIT DROP AS
WITH xy AS (
    SELECT g AS id,
           :ix0 + (:ix1 - :ix0) * pg_temp.u(:s, g, 1) AS x,
           :iy0 + (:iy1 - :iy0) * pg_temp.u(:s, g, 2) AS y
    FROM generate_series(1, :n) AS g
), p AS MATERIALIZED (
    SELECT xy.*, ST_Transform(ST_SetSRID(ST_MakePoint(x, y), :srid), 4490) AS pt FROM xy
)
SELECT p.id, p.x, p.y, p.pt, tw.id AS township_id, tw.code AS township_code
FROM p
LEFT JOIN LATERAL (
    SELECT t.id, t.code FROM t_town t
    WHERE ST_Intersects(t.geom, p.pt)
    ORDER BY t.id LIMIT 1
) AS tw ON true;

CREATE UNIQUE INDEX ON t_village (id);
ANALYZE t_village;

INSERT INTO village (id, code, name, township_id, geom, source)
SELECT id,
       left(township_code, 9) || lpad((row_number() OVER (PARTITION BY township_id ORDER BY id))::text, 3, '0'),
       '合成' || id || '村',
       township_id,
       pt,
       :source
FROM t_village;
