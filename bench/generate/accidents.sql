-- Accidents: a few per hundred enterprises; deaths from a weighted list, losses log-uniform (万元).
INSERT INTO accident (id, enterprise_id, occurred_on, deaths, serious_injuries, direct_loss_10k_yuan, description, source)
SELECT g,
       1 + floor(pg_temp.u(:s, g, 1) * :n_enterprises)::int,
       CAST(:base_date AS date) - floor(pg_temp.u(:s, g, 2) * :within_days)::int,
       (CAST(:deaths AS int[]))[width_bucket(pg_temp.u(:s, g, 3), CAST(:death_cum AS float8[]))],
       floor(pg_temp.u(:s, g, 4) ^ 3 * (:injuries_max + 1))::int,
       round(exp(ln(:loss_min) + (ln(:loss_max) - ln(:loss_min)) * pg_temp.u(:s, g, 5))::numeric, 1)::float8,
       '合成事故：' || (CAST(:descriptions AS text[]))[1 + floor(pg_temp.u(:s, g, 6)
                                                * cardinality(CAST(:descriptions AS text[])))::int],
       :source
FROM generate_series(1, :n) AS g;
