"""Vector tiles (MVT) for the dense layers; never cached, so colours follow the data at once."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from api.compress import TILE_LEVEL, maybe_gzip
from api.deps import BearerDep, ConnDep, read_connection
from api.text import Text
from geo.ogc import layer_tilejson
from geo.reference import reference_labels
from geo.tiles import tile

router = APIRouter(prefix="/tiles", tags=["tiles 矢量瓦片"])

MVT = "application/vnd.mapbox-vector-tile"


@router.get("/reference/{z}/{x}/{y}.json", summary="参考底图的地名注记（乡镇、村、网格、站场、阀室；瓦片像素坐标）")
def reference_label_tile(z: int, x: int, y: int, conn: ConnDep) -> dict[str, Any]:
    return {"labels": reference_labels(conn, z, x, y)}


@router.get("/{layer}/{z}/{x}/{y}.pbf", summary="矢量瓦片（EPSG:3857 瓦片编号）", response_class=Response,
            responses={200: {"description": "MVT 矢量瓦片",
                             "content": {MVT: {"schema": {"type": "string", "format": "binary"}}}},
                       204: {"description": "该瓦片范围内没有要素"}})
async def vector_tile(layer: Text, z: int, x: int, y: int, request: Request, token: BearerDep) -> Response:
    # A map view asks for dozens of tiles of a few milliseconds each, so the fixed cost counts: the login, the tile
    # and the rollback run in ONE worker-thread hop on one connection (a sync route with ConnDep takes three hops).
    return await run_in_threadpool(_vector_tile, request, token, layer, z, x, y)


def _vector_tile(request: Request, token: str | None, layer: str, z: int, x: int, y: int) -> Response:
    with read_connection(request, token) as conn:
        data = tile(conn, layer, z, x, y)
    if not data:
        return Response(status_code=204, media_type=MVT, headers={"Cache-Control": "no-store"})
    body, headers = maybe_gzip(request, data, level=TILE_LEVEL)
    return Response(content=body, media_type=MVT, headers={"Cache-Control": "no-store", **headers})


@router.get("/{layer}.json", summary="TileJSON 3.0（MapLibre、QGIS 按网址添加矢量瓦片）")
def tile_json(layer: Text, request: Request, conn: ConnDep) -> dict[str, Any]:
    return layer_tilejson(conn, layer, str(request.base_url).rstrip("/"))
