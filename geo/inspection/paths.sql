-- Route geometry per route_key: the pgr_dijkstra paths of its legs (vertex pairs in temp table plan_leg) plus
-- the partial roads at the stops (:pk route key, :pe edge, :pf/:pt fractions along it), merged, EPSG:4490.
-- Metres are the full edges' length_m only.
WITH path AS (
    SELECT start_vid, end_vid, edge
    FROM pgr_dijkstra(:edges, 'SELECT DISTINCT source, target FROM plan_leg', directed => true)
    WHERE edge > 0
), full_edges AS (
    SELECT l.route_key, e.geom, e.length_m
    FROM plan_leg l
    JOIN path p ON p.start_vid = l.source AND p.end_vid = l.target
    JOIN road_edge e ON e.id = p.edge
), partial AS (
    SELECT x.k AS route_key, ST_LineSubstring(e.geom, least(x.f, x.t), greatest(x.f, x.t)) AS geom, 0.0 AS length_m
    FROM unnest(CAST(:pk AS int[]), CAST(:pe AS bigint[]), CAST(:pf AS float8[]), CAST(:pt AS float8[]))
         AS x(k, e, f, t)
    JOIN road_edge e ON e.id = x.e
), pieces AS (
    SELECT * FROM full_edges UNION ALL SELECT * FROM partial
)
SELECT route_key, ST_AsEWKT(ST_Multi(ST_LineMerge(ST_Collect(geom)))), sum(length_m)
FROM pieces
WHERE NOT ST_IsEmpty(geom) AND GeometryType(geom) = 'LINESTRING'
GROUP BY route_key;
