-- Each stop (:lon/:lat arrays, EPSG:4490, ordinality = idx) joined to its nearest road edge: the five nearest
-- by the GiST index, the nearest of those measured in metres in the county GK zone (:srid); then the edge's
-- nearer end vertex, the metres along the edge to it and the access seconds (edge speed along the road,
-- :access_ms metres/second from the road to the stop).
WITH stop AS (
    SELECT idx, ST_SetSRID(ST_MakePoint(lon, lat), 4490) AS g
    FROM unnest(CAST(:lon AS float8[]), CAST(:lat AS float8[])) WITH ORDINALITY AS t(lon, lat, idx)
)
SELECT s.idx, e.distance_m, e.component,
       CASE WHEN e.frac < 0.5 THEN e.source ELSE e.target END AS vertex,
       least(e.frac, 1 - e.frac) * e.length_m AS along_m,
       least(e.frac, 1 - e.frac) * e.cost_s + e.distance_m / :access_ms AS access_s
FROM stop s
CROSS JOIN LATERAL (
    SELECT c.*, v.component FROM (
        SELECT n.source, n.target, n.length_m, n.cost_s,
               ST_Distance(ST_Transform(n.geom, :srid), ST_Transform(s.g, :srid)) AS distance_m,
               ST_LineLocatePoint(ST_Transform(n.geom, :srid), ST_Transform(s.g, :srid)) AS frac
        FROM (SELECT * FROM road_edge ORDER BY geom <-> s.g LIMIT 5) n
        ORDER BY distance_m LIMIT 1
    ) c JOIN road_vertex v ON v.id = CASE WHEN c.frac < 0.5 THEN c.source ELSE c.target END
) e;
