"""Risk levels, reasons and history per object kind; recompute; the rules in force."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from api.auth import PrincipalDep
from api.deps import ConnDep, LimitQ, OffsetQ, TxDep
from api.pages import page
from api.text import Instant, Text
from geo.features import parse_bbox
from geo.risk import Scope, compute, explain, history, levels, load_rules
from geo.risk.catalogue import build_catalogue
from geo.risk.scope import township_id_for

router = APIRouter(prefix="/risk", tags=["risk 风险等级"])

Kind = Literal["enterprise", "pipeline_segment", "mine", "grid_cell", "township"]
Colour = Literal["red", "orange", "yellow", "blue"]


@router.get("/rules", summary="在用的风险规则（默认规则 + 本局覆盖）：浏览器得到说明页面，程序得到 JSON",
            responses={200: {"content": {"application/json": {}, "text/html": {}}}})
def rules(
    request: Request,
    principal: PrincipalDep,
    conn: ConnDep,
    f: Annotated[Literal["json", "html"] | None, Query(description="json（程序，默认）或 html（页面）；"
                                                                    "不给时按 Accept 头")] = None,
) -> Any:
    r = load_rules()
    cat = build_catalogue(r)
    if wants_html(request, f):
        return page(request, principal, "rules.html", conn=conn, nav="rules", crumbs=[("风险规则", None)], cat=cat)
    return {"version": r.version, "hash": r.rules_hash, "rules": r.data, "override_file": r.override_file,
            "sections": cat.as_dict()["sections"]}


def wants_html(request: Request, f: str | None) -> bool:
    """?f= decides; else a browser's Accept (text/html before any JSON) gets the page, every other client JSON."""
    if f is not None:
        return f == "html"
    accept = request.headers.get("accept", "").lower()
    return "text/html" in accept and ("application/json" not in accept
                                      or accept.index("text/html") < accept.index("application/json"))


@router.post("/compute", summary="重新计算风险等级（全县或一个乡镇）")
def recompute(
    conn: TxDep,
    township: Annotated[str | None, Query(pattern=r"^[0-9]{12}$", description="乡镇代码；不给则全县")] = None,
) -> dict[str, Any]:
    scope = Scope(township_id=township_id_for(conn, township)) if township else None
    report = compute(conn, scope=scope)
    return {"rules_version": report.rules_version, "assessed": report.assessed, "written": report.written,
            "levels": report.levels, "closed": report.closed}


@router.get("/{kind}", summary="某类对象的风险等级（可按乡镇、颜色、范围、时间筛选）")
def list_levels(
    kind: Kind,
    conn: ConnDep,
    township: Annotated[str | None, Query(pattern=r"^[0-9]{12}$")] = None,
    colour: Colour | None = None,
    bbox: Annotated[Text | None, Query(description="最小经度,最小纬度,最大经度,最大纬度")] = None,
    at: Annotated[Instant | None, Query(description="查看某一时刻的等级（历史），ISO 8601")] = None,
    limit: LimitQ = 1000,
    offset: OffsetQ = 0,
) -> dict[str, Any]:
    rows = levels(conn, kind, township=township, colour=colour, bbox=parse_bbox(bbox), at=at)
    return {"numberMatched": len(rows), "items": rows[offset:offset + limit]}


@router.get("/{kind}/{object_id}", summary="一个对象的风险等级、分值与原因")
def explain_one(kind: Kind, object_id: int, conn: ConnDep) -> dict[str, Any]:
    return explain(conn, kind, object_id)


@router.get("/{kind}/{object_id}/history", summary="一个对象的历史等级")
def history_of(kind: Kind, object_id: int, conn: ConnDep) -> list[dict[str, Any]]:
    return history(conn, kind, object_id)
