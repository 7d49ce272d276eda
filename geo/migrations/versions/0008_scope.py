"""Scope and bounds: inspector writes decided by the database, compact audit geometry, scope leaks (security issue #11, findings 5, 10, 11).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
