"""Access: users, API tokens, the signing secret, the audit log, version columns and row-level security.

The audit log is written by statement-level triggers (one set-based INSERT per statement, before and after
rows as JSON) on every table a person edits, so no write path can skip it; derived tables (risk results,
pipeline pieces, candidates, the road graph) are not audited. `version` goes up by one on every UPDATE so
that a stale edit can be refused (409). Roles, grants and policies: geo/access/roles.py.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import secrets

from alembic import op
from sqlalchemy import text

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

VERSIONED = (
    "county", "township", "village", "grid_cell", "enterprise", "chemical_inventory", "hazard", "accident",
    "pipeline", "pipeline_facility", "encroachment", "building", "road", "mine", "mine_zone", "inspection",
)
"""Tables a person edits: they carry `version` and are audited."""

AUDITED = (*VERSIONED, "inspection_plan", "plan_stop", "app_user", "api_token")

KEYS = {"county": "code"}
"""Key column of audited tables that are not keyed by `id`."""

UPGRADE = [
    """
    CREATE TABLE app_user (
        id serial PRIMARY KEY,
        username varchar(50) NOT NULL UNIQUE,
        display_name varchar(100),
        password_hash text NOT NULL,
        role varchar(20) NOT NULL,
        township_codes varchar(12)[] NOT NULL DEFAULT '{}',
        teams text[] NOT NULL DEFAULT '{}',
        disabled boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT ck_app_user_role CHECK (role IN
            ('admin', 'county_editor', 'county_viewer', 'township_editor', 'inspector')),
        CONSTRAINT ck_app_user_scope CHECK (role <> 'township_editor' OR cardinality(township_codes) > 0)
    )
    """,
    """
    CREATE TABLE api_token (
        id serial PRIMARY KEY,
        user_id integer NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
        name varchar(100) NOT NULL,
        token_hash char(64) NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz,
        revoked_at timestamptz,
        last_used_at timestamptz
    )
    """,
    "CREATE TABLE app_secret (name varchar(40) PRIMARY KEY, value text NOT NULL)",
    """
    CREATE TABLE audit_log (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT clock_timestamp(),
        actor text NOT NULL,
        actor_role text,
        action varchar(8) NOT NULL,
        table_name varchar(40) NOT NULL,
        record_id text,
        before jsonb,
        after jsonb,
        txid bigint NOT NULL DEFAULT txid_current(),
        CONSTRAINT ck_audit_action CHECK (action IN ('insert', 'update', 'delete'))
    )
    """,
    "CREATE INDEX ix_audit_log_record ON audit_log (table_name, record_id, id)",
    "CREATE INDEX ix_audit_log_at ON audit_log (at)",
    "CREATE INDEX ix_audit_log_actor ON audit_log (actor, at)",
    # What a row looks like in the log: secrets masked, the derived tile column left out.
    """
    CREATE FUNCTION riskmap_audit_row(r jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
        SELECT (r - 'geom_3857')
            || CASE WHEN r ? 'password_hash' THEN '{"password_hash": "***"}'::jsonb ELSE '{}'::jsonb END
            || CASE WHEN r ? 'token_hash' THEN '{"token_hash": "***"}'::jsonb ELSE '{}'::jsonb END
    $$
    """,
    # Who: the request's user (set per transaction by the service, per session by the CLI), else the login.
    """
    CREATE FUNCTION riskmap_audit() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = public, pg_temp AS $$
    DECLARE
        who text := coalesce(nullif(current_setting('riskmap.user', true), ''), session_user::text);
        what text := nullif(current_setting('riskmap.role', true), '');
        k text := TG_ARGV[0];
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO audit_log (actor, actor_role, action, table_name, record_id, after)
            SELECT who, what, 'insert', TG_TABLE_NAME, j ->> k, j
            FROM (SELECT riskmap_audit_row(to_jsonb(n)) AS j FROM new_rows n) s;
        ELSIF TG_OP = 'UPDATE' THEN
            INSERT INTO audit_log (actor, actor_role, action, table_name, record_id, before, after)
            SELECT who, what, 'update', TG_TABLE_NAME, b.j ->> k, b.j, a.j
            FROM (SELECT riskmap_audit_row(to_jsonb(o)) AS j FROM old_rows o) b
            JOIN (SELECT riskmap_audit_row(to_jsonb(n)) AS j FROM new_rows n) a ON a.j -> k = b.j -> k
            WHERE (a.j - 'updated_at' - 'version' - 'last_used_at') IS DISTINCT FROM (b.j - 'updated_at' - 'version' - 'last_used_at');
        ELSE
            INSERT INTO audit_log (actor, actor_role, action, table_name, record_id, before)
            SELECT who, what, 'delete', TG_TABLE_NAME, j ->> k, j
            FROM (SELECT riskmap_audit_row(to_jsonb(o)) AS j FROM old_rows o) s;
        END IF;
        RETURN NULL;
    END;
    $$
    """,
    """
    CREATE FUNCTION riskmap_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.version := OLD.version + 1;
        RETURN NEW;
    END;
    $$
    """,
    # Register codes are numbered across the whole county, whatever rows the caller may see; the lock
    # keeps two concurrent registrations from drawing the same number.
    """
    CREATE FUNCTION riskmap_next_code(tbl text, prefix text) RETURNS integer LANGUAGE plpgsql
    SECURITY DEFINER SET search_path = public, pg_temp AS $$
    DECLARE
        last integer;
    BEGIN
        PERFORM pg_advisory_xact_lock(hashtext('riskmap_code:' || prefix));
        EXECUTE format('SELECT max(substring(code FROM ''([0-9]+)$'')::int) FROM %I WHERE code LIKE $1 || ''%%''',
                       tbl) INTO last USING prefix;
        RETURN coalesce(last, 0) + 1;
    END;
    $$
    """,
    # Codes are unique county-wide; a scoped writer cannot see other townships' rows, so it asks here.
    """
    CREATE FUNCTION riskmap_code_taken(tbl text, col text, val text, exclude bigint) RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    DECLARE
        taken boolean;
    BEGIN
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I WHERE %I = $1 AND ($2 IS NULL OR id <> $2))', tbl, col)
            INTO taken USING val, exclude;
        RETURN taken;
    END;
    $$
    """,
    # The register's view reads with the caller's rights, so it obeys row-level security.
    "ALTER VIEW register_item SET (security_invoker = true)",
]


def upgrade() -> None:
    from geo.access.roles import ensure_roles

    for statement in UPGRADE:
        op.execute(statement)
    bind = op.get_bind()
    bind.execute(text("INSERT INTO app_secret (name, value) VALUES ('token_signing_key', :v)"),
                 {"v": secrets.token_urlsafe(48)})
    for table in VERSIONED:
        op.execute(f"ALTER TABLE {table} ADD COLUMN version integer NOT NULL DEFAULT 1")
        op.execute(f"CREATE TRIGGER {table}_version BEFORE UPDATE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION riskmap_bump_version()")
    op.execute("CREATE TRIGGER app_user_touch BEFORE UPDATE ON app_user "
               "FOR EACH ROW EXECUTE FUNCTION riskmap_touch_updated_at()")
    for table in AUDITED:
        key = KEYS.get(table, "id")
        for event, ref in (("INSERT", "NEW TABLE AS new_rows"), ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                           ("DELETE", "OLD TABLE AS old_rows")):
            op.execute(f"CREATE TRIGGER {table}_audit_{event.lower()} AFTER {event} ON {table} "
                       f"REFERENCING {ref} FOR EACH STATEMENT EXECUTE FUNCTION riskmap_audit('{key}')")
    ensure_roles(bind)


def downgrade() -> None:
    from geo.access.roles import drop_policies

    drop_policies(op.get_bind())
    op.execute("ALTER VIEW register_item RESET (security_invoker)")
    for table in AUDITED:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_audit_{event} ON {table}")
    for table in VERSIONED:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_version ON {table}")
        op.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS version")
    for statement in (
        "DROP TABLE IF EXISTS audit_log", "DROP TABLE IF EXISTS api_token", "DROP TABLE IF EXISTS app_user",
        "DROP TABLE IF EXISTS app_secret", "DROP FUNCTION IF EXISTS riskmap_audit()",
        "DROP FUNCTION IF EXISTS riskmap_audit_row(jsonb)", "DROP FUNCTION IF EXISTS riskmap_bump_version()",
        "DROP FUNCTION IF EXISTS riskmap_next_code(text, text)",
        "DROP FUNCTION IF EXISTS riskmap_code_taken(text, text, text, bigint)",
    ):
        op.execute(statement)
