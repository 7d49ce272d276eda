"""Close the reads row-level security left open (issue #16): neighbours' halo copies, and county-wide tables to a
region viewer of another region.

- `halo_building`, `halo_road` (migration 0018_province) held another county's buildings and roads, readable by every
  service role: now no service role reads them (no grant; RLS on without a policy). The provincial run reads and
  writes them as the database owner, as before.
- The county-wide tables no township keys — `county`, `road`, `road_edge`, `road_vertex`, `waterway`, `mine_zone`,
  `risk_rules_version` — get row-level security (geo/access/roles.py COUNTY_TABLES): county roles read every row; a
  township editor or inspector while it holds a township of this county; a region viewer only where its region holds
  the county. Before, a city viewer of another city read this county's outline, roads and rivers.

Revision ID: 0024_province_reads
Revises: 0020_province_scope
"""

from __future__ import annotations

from alembic import op

revision = "0024_province_reads"
down_revision = "0020_province_scope"
branch_labels = None
depends_on = None

COUNTY_TABLES = ("county", "road", "road_edge", "road_vertex", "waterway", "mine_zone", "risk_rules_version")
OWNER_ONLY = ("halo_building", "halo_road")
SERVICE_ROLES = ("riskmap_admin, riskmap_county_editor, riskmap_county_viewer, riskmap_township_editor, "
                 "riskmap_inspector, riskmap_region_viewer")


def upgrade() -> None:
    from geo.access.roles import ensure_roles

    ensure_roles(op.get_bind())


def downgrade() -> None:
    for table in (*COUNTY_TABLES, *OWNER_ONLY):
        for name in ("county_all", "scoped_read"):
            op.execute(f"DROP POLICY IF EXISTS {name} ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute("DROP FUNCTION IF EXISTS riskmap_in_county()")
    op.execute(f"GRANT SELECT ON {', '.join(OWNER_ONLY)} TO {SERVICE_ROLES}")
    op.execute(f"GRANT INSERT, UPDATE, DELETE, TRUNCATE ON {', '.join(OWNER_ONLY)} TO riskmap_admin, "
               "riskmap_county_editor")
