"""City and province scope (issue #16): a region viewer (市/省级查看) reads the roll-up of its 地级市 or 省.

- `app_user.region_code`: the 6-digit GB/T 2260 code of a 地级市 (XXXX00) or 省 (XX0000); required for the new role
  `region_viewer` (PostgreSQL role riskmap_region_viewer) and only for it.
- `province_township_level` gets row-level security (geo/access/roles.py REGION_TABLES): a region viewer sees its
  region's rows (`riskmap_in_region`, fed by `riskmap.region` set per request); every other role only this
  database's own county and its own townships; no service role writes it (the provincial run writes as the owner).
- A region viewer reads a county's detail only in a database whose county lies in its region (its township scope is
  then every township; elsewhere none) — the ordinary township-scope policies, no new mechanism.
- `province_township_level.service_url`: the county's own riskmap service (province.toml), the roll-up map's link
  from a county to its detail map.

Revision ID: 0020_province_scope
Revises: 0018_province
"""

from __future__ import annotations

from alembic import op

revision = "0020_province_scope"
down_revision = "0018_province"
branch_labels = None
depends_on = None

ROLES_0006 = "('admin', 'county_editor', 'county_viewer', 'township_editor', 'inspector')"
ROLES_NOW = "('admin', 'county_editor', 'county_viewer', 'township_editor', 'inspector', 'region_viewer')"

UPGRADE = f"""
ALTER TABLE app_user ADD COLUMN region_code varchar(6);
ALTER TABLE app_user DROP CONSTRAINT ck_app_user_role;
ALTER TABLE app_user ADD CONSTRAINT ck_app_user_role CHECK (role IN {ROLES_NOW});
ALTER TABLE app_user ADD CONSTRAINT ck_app_user_region CHECK (
    (role = 'region_viewer') = (region_code IS NOT NULL)
    AND (region_code IS NULL OR region_code ~ '^[0-9]{{2}}([0-9]{{2}}00|0000)$'));
ALTER TABLE province_township_level ADD COLUMN service_url text;
"""

DOWNGRADE = f"""
DROP POLICY IF EXISTS region_read ON province_township_level;
DROP POLICY IF EXISTS own_county ON province_township_level;
ALTER TABLE province_township_level DISABLE ROW LEVEL SECURITY;
ALTER TABLE province_township_level DROP COLUMN IF EXISTS service_url;
DELETE FROM app_user WHERE role = 'region_viewer';
ALTER TABLE app_user DROP CONSTRAINT IF EXISTS ck_app_user_region;
ALTER TABLE app_user DROP CONSTRAINT ck_app_user_role;
ALTER TABLE app_user ADD CONSTRAINT ck_app_user_role CHECK (role IN {ROLES_0006});
ALTER TABLE app_user DROP COLUMN region_code;
DROP FUNCTION IF EXISTS riskmap_in_region(text, text);
"""


def upgrade() -> None:
    from geo.access.roles import ensure_roles

    op.execute(UPGRADE)
    ensure_roles(op.get_bind())


def downgrade() -> None:
    op.execute(DOWNGRADE)
    op.execute("GRANT SELECT ON province_township_level TO riskmap_admin, riskmap_county_editor, "
               "riskmap_county_viewer, riskmap_township_editor, riskmap_inspector")
    op.execute("GRANT INSERT, UPDATE, DELETE, TRUNCATE ON province_township_level TO riskmap_admin, "
               "riskmap_county_editor")
