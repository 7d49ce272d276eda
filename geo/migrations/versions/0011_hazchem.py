"""Hazardous-chemical enterprises (issue #12 §2): facts of the 应急〔2018〕19号 diagnostic table, the plant boundary for
GB 18218-2018 表5 α, the registered (备案) major hazard grade, and concentrations on inventory lines (表1 entries named
by concentration). Every new column is nullable: NULL means "not filled in", shown as 未评分, never guessed.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

COUNTS = ("key_process_count", "key_chemical_count", "explosive_count", "toxic_inhalation_count",
          "obsolete_equipment_count", "gas_detection_missing_count", "uncertified_managers", "chemistry_degree_leaders")
FLAGS = ("external_distance_ok", "reaction_risk_unassessed", "designed_by_class_a", "automation_missing",
         "registered_safety_engineer", "own_fire_team", "untrialled_new_process", "undesigned_unit",
         "special_ops_uncertified")


def upgrade() -> None:
    op.add_column("enterprise", sa.Column("site_boundary", Geometry("MULTIPOLYGON", srid=4490, spatial_index=False),
                                          nullable=True))
    op.add_column("enterprise", sa.Column("site_radius_m", sa.Float(), nullable=True))
    op.add_column("enterprise", sa.Column("registered_major_hazard_grade", sa.Integer(), nullable=True))
    op.add_column("enterprise", sa.Column("key_processes", sa.Text(), nullable=True))
    for name in COUNTS:
        op.add_column("enterprise", sa.Column(name, sa.Integer(), nullable=True))
    for name in FLAGS:
        op.add_column("enterprise", sa.Column(name, sa.Boolean(), nullable=True))
    op.create_check_constraint("ck_enterprise_registered_grade", "enterprise",
                               "registered_major_hazard_grade IS NULL OR registered_major_hazard_grade BETWEEN 1 AND 4")
    op.create_check_constraint("ck_enterprise_site_radius", "enterprise", "site_radius_m IS NULL OR site_radius_m > 0")
    op.create_check_constraint("ck_enterprise_diagnostic_counts", "enterprise",
                               " AND ".join(f"({c} IS NULL OR {c} >= 0)" for c in COUNTS))
    op.add_column("chemical_inventory", sa.Column("concentration_pct", sa.Float(), nullable=True))
    op.add_column("chemical_inventory", sa.Column("combustible_pct", sa.Float(), nullable=True))
    op.create_check_constraint("ck_inventory_percent", "chemical_inventory",
                               "(concentration_pct IS NULL OR concentration_pct BETWEEN 0 AND 100) AND "
                               "(combustible_pct IS NULL OR combustible_pct BETWEEN 0 AND 100)")


def downgrade() -> None:
    op.drop_constraint("ck_inventory_percent", "chemical_inventory", type_="check")
    op.drop_column("chemical_inventory", "combustible_pct")
    op.drop_column("chemical_inventory", "concentration_pct")
    for name in ("ck_enterprise_diagnostic_counts", "ck_enterprise_site_radius", "ck_enterprise_registered_grade"):
        op.drop_constraint(name, "enterprise", type_="check")
    for name in (*FLAGS, *COUNTS, "key_processes", "registered_major_hazard_grade", "site_radius_m", "site_boundary"):
        op.drop_column("enterprise", name)
