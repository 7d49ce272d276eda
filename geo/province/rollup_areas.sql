-- The roll-up's areas for the map, EPSG:4490 GeoJSON: townships as kept, counties and cities as the union of
-- their townships, each with the worst colour below it (red < orange < yellow < blue) and the township's reasons;
-- a county and its townships carry the county's own riskmap service (service_url) for the link to its detail map.
WITH t AS (
    SELECT *, array_position(ARRAY['red', 'orange', 'yellow', 'blue'], level) AS rank
    FROM province_township_level
    WHERE geom IS NOT NULL AND (CAST(:city AS text) IS NULL OR city_code = :city)
)
SELECT 'township' AS tier, township_code AS code, township_name AS name, county_name, city_name, level, score,
       reasons, service_url, ST_AsGeoJSON(geom, 5) AS geometry
FROM t
UNION ALL
SELECT 'county', county_code, min(county_name), min(county_name), min(city_name),
       (ARRAY['red', 'orange', 'yellow', 'blue'])[min(rank)], NULL, '[]'::jsonb, min(service_url),
       ST_AsGeoJSON(ST_Union(geom), 5)
FROM t GROUP BY county_code
UNION ALL
SELECT 'city', city_code, min(city_name), NULL, min(city_name),
       (ARRAY['red', 'orange', 'yellow', 'blue'])[min(rank)], NULL, '[]'::jsonb, NULL,
       ST_AsGeoJSON(ST_Union(geom), 5)
FROM t GROUP BY city_code
ORDER BY 1, 2
