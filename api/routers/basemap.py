"""The local MBTiles basemap, served by the app for intranets with no tile server."""

from __future__ import annotations

from fastapi import APIRouter, Response

from geo.config import get_settings
from geo.errors import NotFound
from geo.mbtiles import read_tile, tile_format

router = APIRouter(prefix="/basemap", tags=["basemap 底图"])


_IMAGE = {"schema": {"type": "string", "format": "binary"}}


@router.get("/{z}/{x}/{y}", summary="本地 MBTiles 底图瓦片", response_class=Response,
            responses={200: {"description": "底图瓦片图片",
                             "content": {"image/png": _IMAGE, "image/jpeg": _IMAGE, "image/webp": _IMAGE}}})
def basemap_tile(z: int, x: int, y: int) -> Response:
    path = get_settings().mbtiles_path
    if path is None:
        raise NotFound("未配置本地底图（RISKMAP_MBTILES_PATH）")
    fmt = tile_format(path)
    return Response(read_tile(path, z, x, y), media_type=f"image/{'jpeg' if fmt in ('jpg', 'jpeg') else fmt}",
                    headers={"Cache-Control": "public, max-age=86400"})
