-- Each stop (:lon/:lat arrays, EPSG:4490, ordinality = idx) joined to its nearest road edge: the five nearest
-- by the GiST index, the nearest of those measured in metres in the county GK zone (:srid); returns the edge,
-- where along it the stop projects (frac 0 = source end), the metres off the road, and the component.
WITH stop AS (
    SELECT idx, ST_SetSRID(ST_MakePoint(lon, lat), 4490) AS g
    FROM unnest(CAST(:lon AS float8[]), CAST(:lat AS float8[])) WITH ORDINALITY AS t(lon, lat, idx)
)
SELECT s.idx, e.id AS edge, e.source, e.target, e.length_m, e.cost_s, e.reverse_cost_s < 0 AS oneway,
       e.distance_m, e.frac, v.component
FROM stop s
CROSS JOIN LATERAL (
    SELECT n.id, n.source, n.target, n.length_m, n.cost_s, n.reverse_cost_s,
           ST_Distance(ST_Transform(n.geom, :srid), ST_Transform(s.g, :srid)) AS distance_m,
           ST_LineLocatePoint(ST_Transform(n.geom, :srid), ST_Transform(s.g, :srid)) AS frac
    FROM (SELECT * FROM road_edge ORDER BY geom <-> s.g LIMIT 5) n
    ORDER BY distance_m LIMIT 1
) e
JOIN road_vertex v ON v.id = e.source;
