"""Roll-up of a city or province (issue #16): the map page and its JSON, read from province_township_level only —
under row-level security: a region viewer sees its 地级市 or 省, any other user its own county (geo/access/roles.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.auth import PrincipalDep
from api.deps import ConnDep
from api.security import nonce_of

router = APIRouter(tags=["province 市/省级汇总"])

City = Annotated[str | None, Query(pattern=r"^\d{6}$", description="只看该地级市（6 位代码）")]


@router.get("/province/rollup", summary="省 → 市 → 县 → 乡镇 四色汇总（JSON，最高风险向上汇总）")
def rollup_json(conn: ConnDep, city: City = None) -> dict[str, Any]:
    from geo.province.rollup import rollup

    return rollup(conn, city=city)


@router.get("/province", response_class=HTMLResponse, include_in_schema=False)
def rollup_map(request: Request, conn: ConnDep, principal: PrincipalDep, city: City = None) -> HTMLResponse:
    from api.pages import page
    from geo.errors import NotFound
    from layers.province import render_rollup_page

    try:
        html = render_rollup_page(conn, nonce=nonce_of(request), title="市/省级安全风险四色汇总图", city=city)
    except NotFound as exc:  # nothing rolled up yet (or not for that city): a Chinese page, as for a map
        message = exc.message if principal.role == "region_viewer" else (
            f"{exc.message}（本账号只看得到本县区的汇总；地级市、省的汇总需“市/省级查看”账号）")
        return page(request, principal, "map_error.html", conn=conn, status=404, nav="map",
                    title="汇总图暂无数据", message=message)
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})
