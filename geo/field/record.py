"""Records made on a phone, each through the one domain function the web pages and the CLI use.

Positions are lon/lat in CGCS2000 (EPSG:4490; a phone's WGS 84 fix differs by centimetres) with the fix's accuracy
in metres. Distances to pipelines are measured in the county's Gauss–Krüger zone (geo.county.metric_srid).
Scope is the database's: the caller's connection carries the user's role and townships (geo.access.bind).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from geo.access.principal import Forbidden
from geo.county import metric_srid
from geo.encroachment.register import record_encroachment
from geo.errors import InvalidInput, NotFound
from geo.field.submit import Created
from geo.inspection.results import Finding, enterprise_of_stop, record_inspection
from geo.register import change_status
from geo.register.hazard import create_hazard

NEARBY_RADIUS_M = 1000.0
"""How far from the phone's position pipelines are offered for a new 占压点 (本地规定; the widest protection band
the zones file names is 200 m, 石油天然气管道保护法 第三十五条 — a wider net lets a poor GPS fix still find it)."""

PROGRESS = {"rectifying", "rectified", "整改中", "已整改"}
"""The register moves the field may record: 整改中 and 已整改 (销号 needs a verifier and stays on the workbench)."""

MARKS = {"arrived": "arrived_at", "completed": "completed_at"}

MSG = {
    "accuracy": "字段 accuracy_m（定位精度）应在 0 至 10000 米之间，得到 {value}",
    "progress": "现场只能登记“整改中”或“已整改”，得到“{status}”（销号须在工作台经核查后办理）",
    "note": "字段 note（整改说明）：请写明整改情况",
    "stop": "巡查计划 {plan} 中没有站点 {stop}（或不在你的范围内）",
    "team": "计划 {plan} 的站点 {stop} 不属于你的巡查组，不能标记{label}",
    "mark": "未知的站点标记：{mark!r}（应为 arrived 已到达 / completed 已完成）",
}


@dataclass(frozen=True)
class Position:
    """A phone's fix: lon/lat (EPSG:4490) and its accuracy radius in metres (None when typed or dragged)."""

    lon: float
    lat: float
    accuracy_m: float | None = None

    def __post_init__(self) -> None:
        if self.accuracy_m is not None and not 0 <= self.accuracy_m <= 10_000:
            raise InvalidInput(MSG["accuracy"].format(value=self.accuracy_m))

    def as_dict(self) -> dict[str, Any]:
        return {"lon": round(self.lon, 7), "lat": round(self.lat, 7),
                "accuracy_m": None if self.accuracy_m is None else round(self.accuracy_m, 1)}


def record_stop_result(conn: Connection, *, plan_id: int, stop_id: int, inspected_on: dt.date, team: str | None,
                       result: str | None, findings: Sequence[Finding] = (),
                       position: Position | None = None) -> Created:
    """检查结果 at a plan stop (geo.inspection.results.record_inspection): the visit, its findings as hazards."""
    enterprise_id = enterprise_of_stop(conn, plan_id, stop_id)
    made = record_inspection(conn, enterprise=enterprise_id, inspected_on=inspected_on, team=team, result=result,
                             findings=findings, plan_stop=(plan_id, stop_id))
    codes = conn.execute(text("SELECT code FROM hazard WHERE id = ANY(:i) ORDER BY id"),
                         {"i": made["hazard_ids"]}).scalars().all()
    return Created("inspection", made["inspection_id"], None,
                   {"hazard_ids": made["hazard_ids"], "hazard_codes": list(codes), "stop_id": stop_id,
                    "plan_id": plan_id, "position": position.as_dict() if position else None})


def record_new_hazard(conn: Connection, *, enterprise_id: int, level: str, description: str, by: str,
                      found_on: dt.date, deadline: dt.date | None = None,
                      position: Position | None = None) -> Created:
    """A hazard found at an enterprise (geo.register.hazard.create_hazard; status 发现)."""
    if conn.execute(text("SELECT 1 FROM enterprise WHERE id = :e"), {"e": enterprise_id}).first() is None:
        raise NotFound(f"没有编号为 {enterprise_id} 的企业（或不在你的辖区内）")
    if deadline is not None and deadline < found_on:
        raise InvalidInput(f"字段 deadline（整改期限）{deadline} 早于发现日期 {found_on}")
    where = ""
    if position is not None:
        accuracy = "" if position.accuracy_m is None else f"，精度 {position.accuracy_m:.0f} 米"
        where = f"（现场定位 {position.lon:.6f}, {position.lat:.6f}{accuracy}）"
    hazard_id, code = create_hazard(conn, enterprise_id=enterprise_id, level=level, by=by, description=description,
                                    found_on=found_on, deadline=deadline, source="现场巡查",
                                    note=f"现场登记隐患{where}")
    return Created("hazard", hazard_id, code, {"position": position.as_dict() if position else None})


