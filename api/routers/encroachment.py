"""Pipeline encroachment check, the encroachment register (一点一档) and the hazard ledger (隐患台账) over HTTP."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.auth import PrincipalDep
from api.deps import ConnDep, TxDep
from api.text import Day, LongText, PastDay, Person, Text, column_text
from geo.access.principal import Principal
from geo.encroachment import check_encroachments, list_candidates
from geo.encroachment.register import confirm_candidate, field_wkt, record_encroachment
from geo.encroachment.reports import encroachment_points, pipeline_zone_bands
from geo.register import change_status, history, summarise
from geo.register.hazard import list_for_supervision, record_hazard, supervised_hazards
from geo.register.ledger import write_ledger_xlsx

router = APIRouter(tags=["encroachment 占压与隐患台账"])

Kind = Literal["encroachment", "hazard"]
Township = Annotated[str | None, Query(pattern=r"^[0-9]{12}$", description="乡镇 12 位代码")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Dossier(BaseModel):
    """一点一档 fields given when an encroachment is confirmed or recorded."""

    by: Person | None = Field(None, min_length=1, description="经办人（不填为当前登录用户）")
    nature: Text | None = Field(None, max_length=24, description="违法建设 / 历史遗留 / 合法性待认定")
    measure: LongText | None = Field(None, description="整改措施（一点一策）")
    deadline: Day | None = None
    formed_on: PastDay | None = None
    description: LongText | None = None
    attachments: list[Annotated[Text, Field(max_length=500)]] | None = Field(
        None, max_length=100, description="附件引用（文件编号或路径，最多 100 个）")


class FieldRecord(Dossier):
    """An encroachment found in the field: a GPS point (lon/lat) or a drawn polygon (WKT), CGCS2000."""

    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    wkt: Text | None = Field(None, max_length=2_000_000, description="勾绘的多边形（WKT，经纬度；顶点数有上限）")
    pipeline: column_text("pipeline", "code") | None = None
    township: str | None = Field(None, pattern=r"^[0-9]{12}$")
    kind: Literal["encroachment", "insufficient_distance", "crossing"] = "encroachment"


class StatusChange(BaseModel):
    status: Text = Field(max_length=20, description="新状态（代码或中文，如 rectifying/整改中、closed/销号）")
    by: Person | None = Field(None, min_length=1, description="经办人（不填为当前登录用户）")
    verified_by: Person | None = Field(None, description="核查人（销号时必填）")
    note: LongText | None = None


class HazardRecord(BaseModel):
    enterprise_uscc: Text = Field(min_length=18, max_length=18)
    level: Literal["general", "major"]
    by: Person | None = Field(None, min_length=1, description="经办人（不填为当前登录用户）")
    description: LongText | None = None
    found_on: Day | None = None
    deadline: Day | None = None


class Supervision(BaseModel):
    department: column_text("hazard", "supervising_department") = Field(min_length=1, description="督办部门")
    by: Person | None = Field(None, min_length=1, description="经办人（不填为当前登录用户）")
    deadline: Day | None = None


def _name(principal: Principal) -> str:
    return (principal.display_name or principal.username)[:50]


def _with_by(body: BaseModel, principal: Principal, exclude: set[str] | None = None) -> dict[str, Any]:
    """The body's fields, the handling person (经办人) defaulting to the signed-in user."""
    fields = body.model_dump(exclude=exclude)
    fields["by"] = fields.get("by") or _name(principal)
    return fields


@router.post("/encroachments/check", summary="按石油天然气管道保护法自动排查（刷新候选并返回）")
def check(conn: TxDep, pipeline: Text | None = None, township: Township = None) -> list[dict[str, Any]]:
    return [c.as_dict() for c in check_encroachments(conn, pipeline_code=pipeline, township_code=township)]


@router.get("/encroachments/candidates", summary="上次排查的未关闭候选")
def candidates(conn: ConnDep, pipeline: Text | None = None, township: Township = None) -> list[dict[str, Any]]:
    return [c.as_dict() for c in list_candidates(conn, pipeline_code=pipeline, township_code=township)]


