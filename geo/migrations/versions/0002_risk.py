"""Risk engine tables (assessments with history, rules versions).

pipeline_segment: dynamic segmentation of pipelines (stable ids per pipeline and sequence number).
risk_rules_version: every rules file (merged defaults + bureau override) that produced an assessment.
risk_assessment: one row per object and period of unchanged result (valid_from/valid_to; the current
row has valid_to NULL).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

KINDS = "('enterprise', 'pipeline_segment', 'mine', 'grid_cell', 'township')"
LEVELS = "('red', 'orange', 'yellow', 'blue')"


def upgrade() -> None:
    op.create_table(
        "pipeline_segment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("pipeline_id", sa.Integer(), sa.ForeignKey("pipeline.id", ondelete="CASCADE"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("from_m", sa.Float(), nullable=False),
        sa.Column("to_m", sa.Float(), nullable=False),
        sa.Column("township_id", sa.Integer(), sa.ForeignKey("township.id", ondelete="SET NULL"), nullable=True),
        sa.Column("geom", Geometry("LINESTRING", srid=4490, spatial_index=False), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.UniqueConstraint("pipeline_id", "seq", name="uq_pipeline_segment_seq"),
        sa.CheckConstraint("to_m > from_m", name="ck_pipeline_segment_measure"),
    )
    op.create_index("ix_pipeline_segment_geom_gist", "pipeline_segment", ["geom"], postgresql_using="gist")
    op.create_index("ix_pipeline_segment_township_id", "pipeline_segment", ["township_id"])
    op.execute(
        "CREATE TRIGGER pipeline_segment_touch BEFORE UPDATE ON pipeline_segment "
        "FOR EACH ROW EXECUTE FUNCTION riskmap_touch_updated_at()"
    )

    op.create_table(
        "risk_rules_version",
        sa.Column("rules_hash", sa.String(64), primary_key=True),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("content", postgresql.JSONB(), nullable=False),
        sa.Column("first_used_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    )

    op.create_table(
        "risk_assessment",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(6), nullable=False),
        sa.Column("score", sa.Float(), nullable=False, server_default="0"),
        sa.Column("reasons", postgresql.JSONB(), nullable=False, server_default="[]"),
        sa.Column("details", postgresql.JSONB(), nullable=False, server_default="{}"),
        sa.Column("township_id", sa.Integer(), sa.ForeignKey("township.id", ondelete="SET NULL"), nullable=True),
        sa.Column("rules_version", sa.String(64), nullable=False),
        sa.Column("rules_hash", sa.String(64), sa.ForeignKey("risk_rules_version.rules_hash"), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(f"kind IN {KINDS}", name="ck_risk_assessment_kind"),
        sa.CheckConstraint(f"level IN {LEVELS}", name="ck_risk_assessment_level"),
        sa.CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="ck_risk_assessment_period"),
    )
    op.create_index("uq_risk_assessment_current", "risk_assessment", ["kind", "object_id"], unique=True,
                    postgresql_where=sa.text("valid_to IS NULL"))
    op.create_index("ix_risk_assessment_history", "risk_assessment", ["kind", "object_id", "valid_from"])
    op.create_index("ix_risk_assessment_township", "risk_assessment", ["township_id"])


def downgrade() -> None:
    op.drop_table("risk_assessment")
    op.drop_table("risk_rules_version")
    op.execute("DROP TRIGGER IF EXISTS pipeline_segment_touch ON pipeline_segment")
    op.drop_table("pipeline_segment")
