"""Vector tiles (MVT) for the dense layers; never cached, so colours follow the data at once."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from api.compress import TILE_LEVEL, maybe_gzip
from api.deps import ConnDep
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
def vector_tile(layer: Text, z: int, x: int, y: int, conn: ConnDep, request: Request) -> Response:
    data = tile(conn, layer, z, x, y)
    if not data:
        return Response(status_code=204, media_type=MVT, headers={"Cache-Control": "no-store"})
    body, headers = maybe_gzip(request, data, level=TILE_LEVEL)
    return Response(content=body, media_type=MVT, headers={"Cache-Control": "no-store", **headers})


@router.get("/{layer}.json", summary="TileJSON 3.0（MapLibre、QGIS 按网址添加矢量瓦片）")
def tile_json(layer: Text, request: Request, conn: ConnDep) -> dict[str, Any]:
    return layer_tilejson(conn, layer, str(request.base_url).rstrip("/"))