@router.post("/encroachments/candidates/{candidate_id}/confirm", status_code=201, summary="认定候选为占压点并建档")
def confirm(candidate_id: int, body: Dossier, conn: TxDep, principal: PrincipalDep) -> dict[str, str]:
    return {"code": confirm_candidate(conn, candidate_id, **_with_by(body, principal))}


@router.post("/encroachments", status_code=201, summary="登记现场发现的占压点（GPS 点或多边形）")
def record(body: FieldRecord, conn: TxDep, principal: PrincipalDep) -> dict[str, str]:
    wkt = field_wkt(lon=body.lon, lat=body.lat, wkt=body.wkt)
    fields = _with_by(body, principal, exclude={"lon", "lat", "wkt", "pipeline", "township"})
    return {"code": record_encroachment(conn, wkt=wkt, pipeline_code=body.pipeline, township_code=body.township,
                                        field="wkt" if body.wkt else "lon/lat", **fields)}


@router.get("/encroachments/points", summary="占压点（按状态，含逾期标记）")
def points(conn: ConnDep) -> list[dict[str, Any]]:
    return encroachment_points(conn)


@router.get("/encroachments/zones", summary="管道 5/50/200 m 保护范围（GeoJSON，EPSG:4490）")
def zones(conn: ConnDep, pipeline: Text | None = None) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": pipeline_zone_bands(conn, pipeline_code=pipeline)}


@router.post("/hazards", status_code=201, summary="登记隐患")
def new_hazard(body: HazardRecord, conn: TxDep, principal: PrincipalDep) -> dict[str, str]:
    return {"code": record_hazard(conn, **_with_by(body, principal))}


@router.post("/hazards/{code}/supervision", summary="重大隐患挂牌督办")
def supervise(code: Text, body: Supervision, conn: TxDep, principal: PrincipalDep) -> dict[str, str]:
    list_for_supervision(conn, code, **_with_by(body, principal))
    return {"code": code, "department": body.department}


@router.get("/hazards/supervised", summary="挂牌督办清单")
def supervised(conn: ConnDep) -> list[dict[str, Any]]:
    return supervised_hazards(conn)


@router.post("/register/{kind}/{code}/status", summary="变更状态（发现→认定→整改中→已整改→销号，全部留痕）")
def status(kind: Kind, code: Text, body: StatusChange, conn: TxDep, principal: PrincipalDep) -> dict[str, Any]:
    event = change_status(conn, kind, code, body.status, by=body.by or _name(principal),
                          verified_by=body.verified_by, note=body.note)
    return dataclasses.asdict(event)


@router.get("/register/{kind}/{code}/history", summary="全部变更记录")
def changes(kind: Kind, code: Text, conn: ConnDep) -> list[dict[str, Any]]:
    return [dataclasses.asdict(e) for e in history(conn, kind, code)]


@router.get("/register/{kind}/report", summary="统计：发现、已整改、整改率、逾期")
def report(kind: Kind, conn: ConnDep, by: Literal["township", "pipeline"] = "township",
           split: bool = False) -> list[dict[str, Any]]:
    return [r.as_dict() for r in summarise(conn, kind, by=by, split=split)]


@router.get("/register/{kind}/ledger.xlsx", summary="台账（Excel，中文表头）", response_class=Response,
            responses={200: {"description": "Excel 文件",
                             "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}})
def ledger(kind: Kind, conn: ConnDep, split: bool = False) -> Response:
    groups = ("township", "pipeline") if kind == "encroachment" else ("township",)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_ledger_xlsx(conn, Path(tmp) / "ledger.xlsx", kind=kind, groups=groups, split=split)
        data = path.read_bytes()
    return Response(data, media_type=XLSX, headers={"Content-Disposition": f"attachment; filename={kind}-ledger.xlsx"})
