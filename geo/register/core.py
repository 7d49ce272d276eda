"""One register mechanism for the encroachment register and the hazard ledger: life-cycle, history, reports.

Each object kind's life-cycle is data (lifecycles.toml); the code below moves any kind's objects
through it, keeps every change in register_event and counts found / rectified / overdue per township
or pipeline from the register_item view.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from geo.errors import Conflict, InvalidInput, NotFound, RiskmapError
from geo.models import max_length
from geo.timefmt import today as local_today

LIFECYCLES_FILE = Path(__file__).with_name("lifecycles.toml")
PERSON_MAX = max_length("hazard", "closed_by")
"""Longest name of a handling or verifying person (closed_by, and register_event.changed_by of migration 0003)."""
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


class InvalidTransition(RiskmapError):
    """A status change the life-cycle does not allow."""

    code = "invalid_transition"


class VerifierRequired(RiskmapError):
    """Closing (销号) without naming who verified the rectification."""

    code = "verifier_required"


@dataclass(frozen=True)
class Lifecycle:
    """The life-cycle of one object kind, as read from lifecycles.toml."""

    kind: str
    table: str
    label: str
    code_prefix: str
    initial: str
    statuses: dict[str, str]
    transitions: frozenset[tuple[str, str]]
    done: frozenset[str]
    closing: str
    stamps: dict[str, str]
    editable: frozenset[str]

    def status_label(self, status: str | None) -> str:
        return self.statuses.get(status or "", status or "—")

    def resolve_status(self, status: str) -> str:
        """The status code for a code or its Chinese label ('closed' or '销号')."""
        if status in self.statuses:
            return status
        for code, label in self.statuses.items():
            if label == status:
                return code
        known = "、".join(f"{label}（{code}）" for code, label in self.statuses.items())
        raise InvalidInput(f"{self.label}没有“{status}”这一状态；可用状态：{known}")


@dataclass(frozen=True)
class Event:
    """One kept change of a register object (status move or field edit)."""

    object_kind: str
    object_id: int
    from_status: str | None
    to_status: str | None
    changed_by: str
    changed_at: dt.datetime
    note: str | None
    changes: dict[str, Any]


@dataclass(frozen=True)
class ReportRow:
    """Counts of one group (township or pipeline), optionally of one category (hazard level / kind)."""

    group_code: str | None
    group_name: str
    category: str | None
    found: int
    rectified: int
    rectification_rate: float | None
    overdue: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@lru_cache
def load_lifecycles(path: Path = LIFECYCLES_FILE) -> dict[str, Lifecycle]:
    """Every kind's life-cycle from the data file; table and column names are checked to be plain identifiers."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    out: dict[str, Lifecycle] = {}
    for kind, spec in raw.items():
        names = [spec["table"], *spec["stamps"].values(), *spec["editable"]]
        if not all(_IDENTIFIER.match(n) for n in names):
            raise ValueError(f"lifecycles.toml: bad identifier in {kind}")
        out[kind] = Lifecycle(
            kind=kind, table=spec["table"], label=spec["label"], code_prefix=spec["code_prefix"],
            initial=spec["initial"], statuses=dict(spec["statuses"]),
            transitions=frozenset((a, b) for a, b in spec["transitions"]), done=frozenset(spec["done"]),
            closing=spec["closing"], stamps=dict(spec["stamps"]), editable=frozenset(spec["editable"]),
        )
    return out


def get_lifecycle(kind: str) -> Lifecycle:
    """The life-cycle of `kind` ('encroachment' or 'hazard')."""
    try:
        return load_lifecycles()[kind]
    except KeyError:
        raise InvalidInput(f"未知的台账类型：{kind}") from None


def next_code(conn: Connection, kind: str, *, on: dt.date) -> str:
    """Next free register code for the year, e.g. ZY-2026-0007 (prefix from the life-cycle)."""
    lc = get_lifecycle(kind)
    prefix = f"{lc.code_prefix}-{on.year}-"
    # County-wide numbering even for a caller who sees one township's rows (migration 0006).
    number = conn.execute(text("SELECT riskmap_next_code(:t, :p)"), {"t": lc.table, "p": prefix}).scalar_one()
    return f"{prefix}{number:04d}"


