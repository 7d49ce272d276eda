"""Roll-up of a city or province (issue #16): the map page and its JSON, read from province_township_level only —
under row-level security: a region viewer sees its 地级市 or 省, any other user its own county (geo/access/roles.py)."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from api.auth import PrincipalDep
from api.deps import ConnDep
from api.security import nonce_of
from api.text import Text

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
        html = render_rollup_page(conn, nonce=nonce_of(request), title="市/省级安全风险四色汇总图", city=city,
                                  detail=principal.role == "region_viewer" and configured_province() is not None)
    except NotFound as exc:  # nothing rolled up yet (or not for that city): a Chinese page, as for a map
        message = exc.message if principal.role == "region_viewer" else (
            f"{exc.message}（本账号只看得到本县区的汇总；地级市、省的汇总需“市/省级查看”账号）")
        return page(request, principal, "map_error.html", conn=conn, status=404, nav="map",
                    title="汇总图暂无数据", message=message)
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


MVT = "application/vnd.mapbox-vector-tile"


def configured_province() -> Any:
    """province.toml of this service (RISKMAP_PROVINCE_FILE), read again when the file changes; None if unset."""
    from geo.config import get_settings

    path = get_settings().province_file
    if path is None:
        return None
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        stamp = None
    return _load(str(path), stamp)


@lru_cache(maxsize=4)
def _load(path: str, stamp: int | None) -> Any:
    from pathlib import Path

    from geo.province.config import load_province

    return load_province(Path(path))


@router.get("/province/tiles/{layer}/{z}/{x}/{y}.pbf", summary="县区明细矢量瓦片（从各县区所在分片数据库读取；仅市/省级查看）",
            response_class=Response,
            responses={200: {"description": "MVT 矢量瓦片，每个县区一层（图层名 `<layer>_<县区代码>`）",
                             "content": {MVT: {"schema": {"type": "string", "format": "binary"}}}},
                       204: {"description": "该瓦片范围内没有本账号所辖县区的要素"}})
def province_detail_tile(layer: Text, z: int, x: int, y: int, request: Request, conn: ConnDep,
                         principal: PrincipalDep) -> Response:
    from api.compress import TILE_LEVEL, maybe_gzip
    from geo.errors import NotFound
    from geo.province.tiles import province_tile

    principal.require("region_viewer")
    province = configured_province()
    if province is None:
        raise NotFound("本服务未配置省级县区清单（RISKMAP_PROVINCE_FILE），无法读取各县区明细")
    data, missing = province_tile(conn, province, layer, z, x, y, region=principal.region_code or "",
                                  user=principal.username)
    headers = {"Cache-Control": "no-store"}
    if missing:  # the map still draws the other counties; a person asking the API learns which are missing
        headers["X-Riskmap-Missing-Counties"] = ",".join(missing)
    if not data:
        return Response(status_code=204, media_type=MVT, headers=headers)
    body, gz = maybe_gzip(request, data, level=TILE_LEVEL)
    return Response(content=body, media_type=MVT, headers={**headers, **gz})
