"""Health: is the service up and can it reach PostGIS."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from geo.db import get_engine

router = APIRouter(tags=["health 健康检查"])


@router.get("/health", summary="服务与数据库状态")
def health() -> JSONResponse:
    try:
        with get_engine().connect() as conn:
            postgis = conn.execute(text("SELECT postgis_lib_version()")).scalar_one()
        return JSONResponse({"status": "ok", "database": "ok", "postgis": postgis})
    except DBAPIError:
        return JSONResponse({"status": "degraded", "database": "unavailable", "message": "数据库不可用"},
                            status_code=503)
