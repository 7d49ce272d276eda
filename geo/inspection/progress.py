"""How far a stored plan has been carried out: stops recorded per plan, and each stop's recorded visit with the
hazards it found (for the plan page and the list of plans)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

PLAN_STATES = {"none": "未开始", "some": "执行中", "all": "已完成", "empty": "无需检查"}
"""Plain Chinese state of a plan by its recorded stops."""


def recorded_counts(conn: Connection, plan_ids: list[int]) -> dict[int, tuple[int, int]]:
    """plan id → (stops with a recorded visit, stops placed on a route)."""
    rows = conn.execute(text(
        "SELECT plan_id, count(*) FILTER (WHERE inspection_id IS NOT NULL) AS done, "
        "count(*) FILTER (WHERE route_id IS NOT NULL) AS placed FROM plan_stop WHERE plan_id = ANY(:ids) "
        "GROUP BY plan_id"), {"ids": plan_ids}).all()
    return {int(r.plan_id): (int(r.done), int(r.placed)) for r in rows}


def plan_state(done: int, placed: int) -> str:
    """未开始 / 执行中 / 已完成 (or 无需检查 when nothing was placed)."""
    if placed == 0:
        return PLAN_STATES["empty"]
    return PLAN_STATES["none" if done == 0 else "all" if done >= placed else "some"]


def stop_outcomes(conn: Connection, plan_id: int) -> dict[int, dict[str, Any]]:
    """stop id → its recorded visit: date, team, result text and the hazards found (codes, levels)."""
    rows = conn.execute(text(
        "SELECT s.id AS stop_id, i.id AS inspection_id, i.inspected_on, i.team, i.result, "
        "coalesce(jsonb_agg(jsonb_build_object('code', h.code, 'level', h.level, 'description', h.description, "
        "'deadline', h.deadline) ORDER BY h.id) FILTER (WHERE h.id IS NOT NULL), '[]') AS hazards "
        "FROM plan_stop s JOIN inspection i ON i.id = s.inspection_id "
        "LEFT JOIN hazard h ON h.source = '执法检查 #' || i.id "
        "WHERE s.plan_id = :p GROUP BY s.id, i.id"), {"p": plan_id}).mappings().all()
    return {int(r["stop_id"]): dict(r) for r in rows}
