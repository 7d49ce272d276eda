"""Attachments over HTTP: upload a photo or document for a record, list a record's attachments, fetch one (or its
thumbnail). Everything goes through geo.attachments on the request's database role, so row-level security decides
who sees and who may attach (a record out of scope is 404, a write the role may not make 403). Cookie-carried
uploads need the CSRF token like every other write (api/csrf.py).

Files are served with the type recognised at upload, `X-Content-Type-Options: nosniff` and a sandboxing
Content-Security-Policy; images inline, PDFs only as downloads — nothing uploaded is ever rendered as a page.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.auth import PrincipalDep
from api.deps import ConnDep, TxDep
from geo.attachments import (
    AttachmentMeta,
    check_size,
    get_attachment,
    limit_text,
    list_attachments,
    read_attachment,
    store_attachment,
)
from geo.config import Settings, get_settings

router = APIRouter(tags=["attachments 附件"])

UPLOAD_PATH = "/api/attachments"
FORM_OVERHEAD_BYTES = 64 * 1024
"""Room for the multipart boundaries and the other form fields around the file itself."""
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "application/pdf": "pdf"}
FILE_CSP = "default-src 'none'; sandbox"
"""A served file may run nothing and load nothing, even if a browser were talked into rendering it."""

OwnerKind = Literal["hazard", "encroachment", "inspection", "enterprise", "plan_stop"]
IdQ = Annotated[int, Path(ge=1, le=2**63 - 1, description="附件编号")]


def upload_limits(settings: Settings) -> dict[str, tuple[int, str]]:
    """The upload route's body limit for api.limits.BodyLimit: 413 from Content-Length, before the body is read."""
    return {UPLOAD_PATH: (settings.attachment_max_bytes + FORM_OVERHEAD_BYTES,
                          f"附件过大：单个附件上限 {limit_text(settings.attachment_max_bytes)}（本地规定）")}


class AttachmentOut(BaseModel):
    """One attachment's metadata (its bytes: GET /api/attachments/{id})."""

    id: int
    owner_kind: OwnerKind = Field(description="所属：hazard 隐患 / encroachment 占压点 / inspection 检查记录 / "
                                              "enterprise 企业 / plan_stop 巡查站点")
    owner_id: int = Field(description="所属记录的编号（id）")
    filename: str = Field(description="原文件名")
    content_type: str = Field(description="按文件内容识别的类型：image/jpeg、image/png、image/webp、application/pdf")
    size_bytes: int
    sha256: str = Field(description="文件内容的 SHA-256（十六进制），也是 ETag")
    taken_at: dt.datetime | None = Field(description="照片 EXIF 拍摄时间（DateTimeOriginal）")
    lon: float | None = Field(description="照片 EXIF GPS 经度（EPSG:4490 度）")
    lat: float | None = Field(description="照片 EXIF GPS 纬度（EPSG:4490 度）")
    created_by: str = Field(description="上传人（登录名）")
    created_at: dt.datetime
    has_thumbnail: bool = Field(description="是否有缩略图（图片才有）：GET /api/attachments/{id}/thumbnail")


@router.post(UPLOAD_PATH, status_code=201, response_model=AttachmentOut,
             summary="上传附件（照片 JPEG/PNG/WebP 或 PDF 文书）；带 client_id 重发只存一次（已存过则 200）",
             responses={200: {"description": "该 client_id 已上传过：返回已存的附件，未重复保存"},
                        413: {"description": "附件超过大小上限（本地规定，默认 10 MB）"}})
