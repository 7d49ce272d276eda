-- Chemical inventories: :per_enterprise distinct substances at every hazchem enterprise, log-uniform tonnes.
INSERT INTO chemical_inventory (id, enterprise_id, substance, cas, max_quantity_t, unit_name)
SELECT row_number() OVER (ORDER BY e.id, k.k)::int,
       e.id,
       (CAST(:names AS text[]))[1 + mod(o.o + k.k, cardinality(CAST(:names AS text[])))],
       (CAST(:cas AS text[]))[1 + mod(o.o + k.k, cardinality(CAST(:names AS text[])))],
       round(exp(ln(:q_min) + (ln(:q_max) - ln(:q_min)) * pg_temp.u(:s, e.id, 2 + k.k))::numeric, 2)::float8,
       (CAST(:units AS text[]))[1 + mod(o.o + k.k, cardinality(CAST(:units AS text[])))] || (k.k + 1)
FROM enterprise e
CROSS JOIN generate_series(0, :per_enterprise - 1) AS k(k)
CROSS JOIN LATERAL (SELECT floor(pg_temp.u(:s, e.id, 1) * cardinality(CAST(:names AS text[])))::int AS o) AS o
WHERE e.category = 'hazchem';
