"""The pages' static files, public: /vendor (only the npm files pages use) and /static (layers/static)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from geo.errors import NotFound
from layers.assets import served_files
from layers.web import STATIC

router = APIRouter(include_in_schema=False)

_CACHE = {"Cache-Control": "public, max-age=3600"}


@router.get("/vendor/{path:path}")
def vendor_file(path: str) -> FileResponse:
    """A file of layers.assets.served_files; anything else of node_modules is not there (404)."""
    file = served_files().get(path)
    if file is None:
        raise NotFound("没有这个前端资源")
    return FileResponse(file, headers=_CACHE)


@router.get("/static/{name}")
def static_file(name: str) -> FileResponse:
    """A file directly in layers/static (no sub-folders, no way out of it)."""
    files = {p.name: p for p in STATIC.iterdir() if p.is_file()}
    if name not in files:
        raise NotFound("没有这个静态文件")
    return FileResponse(files[name], headers=_CACHE)


@router.get("/static/field/{name}")
def field_static_file(name: str) -> FileResponse:
    """A file of the field app (layers/static/field): its scripts, style and icon."""
    folder = STATIC / "field"
    files = {p.name: p for p in folder.iterdir() if p.is_file()}
    if name not in files or name == "sw.js":  # the service worker is served from /field/sw.js only
        raise NotFound("没有这个静态文件")
    return FileResponse(files[name], headers={"Cache-Control": "no-cache"})
