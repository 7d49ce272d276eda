-- Inspections (执法检查): spread over all enterprises and the last :within_days days.
INSERT INTO inspection (id, enterprise_id, inspected_on, team, result, source)
SELECT g,
       1 + floor(pg_temp.u(:s, g, 1) * :n_enterprises)::int,
       CAST(:base_date AS date) - floor(pg_temp.u(:s, g, 2) * :within_days)::int,
       (CAST(:teams AS text[]))[1 + floor(pg_temp.u(:s, g, 3) * cardinality(CAST(:teams AS text[])))::int],
       (CAST(:results AS text[]))[width_bucket(pg_temp.u(:s, g, 4), CAST(:result_cum AS float8[]))],
       :source
FROM generate_series(1, :n) AS g;
