"""A spatial index on enterprises' plant boundaries (厂区边界), for the one-edit recompute (issue #12).

`riskmap risk compute --changed` finds the enterprises within reach of an edited building or pipeline by their
boundary, else their point. Without an index on `site_boundary` that search read all of the county's enterprises
(≈ 7 ms of a ×1 `--changed` run whose budget is 100 ms). Partial: most enterprises have no boundary.

Revision ID: 0025_site_boundary_index
Revises: 0024_province_reads
"""

from __future__ import annotations

from alembic import op

revision = "0025_site_boundary_index"
down_revision = "0024_province_reads"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX IF NOT EXISTS ix_enterprise_site_boundary_gist ON enterprise USING gist (site_boundary) "
               "WHERE site_boundary IS NOT NULL")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_enterprise_site_boundary_gist")