def record_event(
    conn: Connection,
    kind: str,
    object_id: int,
    *,
    by: str,
    from_status: str | None = None,
    to_status: str | None = None,
    note: str | None = None,
    changes: dict[str, Any] | None = None,
) -> None:
    """Keep one change of a register object in register_event."""
    if not by or not by.strip():
        raise InvalidInput("请填写经办人（--by）")
    if len(by.strip()) > PERSON_MAX:
        raise InvalidInput(f"字段 by（经办人）不超过 {PERSON_MAX} 个字符")
    conn.execute(
        text(
            "INSERT INTO register_event (object_kind, object_id, from_status, to_status, changed_by, note, changes) "
            "VALUES (:kind, :id, :f, :t, :by, :note, CAST(:changes AS jsonb))"
        ),
        {"kind": kind, "id": object_id, "f": from_status, "t": to_status, "by": by.strip(), "note": note,
         "changes": json.dumps(changes or {}, ensure_ascii=False, default=str)},
    )


def record_created(conn: Connection, kind: str, object_id: int, *, by: str, note: str | None = None) -> None:
    """Keep the creation of a register object (no status → its initial status)."""
    record_event(conn, kind, object_id, by=by, to_status=get_lifecycle(kind).initial, note=note)


def _locked(conn: Connection, lc: Lifecycle, code: str, version: int | None = None) -> tuple[int, str]:
    """Lock one object; with `version`, refuse (Conflict, 409) when someone changed it since the caller read it."""
    row = conn.execute(text(f"SELECT id, status, version FROM {lc.table} WHERE code = :c FOR UPDATE"),
                       {"c": code}).first()
    if row is None:
        raise NotFound(f"没有编号为 {code} 的{lc.label}")
    if version is not None and int(row.version) != version:
        raise Conflict(f"{lc.label} {code} 已被他人修改（当前为“{lc.status_label(row.status)}”，第 {row.version} 版；"
                       f"你依据的是第 {version} 版），已为你载入最新状态，请核对后再操作")
    return int(row.id), str(row.status)


def change_status(
    conn: Connection,
    kind: str,
    code: str,
    to_status: str,
    *,
    by: str,
    verified_by: str | None = None,
    note: str | None = None,
    on: dt.date | None = None,
    version: int | None = None,
) -> Event:
    """Move one object along its life-cycle; refuses moves the life-cycle lacks and closing without a verifier,
    and (given the `version` the caller read) a change based on a stale reading."""
    lc = get_lifecycle(kind)
    target = lc.resolve_status(to_status)
    object_id, current = _locked(conn, lc, code, version)
    if (current, target) not in lc.transitions:
        allowed = "、".join(lc.status_label(b) for a, b in sorted(lc.transitions) if a == current) or "无"
        raise InvalidTransition(
            f"{lc.label} {code} 当前为“{lc.status_label(current)}”，不能改为“{lc.status_label(target)}”；"
            f"可改为：{allowed}"
        )
    if target == lc.closing and not (verified_by and verified_by.strip()):
        raise VerifierRequired(f"{lc.label} {code} 销号须写明核查人（--verified-by）")
    if verified_by and len(verified_by.strip()) > PERSON_MAX:
        raise InvalidInput(f"字段 verified_by（核查人）不超过 {PERSON_MAX} 个字符")
    day = on or local_today()
    sets = {"status": target}
    if target in lc.stamps:
        sets[lc.stamps[target]] = day
    if target == lc.closing:
        sets["closed_by"] = (verified_by or "").strip()
    assignments = ", ".join(f"{col} = :{col}" for col in sets)
    conn.execute(text(f"UPDATE {lc.table} SET {assignments} WHERE id = :id"), {**sets, "id": object_id})
    changes = {k: v for k, v in sets.items() if k != "status"}
    record_event(conn, kind, object_id, by=by, from_status=current, to_status=target, note=note, changes=changes)
    return history(conn, kind, code)[-1]


def update_fields(conn: Connection, kind: str, code: str, *, by: str, note: str | None = None,
                  version: int | None = None, **fields: Any) -> dict[str, Any]:
    """Change dossier fields of one object; keeps old and new values of what really changed (refused as Conflict
    when `version` is given and stale)."""
    lc = get_lifecycle(kind)
    bad = sorted(set(fields) - lc.editable)
    if bad:
        raise InvalidInput(f"{lc.label}的这些字段不能修改：{'、'.join(bad)}")
    object_id, status = _locked(conn, lc, code, version)
    if not fields:
        return {}
    cols = ", ".join(fields)
    old = conn.execute(text(f"SELECT {cols} FROM {lc.table} WHERE id = :id"), {"id": object_id}).one()._mapping
    changed = {k: {"old": old[k], "new": v} for k, v in fields.items() if old[k] != v}
    if not changed:
        return {}
    params = {k: (json.dumps(v, ensure_ascii=False) if k == "dossier" else v) for k, v in fields.items()}
    assignments = ", ".join(f"{k} = CAST(:{k} AS jsonb)" if k == "dossier" else f"{k} = :{k}" for k in fields)
    conn.execute(text(f"UPDATE {lc.table} SET {assignments} WHERE id = :id"), {**params, "id": object_id})
    record_event(conn, kind, object_id, by=by, from_status=status, to_status=status, note=note, changes=changed)
    return changed


