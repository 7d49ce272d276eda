-- Enterprises: exact category counts (seeded ranks cut at :category_starts), half clustered around villages,
-- positions built in the GK zone (metres) and folded inside the county; valid USCC from pg_temp.uscc.
INSERT INTO enterprise (id, uscc, name, category, address, township_id, geom, employees, key_process, key_chemical,
                        major_hazard_source, standardisation_grade, in_chemical_park, source)
WITH base AS (
    SELECT g AS id,
           width_bucket(row_number() OVER (ORDER BY pg_temp.u(:s, g, 1), g), CAST(:category_starts AS bigint[])) AS k,
           pg_temp.u(:s, g, 2) < :clustered_share AS clustered,
           1 + floor(pg_temp.u(:s, g, 3) * :n_villages)::int AS village_id
    FROM generate_series(1, :n) AS g
), placed AS MATERIALIZED (
    SELECT b.id, b.k,
           (CAST(:categories AS text[]))[b.k] AS category,
           CASE WHEN b.clustered THEN v.x + :sigma_m * pg_temp.gauss(:s, b.id, 4)
                ELSE :ix0 + (:ix1 - :ix0) * pg_temp.u(:s, b.id, 4) END AS raw_x,
           CASE WHEN b.clustered THEN v.y + :sigma_m * pg_temp.gauss(:s, b.id, 6)
                ELSE :iy0 + (:iy1 - :iy0) * pg_temp.u(:s, b.id, 6) END AS raw_y
    FROM base b
    JOIN t_village v ON v.id = b.village_id
), stored AS MATERIALIZED (  -- folded in a separate step so pg_temp.fold is inlined on plain columns
    SELECT p.*, pg_temp.fold(p.raw_x, :ix0, :ix1) AS x, pg_temp.fold(p.raw_y, :iy0, :iy1) AS y,
           ST_Transform(ST_SetSRID(ST_MakePoint(pg_temp.fold(p.raw_x, :ix0, :ix1),
                                                pg_temp.fold(p.raw_y, :iy0, :iy1)), :srid), 4490) AS pt
    FROM placed p
)
SELECT p.id,
       pg_temp.uscc(:uscc_prefix || lpad(p.id::text, 7, '0'), :charset, CAST(:weights AS int[])),
       '合成' || (CAST(:labels AS text[]))[p.k] || '企业' || lpad(p.id::text, 6, '0'),
       p.category,
       '合成县' || tw.name || '合成路' || (1 + floor(pg_temp.u(:s, p.id, 8) * 300)::int) || '号',
       tw.id,
       p.pt,
       floor(exp(ln(:employees_min) + (ln(:employees_max) - ln(:employees_min)) * pg_temp.u(:s, p.id, 9)))::int,
       p.category = 'hazchem' AND pg_temp.u(:s, p.id, 10) < :key_process_share,
       p.category = 'hazchem' AND pg_temp.u(:s, p.id, 11) < :key_chemical_share,
       p.category = 'hazchem' AND pg_temp.u(:s, p.id, 12) < :major_hazard_share,
       NULLIF((CAST(:grades AS int[]))[width_bucket(pg_temp.u(:s, p.id, 13), CAST(:grade_cum AS float8[]))], 0),
       p.category = 'hazchem' AND pg_temp.u(:s, p.id, 14) < :in_park_share,
       :source
FROM stored p
LEFT JOIN LATERAL (
    SELECT t.id, t.name FROM t_town t
    WHERE ST_Intersects(t.geom, p.pt)
    ORDER BY t.id LIMIT 1
) AS tw ON true;
