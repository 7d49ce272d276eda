"""数据管理 pages: import a file into a layer (all or nothing, rejects shown and downloadable) and edit features on
the map (the feature API does the writes, with versions; township scope is the database's row-level security)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse

from api.auth import PrincipalDep
from api.deps import ConnDep
from api.pages import page
from geo.access.principal import Forbidden, Principal
from geo.access.roles import ROLE_LABELS, TOWNSHIP_WRITES
from geo.config import get_settings
from geo.db import get_engine
from geo.edit import EDITABLE
from geo.errors import InvalidInput, RiskmapError
from geo.features import layer_spec
from geo.io.importer import ImportRejected, import_file
from geo.io.layers import LAYERS
from geo.io.readers import TABLE_SUFFIXES, VECTOR_SUFFIXES
from geo.io.reports import rejects_file, store_rejects
from layers.basemap import editor_tiles

router = APIRouter(include_in_schema=False)

EDITORS = ("admin", "county_editor", "township_editor")
IMPORTERS = ("admin", "county_editor")
"""Imports write county-wide in one transaction, so only county staff make them; township editors edit on the map."""

CRS_CHOICES = {"auto": "自动（按文件声明，未声明按 CGCS2000 经纬度）", "EPSG:4490": "CGCS2000 经纬度（EPSG:4490）",
               "EPSG:4326": "WGS 84 经纬度（EPSG:4326，GPS）", "gcj02": "GCJ-02（高德、腾讯地图坐标）",
               "gk": "CGCS2000 高斯–克吕格投影（填 EPSG 代码 4491–4554）"}
ENCODINGS = {"": "自动识别（UTF-8 / GBK / GB18030）", "utf-8": "UTF-8", "gbk": "GBK", "gb18030": "GB18030"}
REJECTS_SHOWN = 500
"""Rejects listed on the page; the downloads hold them all."""
_SAFE_NAME = re.compile(r"[^\w.\-（）()\u4e00-\u9fff]+")


def _editor(principal: Principal, roles: tuple[str, ...] = EDITORS) -> None:
    principal.require(*roles)


def forbidden_page(request: Request, principal: Principal, conn: Any, exc: Forbidden, nav: str) -> HTMLResponse:
    """The Chinese 403 page of the workbench."""
    return page(request, principal, "forbidden.html", conn=conn, status=403, nav=nav, crumbs=[("无权访问", None)],
                message=exc.message)


def _import_form(request: Request, principal: Principal, conn: Any, *, status: int = 200, **ctx: Any) -> HTMLResponse:
    form = {"layer": "enterprise", "crs": "auto", "epsg": "", "encoding": "", "repair": False, "update": False,
            "allow_outside": False, "sheet": ""}
    form.update(ctx.pop("form", {}))
    return page(request, principal, "data_import.html", conn=conn, status=status, nav="data",
                crumbs=[("数据管理", None)], layers=LAYERS, crs_choices=CRS_CHOICES, encodings=ENCODINGS,
                form=form, can_import=principal.role in IMPORTERS, result=ctx.pop("result", None),
                rejected=ctx.pop("rejected", None), error=ctx.pop("error", None), report=ctx.pop("report", None),
                shown=REJECTS_SHOWN, **ctx)


@router.get("/data", response_class=HTMLResponse)
def data_home(request: Request, principal: PrincipalDep, conn: ConnDep) -> HTMLResponse:
    """The import form (county staff) and the way to the map editor."""
    try:
        _editor(principal)
    except Forbidden as exc:
        return forbidden_page(request, principal, conn, exc, "data")
    return _import_form(request, principal, conn)


def _crs(crs: str, epsg: str) -> str:
    """The CRS option from the form: one of the choices, or EPSG:<4491–4554> for a Gauss–Krüger zone."""
    if crs == "gk":
        code = epsg.strip().upper().removeprefix("EPSG:")
        if not code.isdigit() or not 4491 <= int(code) <= 4554:
            raise InvalidInput("高斯–克吕格投影请填写 EPSG 代码 4491–4554（如 4546）")
        return f"EPSG:{code}"
    if crs not in CRS_CHOICES:
        raise InvalidInput("请选择坐标系")
    return crs


def _save_uploads(files: list[UploadFile], folder: Path) -> Path:
    """Write the uploaded files into `folder`; the one to import is the .shp among them, else the only file."""
    saved = []
    for upload in files:
        name = _SAFE_NAME.sub("_", Path(upload.filename or "").name)[-120:].lstrip(".")
        if not name:
            continue
        path = folder / name
        with path.open("wb") as fh:
            while chunk := upload.file.read(1 << 20):
                fh.write(chunk)
        saved.append(path)
    if not saved:
        raise InvalidInput("请选择要导入的文件")
    shp = [p for p in saved if p.suffix.lower() == ".shp"]
    main = shp[0] if shp else saved[0]
    if len(saved) > 1 and not shp:
        raise InvalidInput("一次只导入一个文件（Shapefile 可同时选 .shp/.dbf/.shx/.prj/.cpg，或打包成 .zip）")
    if main.suffix.lower() not in VECTOR_SUFFIXES | TABLE_SUFFIXES:
        known = "、".join(sorted(VECTOR_SUFFIXES | TABLE_SUFFIXES))
        raise InvalidInput(f"不支持的文件类型 {main.suffix or '（无扩展名）'}（支持：{known}）")
    return main


@router.post("/data/import", response_class=HTMLResponse)
def data_import(request: Request, principal: PrincipalDep, conn: ConnDep,
                files: Annotated[list[UploadFile], File()], layer: Annotated[str, Form()],
                crs: Annotated[str, Form()] = "auto", epsg: Annotated[str, Form()] = "",
                encoding: Annotated[str, Form()] = "", sheet: Annotated[str, Form()] = "",
                repair: Annotated[bool, Form()] = False, update: Annotated[bool, Form()] = False,
                allow_outside: Annotated[bool, Form()] = False) -> HTMLResponse:
    """Import the uploaded file in one transaction: the summary, or the rejects (nothing written) as a table and
    as CSV/xlsx downloads."""
    try:
        _editor(principal, IMPORTERS)
    except Forbidden as exc:
        return forbidden_page(request, principal, conn, exc, "data")
    form = {"layer": layer, "crs": crs, "epsg": epsg, "encoding": encoding, "repair": repair, "update": update,
            "allow_outside": allow_outside, "sheet": sheet}
    try:
        if layer not in LAYERS:
            raise InvalidInput("请选择要导入的图层")
        if encoding not in ENCODINGS:
            raise InvalidInput("请选择文字编码")
        option = _crs(crs, epsg)
        with tempfile.TemporaryDirectory(prefix="riskmap-upload-") as folder:
            path = _save_uploads(files, Path(folder))
            result = import_file(get_engine(), layer, path, crs=option, repair=repair, update=update,
                                 allow_outside=allow_outside, encoding=encoding or None, sheet=sheet.strip() or None,
                                 actor=(principal.username, principal.role))
    except ImportRejected as exc:
        return _import_form(request, principal, conn, status=422, form=form, rejected=exc,
                            report=store_rejects(exc.rejects))
    except RiskmapError as exc:
        return _import_form(request, principal, conn, status=422, form=form, error=exc.message)
    return _import_form(request, principal, conn, form=form, result=result)


@router.get("/data/rejects/{name}.{fmt}")
def rejects_download(name: str, fmt: str, principal: PrincipalDep) -> FileResponse:
    """A stored rejects report (问题清单) as CSV or xlsx."""
    principal.require(*IMPORTERS)
    path = rejects_file(name, fmt)
    media = "text/csv; charset=utf-8" if fmt == "csv" else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return FileResponse(path, media_type=media, filename=f"导入问题清单.{fmt}")


def edit_config(principal: Principal) -> dict[str, Any]:
    """What the map editor needs: the layers this user may edit with their fields, and the user's scope."""
    layers = {}
    for name, spec in EDITABLE.items():
        if not principal.county_wide and spec.table not in TOWNSHIP_WRITES:
            continue  # county-wide tables (mine zones): the database refuses a township editor anyway
        layers[name] = {
            "title": layer_spec(name).title, "kind": "point" if "Point" in spec.geometry else "polygon",
            "fields": [{"name": k, "label": f.label, "kind": f.kind.__name__, "required": f.required,
                        "choices": f.choices} for k, f in spec.fields.items()]}
    return {"layers": layers, "county_wide": principal.county_wide, "role_label": ROLE_LABELS[principal.role],
            "tiles": editor_tiles(get_settings())}


@router.get("/data/edit", response_class=HTMLResponse)
def data_edit(request: Request, principal: PrincipalDep, conn: ConnDep) -> HTMLResponse:
    """The map editor: select, move, reshape, add and delete features with Leaflet-Geoman."""
    try:
        _editor(principal)
    except Forbidden as exc:
        return forbidden_page(request, principal, conn, exc, "data")
    return page(request, principal, "data_edit.html", conn=conn, nav="data",
                crumbs=[("数据管理", "/data"), ("地图编辑", None)], config=edit_config(principal))
