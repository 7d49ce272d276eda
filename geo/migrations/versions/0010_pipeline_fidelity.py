"""Pipeline risk fidelity (issue #12 §3): MAOP on pipelines, known households on buildings, fuel stations and oil depots.

- pipeline.maop_mpa: 最大允许操作压力 (GB 32167-2015 §6.1.2 式(1) uses it; the design pressure when unknown).
- building.households: 户数 of a multi-storey residential building when known (GB 50251-2015 §4.2 counts every
  dwelling unit); otherwise the rules estimate floors × units per floor.
- building.use_class gains fuel_station (加油站/加气站) and oil_depot (油库): the flammable/explosive sites of
  GB 32167-2015 表1 d / 表2 f.

Columns on existing tables: their RLS policies, grants and audit triggers already cover them.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

OLD_USES = "('residential', 'school', 'hospital', 'market', 'industrial', 'other')"
NEW_USES = "('residential', 'school', 'hospital', 'market', 'industrial', 'other', 'fuel_station', 'oil_depot')"


def upgrade() -> None:
    op.add_column("pipeline", sa.Column("maop_mpa", sa.Float(), nullable=True))
    op.add_column("building", sa.Column("households", sa.Integer(), nullable=True))
    op.create_check_constraint("ck_building_households", "building", "households IS NULL OR households >= 0")
    op.drop_constraint("ck_building_use", "building", type_="check")
    op.create_check_constraint("ck_building_use", "building", f"use_class IN {NEW_USES}")


def downgrade() -> None:
    op.execute("UPDATE building SET use_class = 'other' WHERE use_class IN ('fuel_station', 'oil_depot')")
    op.drop_constraint("ck_building_use", "building", type_="check")
    op.create_check_constraint("ck_building_use", "building", f"use_class IN {OLD_USES}")
    op.drop_constraint("ck_building_households", "building", type_="check")
    op.drop_column("building", "households")
    op.drop_column("pipeline", "maop_mpa")
