-- Grid cells (网格): each township cut into its allotted number of Voronoi cells of seeded points inside it,
-- clipped to the township (in EPSG:4490, like the townships), so cells partition townships; one officer per cell.
INSERT INTO grid_cell (id, code, name, township_id, officer_name, officer_phone, geom, source)
WITH alloc AS (
    SELECT a.township_id, a.n
    FROM unnest(CAST(:township_ids AS int[]), CAST(:cell_counts AS int[])) AS a(township_id, n)
), pieces AS (
    SELECT t.id AS township_id, t.code AS township_code, t.name AS township_name,
           ST_Multi(ST_CollectionExtract(ST_Intersection(d.geom, t.geom), 3)) AS geom
    FROM alloc a
    JOIN t_town t ON t.id = a.township_id
    CROSS JOIN LATERAL ST_Dump(CASE WHEN a.n > 1
        THEN ST_VoronoiPolygons(ST_GeneratePoints(t.geom, a.n, :rng + t.id), 0, t.geom)
        ELSE t.geom END) AS d
), numbered AS (
    SELECT row_number() OVER (ORDER BY township_id, ST_Y(ST_PointOnSurface(geom)) DESC,
                                       ST_X(ST_PointOnSurface(geom)))::int AS id,
           row_number() OVER (PARTITION BY township_id ORDER BY ST_Y(ST_PointOnSurface(geom)) DESC,
                                                              ST_X(ST_PointOnSurface(geom)))::int AS seq,
           township_id, township_code, township_name, geom
    FROM pieces
    WHERE NOT ST_IsEmpty(geom)
)
SELECT id,
       'WG' || township_code || lpad(seq::text, 3, '0'),
       township_name || '第' || seq || '网格',
       township_id,
       (CAST(:surnames AS text[]))[1 + floor(pg_temp.u(:s, id, 1) * cardinality(CAST(:surnames AS text[])))::int]
           || (CAST(:given_names AS text[]))[1 + floor(pg_temp.u(:s, id, 2) * cardinality(CAST(:given_names AS text[])))::int],
       '13' || lpad(floor(pg_temp.u(:s, id, 3) * 1e9)::bigint::text, 9, '0'),
       geom,
       :source
FROM numbered;
