"""Recording an inspection: the visit (table inspection) and its findings as hazards in the hazard ledger
(status 'found', a YH code and a register event, through geo.register.hazard.create_hazard).

The next due list reads the new inspection date; a finding's deadline defaults by level (plan.toml [findings]).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from geo.errors import InvalidInput, NotFound
from geo.inspection.network import load_plan_config
from geo.models import EARLIEST_DAY, HAZARD_LEVELS, LATEST_DAY
from geo.register.hazard import create_hazard

MSG = {
    "enterprise": "没有企业 {ref}（按编号或统一社会信用代码查找）",
    "level": "隐患等级无效：{level!r}（应为 general 一般隐患 / major 重大隐患）",
    "stop": "巡查计划 {plan} 中没有站点 {stop}",
    "deadline": "整改期限 {deadline} 早于发现日期 {found}",
    "late": "字段 deadline（整改期限）{deadline} 晚于 {last}",
    "day": "字段 inspected_on（检查日期）{day} 应在 {first} 至 {last} 之间",
    "finding_text": "隐患格式应为 等级:描述[:期限YYYY-MM-DD]，如 general:消防通道堵塞:2026-12-31，得到 {text!r}",
}


@dataclass(frozen=True)
class Finding:
    """One hazard found on a visit: level general/major, description, deadline (None = default by level)."""

    level: str
    description: str
    deadline: dt.date | None = None


def parse_finding(text_: str) -> Finding:
    """'general:描述[:2026-12-31]' (CLI form) → Finding; level may also be the Chinese label."""
    parts = text_.split(":", 2) if ":" in text_ else text_.split("：", 2)
    if len(parts) < 2 or not parts[1].strip():
        raise InvalidInput(MSG["finding_text"].format(text=text_))
    level = {v: k for k, v in HAZARD_LEVELS.items()}.get(parts[0].strip(), parts[0].strip())
    deadline = None
    if len(parts) == 3:
        try:
            deadline = dt.date.fromisoformat(parts[2].strip())
        except ValueError as exc:
            raise InvalidInput(MSG["finding_text"].format(text=text_)) from exc
    return Finding(level, parts[1].strip(), deadline)


def enterprise_id_for(conn: Connection, ref: str | int) -> int:
    """An enterprise id from its id or its 统一社会信用代码."""
    row = conn.execute(text("SELECT id FROM enterprise WHERE id::text = :r OR uscc = :r"), {"r": str(ref)}).first()
    if row is None:
        raise NotFound(MSG["enterprise"].format(ref=ref))
    return int(row[0])


def enterprise_of_stop(conn: Connection, plan_id: int, stop_id: int) -> int:
    """The enterprise a plan stop visits (NotFound when the plan has no such stop)."""
    eid = conn.execute(text("SELECT enterprise_id FROM plan_stop WHERE plan_id = :p AND id = :s"),
                       {"p": plan_id, "s": stop_id}).scalar()
    if eid is None:
        raise NotFound(MSG["stop"].format(plan=plan_id, stop=stop_id))
    return int(eid)


def record_inspection(
    conn: Connection,
    *,
    enterprise: str | int,
    inspected_on: dt.date,
    team: str | None = None,
    result: str | None = None,
    findings: Sequence[Finding] = (),
    plan_stop: tuple[int, int] | None = None,
    config: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Store a visit and one 'found' hazard per finding; link it to its plan stop (plan id, stop id) if given."""
    cfg = (config or load_plan_config())["findings"]
    if not EARLIEST_DAY <= inspected_on <= LATEST_DAY:
        raise InvalidInput(MSG["day"].format(day=inspected_on, first=EARLIEST_DAY, last=LATEST_DAY))
    eid = enterprise_id_for(conn, enterprise)
    for f in findings:
        if f.level not in HAZARD_LEVELS:
            raise InvalidInput(MSG["level"].format(level=f.level))
        if f.deadline is not None and f.deadline > LATEST_DAY:
            raise InvalidInput(MSG["late"].format(deadline=f.deadline, last=LATEST_DAY))
        if f.deadline is not None and f.deadline < inspected_on:
            raise InvalidInput(MSG["deadline"].format(deadline=f.deadline, found=inspected_on))
    if plan_stop is not None and conn.execute(
            text("SELECT 1 FROM plan_stop WHERE plan_id = :p AND id = :s AND enterprise_id = :e"),
            {"p": plan_stop[0], "s": plan_stop[1], "e": eid}).first() is None:
        raise NotFound(MSG["stop"].format(plan=plan_stop[0], stop=plan_stop[1]))
    inspection_id = conn.execute(text(
        "INSERT INTO inspection (enterprise_id, inspected_on, team, result, source) "
        "VALUES (:e, :d, :t, :r, '巡查记录') RETURNING id"),
        {"e": eid, "d": inspected_on, "t": team, "r": result}).scalar_one()
    # 经办人 of the new hazards: the signed-in user (the CLI's operator), as the audit log names them
    by = conn.execute(text(
        "SELECT coalesce(nullif(current_setting('riskmap.user', true), ''), session_user::text)")).scalar_one()
    hazard_ids = [create_hazard(
        conn, enterprise_id=eid, level=f.level, by=by[:50], description=f.description, found_on=inspected_on,
        deadline=f.deadline or inspected_on + dt.timedelta(days=int(cfg[f"{f.level}_deadline_days"])),
        source=f"执法检查 #{inspection_id}", note=f"执法检查 #{inspection_id} 发现")[0] for f in findings]
    if plan_stop is not None:
        linked = conn.execute(text("UPDATE plan_stop SET inspection_id = :i WHERE id = :s RETURNING id"),
                              {"i": inspection_id, "s": plan_stop[1]}).first()
        if linked is None:  # row-level security: an inspector records only the stops of its own teams
            from geo.access.principal import Forbidden

            raise Forbidden(f"计划 {plan_stop[0]} 的站点 {plan_stop[1]} 不属于你的巡查组，不能记录结果")
    return {"inspection_id": int(inspection_id), "enterprise_id": eid, "hazard_ids": [int(h) for h in hazard_ids]}
