"""Database roles, grants and row-level-security policies: where access is enforced.

Every request runs `SET LOCAL ROLE` to one of the ROLES below, so PostgreSQL itself refuses what a user
may not do: a viewer's INSERT fails on its grants, a township editor's SELECT sees only rows of its
townships and its writes must lie inside them (policies WITH CHECK). Maps, tiles, exports and statistics
read through the same connection, so they obey the same scope without code of their own.

Roles are cluster-wide, grants and policies belong to each database; `ensure_roles` makes both idempotent.
Migration 0006 runs it; a later migration that adds tables calls it again so they get their grants too.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from geo.codes import ROLE_LABELS  # noqa: F401  (application role → Chinese label)

ROLES: dict[str, str] = {
    "admin": "riskmap_admin",
    "county_editor": "riskmap_county_editor",
    "county_viewer": "riskmap_county_viewer",
    "township_editor": "riskmap_township_editor",
    "inspector": "riskmap_inspector",
    "region_viewer": "riskmap_region_viewer",
}
"""Application role → the PostgreSQL role a request runs as."""

REGION_TABLES: dict[str, str] = {"province_township_level": "riskmap_in_region(county_code, city_code)"}
"""Tables of a city or province (migration 0020_province_scope), read by the region scope: a region viewer (a city's
or province's officer, `app_user.region_code`) sees the rows of its region; every other role sees the rows of this
database's own county (`county`), of its own townships only (`township` is itself under the township scope)."""

OWNER_ONLY = ("halo_building", "halo_road")
"""Neighbouring counties' buildings and roads near the border (migration 0018_province): another county's data,
copied only for the provincial run, which reads and writes them as the database owner. No service role reads them
(migration 0024_province_reads): no grant, and row-level security without a policy should a grant ever come back."""

COUNTY_TABLES = ("county", "road", "road_edge", "road_vertex", "waterway", "mine_zone", "risk_rules_version")
"""County-wide tables that no township keys (outline, road network, rivers, mining plan zones, rules versions):
county roles read them all; a township editor or inspector reads them while it holds a township of this county; a
region viewer only where its region holds this county (then its scope is every township) — one of another region
reads none of them (migration 0024_province_reads)."""

ACCESS_TABLES = ("app_user", "api_token", "app_secret", "audit_log", "app_session", "login_event")
"""Tables of the access layer itself: only the service (as its login role) and admins touch them."""

TOWNSHIP_WRITES = (
    "village", "grid_cell", "enterprise", "chemical_inventory", "hazard", "accident", "encroachment",
    "building", "inspection", "register_event", "encroachment_candidate", "inspection_plan", "plan_route",
    "plan_stop", "attachment",
)
"""Tables a township editor may write (rows of its own townships only)."""

INSPECTOR_WRITES = {"inspection": "INSERT", "hazard": "INSERT", "register_event": "INSERT", "plan_stop": "UPDATE",
                    "encroachment": "INSERT", "attachment": "INSERT"}

INSPECTOR_INSERTS: dict[str, str] = {
    "inspection": "riskmap_team_stop(enterprise_id)",
    "hazard": "riskmap_team_stop(enterprise_id)",
    "register_event": "(object_kind = 'hazard' AND "
                      "riskmap_team_stop((SELECT h.enterprise_id FROM hazard h WHERE h.id = object_id))) OR "
                      "(object_kind = 'encroachment' AND to_status = 'found' AND from_status IS NULL)",
    # a new 占压点 found in the field (issue #15): anywhere inside the inspector's townships (WRITE_CHECKS)
    "encroachment": "status = 'found'",
    # its teams' stops and their enterprises, their hazards and inspections, and records it inserted itself
    # (riskmap_attachment_writable, migration 0014_attachments)
    "attachment": "riskmap_attachment_writable(owner_kind, owner_id)",
}
"""What an inspector may insert, beyond its read scope: inspections and hazards only for enterprises its own teams
visit (a stop of a route of one of its teams, in any plan); a new 占压点 (status 发现, and its creation event) as a
finding inside its townships. With townships, the read scope keeps it inside them too."""

OWN_ROWS = {"field_submission": "login = current_setting('riskmap.user', true)"}
"""Tables every role reads and inserts, each user its own rows only (the field app's answers, migration 0015)."""

POLICIES: dict[str, str] = {
    # rows keyed by township
    **{t: "riskmap_in_scope(township_id)" for t in (
        "village", "grid_cell", "enterprise", "encroachment", "building", "mine", "pipeline_segment",
        "encroachment_candidate", "attachment")},
    # a risk row is seen where its object is now, not where it was when last computed
    "risk_assessment": "CASE kind WHEN 'township' THEN riskmap_in_scope(object_id) "
                       "WHEN 'enterprise' THEN object_id IN (SELECT id FROM enterprise) "
                       "WHEN 'grid_cell' THEN object_id IN (SELECT id FROM grid_cell) "
                       "WHEN 'mine' THEN object_id IN (SELECT id FROM mine) "
                       "WHEN 'pipeline_segment' THEN object_id IN (SELECT id FROM pipeline_segment) "
                       "ELSE riskmap_in_scope(township_id) END",
    "township": "riskmap_in_scope(id)",
    # rows of an enterprise: visible when the enterprise is (the subquery is itself under RLS)
    **{t: "enterprise_id IN (SELECT id FROM enterprise)" for t in (
        "chemical_inventory", "hazard", "accident", "inspection", "plan_stop")},
    # a pipeline is seen by the townships it crosses
    "pipeline": "riskmap_in_scope(NULL) OR EXISTS (SELECT 1 FROM township t WHERE ST_Intersects(t.geom, pipeline.geom))",
    "pipeline_facility": "pipeline_id IN (SELECT id FROM pipeline)",
    "pipeline_tunnel": "pipeline_id IN (SELECT id FROM pipeline)",
    "pipeline_piece": "pipeline_id IN (SELECT id FROM pipeline)",
    "register_event": "(object_kind = 'encroachment' AND object_id IN (SELECT id FROM encroachment)) "
                      "OR (object_kind = 'hazard' AND object_id IN (SELECT id FROM hazard))",
    "inspection_plan": "riskmap_in_scope(NULL) OR township_code IN (SELECT code FROM township)",
    "plan_route": "plan_id IN (SELECT id FROM inspection_plan)",
}
"""Read scope of township-scoped roles, per table (county roles see every row)."""

WRITE_CHECKS: dict[str, str] = {
    "enterprise": "riskmap_within_scope(geom)",
    "building": "riskmap_within_scope(geom)",
    "grid_cell": "riskmap_within_scope(geom)",
    "village": "geom IS NULL OR riskmap_within_scope(geom)",
    "encroachment": "riskmap_within_scope(geom)",
}
"""Extra WITH CHECK of scoped writes: the geometry written must lie inside the writer's townships."""

POLICY_NAMES = ("region_read", "own_county", "county_all", "scoped_read", "scoped_insert", "scoped_update",
                "scoped_delete", "team_stop", "inspector_insert", "own_rows")

FUNCTIONS = [
    # The township ids of the request ('*' = all of them; unset or empty = none: fail closed).
    """
    CREATE OR REPLACE FUNCTION riskmap_townships() RETURNS integer[] LANGUAGE sql STABLE AS $$
        SELECT CASE WHEN coalesce(current_setting('riskmap.townships', true), '') IN ('', '*')
                    THEN '{}'::integer[]
                    ELSE string_to_array(current_setting('riskmap.townships', true), ',')::integer[] END
    $$
    """,
    """
    CREATE OR REPLACE FUNCTION riskmap_in_scope(township integer) RETURNS boolean LANGUAGE sql STABLE AS $$
        SELECT current_setting('riskmap.townships', true) = '*' OR township = ANY (riskmap_townships())
    $$
    """,
    """
    CREATE OR REPLACE FUNCTION riskmap_teams() RETURNS text[] LANGUAGE sql STABLE AS $$
        SELECT CASE WHEN coalesce(current_setting('riskmap.teams', true), '') = '' THEN '{}'::text[]
                    ELSE string_to_array(current_setting('riskmap.teams', true), '|') END
    $$
    """,
    # Whether one of the request's teams visits the enterprise (a stop of its routes in any plan). It reads
    # plans whatever the caller may see (a county-wide plan is not in a township inspector's read scope).
    """
    CREATE OR REPLACE FUNCTION riskmap_team_stop(enterprise integer) RETURNS boolean LANGUAGE sql STABLE
    SECURITY DEFINER SET search_path = public, pg_temp AS $$
        SELECT EXISTS (SELECT 1 FROM plan_stop s JOIN plan_route r ON r.id = s.route_id
                       WHERE s.enterprise_id = enterprise AND r.team = ANY (riskmap_teams()))
    $$
    """,
    # The request's region (a 地级市 or 省 code, GB/T 2260: 省 = first 2 digits + 0000, 市 = first 4 + 00), '' = none.
    """
    CREATE OR REPLACE FUNCTION riskmap_in_region(county text, city text) RETURNS boolean LANGUAGE sql STABLE AS $$
        SELECT CASE WHEN r ~ '^[0-9]{2}0000$' THEN left(county, 2) = left(r, 2)
                    WHEN r ~ '^[0-9]{4}00$' THEN city = r
                    ELSE false END
        FROM (SELECT coalesce(current_setting('riskmap.region', true), '') AS r) s
    $$
    """,
    # Whether the request holds any township of this county ('*' or a non-empty list): the read scope of the
    # county-wide tables (COUNTY_TABLES). A region viewer outside its region has none, so reads none of them.
    """
    CREATE OR REPLACE FUNCTION riskmap_in_county() RETURNS boolean LANGUAGE sql STABLE AS $$
        SELECT current_setting('riskmap.townships', true) = '*' OR cardinality(riskmap_townships()) > 0
    $$
    """,
    # The writer's jurisdiction: the union of its townships (all-county scope: no limit).
    """
    CREATE OR REPLACE FUNCTION riskmap_within_scope(g geometry) RETURNS boolean LANGUAGE sql STABLE AS $$
        SELECT current_setting('riskmap.townships', true) = '*'
            OR (g IS NOT NULL AND ST_CoveredBy(g, (SELECT ST_Union(t.geom) FROM township t
                                                  WHERE t.id = ANY (riskmap_townships()))))
    $$
    """,
]


def _existing(conn: Connection, names: tuple[str, ...] | list[str]) -> list[str]:
    rows = conn.execute(text(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename = ANY(:n)"), {"n": list(names)})
    return [r[0] for r in rows]


def data_tables(conn: Connection) -> list[str]:
    """Every table and view of the schema but the access layer's own and PostGIS/Alembic bookkeeping."""
    rows = conn.execute(text(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'm', 'p') "
        "AND c.relname NOT IN ('spatial_ref_sys', 'alembic_version', 'geometry_columns', 'geography_columns') "
        "AND NOT (c.relname = ANY(:a)) ORDER BY c.relname"), {"a": list(ACCESS_TABLES)})
    return [r[0] for r in rows]


def create_roles(conn: Connection) -> None:
    """Create the cluster-wide roles if missing (nothing in any database changes); idempotent."""
    for role in ROLES.values():
        conn.execute(text(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN "
            f"CREATE ROLE {role} NOLOGIN; END IF; END $$"))
        # The service's login must be able to SET ROLE to it (superusers can anyway).
        conn.execute(text(
            f"DO $$ BEGIN IF NOT pg_has_role(current_user, '{role}', 'MEMBER') THEN "
            f"EXECUTE format('GRANT {role} TO %I', current_user); END IF; END $$"))


def ensure_roles(conn: Connection) -> None:
    """Create the roles if missing and (re)apply grants and policies to every current table; idempotent."""
    create_roles(conn)
    for fn in FUNCTIONS:
        conn.execute(text(fn))
    tables = data_tables(conn)
    everything = ", ".join(tables)
    all_roles = ", ".join(ROLES.values())
    conn.execute(text(f"REVOKE ALL ON {everything} FROM {all_roles}"))
    conn.execute(text(f"GRANT SELECT ON {everything} TO {all_roles}"))
    conn.execute(text(f"GRANT SELECT ON spatial_ref_sys, geometry_columns, geography_columns TO {all_roles}"))
    conn.execute(text(f"GRANT INSERT, UPDATE, DELETE, TRUNCATE ON {everything} "
                      f"TO riskmap_admin, riskmap_county_editor"))
    conn.execute(text(f"GRANT INSERT, UPDATE, DELETE ON {', '.join(_existing(conn, TOWNSHIP_WRITES))} "
                      f"TO riskmap_township_editor"))
    for table, privilege in INSPECTOR_WRITES.items():
        if _existing(conn, [table]):
            conn.execute(text(f"GRANT {privilege} ON {table} TO riskmap_inspector"))
    conn.execute(text(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {all_roles}"))
    access = _existing(conn, ACCESS_TABLES)
    if access:
        conn.execute(text(f"REVOKE ALL ON {', '.join(access)} FROM {all_roles}"))
        conn.execute(text(f"GRANT ALL ON {', '.join(access)} TO riskmap_admin"))
        if "audit_log" in access:
            conn.execute(text("GRANT SELECT ON audit_log TO riskmap_county_editor, riskmap_county_viewer"))
    for table in _existing(conn, list(POLICIES)):
        _apply_policies(conn, table)
    for table in _existing(conn, list(REGION_TABLES)):
        _apply_region_policies(conn, table)
    for table in _existing(conn, list(COUNTY_TABLES)):
        _apply_county_policies(conn, table)
    owner_only = _existing(conn, OWNER_ONLY)
    if owner_only:
        conn.execute(text(f"REVOKE ALL ON {', '.join(owner_only)} FROM {all_roles}"))
        for table in owner_only:
            conn.execute(text(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"))
            for name in POLICY_NAMES:
                conn.execute(text(f"DROP POLICY IF EXISTS {name} ON {table}"))
    for table in _existing(conn, list(OWN_ROWS)):
        conn.execute(text(f"GRANT SELECT, INSERT ON {table} TO {all_roles}"))
        conn.execute(text(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"))
        conn.execute(text(f"DROP POLICY IF EXISTS own_rows ON {table}"))
        conn.execute(text(f"CREATE POLICY own_rows ON {table} TO {all_roles} USING ({OWN_ROWS[table]}) "
                          f"WITH CHECK ({OWN_ROWS[table]})"))


def _apply_policies(conn: Connection, table: str) -> None:
    """County roles: every row. Township editors and inspectors: rows of their scope; scoped writes checked."""
    scope = POLICIES[table]
    check = f"({scope})" + (f" AND ({WRITE_CHECKS[table]})" if table in WRITE_CHECKS else "")
    conn.execute(text(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"))
    for name in POLICY_NAMES:
        conn.execute(text(f"DROP POLICY IF EXISTS {name} ON {table}"))
    conn.execute(text(f"CREATE POLICY county_all ON {table} TO riskmap_admin, riskmap_county_editor, "
                      f"riskmap_county_viewer USING (true) WITH CHECK (true)"))
    scoped = "riskmap_township_editor, riskmap_inspector, riskmap_region_viewer"
    conn.execute(text(f"CREATE POLICY scoped_read ON {table} FOR SELECT TO {scoped} USING ({scope})"))
    conn.execute(text(f"CREATE POLICY scoped_insert ON {table} FOR INSERT TO riskmap_township_editor "
                      f"WITH CHECK ({check})"))
    if table in INSPECTOR_INSERTS:
        conn.execute(text(f"CREATE POLICY inspector_insert ON {table} FOR INSERT TO riskmap_inspector "
                          f"WITH CHECK (({check}) AND ({INSPECTOR_INSERTS[table]}))"))
    conn.execute(text(f"CREATE POLICY scoped_update ON {table} FOR UPDATE TO riskmap_township_editor "
                      f"USING ({scope}) WITH CHECK ({check})"))
    conn.execute(text(f"CREATE POLICY scoped_delete ON {table} FOR DELETE TO riskmap_township_editor "
                      f"USING ({scope})"))
    if table == "plan_stop":
        # An inspector records results only on the stops of routes assigned to one of its teams.
        conn.execute(text(
            "CREATE POLICY team_stop ON plan_stop FOR UPDATE TO riskmap_inspector USING "
            f"(({scope}) AND route_id IN (SELECT id FROM plan_route WHERE team = ANY (riskmap_teams())))"))


def _apply_county_policies(conn: Connection, table: str) -> None:
    """County roles: every row (and their writes). Scoped roles: every row while they hold a township here, else
    none. The scope is one InitPlan per query (`(SELECT …)`), not a call per row: road_edge feeds pgRouting."""
    conn.execute(text(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"))
    for name in POLICY_NAMES:
        conn.execute(text(f"DROP POLICY IF EXISTS {name} ON {table}"))
    conn.execute(text(f"CREATE POLICY county_all ON {table} TO riskmap_admin, riskmap_county_editor, "
                      f"riskmap_county_viewer USING (true) WITH CHECK (true)"))
    conn.execute(text(f"CREATE POLICY scoped_read ON {table} FOR SELECT TO riskmap_township_editor, "
                      f"riskmap_inspector, riskmap_region_viewer USING ((SELECT riskmap_in_county()))"))


def _apply_region_policies(conn: Connection, table: str) -> None:
    """A region viewer reads the rows of its city or province; every other role those of this database's county
    (and of its own townships); nobody writes them through the service (the provincial run writes as the owner)."""
    others = ", ".join(r for k, r in ROLES.items() if k != "region_viewer")
    conn.execute(text(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY"))
    for name in POLICY_NAMES:
        conn.execute(text(f"DROP POLICY IF EXISTS {name} ON {table}"))
    conn.execute(text(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {table} FROM {', '.join(ROLES.values())}"))
    conn.execute(text(f"CREATE POLICY region_read ON {table} FOR SELECT TO riskmap_region_viewer "
                      f"USING ({REGION_TABLES[table]})"))
    conn.execute(text(f"CREATE POLICY own_county ON {table} FOR SELECT TO {others} USING ("
                      f"county_code IN (SELECT code FROM county) AND township_code IN (SELECT code FROM township))"))


def drop_policies(conn: Connection) -> None:
    """Undo `ensure_roles` in this database (roles stay: other databases of the cluster may use them)."""
    for table in _existing(conn, [*POLICIES, *OWN_ROWS, *REGION_TABLES, *COUNTY_TABLES, *OWNER_ONLY]):
        for name in POLICY_NAMES:
            conn.execute(text(f"DROP POLICY IF EXISTS {name} ON {table}"))
        conn.execute(text(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY"))
    tables = data_tables(conn) + _existing(conn, ACCESS_TABLES)
    existing_roles = [r for r in ROLES.values() if conn.execute(
        text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": r}).first()]
    if tables and existing_roles:
        conn.execute(text(f"REVOKE ALL ON {', '.join(tables)} FROM {', '.join(existing_roles)}"))
        conn.execute(text(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {', '.join(existing_roles)}"))
    for fn in ("riskmap_team_stop(integer)", "riskmap_within_scope(geometry)", "riskmap_in_scope(integer)", "riskmap_teams()",
               "riskmap_in_region(text, text)", "riskmap_in_county()",
               "riskmap_townships()"):
        conn.execute(text(f"DROP FUNCTION IF EXISTS {fn}"))
