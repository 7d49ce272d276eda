"""The hazard ledger (隐患台账) on the shared register: recording hazards and listing major ones for supervision."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, text

from geo.errors import InvalidInput, NotFound
from geo.register.core import list_items, next_code, record_created, update_fields
from geo.timefmt import today as local_today

KIND = "hazard"


def record_hazard(
    conn: Connection,
    *,
    enterprise_uscc: str,
    level: str,
    by: str,
    description: str | None = None,
    found_on: dt.date | None = None,
    deadline: dt.date | None = None,
) -> str:
    """Enter a hazard found at an enterprise (status 发现); returns its ledger code (YH-年-序号)."""
    enterprise_id = conn.execute(text("SELECT id FROM enterprise WHERE uscc = :u"), {"u": enterprise_uscc}).scalar()
    if enterprise_id is None:
        raise NotFound(f"没有统一社会信用代码为 {enterprise_uscc} 的企业")
    return create_hazard(conn, enterprise_id=int(enterprise_id), level=level, by=by, description=description,
                         found_on=found_on, deadline=deadline)[1]


def create_hazard(
    conn: Connection,
    *,
    enterprise_id: int,
    level: str,
    by: str,
    description: str | None = None,
    found_on: dt.date | None = None,
    deadline: dt.date | None = None,
    source: str | None = None,
    note: str = "登记隐患",
) -> tuple[int, str]:
    """The one way a hazard is created: a county-wide code, status 发现, and its creation kept in the register's
    history; returns (id, code). Used by the ledger and by inspection findings alike."""
    if level not in ("general", "major"):
        raise InvalidInput("隐患级别只能是 general（一般隐患）或 major（重大隐患）")
    day = found_on or local_today()
    code = next_code(conn, KIND, on=day)
    hazard_id = conn.execute(
        text(
            "INSERT INTO hazard (code, enterprise_id, level, description, found_on, deadline, status, source) "
            "VALUES (:code, :e, :level, :d, :found, :deadline, 'found', :source) RETURNING id"
        ),
        {"code": code, "e": enterprise_id, "level": level, "d": description, "found": day, "deadline": deadline,
         "source": source},
    ).scalar_one()
    record_created(conn, KIND, hazard_id, by=by, note=note)
    return int(hazard_id), code


def list_for_supervision(conn: Connection, code: str, *, department: str, by: str,
                         deadline: dt.date | None = None, version: int | None = None) -> None:
    """挂牌督办: name the department supervising a major hazard (and optionally its deadline); kept in history."""
    level = conn.execute(text("SELECT level FROM hazard WHERE code = :c"), {"c": code}).scalar()
    if level is None:
        raise NotFound(f"没有编号为 {code} 的隐患")
    if level != "major":
        raise InvalidInput(f"隐患 {code} 为一般隐患，只有重大隐患才能挂牌督办")
    if not department.strip():
        raise InvalidInput("挂牌督办须写明督办部门")
    fields: dict[str, Any] = {"supervising_department": department.strip()}
    if deadline is not None:
        fields["deadline"] = deadline
    update_fields(conn, KIND, code, by=by, note="挂牌督办", version=version, **fields)


def supervised_hazards(conn: Connection, *, today: dt.date | None = None) -> list[dict[str, Any]]:
    """Major hazards listed for supervision and not yet closed, with their overdue flag."""
    return [
        row for row in list_items(conn, KIND, today=today)
        if row["category"] == "major" and row["supervising_department"] and row["status"] != "closed"
    ]
