"""Map pages (Folium HTML): the county, a township, a grid cell."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.deps import ConnDep
from api.security import nonce_of
from api.text import Text
from layers.pages import render_page

router = APIRouter(prefix="/maps", tags=["maps 地图"])


@router.get("", response_class=HTMLResponse, summary="全县四色风险图（plan=计划编号 时显示巡查路线）")
def county_map(request: Request, conn: ConnDep, plan: int | None = None) -> HTMLResponse:
    return HTMLResponse(render_page(conn, plan=plan, nonce=nonce_of(request)), headers={"Cache-Control": "no-store"})


@router.get("/township/{code}", response_class=HTMLResponse, summary="乡镇四色风险图")
def township_map(request: Request, code: Text, conn: ConnDep) -> HTMLResponse:
    return HTMLResponse(render_page(conn, township=code, nonce=nonce_of(request)), headers={"Cache-Control": "no-store"})


@router.get("/grid/{code}", response_class=HTMLResponse, summary="网格四色风险图")
def grid_map(request: Request, code: Text, conn: ConnDep) -> HTMLResponse:
    return HTMLResponse(render_page(conn, grid=code, nonce=nonce_of(request)), headers={"Cache-Control": "no-store"})


@router.get("/pipeline/{code}", response_class=HTMLResponse, summary="管道沿线风险图")
def pipeline_map(request: Request, code: Text, conn: ConnDep) -> HTMLResponse:
    return HTMLResponse(render_page(conn, pipeline=code, nonce=nonce_of(request)), headers={"Cache-Control": "no-store"})


@router.get("/mine/{licence_no}", response_class=HTMLResponse, summary="矿山风险图")
def mine_map(request: Request, licence_no: Text, conn: ConnDep) -> HTMLResponse:
    return HTMLResponse(render_page(conn, mine=licence_no, nonce=nonce_of(request)), headers={"Cache-Control": "no-store"})
