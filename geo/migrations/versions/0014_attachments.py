"""Attachments (issue 15): photos and documents of hazards, encroachments, inspections, enterprises and plan stops,
kept in PostgreSQL so township scope, the audit log and `riskmap backup`/`restore` cover them.

- `attachment` holds the bytes (bytea), their SHA-256, a JPEG thumbnail, and what the photo's EXIF says (time,
  GPS position, the tags as read); `client_id` makes a phone's replayed upload land once.
- `township_id` is derived from the owner on insert (a SECURITY DEFINER trigger, so it is found whatever the
  writer may see; an owner that does not exist is refused) and row-level security reads it like the other
  township tables (geo/access/roles.py).
- An inspector inserts attachments only for what it may write: its teams' stops and their enterprises, the
  hazards and inspections of those enterprises, and records it inserted itself (the audit log says who).
- Files uploaded to dossiers before (register events naming a SHA-256, bytes under `home`/attachments) are copied
  in (geo.attachments.adopt_legacy_files); the events and files stay as they were.
- The audit trigger now logs a bytea column as its length, never its content (the 10 MB photo stays out of
  audit_log); attachment rows are audited like every edited table.

Revision ID: 0014_attachments
Revises: 0013
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from alembic import op

revision = "0014_attachments"
down_revision = "0013"
branch_labels = None
depends_on = None

OWNER_KINDS = ("hazard", "encroachment", "inspection", "enterprise", "plan_stop")
"""Keep in step with geo/attachments.py OWNER_KINDS."""

TABLE = f"""
CREATE TABLE attachment (
    id bigserial PRIMARY KEY,
    owner_kind text NOT NULL CONSTRAINT ck_attachment_owner_kind CHECK (owner_kind IN
        ({", ".join(f"'{k}'" for k in OWNER_KINDS)})),
    owner_id bigint NOT NULL,
    township_id integer,
    filename text NOT NULL CONSTRAINT ck_attachment_filename CHECK (length(filename) BETWEEN 1 AND 200),
    content_type text NOT NULL,
    size_bytes bigint NOT NULL,
    sha256 text NOT NULL CONSTRAINT ck_attachment_sha256 CHECK (sha256 ~ '^[0-9a-f]{{64}}$'),
    data bytea NOT NULL,
    thumbnail bytea,
    taken_at timestamptz,
    position geometry(Point, 4490),
    exif jsonb,
    client_id uuid UNIQUE,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ck_attachment_size CHECK (size_bytes = octet_length(data))
)
"""

# Photos and PDFs are compressed already: keep them out of pglz's way (stored out of line, uncompressed).
STORAGE = ["ALTER TABLE attachment ALTER COLUMN data SET STORAGE EXTERNAL",
           "ALTER TABLE attachment ALTER COLUMN thumbnail SET STORAGE EXTERNAL"]

INDEXES = ["CREATE INDEX ix_attachment_owner ON attachment (owner_kind, owner_id, id)",
           "CREATE INDEX ix_attachment_township ON attachment (township_id)"]

OWNER_TRIGGER = """
CREATE OR REPLACE FUNCTION riskmap_attachment_owner() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp AS $$
DECLARE
    found boolean;
BEGIN
    CASE NEW.owner_kind
        WHEN 'enterprise' THEN
            SELECT true, e.township_id INTO found, NEW.township_id FROM enterprise e WHERE e.id = NEW.owner_id;
        WHEN 'hazard' THEN
            SELECT true, e.township_id INTO found, NEW.township_id
            FROM hazard h JOIN enterprise e ON e.id = h.enterprise_id WHERE h.id = NEW.owner_id;
        WHEN 'inspection' THEN
            SELECT true, e.township_id INTO found, NEW.township_id
            FROM inspection i JOIN enterprise e ON e.id = i.enterprise_id WHERE i.id = NEW.owner_id;
        WHEN 'plan_stop' THEN
            SELECT true, e.township_id INTO found, NEW.township_id
            FROM plan_stop s JOIN enterprise e ON e.id = s.enterprise_id WHERE s.id = NEW.owner_id;
        WHEN 'encroachment' THEN
            SELECT true, c.township_id INTO found, NEW.township_id FROM encroachment c WHERE c.id = NEW.owner_id;
        ELSE
            found := false;
    END CASE;
    IF found IS NOT TRUE THEN
        RAISE EXCEPTION 'attachment owner %/% does not exist', NEW.owner_kind, NEW.owner_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END;
