"""Assessments with history: a new row only when level, score or reasons change; the old one gets valid_to."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

import orjson

from sqlalchemy import Connection, text

from geo.risk.findings import Assessment
from geo.risk.rules import Rules
from geo.risk.scope import Scope, audit_readable

RULES_SQL = """
INSERT INTO risk_rules_version (rules_hash, version, content, last_run_at) VALUES (:h, :v, CAST(:c AS jsonb), :now)
ON CONFLICT (rules_hash) DO UPDATE SET last_run_at = EXCLUDED.last_run_at
WHERE risk_rules_version.last_run_at IS NULL OR risk_rules_version.last_run_at < EXCLUDED.last_run_at
"""

STAGE_SQL = """
CREATE TEMP TABLE risk_stage (
    kind text, object_id integer, level text, score double precision, reasons jsonb, details jsonb,
    township_id integer
) ON COMMIT DROP
"""

# COPY's text format: the JSON of reasons and details needs only its backslashes doubled (JSON escapes tabs and
# newlines), where the CSV writer doubled every quote of it.
STAGE_COPY = "COPY risk_stage (kind, object_id, level, score, reasons, details, township_id) FROM STDIN"
# orjson: a third of the standard encoder's time for the ×1 county's 20,000 results (0.22 → 0.07 s of CPU, much of
# it on the run's critical path while PostgreSQL waits for the segment results). Its options keep the standard
# encoder's output values: dates and datetimes through str() like json's default=str, integer keys as strings.
_ORJSON_OPTS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _encode(value: Any) -> str:
    """JSON text of reasons or details (UTF-8, not ASCII-escaped), as json.dumps(default=str) gives its values."""
    return orjson.dumps(value, default=str, option=_ORJSON_OPTS).decode()


BACKSLASH, BACKSLASH2, NULL = "\\", "\\\\", "\\N"

CLOSE_CHANGED_SQL = """
UPDATE risk_assessment a SET valid_to = :now
FROM risk_stage s
WHERE a.kind = s.kind AND a.object_id = s.object_id AND a.valid_to IS NULL
  AND (a.level, a.score, a.reasons) IS DISTINCT FROM (s.level, s.score, s.reasons)
"""

REFRESH_UNCHANGED_SQL = """
UPDATE risk_assessment a SET details = s.details, township_id = s.township_id
FROM risk_stage s
WHERE a.kind = s.kind AND a.object_id = s.object_id AND a.valid_to IS NULL
  AND (a.details, a.township_id) IS DISTINCT FROM (s.details, s.township_id)
"""

INSERT_NEW_SQL = """
INSERT INTO risk_assessment (kind, object_id, level, score, reasons, details, township_id, rules_version,
                             rules_hash, computed_at, valid_from)
SELECT s.kind, s.object_id, s.level, s.score, s.reasons, s.details, s.township_id, :version, :hash, :now, :now
FROM risk_stage s
WHERE NOT EXISTS (SELECT 1 FROM risk_assessment a
                  WHERE a.kind = s.kind AND a.object_id = s.object_id AND a.valid_to IS NULL)
ORDER BY s.ctid  -- the stage's own order; the sort also makes the anti-join finish before the first row is written
"""
# (Without the sort, a planner that took risk_assessment for empty — a county's first run — re-read the pages this
# statement was filling once per staged row: 1.2 s for 10,000 rows, O(n²).)

# An object deleted since its last assessment: its current row is closed.
CLOSE_VANISHED_SQL = """
UPDATE risk_assessment a SET valid_to = :now
WHERE a.valid_to IS NULL AND NOT EXISTS (
    SELECT 1 FROM enterprise o WHERE a.kind = 'enterprise' AND o.id = a.object_id
    UNION ALL SELECT 1 FROM mine o WHERE a.kind = 'mine' AND o.id = a.object_id
    UNION ALL SELECT 1 FROM pipeline_segment o WHERE a.kind = 'pipeline_segment' AND o.id = a.object_id
    UNION ALL SELECT 1 FROM grid_cell o WHERE a.kind = 'grid_cell' AND o.id = a.object_id
    UNION ALL SELECT 1 FROM township o WHERE a.kind = 'township' AND o.id = a.object_id)
