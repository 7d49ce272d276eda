"""Bulk operations in the audit log: one entry per table (who, what file or command, how many rows, their ids,
a content hash) instead of a copy of every row — migration 0017's trigger reads the flag set here."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

KIND_LABELS = {"import": "导入", "generate": "生成", "demo": "载入示范数据", "restore": "恢复"}
"""What a person reads for each kind of bulk operation."""

SETTING = "riskmap.bulk_operation"


def file_sha256(path: Path | str) -> str:
    """SHA-256 of a file's bytes, read in 1 MB pieces."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def content_sha256(parts: Iterable[bytes | str]) -> str:
    """SHA-256 over several pieces (e.g. a generator's parameters and the files it reads)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
    return digest.hexdigest()


def operation(kind: str, source: str, sha256: str, **extra: Any) -> dict[str, Any]:
    """The description a bulk entry carries: kind, file name or command, content hash (and anything extra)."""
    return {"kind": kind, "source": source, "sha256": sha256, **extra}


def begin_bulk(conn: Connection, op: dict[str, Any]) -> None:
    """Audit the rest of this transaction's writes as bulk entries (one per table and action, with their ids)."""
    conn.execute(text("SELECT set_config(:k, :v, true)"),
                 {"k": SETTING, "v": json.dumps(op, ensure_ascii=False, sort_keys=True)})


def end_bulk(conn: Connection) -> None:
    """Back to row-by-row audit for the rest of the transaction."""
    conn.execute(text("SELECT set_config(:k, '', true)"), {"k": SETTING})


def set_sql(op: dict[str, Any]) -> str:
    """The same flag as a SQL statement, for a script (the restore's psql); the JSON is dollar-quoted."""
    value = json.dumps(op, ensure_ascii=False, sort_keys=True)
    tag = "$riskmap_bulk$"
    assert tag not in value
    return f"SELECT set_config('{SETTING}', {tag}{value}{tag}, true);"


def covers(ids: list[Any], record_id: int | str) -> bool:
    """Whether a bulk entry's ids (closed ranges [first, last], or key values) include `record_id`."""
    for item in ids:
        if isinstance(item, list) and isinstance(record_id, int) and item[0] <= record_id <= item[1]:
            return True
        if not isinstance(item, list) and str(item) == str(record_id):
            return True
    return False


def describe_ids(ids: list[Any], *, limit: int = 4) -> str:
    """Ids in Chinese-readable form: 1–20000、20005 …"""
    parts = [(f"{i[0]}" if i[0] == i[1] else f"{i[0]}–{i[1]}") if isinstance(i, list) else str(i) for i in ids]
    return "、".join(parts[:limit]) + ("…" if len(parts) > limit else "")
