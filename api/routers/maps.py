"""Map pages (Folium HTML): the county, a township, a grid cell, a pipeline, a mine."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.auth import PrincipalDep
from api.compress import PAGE_LEVEL, maybe_gzip
from api.deps import ConnDep
from api.pages import page
from api.security import nonce_of
from api.text import Text
from geo.errors import NotFound
from layers.pages import render_page

router = APIRouter(prefix="/maps", tags=["maps 地图"])


def _map(request: Request, conn: Any, principal: Any, **kw: Any) -> HTMLResponse:
    """The map page; a page out of the user's reach (or unknown) is a Chinese HTML page when a browser asks."""
    try:
        html = render_page(conn, nonce=nonce_of(request), **kw)
    except NotFound as exc:
        if "text/html" not in request.headers.get("accept", ""):
            raise
        return page(request, principal, "map_error.html", conn=conn, status=404, nav="map",
                    title="地图不存在或不在本辖区", message=exc.message)
    body, headers = maybe_gzip(request, html.encode(), level=PAGE_LEVEL)
    return HTMLResponse(body, headers={"Cache-Control": "no-store", **headers})


@router.get("", response_class=HTMLResponse, summary="全县四色风险图（乡镇用户为本乡镇；plan=计划编号 时显示巡查路线）")
def county_map(request: Request, conn: ConnDep, principal: PrincipalDep, plan: int | None = None) -> HTMLResponse:
    if not principal.county_wide and principal.township_codes:
        return _map(request, conn, principal, township=principal.township_codes[0], plan=plan)
    return _map(request, conn, principal, plan=plan)


@router.get("/township/{code}", response_class=HTMLResponse, summary="乡镇四色风险图")
def township_map(request: Request, code: Text, conn: ConnDep, principal: PrincipalDep) -> HTMLResponse:
    return _map(request, conn, principal, township=code)


@router.get("/grid/{code}", response_class=HTMLResponse, summary="网格四色风险图")
def grid_map(request: Request, code: Text, conn: ConnDep, principal: PrincipalDep) -> HTMLResponse:
    return _map(request, conn, principal, grid=code)


@router.get("/pipeline/{code}", response_class=HTMLResponse, summary="管道沿线风险图")
def pipeline_map(request: Request, code: Text, conn: ConnDep, principal: PrincipalDep) -> HTMLResponse:
    return _map(request, conn, principal, pipeline=code)


@router.get("/mine/{licence_no}", response_class=HTMLResponse, summary="矿山风险图")
def mine_map(request: Request, licence_no: Text, conn: ConnDep, principal: PrincipalDep) -> HTMLResponse:
    return _map(request, conn, principal, mine=licence_no)
