"""Waterways and pipeline tunnels: the feature layers of 石油天然气管道保护法 第三十二条 (500 m each side of where a
pipeline crosses a river) and 第三十三条 (1,000 m each side of a pipeline's dedicated tunnel).

Both are reference layers a county editor keeps (versioned, audited, updated_at kept); a tunnel is seen where its
pipeline is (row-level security as pipeline_facility, geo/access/roles.py).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLES = ("waterway", "pipeline_tunnel")
_EVENTS = (("INSERT", "NEW TABLE AS new_rows"), ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
           ("DELETE", "OLD TABLE AS old_rows"))


def _common() -> list[sa.Column]:
    return [
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
    ]


def upgrade() -> None:
    from geo.access.roles import ensure_roles

    op.create_table(
        "waterway",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(40), nullable=True, unique=True),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("kind", sa.String(10), server_default="river", nullable=False),
        sa.Column("is_illustrative", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("geom", Geometry("MULTILINESTRING", srid=4490, spatial_index=False), nullable=False),
        *_common(),
        sa.CheckConstraint("kind IN ('river', 'canal')", name="ck_waterway_kind"),
    )
    op.create_table(
        "pipeline_tunnel",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(40), nullable=True, unique=True),
        sa.Column("pipeline_id", sa.Integer(), sa.ForeignKey("pipeline.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("geom", Geometry("MULTILINESTRING", srid=4490, spatial_index=False), nullable=False),
        *_common(),
    )
    op.create_index("ix_pipeline_tunnel_pipeline_id", "pipeline_tunnel", ["pipeline_id"])
    for table in TABLES:
        op.create_index(f"ix_{table}_geom_gist", table, ["geom"], postgresql_using="gist")
        op.execute(f"CREATE TRIGGER {table}_touch BEFORE UPDATE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION riskmap_touch_updated_at()")
        op.execute(f"CREATE TRIGGER {table}_version BEFORE UPDATE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION riskmap_bump_version()")
        for event, ref in _EVENTS:
            op.execute(f"CREATE TRIGGER {table}_audit_{event.lower()} AFTER {event} ON {table} "
                       f"REFERENCING {ref} FOR EACH STATEMENT EXECUTE FUNCTION riskmap_audit('id')")
    ensure_roles(op.get_bind())


def downgrade() -> None:
    op.drop_table("pipeline_tunnel")
    op.drop_table("waterway")