def history(conn: Connection, kind: str, code: str) -> list[Event]:
    """Every kept change of one object, oldest first."""
    lc = get_lifecycle(kind)
    object_id = conn.execute(text(f"SELECT id FROM {lc.table} WHERE code = :c"), {"c": code}).scalar()
    if object_id is None:
        raise NotFound(f"没有编号为 {code} 的{lc.label}")
    rows = conn.execute(
        text(
            "SELECT object_kind, object_id, from_status, to_status, changed_by, changed_at, note, changes "
            "FROM register_event WHERE object_kind = :k AND object_id = :id ORDER BY id"
        ),
        {"k": kind, "id": object_id},
    )
    return [Event(**r._mapping) for r in rows]


_GROUPS = {
    "township": ("township", "i.township_id", "未落实乡镇"),
    "pipeline": ("pipeline", "i.pipeline_id", "未关联管道"),
}
"""Report dimensions: joined table, item column, label of items without one."""

_SUMMARY_SQL = """
    SELECT g.code AS group_code, COALESCE(g.name, :none_label) AS group_name,
           CASE WHEN :split THEN i.category END AS category,
           count(*) AS found,
           count(*) FILTER (WHERE i.status = ANY(:done)) AS rectified,
           count(*) FILTER (WHERE i.deadline < :today AND NOT i.status = ANY(:done)) AS overdue
    FROM register_item i
    LEFT JOIN {table} g ON g.id = {column}
    WHERE i.object_kind = :kind
    GROUP BY 1, 2, 3
    ORDER BY 1 NULLS LAST, 3
"""


def summarise(conn: Connection, kind: str, *, by: str = "township", split: bool = False,
              today: dt.date | None = None) -> list[ReportRow]:
    """Found, rectified, rectification rate and overdue per township or pipeline (and category when split)."""
    lc = get_lifecycle(kind)
    if by not in _GROUPS:
        raise InvalidInput(f"统计维度只能是 township（乡镇）或 pipeline（管道），不是 {by}")
    table, column, none_label = _GROUPS[by]
    rows = conn.execute(
        text(_SUMMARY_SQL.format(table=table, column=column)),
        {"kind": kind, "done": sorted(lc.done), "today": today or local_today(), "split": split,
         "none_label": none_label},
    )
    return [
        ReportRow(group_code=r.group_code, group_name=r.group_name, category=r.category, found=r.found,
                  rectified=r.rectified, rectification_rate=(r.rectified / r.found) if r.found else None,
                  overdue=r.overdue)
        for r in rows
    ]


def total_row(rows: list[ReportRow], *, category: str | None = None) -> ReportRow:
    """The 合计 row of a report (of one category when given)."""
    chosen = [r for r in rows if category is None or r.category == category]
    found = sum(r.found for r in chosen)
    rectified = sum(r.rectified for r in chosen)
    return ReportRow(group_code=None, group_name="合计", category=category, found=found, rectified=rectified,
                     rectification_rate=(rectified / found) if found else None,
                     overdue=sum(r.overdue for r in chosen))


_ITEMS_SQL = """
    SELECT i.object_id, i.code, i.status, i.deadline, i.category, i.found_on, i.closed_on, i.closed_by,
           i.supervising_department, t.code AS township_code, t.name AS township_name,
           (i.deadline < :today AND NOT i.status = ANY(:done)) IS TRUE AS overdue
    FROM register_item i LEFT JOIN township t ON t.id = i.township_id
    WHERE i.object_kind = :kind
      AND (CAST(:status AS text) IS NULL OR i.status = :status)
      AND (NOT :only_overdue OR (i.deadline < :today AND NOT i.status = ANY(:done)))
    ORDER BY i.code
"""


def list_items(conn: Connection, kind: str, *, status: str | None = None, only_overdue: bool = False,
               today: dt.date | None = None) -> list[dict[str, Any]]:
    """Register objects of one kind with their overdue flag (deadline passed and not rectified)."""
    lc = get_lifecycle(kind)
    rows = conn.execute(
        text(_ITEMS_SQL),
        {"kind": kind, "status": lc.resolve_status(status) if status else None, "only_overdue": only_overdue,
         "today": today or local_today(), "done": sorted(lc.done)},
    )
    return [dict(r._mapping) for r in rows]
