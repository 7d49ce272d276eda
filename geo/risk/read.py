"""Reading stored levels: list with filters, explain one object, its history (the domain API for HTTP and CLI)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, text

from geo.errors import InvalidInput, NotFound
from geo.risk.rules import LEVEL_LABELS, LEVEL_RANK
from geo.risk.scope import KIND_LABELS, KINDS

GEOM_OF = {
    "enterprise": "SELECT id, geom FROM enterprise",
    "mine": "SELECT id, licence_boundary AS geom FROM mine",
    "pipeline_segment": "SELECT id, geom FROM pipeline_segment",
    "grid_cell": "SELECT id, geom FROM grid_cell",
    "township": "SELECT id, geom FROM township",
}


def check_kind(kind: str) -> str:
    """The kind itself, or InvalidInput listing the valid kinds in Chinese."""
    if kind not in KINDS:
        listed = "、".join(f"{k}（{v}）" for k, v in KIND_LABELS.items())
        raise InvalidInput(f"对象类型“{kind}”无效，应为：{listed}")
    return kind


def as_dict(row: Any) -> dict[str, Any]:
    d = dict(row._mapping)
    d["level_label"] = LEVEL_LABELS[d["level"]]
    for key in ("valid_from", "valid_to", "computed_at"):
        if isinstance(d.get(key), dt.datetime):
            d[key] = d[key].isoformat()
    return d


def levels(conn: Connection, kind: str, *, township: int | str | None = None, colour: str | None = None,
           bbox: tuple[float, float, float, float] | None = None, at: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Current (or as of `at`) levels of one kind, riskiest first; filter by township id/code, colour, bbox (lon/lat)."""
    check_kind(kind)
    if colour is not None and colour not in LEVEL_RANK:
        raise InvalidInput(f"颜色“{colour}”无效，应为 red/orange/yellow/blue")
    tid = None
    if township is not None:
        from geo.risk.scope import township_id_for
        tid = township if isinstance(township, int) else township_id_for(conn, str(township))
    sql = f"""
        SELECT a.kind, a.object_id, a.level, a.score, a.reasons, a.details, a.township_id, a.rules_version,
               a.valid_from, a.valid_to
        FROM risk_assessment a JOIN ({GEOM_OF[kind]}) o ON o.id = a.object_id
        WHERE a.kind = :kind
          AND (CASE WHEN CAST(:at AS timestamptz) IS NULL THEN a.valid_to IS NULL
                    ELSE a.valid_from <= :at AND (a.valid_to IS NULL OR a.valid_to > :at) END)
          AND (CAST(:tid AS integer) IS NULL OR a.township_id = :tid)
          AND (CAST(:colour AS text) IS NULL OR a.level = :colour)
          AND (CAST(:x0 AS double precision) IS NULL OR o.geom && ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4490))
        ORDER BY CASE a.level WHEN 'red' THEN 4 WHEN 'orange' THEN 3 WHEN 'yellow' THEN 2 ELSE 1 END DESC,
                 a.score DESC, a.object_id
    """
    x0, y0, x1, y1 = bbox if bbox is not None else (None, None, None, None)
    rows = conn.execute(text(sql), {"kind": kind, "at": at, "tid": tid, "colour": colour,
                                    "x0": x0, "y0": y0, "x1": x1, "y1": y1})
    return [as_dict(r) for r in rows]


def explain(conn: Connection, kind: str, object_id: int) -> dict[str, Any]:
    """The current level, score and reasons of one object, with the rules version that produced them."""
    check_kind(kind)
    row = conn.execute(text(
        "SELECT kind, object_id, level, score, reasons, details, township_id, rules_version, rules_hash, "
        "computed_at, valid_from, valid_to FROM risk_assessment "
        "WHERE kind = :k AND object_id = :i AND valid_to IS NULL"), {"k": kind, "i": object_id}).first()
    if row is None:
        raise NotFound(f"{KIND_LABELS[kind]} {object_id} 尚无风险评估结果，请先运行 riskmap risk compute")
    return as_dict(row)


def history(conn: Connection, kind: str, object_id: int) -> list[dict[str, Any]]:
    """Every stored level of one object, oldest first (valid_from/valid_to periods)."""
    check_kind(kind)
    rows = conn.execute(text(
        "SELECT kind, object_id, level, score, reasons, township_id, rules_version, rules_hash, computed_at, "
        "valid_from, valid_to FROM risk_assessment WHERE kind = :k AND object_id = :i ORDER BY valid_from, id"),
        {"k": kind, "i": object_id})
    return [as_dict(r) for r in rows]


def format_explanation(result: dict[str, Any]) -> str:
    """Chinese text for `riskmap risk explain`: level, score, reasons (most severe first), unscored items."""
    d = result.get("details", {})
    name = d.get("name") or ""
    if result["kind"] == "pipeline_segment" and "pipeline" in d:
        name = f"管道{d['pipeline']} 第{d['seq']}段（{d['from_m']:g}–{d['to_m']:g} m）"
    lines = [f"{KIND_LABELS[result['kind']]} {result['object_id']} {name}".rstrip(),
             f"  风险等级：{result['level_label']}    风险分值：{result['score']:g}",
             f"  规则版本：{result['rules_version']}    评估起始：{result['valid_from']}",
             "  理由："]
    for reason in result["reasons"]:
        tag = LEVEL_LABELS[reason["level"]].split()[0] if reason.get("level") else "·"
        lines.append(f"    [{tag}] {reason['text']}")
    diag = result.get("details", {}).get("diagnostic")
    if diag:
        lines.append(f"  诊断评分：{diag['score']:g} 分（满分 100；以下项目无数据、未评分）")
        lines.extend(f"    - {item}" for item in diag["not_scored"])
    elif result.get("details", {}).get("not_scored"):
        lines.append("  未评项目：")
        lines.extend(f"    - {item}" for item in result["details"]["not_scored"])
    return "\n".join(lines)
