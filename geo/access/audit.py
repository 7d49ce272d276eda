"""Reading the audit log: who changed what, when, with the row before and after (written by triggers).

Tables people edit are logged row by row; a geometry there is kept as its summary (type, SHA-256 of its EWKB,
bbox, vertex count — migration 0008). Derived tables (risk results, segments, candidates, plan routes, road
graph) are logged as one counted row per transaction, table and action (record_id empty, after = {"rows": n}).
Bulk operations (imports, the generator, the demo load, restores) are logged as one row per transaction, table and
action with after = {"bulk": {kind, source, sha256}, "rows": n, "ids": [[first, last], …]} (migration 0017).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import shape
from sqlalchemy import Connection, text

from geo.access.bulk import KIND_LABELS, describe_ids

ACTION_LABELS = {"insert": "新增", "update": "修改", "delete": "删除"}
TABLE_LABELS = {
    "app_user": "用户", "api_token": "API 令牌", "township": "乡镇", "village": "村/社区", "grid_cell": "网格",
    "enterprise": "企业", "chemical_inventory": "危化品储量", "hazard": "隐患", "accident": "事故",
    "inspection": "执法检查", "pipeline": "管道", "pipeline_facility": "管道附属设施", "encroachment": "占压点",
    "building": "建筑", "road": "道路", "mine": "矿山", "mine_zone": "矿产规划分区", "county": "县界",
}
"""Chinese names of the audited tables people edit (the audit page's table filter)."""
FIELD_LABELS = {
    "id": "编号", "username": "用户名", "display_name": "姓名", "role": "角色", "township_codes": "所辖乡镇",
    "teams": "巡查组", "disabled": "停用", "password_hash": "密码（散列，不显示）", "password_changed_at": "改密时间",
    "geom": "几何", "township_id": "所属乡镇（内部编号）", "enterprise_id": "企业（内部编号）",
    "pipeline_id": "管道（内部编号）", "source": "数据来源", "revoked_at": "吊销时间", "expires_at": "到期时间",
    "name": "名称", "user_id": "用户（内部编号）",
}


def field_label(table: str, name: str) -> str:
    """The Chinese name of a logged column: the import layer's header for it, else a common one, else the column."""
    from geo.io.layers import LAYERS

    layer = LAYERS.get(table)
    if layer is not None and name != "name":
        found = next((f.header for f in layer.fields if f.name == name), None)
        if found:
            return found
    return FIELD_LABELS.get(name, name)
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
    def rows(self) -> int | None:
        """How many rows a counted entry (derived tables) stands for; None for a row-by-row entry."""
        if self.record_id is None and self.after and "rows" in self.after:
            return int(self.after["rows"])
        return None

    @property
    def bulk(self) -> dict[str, Any] | None:
        """The bulk operation (kind, source, sha256) a bulk entry stands for; None otherwise."""
        found = self.after.get("bulk") if self.record_id is None and self.after else None
        return found if isinstance(found, dict) else None

    @property
    def ids(self) -> list[Any]:
        """A bulk entry's affected ids: closed ranges [first, last] (or key values)."""
        return list((self.after or {}).get("ids") or []) if self.bulk else []

    @property
    def changed(self) -> list[str]:
        """Fields whose value differs between before and after (all fields for inserts and deletes)."""
        if self.bulk is not None:
            return []
        b, a = self.before or {}, self.after or {}
        return sorted(k for k in set(b) | set(a) if k not in _HIDDEN and b.get(k) != a.get(k))

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "at": self.at.isoformat(), "actor": self.actor, "actor_role": self.actor_role,
                "action": self.action, "action_label": ACTION_LABELS.get(self.action, self.action),
                "table": self.table_name, "record_id": self.record_id, "rows": self.rows, "changed": self.changed,
                "bulk": self.bulk, "summary": summary(self),
                "before": _compact(self.before), "after": _compact(self.after)}


