"""Alembic environment: runs against the connection riskmap hands it (see geo.migrate)."""

from __future__ import annotations

from alembic import context
from geoalchemy2 import alembic_helpers

from geo.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through geo.migrate (riskmap db upgrade)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    include_object=alembic_helpers.include_object,
    process_revision_directives=alembic_helpers.writer,
    render_item=alembic_helpers.render_item,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
