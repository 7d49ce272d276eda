"""Statistics: per-township counts of each colour as JSON, xlsx and a printable page with a bar chart."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from api.auth import PrincipalDep
from api.deps import ConnDep
from geo.features import COUNTED_KINDS
from geo.stats import township_level_table, write_township_xlsx
from api.pages import page
from layers.stats import stats_context

router = APIRouter(tags=["stats 统计"])

Kind = Annotated[Literal["enterprise", "mine", "pipeline_segment", "grid_cell"], Query(description="统计对象")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/stats/townships", summary="各乡镇四色统计（JSON）")
def townships(conn: ConnDep, kind: Kind = "enterprise") -> list[dict[str, Any]]:
    return township_level_table(conn, kind=kind)


@router.get("/stats/townships.xlsx", summary="各乡镇四色统计（Excel）", response_class=Response,
            responses={200: {"description": "Excel 文件",
                             "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}})
def townships_xlsx(conn: ConnDep, kind: Kind = "enterprise") -> Response:
    with tempfile.TemporaryDirectory() as tmp:
        path = write_township_xlsx(township_level_table(conn, kind=kind), Path(tmp) / "stats.xlsx", kind=kind)
        data = path.read_bytes()
    return Response(data, media_type=XLSX,
                    headers={"Content-Disposition": "attachment; filename*=UTF-8''%E4%B9%A1%E9%95%87%E9%A3%8E%E9%99%A9%E7%BB%9F%E8%AE%A1.xlsx"})


@router.get("/stats", response_class=HTMLResponse, summary="统计页面（条形图与表格）")
def stats_view(request: Request, conn: ConnDep, principal: PrincipalDep, kind: Kind = "enterprise") -> HTMLResponse:
    rows = township_level_table(conn, kind=kind)
    return page(request, principal, "stats.html", conn=conn, nav="stats",
                **stats_context(rows, kind=kind, title=f"各乡镇{COUNTED_KINDS[kind]}风险等级统计"))
