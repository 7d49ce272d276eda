-- Road graph from `road`: end points within :tol metres (county GK zone :srid) become one vertex;
-- each road becomes an edge with its metric length and travel seconds at its class speed (:speeds km/h,
-- :default_kmh for unknown classes). A oneway road can only be driven from its first to its last point.
WITH ends AS (
    SELECT id AS road_id, 0 AS which, ST_Transform(ST_StartPoint(geom), :srid) AS p FROM road WHERE geom IS NOT NULL
    UNION ALL
    SELECT id, 1, ST_Transform(ST_EndPoint(geom), :srid) FROM road WHERE geom IS NOT NULL
), clustered AS (
    SELECT road_id, which, p, ST_ClusterDBSCAN(p, eps => :tol, minpoints => 1) OVER () AS cid FROM ends
), vertices AS (
    INSERT INTO road_vertex (id, geom)
    SELECT cid + 1, ST_Transform(ST_Centroid(ST_Collect(p)), 4490) FROM clustered GROUP BY cid
    RETURNING id
), speeds AS (
    SELECT key AS road_class, value::float8 / 3.6 AS speed_ms FROM jsonb_each_text(CAST(:speeds AS jsonb))
)
INSERT INTO road_edge (id, road_id, source, target, road_class, length_m, cost_s, reverse_cost_s, geom)
SELECT r.id, r.id, s.cid + 1, t.cid + 1, r.road_class, m.length_m,
       m.length_m / coalesce(sp.speed_ms, :default_kmh / 3.6),
       CASE WHEN r.oneway THEN -1 ELSE m.length_m / coalesce(sp.speed_ms, :default_kmh / 3.6) END,
       r.geom
FROM road r
JOIN clustered s ON s.road_id = r.id AND s.which = 0
JOIN clustered t ON t.road_id = r.id AND t.which = 1
LEFT JOIN speeds sp ON sp.road_class = r.road_class
CROSS JOIN LATERAL (SELECT ST_Length(ST_Transform(r.geom, :srid)) AS length_m) m
WHERE (SELECT count(*) FROM vertices) > 0;
