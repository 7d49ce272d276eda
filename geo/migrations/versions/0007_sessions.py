"""Sessions and logins: revocable sessions, login throttling, login audit (security issue #11, findings 4 and 7).

`app_session`: one row per login token (the JWT carries its `jti`); a token is honoured only while its row
is there, unrevoked and unexpired, so logout, a password change and disabling an account end it at once.
`login_event`: every sign-in attempt (success, failure, throttled) and logout, with the address it came
from; the failures of the last window are what throttling counts, so the state is shared by every worker
and survives restarts. Its inserts are audited like the edited tables (riskmap_audit, migration 0006).
`app_user.password_changed_at` makes a password change visible in the audit log (the hash itself is masked).

Both tables belong to the access layer: only the service's own login and admins see them. Grants follow
0006's access tables, and row-level security with an admin-only policy keeps them closed even if a later
`ensure_roles` grants the data roles their default rights on every public table.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLES = ("app_session", "login_event")

UPGRADE = [
    "ALTER TABLE app_user ADD COLUMN password_changed_at timestamptz",
    """
    CREATE TABLE app_session (
        jti varchar(64) PRIMARY KEY,
        user_id integer NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
        issued_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        address varchar(100)
    )
    """,
    "CREATE INDEX ix_app_session_user ON app_session (user_id) WHERE revoked_at IS NULL",
    """
    CREATE TABLE login_event (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT clock_timestamp(),
        username varchar(100) NOT NULL,
        user_id integer REFERENCES app_user (id) ON DELETE SET NULL,
        address varchar(100),
        outcome varchar(10) NOT NULL,
        via varchar(10) NOT NULL,
        CONSTRAINT ck_login_event_outcome CHECK (outcome IN ('success', 'failure', 'throttled', 'logout'))
    )
    """,
    "CREATE INDEX ix_login_event_username ON login_event (username, at)",
    "CREATE INDEX ix_login_event_address ON login_event (address, at) WHERE outcome = 'failure'",
    ("CREATE TRIGGER login_event_audit_insert AFTER INSERT ON login_event REFERENCING NEW TABLE AS new_rows "
     "FOR EACH STATEMENT EXECUTE FUNCTION riskmap_audit('id')"),
]


def upgrade() -> None:
    from geo.access.roles import ROLES

    for statement in UPGRADE:
        op.execute(statement)
    roles = ", ".join(ROLES.values())
    for table in TABLES:
        op.execute(f"REVOKE ALL ON {table} FROM {roles}")
        op.execute(f"GRANT ALL ON {table} TO riskmap_admin")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY admin_only ON {table} TO riskmap_admin USING (true) WITH CHECK (true)")
    op.execute("GRANT USAGE, SELECT ON SEQUENCE login_event_id_seq TO riskmap_admin")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS login_event")
    op.execute("DROP TABLE IF EXISTS app_session")
    op.execute("ALTER TABLE app_user DROP COLUMN IF EXISTS password_changed_at")
