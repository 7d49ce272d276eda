"""Map pages (Folium HTML): the county, a township, a grid cell."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.deps import ConnDep
from api.text import Text
from layers.pages import render_page

router = APIRouter(prefix="/maps", tags=["maps 地图"])


@router.get("", response_class=HTMLResponse, summary="全县四色风险图（plan=计划编号 时显示巡查路线）")
def county_map(conn: ConnDep, plan: int | None = None) -> HTMLResponse:
    return HTMLResponse(render_page(conn, plan=plan), headers={"Cache-Control": "no-store"})


@router.get("/township/{code}", response_class=HTMLResponse, summary="乡镇四色风险图")
def township_map(code: Text, conn: ConnDep) -> HTMLResponse:
    return HTMLResponse(render_page(conn, township=code), headers={"Cache-Control": "no-store"})


@router.get("/grid/{code}", response_class=HTMLResponse, summary="网格四色风险图")
def grid_map(code: Text, conn: ConnDep) -> HTMLResponse:
    return HTMLResponse(render_page(conn, grid=code), headers={"Cache-Control": "no-store"})


@router.get("/pipeline/{code}", response_class=HTMLResponse, summary="管道沿线风险图")
def pipeline_map(code: Text, conn: ConnDep) -> HTMLResponse:
    return HTMLResponse(render_page(conn, pipeline=code), headers={"Cache-Control": "no-store"})


@router.get("/mine/{licence_no}", response_class=HTMLResponse, summary="矿山风险图")
def mine_map(licence_no: Text, conn: ConnDep) -> HTMLResponse:
    return HTMLResponse(render_page(conn, mine=licence_no), headers={"Cache-Control": "no-store"})
