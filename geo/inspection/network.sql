-- Road graph from `road`. Roads are first cut where they meet another road away from their ends (OpenStreetMap
-- ways share nodes mid-way; a bridge crossing without a shared node is cut too — a known simplification).
-- Piece end points within :tol metres (county GK zone :srid) become one vertex; each piece becomes an edge
-- with its metric length and travel seconds at its class speed (:speeds km/h; :default_kmh for unknown
-- classes). A oneway road can only be driven from its first to its last point (reverse_cost −1).
WITH cuts AS (
    SELECT a.id, ST_CollectionExtract(ST_Collect(ST_Intersection(a.geom, b.geom)), 1) AS blade
    FROM road a JOIN road b ON a.id <> b.id AND ST_Intersects(a.geom, b.geom)
    GROUP BY a.id
), pieces AS (
    SELECT row_number() OVER (ORDER BY r.id, d.path) AS id, r.id AS road_id, r.road_class, r.oneway, d.geom
    FROM road r
    LEFT JOIN cuts c ON c.id = r.id
    CROSS JOIN LATERAL ST_Dump(CASE WHEN c.blade IS NULL OR ST_IsEmpty(c.blade) THEN r.geom
                                    ELSE ST_Split(r.geom, c.blade) END) d
    WHERE r.geom IS NOT NULL AND ST_Length(d.geom) > 0
), ends AS (
    SELECT id AS piece_id, 0 AS which, ST_Transform(ST_StartPoint(geom), :srid) AS p FROM pieces
    UNION ALL
    SELECT id, 1, ST_Transform(ST_EndPoint(geom), :srid) FROM pieces
), clustered AS (
    SELECT piece_id, which, p, ST_ClusterDBSCAN(p, eps => :tol, minpoints => 1) OVER () AS cid FROM ends
), vertices AS (
    INSERT INTO road_vertex (id, geom)
    SELECT cid + 1, ST_Transform(ST_Centroid(ST_Collect(p)), 4490) FROM clustered GROUP BY cid
    RETURNING id
), speeds AS (
    SELECT key AS road_class, value::float8 / 3.6 AS speed_ms FROM jsonb_each_text(CAST(:speeds AS jsonb))
)
INSERT INTO road_edge (id, road_id, source, target, road_class, length_m, cost_s, reverse_cost_s, geom)
SELECT pc.id, pc.road_id, s.cid + 1, t.cid + 1, pc.road_class, m.length_m,
       m.length_m / coalesce(sp.speed_ms, :default_kmh / 3.6),
       CASE WHEN pc.oneway THEN -1 ELSE m.length_m / coalesce(sp.speed_ms, :default_kmh / 3.6) END,
       pc.geom
FROM pieces pc
JOIN clustered s ON s.piece_id = pc.id AND s.which = 0
JOIN clustered t ON t.piece_id = pc.id AND t.which = 1
LEFT JOIN speeds sp ON sp.road_class = pc.road_class
CROSS JOIN LATERAL (SELECT ST_Length(ST_Transform(pc.geom, :srid)) AS length_m) m
WHERE (SELECT count(*) FROM vertices) > 0;
