-- Townships (示意): Voronoi cells of seeded points clipped to the stored county outline. The partition is cut in
-- EPSG:4490 itself, so townships and the cells cut from them nest exactly as stored; t_town keeps them (GiST)
-- for placing everything else.
CREATE TEMP TABLE t_town ON COMMIT DROP AS
WITH outline AS (
    SELECT geom AS g FROM county WHERE code = :county_code
), cells AS (
    SELECT ST_Multi(ST_CollectionExtract(ST_Intersection(d.geom, o.g), 3)) AS g
    FROM outline o
    CROSS JOIN LATERAL ST_Dump(CASE WHEN :n > 1 THEN ST_VoronoiPolygons(ST_GeneratePoints(o.g, :n, :rng), 0, o.g)
                                    ELSE o.g END) AS d
), numbered AS (
    SELECT row_number() OVER (ORDER BY ST_Y(ST_PointOnSurface(g)) DESC, ST_X(ST_PointOnSurface(g)))::int AS id, g
    FROM cells
    WHERE NOT ST_IsEmpty(g)
)
SELECT id, :county_code || lpad(id::text, 3, '0') || '000' AS code, '合成镇' || lpad(id::text, 3, '0') AS name,
       g AS geom
FROM numbered;

CREATE INDEX ON t_town USING gist (geom);
ANALYZE t_town;

INSERT INTO township (id, code, name, county_code, geom, is_illustrative, source)
SELECT id, code, name, :county_code, geom, true, :source
FROM t_town;
