"""Indexes for `riskmap risk compute --changed` (issue 12): rows edited since the last run found by index.

`updated_at` of every table whose rows a risk rule reads, and `risk_assessment.computed_at`, so that finding what
changed after one edit reads a few index entries instead of every row. `risk_rules_version.last_run_at`: when a
run last used these rules — a run whose results all stayed the same writes no history row, and without it the
next `--changed` run would redo every edit since the last change of level.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

CHANGE_TRACKED = ("enterprise", "chemical_inventory", "hazard", "accident", "pipeline", "encroachment", "building",
                  "road", "mine", "mine_zone")
"""Tables geo/risk/changes.py reads by updated_at (keep in step with geo/models.py CHANGE_TRACKED)."""


def upgrade() -> None:
    for table in CHANGE_TRACKED:
        op.execute(f"CREATE INDEX IF NOT EXISTS ix_{table}_updated_at ON {table} (updated_at)")
    op.execute("CREATE INDEX IF NOT EXISTS ix_risk_assessment_computed_at ON risk_assessment (computed_at)")
    op.execute("ALTER TABLE risk_rules_version ADD COLUMN IF NOT EXISTS last_run_at timestamptz")


def downgrade() -> None:
    op.execute("ALTER TABLE risk_rules_version DROP COLUMN IF EXISTS last_run_at")
    op.execute("DROP INDEX IF EXISTS ix_risk_assessment_computed_at")
    for table in CHANGE_TRACKED:
        op.execute(f"DROP INDEX IF EXISTS ix_{table}_updated_at")