def upload_attachment(
    response: Response, principal: PrincipalDep, conn: TxDep,
    owner_kind: Annotated[OwnerKind, Form(description="所属记录的类型")],
    owner_id: Annotated[int, Form(ge=1, le=2**63 - 1, description="所属记录的编号（id）")],
    file: Annotated[UploadFile, File(description="文件：JPEG/PNG/WebP 图片或 PDF")],
    client_id: Annotated[uuid.UUID | None, Form(description="客户端生成的 UUID：同一附件重发时只保存一次")] = None,
) -> dict[str, Any]:
    data = _read(file)
    meta = store_attachment(conn, owner_kind=owner_kind, owner_id=owner_id, filename=file.filename or "",
                            content_type=file.content_type or "", data=data, by=principal.username,
                            client_id=client_id)
    if meta.replayed:
        response.status_code = 200
    return meta.to_json()


def _read(file: UploadFile) -> bytes:
    """The upload's bytes, refused (413) as soon as it exceeds the limit."""
    data = file.file.read(get_settings().attachment_max_bytes + 1)
    check_size(len(data))
    return data


@router.get(UPLOAD_PATH, response_model=list[AttachmentOut], summary="某条记录的附件（按上传先后）")
def attachments_of(conn: ConnDep,
                   owner_kind: Annotated[OwnerKind, Query(description="所属记录的类型")],
                   owner_id: Annotated[int, Query(ge=1, le=2**63 - 1, description="所属记录的编号（id）")],
                   ) -> list[dict[str, Any]]:
    return [m.to_json() for m in list_attachments(conn, owner_kind, owner_id)]


def _disposition(meta: AttachmentMeta, *, inline: bool, suffix: str = "") -> str:
    """RFC 6266 with the original name RFC 5987-encoded, and a plain ASCII name for old clients."""
    ascii_name = f"attachment-{meta.id}{suffix}.{EXTENSIONS.get(meta.content_type, 'bin')}"
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(meta.filename, safe='')}"


def _etag(meta: AttachmentMeta, thumbnail: bool) -> str:
    return f'"{meta.sha256}-thumbnail"' if thumbnail else f'"{meta.sha256}"'


def _file(request: Request, conn: ConnDep, attachment_id: int, *, thumbnail: bool) -> Response:
    """The file or its thumbnail; 304 when the browser's copy is current (checked before the bytes are read)."""
    wanted = {t.strip().removeprefix("W/") for t in request.headers.get("if-none-match", "").split(",") if t.strip()}
    if wanted:
        meta = get_attachment(conn, attachment_id)
        if _etag(meta, thumbnail) in wanted and (meta.has_thumbnail or not thumbnail):
            return Response(status_code=304, headers=_headers(meta, thumbnail))
    meta, data = read_attachment(conn, attachment_id, thumbnail=thumbnail)
    kind = "image/jpeg" if thumbnail else meta.content_type
    return Response(content=data, media_type=kind, headers=_headers(meta, thumbnail))


def _headers(meta: AttachmentMeta, thumbnail: bool) -> dict[str, str]:
    inline = thumbnail or meta.content_type.startswith("image/")
    return {"ETag": _etag(meta, thumbnail), "Cache-Control": "private, no-cache", "Content-Security-Policy": FILE_CSP,
            "Content-Disposition": _disposition(meta, inline=inline, suffix="-thumbnail" if thumbnail else "")}


@router.get(UPLOAD_PATH + "/{attachment_id}", response_class=Response, summary="附件文件（图片直接显示，PDF 下载）",
            responses={200: {"content": {t: {} for t in EXTENSIONS}, "description": "文件本身；ETag 为 SHA-256"}})
def attachment_file(attachment_id: IdQ, request: Request, conn: ConnDep) -> Response:
    return _file(request, conn, attachment_id, thumbnail=False)


@router.get(UPLOAD_PATH + "/{attachment_id}/thumbnail", response_class=Response,
            summary="附件缩略图（JPEG，长边不超过 320 像素；PDF 没有）",
            responses={200: {"content": {"image/jpeg": {}}, "description": "缩略图"}})
def attachment_thumbnail(attachment_id: IdQ, request: Request, conn: ConnDep) -> Response:
    return _file(request, conn, attachment_id, thumbnail=True)
