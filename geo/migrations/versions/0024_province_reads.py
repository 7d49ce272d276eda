"""Close the reads row-level security left open (issue #16): neighbours' halo copies, county-wide tables to a
region viewer of another region, and the register numbering function that read past RLS for anyone.

- `halo_building`, `halo_road` (migration 0018_province) held another county's buildings and roads, readable by every
  service role: now no service role reads them (no grant; RLS on without a policy). The provincial run reads and
  writes them as the database owner, as before.
- The county-wide tables no township keys — `county`, `road`, `road_edge`, `road_vertex`, `waterway`, `mine_zone`,
  `risk_rules_version` — get row-level security (geo/access/roles.py COUNTY_TABLES): county roles read every row; a
  township editor or inspector while it holds a township of this county; a region viewer only where its region holds
  the county. Before, a city viewer of another city read this county's outline, roads and rivers.
- `riskmap_next_code` (migration 0006) reads past row-level security to number registers county-wide; it took any
  table and prefix, so any role could probe codes it may not read (a neighbour's road codes in the halo, other
  townships' enterprise codes). It now numbers only the two registers (占压点 encroachment, 隐患 hazard) by an
  `XX-YYYY-` prefix, and only the roles that write them may call it.

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
REGISTER_WRITERS = "riskmap_admin, riskmap_county_editor, riskmap_township_editor, riskmap_inspector"

_NUMBERING = """
    PERFORM pg_advisory_xact_lock(hashtext('riskmap_code:' || prefix));
    EXECUTE format('SELECT max(substring(code FROM ''([0-9]+)$'')::int) FROM %I WHERE code LIKE $1 || ''%%''',
                   tbl) INTO last USING prefix;
    RETURN coalesce(last, 0) + 1;
"""

NEXT_CODE = f"""
CREATE OR REPLACE FUNCTION riskmap_next_code(tbl text, prefix text) RETURNS integer LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    last integer;
BEGIN
    IF tbl NOT IN ('encroachment', 'hazard') OR prefix !~ '^[A-Z]{{1,8}}-[0-9]{{4}}-$' THEN
        RAISE EXCEPTION '只为占压点、隐患台账按年编号（表 %，前缀 %）', tbl, prefix USING ERRCODE = '22023';
    END IF;
{_NUMBERING}
END;
$$
"""
"""County-wide register numbering (geo/register/core.py next_code), for the registers only."""

NEXT_CODE_0006 = f"""
CREATE OR REPLACE FUNCTION riskmap_next_code(tbl text, prefix text) RETURNS integer LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    last integer;
BEGIN
{_NUMBERING}
END;
$$
"""


def upgrade() -> None:
    from geo.access.roles import ensure_roles

    ensure_roles(op.get_bind())
    op.execute(NEXT_CODE)
    op.execute("REVOKE EXECUTE ON FUNCTION riskmap_next_code(text, text) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION riskmap_next_code(text, text) TO {REGISTER_WRITERS}")


def downgrade() -> None:
    op.execute(NEXT_CODE_0006)
    op.execute("GRANT EXECUTE ON FUNCTION riskmap_next_code(text, text) TO PUBLIC")
    for table in (*COUNTY_TABLES, *OWNER_ONLY):
        for name in ("county_all", "scoped_read"):
            op.execute(f"DROP POLICY IF EXISTS {name} ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.execute("DROP FUNCTION IF EXISTS riskmap_in_county()")
    op.execute(f"GRANT SELECT ON {', '.join(OWNER_ONLY)} TO {SERVICE_ROLES}")
    op.execute(f"GRANT INSERT, UPDATE, DELETE, TRUNCATE ON {', '.join(OWNER_ONLY)} TO riskmap_admin, "
               "riskmap_county_editor")
