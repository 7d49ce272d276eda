"""Reading the audit log: who changed what, when, with the row before and after (written by triggers)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

ACTION_LABELS = {"insert": "新增", "update": "修改", "delete": "删除"}
_HIDDEN = {"updated_at", "version", "created_at"}


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: dt.datetime
    actor: str
    actor_role: str | None
    action: str
    table_name: str
    record_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    @property
    def changed(self) -> list[str]:
        """Fields whose value differs between before and after (all fields for inserts and deletes)."""
        b, a = self.before or {}, self.after or {}
        return sorted(k for k in set(b) | set(a) if k not in _HIDDEN and b.get(k) != a.get(k))

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "at": self.at.isoformat(), "actor": self.actor, "actor_role": self.actor_role,
                "action": self.action, "action_label": ACTION_LABELS[self.action], "table": self.table_name,
                "record_id": self.record_id, "changed": self.changed, "before": self.before, "after": self.after}


def entries(conn: Connection, *, table: str | None = None, record_id: str | None = None, actor: str | None = None,
            since: dt.datetime | None = None, until: dt.datetime | None = None, limit: int = 100,
            offset: int = 0) -> list[AuditEntry]:
    """Newest first, filtered by table, record, actor and time."""
    rows = conn.execute(text(
        "SELECT id, at, actor, actor_role, action, table_name, record_id, before, after FROM audit_log "
        "WHERE (CAST(:t AS text) IS NULL OR table_name = :t) AND (CAST(:r AS text) IS NULL OR record_id = :r) "
        "AND (CAST(:a AS text) IS NULL OR actor = :a) "
        "AND (CAST(:s AS timestamptz) IS NULL OR at >= :s) AND (CAST(:u AS timestamptz) IS NULL OR at < :u) "
        "ORDER BY id DESC LIMIT :l OFFSET :o"),
        {"t": table, "r": record_id, "a": actor, "s": since, "u": until, "l": limit, "o": offset})
    return [AuditEntry(**r._mapping) for r in rows]


def describe(entry: AuditEntry) -> str:
    """One Chinese line for the CLI."""
    fields = "、".join(entry.changed[:8]) + ("…" if len(entry.changed) > 8 else "")
    return (f"{entry.at:%Y-%m-%d %H:%M:%S}  {entry.actor:<16} {ACTION_LABELS[entry.action]} "
            f"{entry.table_name}#{entry.record_id}  {fields}")
