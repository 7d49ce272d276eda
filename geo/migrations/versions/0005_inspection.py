"""Inspection planner: the road graph (vertices/edges for pgRouting) and stored weekly plans.

road_vertex/road_edge are rebuilt from `road` by geo.inspection.network.build_network (travel seconds by
road class, lengths in metres in the county's Gauss–Krüger zone). inspection_plan → plan_route (one team
on one day) → plan_stop (an enterprise due, visited in order or dropped with the reason).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _stamps() -> list[sa.Column]:
    return [sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False)]


def upgrade() -> None:
    op.create_table(
        "road_vertex",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("component", sa.Integer(), nullable=True),
        sa.Column("geom", Geometry("POINT", srid=4490, spatial_index=False), nullable=False),
    )
    op.create_index("ix_road_vertex_geom_gist", "road_vertex", ["geom"], postgresql_using="gist")
    op.create_table(
        "road_edge",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("road_id", sa.BigInteger(), sa.ForeignKey("road.id", ondelete="CASCADE"), nullable=False),
        sa.Column("source", sa.Integer(), nullable=False),
        sa.Column("target", sa.Integer(), nullable=False),
        sa.Column("road_class", sa.String(20), nullable=False),
        sa.Column("length_m", sa.Float(), nullable=False),
        sa.Column("cost_s", sa.Float(), nullable=False),
        sa.Column("reverse_cost_s", sa.Float(), nullable=False),
        sa.Column("geom", Geometry("LINESTRING", srid=4490, spatial_index=False), nullable=False),
    )
    op.create_index("ix_road_edge_geom_gist", "road_edge", ["geom"], postgresql_using="gist")
    op.create_index("ix_road_edge_source", "road_edge", ["source"])
    op.create_index("ix_road_edge_target", "road_edge", ["target"])

    op.create_table(
        "inspection_plan",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("end_on", sa.Date(), nullable=False),
        sa.Column("township_code", sa.String(12), nullable=True),
        sa.Column("teams", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(60), nullable=False),
        sa.Column("solve_s", sa.Float(), nullable=False),
        sa.Column("summary", postgresql.JSONB(), nullable=False, server_default="{}"),
        *_stamps(),
    )
    op.create_table(
        "plan_route",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("plan_id", sa.Integer(), sa.ForeignKey("inspection_plan.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("team", sa.String(50), nullable=False),
        sa.Column("day_on", sa.Date(), nullable=False),
        sa.Column("depot_name", sa.String(100), nullable=False),
        sa.Column("depot_geom", Geometry("POINT", srid=4490, spatial_index=False), nullable=False),
        sa.Column("travel_s", sa.Integer(), nullable=False),
        sa.Column("service_s", sa.Integer(), nullable=False),
        sa.Column("return_s", sa.Integer(), nullable=False),
        sa.Column("distance_m", sa.Float(), nullable=False, server_default="0"),
        sa.Column("geom", Geometry("MULTILINESTRING", srid=4490, spatial_index=False), nullable=True),
    )
    op.create_table(
        "plan_stop",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("plan_id", sa.Integer(), sa.ForeignKey("inspection_plan.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("route_id", sa.Integer(), sa.ForeignKey("plan_route.id", ondelete="CASCADE"), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("enterprise_id", sa.Integer(), sa.ForeignKey("enterprise.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("colour", sa.String(6), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("reasons", postgresql.JSONB(), nullable=False, server_default="[]"),
        sa.Column("arrival_s", sa.Integer(), nullable=True),
        sa.Column("service_s", sa.Integer(), nullable=False),
        sa.Column("snapped", sa.Boolean(), nullable=False),
        sa.Column("access_m", sa.Float(), nullable=True),
        sa.Column("snap_note", sa.Text(), nullable=True),
        sa.Column("dropped_reason", sa.Text(), nullable=True),
        sa.Column("inspection_id", sa.Integer(), sa.ForeignKey("inspection.id", ondelete="SET NULL"), nullable=True),
    )


def downgrade() -> None:
    for table in ("plan_stop", "plan_route", "inspection_plan", "road_edge", "road_vertex"):
        op.drop_table(table)