def record_new_encroachment(conn: Connection, *, position: Position, by: str, pipeline_code: str | None,
                            kind: str, nature: str | None, description: str | None,
                            on: dt.date | None = None) -> Created:
    """A 占压点 found in the field at a GPS point (geo.encroachment.register.record_encroachment; status 发现);
    the fix's accuracy is kept in its dossier."""
    code = record_encroachment(conn, wkt=f"POINT({float(position.lon)} {float(position.lat)})", by=by,
                               pipeline_code=pipeline_code, kind=kind, nature=nature, description=description,
                               on=on, field="lon/lat")
    object_id = conn.execute(text("SELECT id FROM encroachment WHERE code = :c"), {"c": code}).scalar_one()
    return Created("encroachment", int(object_id), code, {"position": position.as_dict()})


def record_progress(conn: Connection, *, kind: str, code: str, to_status: str, note: str, by: str,
                    on: dt.date | None = None) -> Created:
    """整改中 / 已整改 of an existing hazard or 占压点, with the person's note (geo.register.change_status)."""
    if to_status not in PROGRESS:
        raise InvalidInput(MSG["progress"].format(status=to_status))
    if not note or not note.strip():
        raise InvalidInput(MSG["note"])
    event = change_status(conn, kind, code, to_status, by=by, note=note.strip(), on=on)
    return Created(kind, event.object_id, code, {"from_status": event.from_status, "to_status": event.to_status})


def mark_stop(conn: Connection, *, plan_id: int, stop_id: int, mark: str, at: dt.datetime | None = None) -> Created:
    """已到达 / 已完成 of a stop, at the time the phone recorded it (the first mark is kept when sent again)."""
    if mark not in MARKS:
        raise InvalidInput(MSG["mark"].format(mark=mark))
    enterprise_of_stop(conn, plan_id, stop_id)  # NotFound outside the user's read scope
    column = MARKS[mark]
    done = conn.execute(text(
        f"UPDATE plan_stop SET {column} = coalesce({column}, coalesce(CAST(:at AS timestamptz), now())) "
        "WHERE plan_id = :p AND id = :s RETURNING id"), {"p": plan_id, "s": stop_id, "at": at}).first()
    if done is None:  # row-level security: an inspector marks only its own teams' stops
        label = "已到达" if mark == "arrived" else "已完成"
        raise Forbidden(MSG["team"].format(plan=plan_id, stop=stop_id, label=label))
    return Created("plan_stop", stop_id, None, {"mark": mark, "plan_id": plan_id})


_NEARBY_SQL = """
    WITH here AS (SELECT ST_Transform(ST_SetSRID(ST_MakePoint(:lon, :lat), 4490), :srid) AS g)
    SELECT p.code, p.name, p.operator, p.medium,
           round(CAST(ST_Distance(ST_Transform(p.geom, :srid), here.g) AS numeric), 1) AS distance_m
    FROM pipeline p, here
    WHERE ST_DWithin(ST_Transform(p.geom, :srid), here.g, :r)
    ORDER BY distance_m, p.code
    LIMIT 20
"""


def nearby_pipelines(conn: Connection, *, lon: float, lat: float,
                     radius_m: float = NEARBY_RADIUS_M) -> list[dict[str, Any]]:
    """Pipelines within `radius_m` metres of lon/lat (EPSG:4490), nearest first, measured in the county's metric
    CRS; only those the user may see."""
    rows = conn.execute(text(_NEARBY_SQL), {"lon": lon, "lat": lat, "srid": metric_srid(conn), "r": radius_m})
    return [{**r._mapping, "distance_m": float(r.distance_m)} for r in rows]
