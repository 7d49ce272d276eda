-- Mines: one per coal_mine / non_coal_mine enterprise, a rotated licensed rectangle around it (GK zone, metres)
-- with smaller workings inside, or pushed across the boundary for :over_boundary_share of them (越界开采 cases).
INSERT INTO mine (id, licence_no, name, mineral, mine_type, method, enterprise_id, township_id, operating,
                  floor_elevation_m, ceiling_elevation_m, licence_boundary, workings, source)
WITH m AS (
    SELECT row_number() OVER (ORDER BY e.id)::int AS id, e.id AS enterprise_id, e.township_id,
           e.category = 'coal_mine' AS coal,
           ST_X(ST_Transform(e.geom, :srid)) AS cx, ST_Y(ST_Transform(e.geom, :srid)) AS cy
    FROM enterprise e
    WHERE e.category IN ('coal_mine', 'non_coal_mine')
), shaped AS (
    SELECT m.*,
           :hw_min + (:hw_max - :hw_min) * pg_temp.u(:s, m.id, 1) AS hw,
           :hd_min + (:hd_max - :hd_min) * pg_temp.u(:s, m.id, 2) AS hd,
           pi() * pg_temp.u(:s, m.id, 3) AS angle,
           pg_temp.u(:s, m.id, 4) < :over_boundary_share AS over_boundary,
           :floor_min + (:floor_max - :floor_min) * pg_temp.u(:s, m.id, 5) AS floor_m,
           :thick_min + (:thick_max - :thick_min) * pg_temp.u(:s, m.id, 6) AS thickness_m
    FROM m
), drawn AS (
    SELECT s.*,
           ST_Intersection(ST_Rotate(ST_MakeEnvelope(cx - hw, cy - hd, cx + hw, cy + hd, :srid), angle, cx, cy),
                           ST_MakeEnvelope(:ix0, :iy0, :ix1, :iy1, :srid)) AS boundary,
           ST_Intersection(ST_Rotate(ST_Translate(ST_MakeEnvelope(cx - :ratio * hw, cy - :ratio * hd,
                                                                  cx + :ratio * hw, cy + :ratio * hd, :srid),
                                                  CASE WHEN over_boundary THEN (1.3 - :ratio) * hw ELSE 0 END, 0),
                                     angle, cx, cy),
                           ST_MakeEnvelope(:ix0, :iy0, :ix1, :iy1, :srid)) AS dug
    FROM shaped s
)
SELECT d.id,
       'C' || :county_code || lpad(d.id::text, 8, '0'),
       '合成' || CASE WHEN d.coal THEN '煤矿' ELSE mineral || '矿' END || lpad(d.id::text, 4, '0'),
       CASE WHEN d.coal THEN '煤' ELSE mineral END,
       CASE WHEN d.coal THEN 'coal' ELSE 'non_coal' END,
       CASE WHEN d.coal THEN (CAST(:coal_methods AS text[]))[width_bucket(pg_temp.u(:s, d.id, 7), CAST(:coal_cum AS float8[]))]
            ELSE (CAST(:non_coal_methods AS text[]))[width_bucket(pg_temp.u(:s, d.id, 7), CAST(:non_coal_cum AS float8[]))]
       END,
       d.enterprise_id,
       d.township_id,
       pg_temp.u(:s, d.id, 8) < :operating_share,
       round(d.floor_m::numeric, 1)::float8,
       round((d.floor_m + d.thickness_m)::numeric, 1)::float8,
       ST_Multi(ST_Transform(ST_CollectionExtract(d.boundary, 3), 4490)),
       CASE WHEN ST_IsEmpty(ST_CollectionExtract(d.dug, 3)) THEN NULL
            ELSE ST_Multi(ST_Transform(ST_CollectionExtract(d.dug, 3), 4490)) END,
       :source
FROM drawn d
CROSS JOIN LATERAL (
    SELECT (CAST(:minerals AS text[]))[1 + floor(pg_temp.u(:s, d.id, 9) * cardinality(CAST(:minerals AS text[])))::int]
           AS mineral
) AS mn;
