"""The field app (issue #15): one answer per record a phone sends, and a stop's arrival and completion.

`field_submission` keeps, per client-generated id (a UUID made on the phone when the record is made), who sent it,
what kind of record it was and the server's answer: the object created (kind, id, register code) or the Chinese
refusal with its HTTP status. A record sent twice — the phone lost the answer and its queue replays it — is stored
once, and the second request gets the first answer again. Each user reads and writes only its own rows.

`plan_stop.arrived_at` / `completed_at`: 已到达 and 已完成 as tapped on the phone (北京时间 timestamps).

Grants (geo/access/roles.py): an inspector may now also insert a 占压点 found in the field (status 发现) inside its
townships, with its creation event.

Revision ID: 0015_field
Revises: 0014_attachments
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0015_field"
down_revision = "0014_attachments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from geo.access.roles import ensure_roles

    op.create_table(
        "field_submission",
        sa.Column("client_id", postgresql.UUID(as_uuid=False), primary_key=True),
        sa.Column("login", sa.String(50), nullable=False, index=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("object_kind", sa.String(32), nullable=True),
        sa.Column("object_id", sa.Integer(), nullable=True),
        sa.Column("object_code", sa.String(40), nullable=True),
        sa.Column("result", postgresql.JSONB(), nullable=False, server_default="{}"),
        sa.Column("refusal_code", sa.String(40), nullable=True),
        sa.Column("refusal", sa.Text(), nullable=True),
        sa.CheckConstraint("(status < 300) = (refusal IS NULL)", name="ck_field_submission_answer"),
    )
    op.add_column("plan_stop", sa.Column("arrived_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("plan_stop", sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True))
    ensure_roles(op.get_bind())


def downgrade() -> None:
    from geo.access.roles import ensure_roles

    op.drop_column("plan_stop", "completed_at")
    op.drop_column("plan_stop", "arrived_at")
    op.drop_table("field_submission")
    ensure_roles(op.get_bind())
