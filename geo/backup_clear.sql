-- Empty the target database before a restore, inside the restore's own transaction, so that objects the
-- backup does not hold (tables a later migration added, say) do not survive it.
-- Extensions stay (the dump's CREATE EXTENSION IF NOT EXISTS keeps them): dropping and re-creating PostGIS
-- would give its types new OIDs, and every other open connection (riskmap serve) would then fail on the
-- per-session caches PostGIS keeps ("no spatial operator found"). Only the rows of extension tables that
-- pg_dump dumps (PostGIS: spatial_ref_sys rows a bureau added) are removed, to be restored from the backup.
-- Each list is read whole before anything is dropped, since one DROP ... CASCADE may take others with it.
DO $$
DECLARE
    names text[];
    name text;
BEGIN
    -- our own schemas other than public (an extension's schema stays)
    SELECT coalesce(array_agg(format('%I', n.nspname)), '{}') INTO names FROM pg_namespace n
    WHERE n.nspname NOT IN ('public', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
      AND NOT EXISTS (SELECT 1 FROM pg_extension e WHERE e.extnamespace = n.oid)
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass
                      AND d.objid = n.oid AND d.deptype = 'e');
    FOREACH name IN ARRAY names LOOP
        EXECUTE 'DROP SCHEMA IF EXISTS ' || name || ' CASCADE';
    END LOOP;
    -- tables, views and sequences in public that no extension owns (policies, triggers, indexes go with them)
    SELECT coalesce(array_agg(
               CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                              WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END
               || ' IF EXISTS public.' || format('%I', c.relname)
               ORDER BY c.relkind = 'S'), '{}') INTO names
    FROM pg_class c
    WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                      AND d.objid = c.oid AND d.deptype = 'e');
    FOREACH name IN ARRAY names LOOP
        EXECUTE 'DROP ' || name || ' CASCADE';
    END LOOP;
    -- functions and procedures of our own in public
    SELECT coalesce(array_agg(format('public.%I(%s)', p.proname, pg_get_function_identity_arguments(p.oid))),
                    '{}') INTO names
    FROM pg_proc p
    WHERE p.pronamespace = 'public'::regnamespace AND p.prokind IN ('f', 'p')
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                      AND d.objid = p.oid AND d.deptype = 'e');
    FOREACH name IN ARRAY names LOOP
        EXECUTE 'DROP ROUTINE IF EXISTS ' || name || ' CASCADE';
    END LOOP;
    -- enum, domain and range types of our own in public
    SELECT coalesce(array_agg(format('public.%I', t.typname)), '{}') INTO names
    FROM pg_type t
    WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('e', 'd', 'r')
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass
                      AND d.objid = t.oid AND d.deptype = 'e');
    FOREACH name IN ARRAY names LOOP
        EXECUTE 'DROP TYPE IF EXISTS ' || name || ' CASCADE';
    END LOOP;
    -- rows of extension configuration tables that pg_dump dumps (the same WHERE condition)
    SELECT coalesce(array_agg(format('%s %s', cfg.tbl::regclass, cfg.cond)), '{}') INTO names
    FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS cfg(tbl, cond)
    WHERE (SELECT c.relkind FROM pg_class c WHERE c.oid = cfg.tbl) IN ('r', 'p');
    FOREACH name IN ARRAY names LOOP
        EXECUTE 'DELETE FROM ' || name;
    END LOOP;
END
$$;