def entries(conn: Connection, *, table: str | None = None, record_id: str | None = None, actor: str | None = None,
            since: dt.datetime | None = None, until: dt.datetime | None = None, limit: int = 100,
            offset: int = 0) -> list[AuditEntry]:
    """Newest first, filtered by table, record, actor and time."""
    rows = conn.execute(text(
        "SELECT id, at, actor, actor_role, action, table_name, record_id, before, after FROM audit_log "
        "WHERE (CAST(:t AS text) IS NULL OR table_name = :t) "
        "AND (CAST(:r AS text) IS NULL OR record_id = :r "
        "     OR (record_id IS NULL AND after ? 'bulk' AND riskmap_audit_covers(after, :r))) "
        "AND (CAST(:a AS text) IS NULL OR actor = :a) "
        "AND (CAST(:s AS timestamptz) IS NULL OR at >= :s) AND (CAST(:u AS timestamptz) IS NULL OR at < :u) "
        "ORDER BY id DESC LIMIT :l OFFSET :o"),
        {"t": table, "r": record_id, "a": actor, "s": since, "u": until, "l": limit, "o": offset})
    return [AuditEntry(**r._mapping) for r in rows]


def page(conn: Connection, *, limit: int, offset: int = 0, max_bytes: int,
         **filters: Any) -> tuple[list[dict[str, Any]], int | None]:
    """Entries as dicts, newest first, stopping before the answer would pass `max_bytes` of JSON (at least one);
    returns them and the offset of the next page (None when there is none)."""
    found = entries(conn, limit=limit + 1, offset=offset, **filters)
    out: list[dict[str, Any]] = []
    size = 0
    for entry in found[:limit]:
        item = entry.as_dict()
        size += len(json.dumps(item, ensure_ascii=False, default=str).encode())
        if out and size > max_bytes:
            return out, offset + len(out)
        out.append(item)
    return out, (offset + limit if len(found) > limit else None)


def _is_geojson(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("type"), str) and (
        "coordinates" in value or "geometries" in value)


def _compact(row: dict[str, Any] | None) -> dict[str, Any] | None:
    """A row logged before migration 0008 carries whole geometries (GeoJSON): give their summary instead,
    as the trigger now does (the hash is of the GeoJSON text here, as the EWKB is not kept)."""
    if not row or not any(_is_geojson(v) for v in row.values()):
        return row
    return {k: _summary(v) if _is_geojson(v) else v for k, v in row.items()}


def _summary(geojson: dict[str, Any]) -> dict[str, Any]:
    digest = hashlib.sha256(json.dumps(geojson, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    try:
        geom = shape(geojson)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, shapely.errors.ShapelyError):
        return {"type": geojson["type"], "sha256": digest, "bbox": None, "points": None}
    return {"type": geojson["type"], "sha256": digest, "bbox": None if geom.is_empty else list(geom.bounds),
            "points": int(shapely.get_num_coordinates(geom))}


def summary(entry: AuditEntry) -> str:
    """What the entry did, in Chinese, without time and actor (e.g. 导入 buildings.gpkg → building 新增 20000 行)."""
    act = ACTION_LABELS.get(entry.action, entry.action)
    bulk = entry.bulk
    if bulk is not None:
        kind = KIND_LABELS.get(str(bulk.get("kind")), str(bulk.get("kind")))
        digest = str(bulk.get("sha256") or "")[:12]
        return (f"批量{kind} {bulk.get('source', '')} → {entry.table_name} {act} {entry.rows} 行"
                f"（编号 {describe_ids(entry.ids)}；内容 SHA-256 {digest}…）")
    if entry.rows is not None:
        return f"批量{act} {entry.table_name} {entry.rows} 行"
    fields = "、".join(entry.changed[:8]) + ("…" if len(entry.changed) > 8 else "")
    return f"{act} {entry.table_name}#{entry.record_id}  {fields}"


def describe(entry: AuditEntry) -> str:
    """One Chinese line for the CLI."""
    if entry.bulk is not None:
        return f"{entry.at:%Y-%m-%d %H:%M:%S}  {entry.actor:<16} {summary(entry)}"
    fields = "、".join(entry.changed[:8]) + ("…" if len(entry.changed) > 8 else "")
    if entry.rows is not None:
        return (f"{entry.at:%Y-%m-%d %H:%M:%S}  {entry.actor:<16} 批量{ACTION_LABELS.get(entry.action, entry.action)} "
                f"{entry.table_name}  {entry.rows} 行")
    return (f"{entry.at:%Y-%m-%d %H:%M:%S}  {entry.actor:<16} {ACTION_LABELS.get(entry.action, entry.action)} "
            f"{entry.table_name}#{entry.record_id}  {fields}")
