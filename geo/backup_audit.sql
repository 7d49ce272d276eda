-- The restore's own audit entry, run at the end of its transaction (issue #17): for every table the audit
-- trigger watches, one bulk row (who, 恢复 the backup file and its SHA-256, how many rows, their ids as closed
-- ranges, or key values for a table keyed by text). The rows themselves came through COPY before the dump's
-- triggers existed, so nothing else records them. Names are schema-qualified: pg_restore empties search_path.
DO $$
DECLARE
    op jsonb := nullif(current_setting('riskmap.bulk_operation', true), '')::jsonb;
    t record;
    n bigint;
    ids jsonb;
BEGIN
    IF op IS NULL OR to_regclass('public.audit_log') IS NULL THEN
        RETURN;
    END IF;
    FOR t IN
        SELECT DISTINCT c.relname AS tbl, split_part(encode(g.tgargs, 'escape'), '\000', 1) AS k,
               a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype) AS numeric_key
        FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_proc p ON p.oid = g.tgfoid
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = split_part(encode(g.tgargs, 'escape'), '\000', 1)
        WHERE p.proname = 'riskmap_audit' AND c.relnamespace = 'public'::regnamespace AND NOT g.tgisinternal
        ORDER BY 1
    LOOP
        IF t.numeric_key THEN
            EXECUTE format('SELECT coalesce(sum(c), 0), coalesce(jsonb_agg(jsonb_build_array(lo, hi) ORDER BY lo), ''[]'') '
                           'FROM (SELECT min(i) AS lo, max(i) AS hi, count(*) AS c FROM (SELECT %1$I::bigint AS i, '
                           '%1$I::bigint - row_number() OVER (ORDER BY %1$I) AS g FROM public.%2$I) x GROUP BY g) r',
                           t.k, t.tbl) INTO n, ids;
        ELSE
            EXECUTE format('SELECT count(*), coalesce(jsonb_agg(%1$I::text ORDER BY %1$I::text), ''[]'') FROM public.%2$I',
                           t.k, t.tbl) INTO n, ids;
        END IF;
        IF n > 0 THEN
            INSERT INTO public.audit_log (actor, actor_role, action, table_name, record_id, after)
            VALUES (coalesce(nullif(current_setting('riskmap.user', true), ''), session_user::text),
                    nullif(current_setting('riskmap.role', true), ''), 'insert', t.tbl, NULL,
                    jsonb_build_object('bulk', op, 'rows', n, 'ids', ids));
        END IF;
    END LOOP;
END;
$$;
