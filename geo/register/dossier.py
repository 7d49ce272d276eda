"""Dossiers (一点一档 / 一企一档): everything kept about one encroachment, hazard or enterprise, monthly progress
entries and attachments.

Progress entries are events of the register (register_event), so they share its history, its row-level security
(an object outside the caller's townships has none to read or add) and its audit. Attachments are rows of the
`attachment` table (geo/attachments.py: bytes in PostgreSQL, township scope, audit, backup). Files uploaded before
that table existed stay readable: they are register events whose bytes lie under the settings' home folder, named
by their SHA-256 only (`legacy_attachments`, `read_attachment`); `add_attachment` now stores into the table.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from geo.attachments import CONTENT_TYPES, AttachmentMeta, list_attachments, may_attach, store_attachment
from geo.config import get_settings
from geo.errors import InvalidInput, NotFound
from geo.register.core import get_lifecycle, history, record_event

ATTACHMENT_TYPES = CONTENT_TYPES
"""Accepted attachment types (geo.attachments.CONTENT_TYPES); read from the file's first bytes."""
_MONTH = re.compile(r"^(20[0-9]{2})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Attachment:
    """One stored attachment of a dossier."""

    event_id: int
    name: str
    content_type: str
    size: int
    sha256: str
    by: str
    at: dt.datetime


# --- reading dossiers -----------------------------------------------------------------------------------------

ENCROACHMENT_SQL = """
    SELECT e.id, e.code, e.kind, e.nature, e.status, e.description, e.formed_on, e.found_on, e.measure,
           e.deadline, e.responsible_operator, e.closed_on, e.closed_by, e.dossier, e.source, e.version,
           p.code AS pipeline_code, p.name AS pipeline_name, p.medium AS pipeline_medium,
           t.code AS township_code, t.name AS township_name,
           ST_AsGeoJSON(e.geom, 6) AS geom,
           ST_AsGeoJSON(ST_Simplify(p.geom, 0.0001), 6) AS pipeline_geom,
           ST_AsGeoJSON(ST_Simplify(t.geom, 0.0005), 5) AS township_geom
    FROM encroachment e
    LEFT JOIN pipeline p ON p.id = e.pipeline_id
    LEFT JOIN township t ON t.id = e.township_id
    WHERE e.code = :code
"""

HAZARD_SQL = """
    SELECT h.id, h.code, h.level, h.status, h.description, h.found_on, h.deadline, h.rectified_on, h.closed_on,
           h.closed_by, h.supervising_department, h.source, h.version,
           en.id AS enterprise_id, en.name AS enterprise_name, en.uscc AS enterprise_uscc, en.address,
           t.code AS township_code, t.name AS township_name, ST_AsGeoJSON(en.geom, 6) AS geom,
           ST_AsGeoJSON(ST_Simplify(t.geom, 0.0005), 5) AS township_geom
    FROM hazard h
    JOIN enterprise en ON en.id = h.enterprise_id
    LEFT JOIN township t ON t.id = en.township_id
    WHERE h.code = :code
"""


def _geo(value: str | None) -> Any:
    return json.loads(value) if value else None


def register_dossier(conn: Connection, kind: str, code: str) -> dict[str, Any]:
    """One encroachment or hazard with its history, monthly progress entries and attachments (NotFound outside
    the caller's scope, as for a code that does not exist)."""
    lc = get_lifecycle(kind)
    row = conn.execute(text(ENCROACHMENT_SQL if kind == "encroachment" else HAZARD_SQL), {"code": code}).first()
    if row is None:
        raise NotFound(f"没有编号为 {code} 的{lc.label}，或不在你的辖区内")
    item = dict(row._mapping)
    for key in ("geom", "pipeline_geom", "township_geom"):
        item[key] = _geo(item.get(key))
    item["events"] = history(conn, kind, code)
    item["progress"] = progress_entries(conn, kind, int(item["id"]))
    item["attachments"] = list_attachments(conn, kind, int(item["id"]))
    stored = {a.sha256 for a in item["attachments"]}
    item["legacy_attachments"] = [a for a in attachments(conn, kind, int(item["id"])) if a.sha256 not in stored]
    item["may_attach"] = may_attach(conn, kind, int(item["id"]))
    order = list(lc.statuses)
    item["next_statuses"] = sorted((b for a, b in lc.transitions if a == item["status"]), key=order.index)
    return item


def _events_with(conn: Connection, kind: str, object_id: int, key: str) -> list[Any]:
    return list(conn.execute(text(
        "SELECT id, changed_by, changed_at, note, changes -> :key AS payload FROM register_event "
        "WHERE object_kind = :k AND object_id = :i AND changes ? :key ORDER BY id"),
        {"k": kind, "i": object_id, "key": key}))


def progress_entries(conn: Connection, kind: str, object_id: int) -> list[dict[str, Any]]:
    """The monthly progress entries (月度整改进展) of one object, month by month."""
    rows = _events_with(conn, kind, object_id, "progress")
    return sorted(({"month": r.payload.get("month"), "text": r.note, "by": r.changed_by, "at": r.changed_at}
                   for r in rows), key=lambda e: (e["month"] or "", e["at"]))


def attachments(conn: Connection, kind: str, object_id: int) -> list[Attachment]:
    """Files uploaded to one object before the attachment table (register events, bytes on disk), oldest first."""
    return [Attachment(event_id=int(r.id), name=r.payload["name"], content_type=r.payload["type"],
                       size=int(r.payload["size"]), sha256=r.payload["sha256"], by=r.changed_by, at=r.changed_at)
            for r in _events_with(conn, kind, object_id, "attachment")]


def _object(conn: Connection, kind: str, code: str) -> tuple[int, str]:
    lc = get_lifecycle(kind)
    row = conn.execute(text(f"SELECT id, status FROM {lc.table} WHERE code = :c"), {"c": code}).first()
    if row is None:
        raise NotFound(f"没有编号为 {code} 的{lc.label}，或不在你的辖区内")
    return int(row.id), str(row.status)


# --- writing: progress and attachments ---------------------------------------------------------------------------

def add_progress(conn: Connection, kind: str, code: str, *, month: str, entry: str, by: str) -> None:
    """Keep one monthly progress entry (整改进展, month YYYY-MM) in the object's history."""
    if not _MONTH.match(month or ""):
        raise InvalidInput("字段 month（月份）应为 YYYY-MM，例如 2026-12")
    if not entry or not entry.strip():
        raise InvalidInput("字段 entry（进展情况）不能为空")
    object_id, status = _object(conn, kind, code)
    record_event(conn, kind, object_id, by=by, from_status=status, to_status=status, note=entry.strip(),
                 changes={"progress": {"month": month}})


def attachment_dir() -> Path:
    return get_settings().home / "attachments"


def add_attachment(conn: Connection, kind: str, code: str, *, name: str, data: bytes, by: str,
                   declared_type: str | None = None) -> AttachmentMeta:
    """Store an uploaded file for an encroachment or hazard (by its code) in the attachment table: size limited,
    type recognised from its content (geo.attachments.store_attachment)."""
    object_id, _ = _object(conn, kind, code)
    return store_attachment(conn, owner_kind=kind, owner_id=object_id, filename=name, content_type=declared_type or "",
                            data=data, by=by)


def read_attachment(conn: Connection, kind: str, code: str, event_id: int) -> tuple[Attachment, Path]:
    """A file uploaded before the attachment table (in the caller's scope) and the path of its bytes."""
    object_id, _ = _object(conn, kind, code)
    found = next((a for a in attachments(conn, kind, object_id) if a.event_id == event_id), None)
    if found is None or not re.fullmatch(r"[0-9a-f]{64}", found.sha256):
        raise NotFound(f"{code} 没有这个附件")
    path = attachment_dir() / found.sha256[:2] / found.sha256
    if not path.is_file():
        raise NotFound(f"附件 {found.name} 的文件已不在存储目录中")
    return found, path


# --- the enterprise dossier (一企一档) ---------------------------------------------------------------------------

ENTERPRISE_SQL = """
    SELECT en.id, en.uscc, en.name, en.category, en.address, en.employees, en.key_process, en.key_chemical,
           en.major_hazard_source, en.standardisation_grade, en.in_chemical_park, en.source,
           t.code AS township_code, t.name AS township_name, ST_AsGeoJSON(en.geom, 6) AS geom,
           ST_AsGeoJSON(ST_Simplify(t.geom, 0.0005), 5) AS township_geom
    FROM enterprise en LEFT JOIN township t ON t.id = en.township_id
    WHERE en.id = :id
"""


def enterprise_dossier(conn: Connection, enterprise_id: int) -> dict[str, Any]:
    """An enterprise with its inventory, hazards, inspections, accidents and current risk (NotFound outside scope)."""
    row = conn.execute(text(ENTERPRISE_SQL), {"id": enterprise_id}).first()
    if row is None:
        raise NotFound(f"没有编号为 {enterprise_id} 的企业，或不在你的辖区内")
    out = dict(row._mapping)
    out["geom"], out["township_geom"] = _geo(out["geom"]), _geo(out["township_geom"])
    p = {"id": enterprise_id}
    out["inventory"] = [dict(r._mapping) for r in conn.execute(text(
        "SELECT substance, cas, max_quantity_t, hazard_class, unit_name FROM chemical_inventory "
        "WHERE enterprise_id = :id ORDER BY unit_name NULLS LAST, substance"), p)]
    out["hazards"] = [dict(r._mapping) for r in conn.execute(text(
        "SELECT code, level, status, description, found_on, deadline, closed_on FROM hazard "
        "WHERE enterprise_id = :id ORDER BY found_on DESC, code DESC LIMIT 200"), p)]
    out["hazard_count"] = conn.execute(text("SELECT count(*) FROM hazard WHERE enterprise_id = :id"), p).scalar_one()
    out["inspections"] = [dict(r._mapping) for r in conn.execute(text(
        "SELECT inspected_on, team, result FROM inspection WHERE enterprise_id = :id "
        "ORDER BY inspected_on DESC LIMIT 100"), p)]
    out["attachments"] = list_attachments(conn, "enterprise", enterprise_id)
    out["may_attach"] = may_attach(conn, "enterprise", enterprise_id)
    out["accidents"] = [dict(r._mapping) for r in conn.execute(text(
        "SELECT occurred_on, deaths, serious_injuries, direct_loss_10k_yuan, description FROM accident "
        "WHERE enterprise_id = :id ORDER BY occurred_on DESC"), p)]
    return out
