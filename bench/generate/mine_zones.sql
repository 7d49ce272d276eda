-- Mine planning zones (禁采区/限采区/可采区): rotated 16-gon ellipses (GK zone, metres) clipped inside the county.
INSERT INTO mine_zone (id, code, name, kind, source_document, geom, source)
WITH z AS (
    SELECT g AS id,
           width_bucket(pg_temp.u(:s, g, 1), CAST(:kind_cum AS float8[])) AS k,
           :ix0 + (:ix1 - :ix0) * pg_temp.u(:s, g, 2) AS cx,
           :iy0 + (:iy1 - :iy0) * pg_temp.u(:s, g, 3) AS cy,
           :size_min + (:size_max - :size_min) * pg_temp.u(:s, g, 4) AS a,
           :size_min + (:size_max - :size_min) * pg_temp.u(:s, g, 5) AS b,
           pi() * pg_temp.u(:s, g, 6) AS angle
    FROM generate_series(1, :n) AS g
), drawn AS (
    SELECT z.*,
           ST_Intersection(
               ST_SetSRID(ST_Translate(ST_Rotate(ST_Scale(ST_Buffer(ST_MakePoint(0, 0), 1, 'quad_segs=4'), a, b), angle),
                                       cx, cy), :srid),
               ST_MakeEnvelope(:ix0, :iy0, :ix1, :iy1, :srid)) AS g
    FROM z
)
SELECT id,
       'SCALE-KQ-' || lpad(id::text, 5, '0'),
       '合成' || (CAST(:kind_labels AS text[]))[k] || lpad(id::text, 4, '0'),
       (CAST(:kinds AS text[]))[k],
       :source_document,
       ST_Multi(ST_Transform(ST_CollectionExtract(g, 3), 4490)),
       :source
FROM drawn;