"""


def register_rules(conn: Connection, rules: Rules, *, now: dt.datetime | None = None) -> None:
    """Keep the merged rules content under its hash, so any historic level can be traced to its rules.

    `now`: the run's time, kept as last_run_at (what `--changed` counts edits from, geo/risk/changes.py).
    """
    conn.execute(text(RULES_SQL), {"h": rules.rules_hash, "v": rules.version, "now": now,
                                   "c": json.dumps(rules.data, ensure_ascii=False)})


def save_assessments(conn: Connection, rules: Rules, assessments: Iterable[Assessment], *,
                     now: dt.datetime, register: bool = True) -> dict[str, int]:
    """Stage the results and write history set-based; returns counts of changed, new and unchanged rows."""
    counts = save_by_kind(conn, rules, assessments, now=now, register=register)
    return {k: sum(c[k] for c in counts.values()) for k in ("changed", "new", "unchanged")}


def save_by_kind(conn: Connection, rules: Rules, assessments: Iterable[Assessment], *,
                 now: dt.datetime, register: bool = True, lines: list[str] | None = None) -> dict[str, dict[str, int]]:
    """Like save_assessments, for results of several kinds in one staging pass; counts per kind.

    `register=False` when the caller has already stored this run's rules (register_rules). `lines`: stage_lines
    of the first assessments, already encoded.
    """
    assessments = list(assessments)
    staged: dict[str, int] = {}
    for a in assessments:
        staged[a.kind] = staged.get(a.kind, 0) + 1
    out = {kind: {"changed": 0, "new": 0, "unchanged": n} for kind, n in staged.items()}
    if not assessments:
        return out
    if register:
        register_rules(conn, rules, now=now)
    # Statements go in pairs (psycopg2 returns the last one's rows): four round trips for any number of rows.
    conn.execute(text("DROP TABLE IF EXISTS risk_stage;" + STAGE_SQL))
    copy_stage(conn, assessments, lines=lines)
    # The joins need the row count and the keys' statistics only: sampling the JSON columns as well took ~0.1 s
    # of a ×1 run (every reason detoasted and compared for a histogram no plan uses).
    changed = Counter(conn.execute(text("ANALYZE risk_stage (kind, object_id);" + CLOSE_CHANGED_SQL + " RETURNING a.kind"),
                                   {"now": now}).scalars())
    inserted = Counter(conn.execute(text(REFRESH_UNCHANGED_SQL + ";" + INSERT_NEW_SQL + " RETURNING kind"),
                                    {"version": rules.version, "hash": rules.rules_hash, "now": now}).scalars())
    for kind, n in staged.items():
        out[kind] = {"changed": changed[kind], "new": inserted[kind] - changed[kind], "unchanged": n - inserted[kind]}
    return out


def stage_lines(assessments: Iterable[Assessment]) -> list[str]:
    """The results as lines of risk_stage's COPY text (pure Python: geo.risk.engine encodes some beside a query)."""
    encode = _encode
    return [f"{a.kind}\t{a.object_id:d}\t{a.level}\t{a.score}\t{encode(a.reasons).replace(BACKSLASH, BACKSLASH2)}\t"
            f"{encode(a.details).replace(BACKSLASH, BACKSLASH2)}\t"
            f"{NULL if a.township_id is None else int(a.township_id)}\n" for a in assessments]


def copy_stage(conn: Connection, assessments: Iterable[Assessment], *, lines: list[str] | None = None) -> int:
    """COPY the results into risk_stage on the caller's connection (same transaction); returns the row count.

    `lines`: stage_lines of the first assessments, encoded before; the rest are encoded here."""
    assessments = list(assessments)
    done = lines or []
    lines = done + stage_lines(assessments[len(done):])
    with conn.connection.dbapi_connection.cursor() as cur:  # type: ignore[union-attr]
        # one read of the whole text: psycopg2 reads `size` characters at a time, holding the GIL for each read, and
        # with the segment rules running in the other thread each of the default 8 KB reads waited for its turn
        # (0.51 s for the ×1 county's enterprises, 0.28 s in one read)
        data = "".join(lines)
        cur.copy_expert(STAGE_COPY, io.StringIO(data), size=max(len(data), 8192))
    return len(lines)


# A run over some ids with no deletion since the previous run: only the segments its re-segmentation cut, and
# ids asked for that no longer exist, can have vanished.
CLOSE_SCOPED_SQL = """
UPDATE risk_assessment a SET valid_to = :now
FROM (
    SELECT 'pipeline_segment' AS kind, p.id FROM risk_prev_segment p
    WHERE NOT EXISTS (SELECT 1 FROM pipeline_segment o WHERE o.id = p.id)
    UNION ALL SELECT 'enterprise', i FROM unnest(CAST(:eids AS integer[])) i
    WHERE NOT EXISTS (SELECT 1 FROM enterprise o WHERE o.id = i)
    UNION ALL SELECT 'mine', i FROM unnest(CAST(:mids AS integer[])) i
    WHERE NOT EXISTS (SELECT 1 FROM mine o WHERE o.id = i)
) g
WHERE a.kind = g.kind AND a.object_id = g.id AND a.valid_to IS NULL
"""

DELETED_SINCE_SQL = """
SELECT EXISTS (SELECT 1 FROM audit_log WHERE at > :since AND action = 'delete'
                                       AND table_name = ANY(CAST(:tables AS text[])))
"""
ASSESSED_TABLES = ["enterprise", "mine", "pipeline", "grid_cell", "township"]


def deleted_since(conn: Connection, since: dt.datetime) -> bool:
    """Whether the audit log shows a deleted enterprise, mine, pipeline or area since `since` (True if unreadable)."""
    if not audit_readable(conn):
        return True
    return bool(conn.execute(text(DELETED_SINCE_SQL), {"since": since, "tables": ASSESSED_TABLES}).scalar())


def close_vanished(conn: Connection, *, now: dt.datetime, scope: Scope | None = None) -> int:
    """Close current assessments of objects that no longer exist; returns how many.

    A `--changed` run (scope by ids, with `since`) after no deletion checks only what it touched itself
    (risk_prev_segment, made by geo.risk.scope.remember_segments); every other run sweeps all current rows.
    """
    if scope is not None and scope.by_ids and scope.since is not None and not deleted_since(conn, scope.since):
        return conn.execute(text(CLOSE_SCOPED_SQL), {"now": now, "eids": list(scope.enterprise_ids or ()),
                                                     "mids": list(scope.mine_ids or ())}).rowcount
    return conn.execute(text(CLOSE_VANISHED_SQL), {"now": now}).rowcount
