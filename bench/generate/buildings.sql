-- Building footprints: rotated rectangles (GK zone, metres), most clustered around villages, the rest spread
-- over the county; each in the township containing its centre.
INSERT INTO building (id, code, name, use_class, floors, township_id, geom, source)
WITH base AS (
    SELECT g AS id,
           pg_temp.u(:s, g, 1) < :clustered_share AS clustered,
           1 + floor(pg_temp.u(:s, g, 2) * :n_villages)::int AS village_id
    FROM generate_series(1, :n) AS g
), placed AS MATERIALIZED (
    SELECT b.id,
           CASE WHEN b.clustered THEN v.x + :sigma_m * pg_temp.gauss(:s, b.id, 3)
                ELSE :ix0 + (:ix1 - :ix0) * pg_temp.u(:s, b.id, 3) END AS raw_x,
           CASE WHEN b.clustered THEN v.y + :sigma_m * pg_temp.gauss(:s, b.id, 5)
                ELSE :iy0 + (:iy1 - :iy0) * pg_temp.u(:s, b.id, 5) END AS raw_y,
           width_bucket(pg_temp.u(:s, b.id, 7), CAST(:use_cum AS float8[])) AS k,
           :hw_min + (:hw_max - :hw_min) * pg_temp.u(:s, b.id, 8) AS hw,
           :hd_min + (:hd_max - :hd_min) * pg_temp.u(:s, b.id, 9) AS hd,
           pi() * pg_temp.u(:s, b.id, 10) AS angle
    FROM base b
    JOIN t_village v ON v.id = b.village_id
), stored AS MATERIALIZED (  -- folded in a separate step so pg_temp.fold is inlined on plain columns
    SELECT p.*, pg_temp.fold(p.raw_x, :ix0, :ix1) AS x, pg_temp.fold(p.raw_y, :iy0, :iy1) AS y,
           ST_Transform(ST_SetSRID(ST_MakePoint(pg_temp.fold(p.raw_x, :ix0, :ix1),
                                                pg_temp.fold(p.raw_y, :iy0, :iy1)), :srid), 4490) AS pt
    FROM placed p
)
SELECT p.id,
       'SCALE-JZ-' || lpad(p.id::text, 8, '0'),
       CASE WHEN (CAST(:uses AS text[]))[p.k] IN ('school', 'hospital', 'market')
            THEN '合成' || (CAST(:use_labels AS text[]))[p.k] || p.id END,
       (CAST(:uses AS text[]))[p.k],
       1 + floor(pg_temp.u(:s, p.id, 11) ^ 3 * :max_floors)::int,
       tw.id,
       ST_Multi(ST_Transform(ST_Rotate(ST_MakeEnvelope(p.x - p.hw, p.y - p.hd, p.x + p.hw, p.y + p.hd, :srid),
                                       p.angle, p.x, p.y), 4490)),
       :source
FROM stored p
LEFT JOIN LATERAL (
    SELECT t.id FROM t_town t
    WHERE ST_Intersects(t.geom, p.pt)
    ORDER BY t.id LIMIT 1
) AS tw ON true;