$$
"""

# What an inspector may attach to, beyond its read scope (checked by the inspector_insert policy).
WRITABLE = """
CREATE OR REPLACE FUNCTION riskmap_attachment_writable(k text, rid bigint) RETURNS boolean LANGUAGE sql STABLE
SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT CASE k
        WHEN 'enterprise' THEN rid <= 2147483647 AND riskmap_team_stop(rid::integer)
        WHEN 'plan_stop' THEN EXISTS (SELECT 1 FROM plan_stop s JOIN plan_route r ON r.id = s.route_id
                                      WHERE s.id = rid AND r.team = ANY (riskmap_teams()))
        WHEN 'hazard' THEN coalesce(riskmap_team_stop((SELECT h.enterprise_id FROM hazard h WHERE h.id = rid)), false)
                           OR riskmap_inserted_by_me('hazard', rid)
        WHEN 'inspection' THEN coalesce(riskmap_team_stop((SELECT i.enterprise_id FROM inspection i WHERE i.id = rid)),
                                        false)
                               OR riskmap_inserted_by_me('inspection', rid)
        WHEN 'encroachment' THEN riskmap_inserted_by_me('encroachment', rid)
        ELSE false END
$$
"""

INSERTED_BY_ME = """
CREATE OR REPLACE FUNCTION riskmap_inserted_by_me(tbl text, rid bigint) RETURNS boolean LANGUAGE sql STABLE
SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT EXISTS (SELECT 1 FROM audit_log a
                   WHERE a.table_name = tbl AND a.record_id = rid::text AND a.action = 'insert'
                     AND a.actor = nullif(current_setting('riskmap.user', true), ''))
$$
"""
"""Whether the request's user inserted the row (the audit log keeps who inserted what)."""

_EVENTS = (("INSERT", "NEW TABLE AS new_rows"), ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
           ("DELETE", "OLD TABLE AS old_rows"))

_GEOM_COLUMN = ("CASE WHEN a.atttypid = 'geometry'::regtype\n"
                "                               THEN format('riskmap_geom_summary(r.%1$I) AS %1$I', a.attname)\n")
_BYTEA_COLUMN = ("CASE WHEN a.atttypid = 'bytea'::regtype\n"
                 "                               THEN format('octet_length(r.%1$I) AS %1$I', a.attname)\n"
                 "                               WHEN a.atttypid = 'geometry'::regtype\n"
                 "                               THEN format('riskmap_geom_summary(r.%1$I) AS %1$I', a.attname)\n")


def _migration_0013() -> ModuleType:
    spec = importlib.util.spec_from_file_location("riskmap_0013", Path(__file__).with_name("0013_bulk_audit.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def audit_without_bytes() -> str:
    """0013's audit trigger, with each bytea column logged as its length in bytes."""
    source = _migration_0013().AUDIT_WITH_BULK
    assert source.count(_GEOM_COLUMN) == 1, "riskmap_audit changed since 0013: re-derive the bytea branch"
    return source.replace(_GEOM_COLUMN, _BYTEA_COLUMN)


def upgrade() -> None:
    from geo.access.roles import ensure_roles

    op.execute(TABLE)
    for statement in (*STORAGE, *INDEXES, OWNER_TRIGGER, INSERTED_BY_ME, WRITABLE, audit_without_bytes()):
        op.execute(statement)
    op.execute("CREATE TRIGGER attachment_owner BEFORE INSERT OR UPDATE OF owner_kind, owner_id ON attachment "
               "FOR EACH ROW EXECUTE FUNCTION riskmap_attachment_owner()")
    for event, ref in _EVENTS:
        op.execute(f"CREATE TRIGGER attachment_audit_{event.lower()} AFTER {event} ON attachment "
                   f"REFERENCING {ref} FOR EACH STATEMENT EXECUTE FUNCTION riskmap_audit('id')")
    ensure_roles(op.get_bind())
    # files uploaded to dossiers before this table (bytes under home/attachments) move in, so backups hold them
    from geo.attachments import adopt_legacy_files
    from geo.config import get_settings

    adopt_legacy_files(op.get_bind(), get_settings().home / "attachments")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS attachment")
    op.execute(_migration_0013().AUDIT_WITH_BULK)
    for fn in ("riskmap_attachment_writable(text, bigint)", "riskmap_inserted_by_me(text, bigint)",
               "riskmap_attachment_owner()"):
        op.execute(f"DROP FUNCTION IF EXISTS {fn}")
