-- One row per township of the county: grid cells, enterprises by group, open hazards, pipeline length
-- inside the township (metres, in the county's Gauss–Krüger zone :srid), encroachment points and mines.
WITH t AS (
    SELECT id, code, name, geom FROM township WHERE county_code = :county_code
), grid AS (
    SELECT township_id, count(*) AS n FROM grid_cell GROUP BY township_id
), ent AS (
    SELECT township_id,
           count(*) AS total,
           count(*) FILTER (WHERE category = 'hazchem') AS hazchem,
           count(*) FILTER (WHERE category IN ('coal_mine', 'non_coal_mine')) AS mining,
           count(*) FILTER (WHERE category NOT IN ('hazchem', 'coal_mine', 'non_coal_mine')) AS other
    FROM enterprise GROUP BY township_id
), haz AS (
    SELECT e.township_id,
           count(*) FILTER (WHERE h.status IN ('found', 'rectifying')) AS open,
           count(*) FILTER (WHERE h.status IN ('found', 'rectifying') AND h.level = 'major') AS major_open
    FROM hazard h JOIN enterprise e ON e.id = h.enterprise_id GROUP BY e.township_id
), pipe AS (
    SELECT t.id AS township_id,
           sum(ST_Length(ST_Intersection(ST_Transform(p.geom, :srid), ST_Transform(t.geom, :srid)))) AS length_m
    FROM t JOIN pipeline p ON ST_Intersects(p.geom, t.geom) GROUP BY t.id
), enc AS (
    SELECT township_id, count(*) AS n, count(*) FILTER (WHERE status <> 'closed') AS open
    FROM encroachment GROUP BY township_id
), mines AS (
    SELECT township_id, count(*) AS n FROM mine GROUP BY township_id
)
SELECT t.code, t.name,
       coalesce(grid.n, 0) AS grid_cells,
       coalesce(ent.total, 0) AS enterprises,
       coalesce(ent.hazchem, 0) AS hazchem,
       coalesce(ent.mining, 0) AS mining,
       coalesce(ent.other, 0) AS other,
       coalesce(haz.open, 0) AS hazards_open,
       coalesce(haz.major_open, 0) AS major_hazards_open,
       coalesce(pipe.length_m, 0) AS pipeline_length_m,
       coalesce(enc.n, 0) AS encroachments,
       coalesce(enc.open, 0) AS encroachments_open,
       coalesce(mines.n, 0) AS mines
FROM t
LEFT JOIN grid ON grid.township_id = t.id
LEFT JOIN ent ON ent.township_id = t.id
LEFT JOIN haz ON haz.township_id = t.id
LEFT JOIN pipe ON pipe.township_id = t.id
LEFT JOIN enc ON enc.township_id = t.id
LEFT JOIN mines ON mines.township_id = t.id
ORDER BY t.code
