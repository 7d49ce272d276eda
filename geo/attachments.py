"""Attachments: photos and documents of a hazard, an encroachment, an inspection, an enterprise or a plan stop,
stored in PostgreSQL (table `attachment`, migration 0014_attachments).

The bytes live in the database, so township scope (row-level security on the owner's township), the audit log
and `riskmap backup`/`restore` cover them like every other row. A file's type is read from its first bytes
(JPEG, PNG, WebP, PDF); a photo gets a JPEG thumbnail (≤ 320 px) and what its EXIF says — the time it was taken
(DateTimeOriginal) and its GPS position, kept as the camera wrote them (EPSG:4490 degrees; a phone's GPS is
WGS 84, which agrees with CGCS2000 to well under 1 m). A client-made `client_id` makes an upload idempotent:
the same id sent twice is stored once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import math
import re
import struct
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from geo.access.principal import Forbidden
from geo.config import get_settings
from geo.errors import Conflict, InvalidInput, NotFound, RiskmapError

OWNER_KINDS: dict[str, str] = {
    "hazard": "隐患", "encroachment": "占压点", "inspection": "检查记录", "enterprise": "企业", "plan_stop": "巡查站点",
}
"""What an attachment may belong to (owner_kind → Chinese label); the table of each is named the same."""

CONTENT_TYPES: dict[str, str] = {
    "image/jpeg": "JPEG 照片", "image/png": "PNG 图片", "image/webp": "WebP 图片", "application/pdf": "PDF 文件",
}
"""Accepted types, each recognised from the file's first bytes (what the client declares must agree)."""

IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
THUMBNAIL_PX = 320
"""Longest side of a thumbnail, in pixels."""
CHINA_STANDARD_TIME = dt.timezone(dt.timedelta(hours=8))
"""EXIF DateTimeOriginal is the camera's local time; without OffsetTimeOriginal it is read as 北京时间 (UTC+8)."""
_EXIF_BLOB_BYTES = 64
"""A binary EXIF value longer than this (MakerNote, embedded previews) is kept as its length only."""

MSG = {
    "kind": "字段 owner_kind（附件所属）应为 {kinds} 之一，不是“{value}”",
    "owner": "没有编号为 {id} 的{label}，或不在你的辖区内",
    "empty": "字段 file（附件）：文件为空",
    "too_large": "字段 file（附件）：文件过大（{size:.2f} MB），单个附件上限 {limit}（本地规定）",
    "type": "字段 file（附件）：只接受 JPEG/PNG/WebP 图片或 PDF 文件{declared}",
    "mismatch": "字段 file（附件）：文件内容为 {actual}，与声明的类型 {declared} 不符",
    "undecodable": "字段 file（附件）：图片已损坏或无法解码（{detail}）",
    "client_id": "字段 client_id：该编号已用于另一个附件（{detail}），未保存",
    "scope": ("超出辖区或无权为该{label}上传附件：乡镇编辑只能为本人所辖乡镇的记录上传，巡查员只能为本组巡查站点的"
              "企业及其隐患、检查记录或本人登记的记录上传，县级查看账号不能上传"),
    "not_found": "没有编号为 {id} 的附件，或不在你的辖区内",
    "no_thumbnail": "附件 {id} 没有缩略图（只有图片有）",
}


class AttachmentTooLarge(RiskmapError):
    """A file over settings.attachment_max_bytes (HTTP 413)."""

    code = "attachment_too_large"


@dataclass(frozen=True)
class AttachmentMeta:
    """One stored attachment, without its bytes. lon/lat: EPSG:4490 degrees from the photo's EXIF GPS, or None."""

    id: int
    owner_kind: str
    owner_id: int
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    taken_at: dt.datetime | None
    lon: float | None
    lat: float | None
    created_by: str
    created_at: dt.datetime
    has_thumbnail: bool
    replayed: bool = False
    """True when store_attachment found the client_id already stored (nothing new was written)."""

    def to_json(self) -> dict[str, Any]:
        """The metadata as JSON (times ISO 8601 with offset); `replayed` is not part of it."""
        return {"id": self.id, "owner_kind": self.owner_kind, "owner_id": self.owner_id, "filename": self.filename,
                "content_type": self.content_type, "size_bytes": self.size_bytes, "sha256": self.sha256,
                "taken_at": self.taken_at.isoformat() if self.taken_at else None, "lon": self.lon, "lat": self.lat,
                "created_by": self.created_by, "created_at": self.created_at.isoformat(),
                "has_thumbnail": self.has_thumbnail}


# --- checking what arrives ---------------------------------------------------------------------------------------

def sniff_content_type(data: bytes) -> str | None:
    """The accepted type the bytes are (JPEG, PNG, WebP, PDF), or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def _check_kind(owner_kind: str) -> str:
    if owner_kind not in OWNER_KINDS:
        raise InvalidInput(MSG["kind"].format(kinds="、".join(OWNER_KINDS), value=str(owner_kind)[:30]))
    return owner_kind


def limit_text(limit_bytes: int | None = None) -> str:
    """The attachment size limit as a person reads it: "10 MB", "4 KB"."""
    n = get_settings().attachment_max_bytes if limit_bytes is None else limit_bytes
    return f"{n / 1048576:g} MB" if n >= 1048576 else f"{n / 1024:g} KB" if n >= 1024 else f"{n} 字节"


def check_size(size_bytes: int) -> None:
    """AttachmentTooLarge above settings.attachment_max_bytes (本地规定, default 10 MB)."""
    if size_bytes > get_settings().attachment_max_bytes:
        raise AttachmentTooLarge(MSG["too_large"].format(size=size_bytes / 1048576, limit=limit_text()))


def _checked_type(data: bytes, declared: str | None) -> str:
    declared = (declared or "").split(";")[0].strip().lower()
    actual = sniff_content_type(data)
    if actual is None:
        shown = f"（收到的是 {declared[:60]}）" if declared and declared != "application/octet-stream" else ""
        raise InvalidInput(MSG["type"].format(declared=shown))
    if declared and declared not in (actual, "application/octet-stream"):
        raise InvalidInput(MSG["mismatch"].format(actual=CONTENT_TYPES[actual], declared=declared[:60]))
    return actual


def safe_filename(name: str) -> str:
    """The file's own name (no folders, no control characters), at most 120 characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()
    return base[:120] or "附件"


# --- what a photo says about itself -----------------------------------------------------------------------------

def _json_value(value: Any) -> Any:
    """An EXIF value as JSON: rationals as numbers, short byte strings as text or hex, long ones as their length."""
    from PIL.TiffImagePlugin import IFDRational

    if isinstance(value, IFDRational):
        if value.denominator == 0:
            return None
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        return value.replace("\x00", "").strip()
    if isinstance(value, bytes):
        if len(value) > _EXIF_BLOB_BYTES:
            return {"bytes": len(value)}
        stripped = value.rstrip(b"\x00")
        if stripped.isascii() and all(32 <= b < 127 for b in stripped):
            return stripped.decode("ascii")
        return {"hex": value.hex()}
    if isinstance(value, tuple | list):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return str(value).replace("\x00", "")[:200]


def _ifd_json(ifd: Any, names: dict[int, str]) -> dict[str, Any]:
    return {names.get(tag, f"0x{tag:04x}"): _json_value(value) for tag, value in ifd.items()}


def _degrees(value: Any, ref: Any, negative: str) -> float | None:
    try:
        d, m, s = (float(v) for v in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    deg = d + m / 60 + s / 3600
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    if str(ref or "").strip().upper() == negative:
        deg = -deg
    return deg if math.isfinite(deg) else None


def _taken_at(exif_ifd: Any) -> dt.datetime | None:
    raw = exif_ifd.get(0x9003) or exif_ifd.get(0x9004)  # DateTimeOriginal, else DateTimeDigitized
    if not isinstance(raw, str):
        return None
    try:
        local = dt.datetime.strptime(raw.replace("\x00", "").strip()[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    offset = exif_ifd.get(0x9011)  # OffsetTimeOriginal, e.g. "+08:00"
    zone = CHINA_STANDARD_TIME
    if isinstance(offset, str) and re.fullmatch(r"[+-][0-9]{2}:[0-9]{2}", offset.strip()):
        sign = -1 if offset.strip()[0] == "-" else 1
        hours, minutes = (int(p) for p in offset.strip()[1:].split(":"))
        if hours <= 14 and minutes < 60:
            zone = dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
    if not 1990 <= local.year <= 2100:
        return None
    return local.replace(tzinfo=zone)


@dataclass(frozen=True)
class _Photo:
    thumbnail: bytes | None
    taken_at: dt.datetime | None
    lon: float | None
    lat: float | None
    exif: dict[str, Any] | None


def read_photo(data: bytes) -> _Photo:
    """Thumbnail, EXIF time and GPS position, and the EXIF tags of an image (Pillow); InvalidInput when the image
    cannot be decoded."""
    from PIL import ExifTags, Image, ImageOps

    try:
        with warnings.catch_warnings():
            # a 100-megapixel phone photo is no bomb: it is decoded at 1/8 scale below (JPEG draft mode)
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            exif = img.getexif()
            exif_ifd = exif.get_ifd(ExifTags.IFD.Exif)
            gps_ifd = exif.get_ifd(ExifTags.IFD.GPSInfo)
            tags: dict[str, Any] = {}
            if exif:
                tags["image"] = _ifd_json({k: v for k, v in exif.items() if k not in (0x8769, 0x8825)},
                                          ExifTags.TAGS)
            if exif_ifd:
                tags["exif"] = _ifd_json(exif_ifd, ExifTags.TAGS)
            if gps_ifd:
                tags["gps"] = _ifd_json(gps_ifd, ExifTags.GPSTAGS)
            lat = _degrees(gps_ifd.get(2), gps_ifd.get(1), "S") if gps_ifd else None
            lon = _degrees(gps_ifd.get(4), gps_ifd.get(3), "W") if gps_ifd else None
            if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
                lat = lon = None
            img.draft("RGB", (THUMBNAIL_PX, THUMBNAIL_PX))
            img.load()
            img = ImageOps.exif_transpose(img)
            img.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
            if img.mode in ("RGBA", "LA", "P", "PA"):
                rgba = img.convert("RGBA")
                flat = Image.new("RGB", rgba.size, (255, 255, 255))
                flat.paste(rgba, mask=rgba.getchannel("A"))
                img = flat
            elif img.mode != "RGB":
                img = img.convert("RGB")
            out = io.BytesIO()
            img.save(out, "JPEG", quality=80, optimize=True)
    except Image.DecompressionBombError:
        return _Photo(None, None, None, None, None)
    except (OSError, SyntaxError, ValueError, TypeError, KeyError, IndexError, struct.error, EOFError) as exc:
        # what Pillow raises on broken or hostile files
        raise InvalidInput(MSG["undecodable"].format(detail=type(exc).__name__)) from None
    return _Photo(out.getvalue(), _taken_at(exif_ifd), lon, lat, tags or None)


# --- storing and reading -----------------------------------------------------------------------------------------

_COLUMNS = ("id, owner_kind, owner_id, filename, content_type, size_bytes, sha256, taken_at, "
            "ST_X(position) AS lon, ST_Y(position) AS lat, created_by, created_at, "
            "thumbnail IS NOT NULL AS has_thumbnail")
_META = f"SELECT {_COLUMNS} FROM attachment"

_INSERT = """
    INSERT INTO attachment (owner_kind, owner_id, filename, content_type, size_bytes, sha256, data, thumbnail,
                            taken_at, position, exif, client_id, created_by)
    VALUES (:kind, :owner, :filename, :type, :size, :sha256, :data, :thumbnail, :taken_at,
            CASE WHEN CAST(:lon AS float8) IS NULL THEN NULL
                 ELSE ST_SetSRID(ST_MakePoint(CAST(:lon AS float8), CAST(:lat AS float8)), 4490) END,
            CAST(:exif AS jsonb), CAST(:client_id AS uuid), :by)
    ON CONFLICT (client_id) DO NOTHING
    RETURNING id
"""


def _row(owner_kind: str, owner_id: int, filename: str, content_type: str, data: bytes, digest: str, by: str,
         client_id: uuid.UUID | None) -> dict[str, Any]:
    """The parameters of _INSERT for one checked file."""
    photo = read_photo(data) if content_type in IMAGE_TYPES else _Photo(None, None, None, None, None)
    return {"kind": owner_kind, "owner": owner_id, "filename": safe_filename(filename), "type": content_type,
            "size": len(data), "sha256": digest, "data": data, "thumbnail": photo.thumbnail,
            "taken_at": photo.taken_at, "lon": photo.lon, "lat": photo.lat,
            "exif": json.dumps(photo.exif, ensure_ascii=False) if photo.exif else None,
            "client_id": str(client_id) if client_id else None, "by": by[:100]}


def _meta(row: Any, *, replayed: bool = False) -> AttachmentMeta:
    return AttachmentMeta(id=int(row.id), owner_kind=row.owner_kind, owner_id=int(row.owner_id), filename=row.filename,
                          content_type=row.content_type, size_bytes=int(row.size_bytes), sha256=row.sha256,
                          taken_at=row.taken_at, lon=row.lon, lat=row.lat, created_by=row.created_by,
                          created_at=row.created_at, has_thumbnail=bool(row.has_thumbnail), replayed=replayed)


def _require_owner(conn: Connection, owner_kind: str, owner_id: int) -> None:
    """NotFound unless the owner exists and the caller may see it (row-level security decides)."""
    if not 1 <= owner_id <= 2**63 - 1 or conn.execute(
            text(f"SELECT 1 FROM {owner_kind} WHERE id = :id"), {"id": owner_id}).first() is None:
        raise NotFound(MSG["owner"].format(id=owner_id, label=OWNER_KINDS[owner_kind]))


def _by_client_id(conn: Connection, client_id: uuid.UUID) -> AttachmentMeta | None:
    row = conn.execute(text(_META + " WHERE client_id = CAST(:c AS uuid)"), {"c": str(client_id)}).first()
    return _meta(row, replayed=True) if row else None


def _same_upload(found: AttachmentMeta, owner_kind: str, owner_id: int, digest: str) -> AttachmentMeta:
    if (found.owner_kind, found.owner_id, found.sha256) != (owner_kind, owner_id, digest):
        raise Conflict(MSG["client_id"].format(detail=f"{OWNER_KINDS.get(found.owner_kind, '')} {found.owner_id}"))
    return found


def store_attachment(conn: Connection, *, owner_kind: str, owner_id: int, filename: str, content_type: str,
                     data: bytes, by: str, client_id: uuid.UUID | None = None) -> AttachmentMeta:
    """Store one file for a record the caller may see and write: type read from its bytes (JPEG/PNG/WebP/PDF, and
    agreeing with `content_type`), size limited (AttachmentTooLarge), a thumbnail and the EXIF time and position of
    a photo. With `client_id`, a second call returns the first call's row (`replayed` True) and stores nothing."""
    _check_kind(owner_kind)
    check_size(len(data))
    if not data:
        raise InvalidInput(MSG["empty"])
    actual = _checked_type(data, content_type)
    digest = hashlib.sha256(data).hexdigest()
    _require_owner(conn, owner_kind, owner_id)
    if client_id is not None and (found := _by_client_id(conn, client_id)) is not None:
        return _same_upload(found, owner_kind, owner_id, digest)
    params = _row(owner_kind, owner_id, filename, actual, data, digest, by, client_id)
    try:
        with conn.begin_nested():
            new_id = conn.execute(text(_INSERT), params).scalar()
    except DBAPIError as exc:
        if getattr(exc.orig, "pgcode", None) == "42501":  # grants or row-level security
            raise Forbidden(MSG["scope"].format(label=OWNER_KINDS[owner_kind])) from None
        raise
    if new_id is None:  # the same client_id was stored meanwhile (a concurrent replay)
        found = _by_client_id(conn, client_id) if client_id else None
        if found is None:
            raise Conflict(MSG["client_id"].format(detail="不在你的辖区内"))
        return _same_upload(found, owner_kind, owner_id, digest)
    row = conn.execute(text(_META + " WHERE id = :id"), {"id": new_id}).one()
    return _meta(row)


def may_attach(conn: Connection, owner_kind: str, owner_id: int) -> bool:
    """Whether the caller may attach files to this record it sees (to show an upload form only to those who may):
    county viewers never, inspectors where migration 0014's rule allows, everyone else who sees the record."""
    return bool(conn.execute(text(
        "SELECT CASE current_setting('riskmap.role', true) WHEN 'county_viewer' THEN false "
        "WHEN 'inspector' THEN riskmap_attachment_writable(:k, :i) ELSE true END"),
        {"k": _check_kind(owner_kind), "i": owner_id}).scalar())


def list_attachments(conn: Connection, owner_kind: str, owner_id: int) -> list[AttachmentMeta]:
    """The attachments of one record the caller may see, oldest first (NotFound for a record out of scope)."""
    _check_kind(owner_kind)
    _require_owner(conn, owner_kind, owner_id)
    rows = conn.execute(text(_META + " WHERE owner_kind = :k AND owner_id = :i ORDER BY id"),
                        {"k": owner_kind, "i": owner_id})
    return [_meta(r) for r in rows]


def get_attachment(conn: Connection, attachment_id: int) -> AttachmentMeta:
    """One attachment's metadata (no bytes read), if the caller may see it; NotFound otherwise."""
    if not 1 <= attachment_id <= 2**63 - 1:
        raise NotFound(MSG["not_found"].format(id=attachment_id))
    row = conn.execute(text(_META + " WHERE id = :id"), {"id": attachment_id}).first()
    if row is None:
        raise NotFound(MSG["not_found"].format(id=attachment_id))
    return _meta(row)


def read_attachment(conn: Connection, attachment_id: int, *, thumbnail: bool = False) -> tuple[AttachmentMeta, bytes]:
    """One attachment the caller may see and its bytes (or its JPEG thumbnail); NotFound otherwise."""
    if not 1 <= attachment_id <= 2**63 - 1:
        raise NotFound(MSG["not_found"].format(id=attachment_id))
    column = "thumbnail" if thumbnail else "data"
    row = conn.execute(text(f"SELECT {_COLUMNS}, {column} AS payload FROM attachment WHERE id = :id"),
                       {"id": attachment_id}).first()
    if row is None:
        raise NotFound(MSG["not_found"].format(id=attachment_id))
    if row.payload is None:
        raise NotFound(MSG["no_thumbnail"].format(id=attachment_id))
    return _meta(row), bytes(row.payload)


def adopt_legacy_files(conn: Connection, folder: Path) -> int:
    """Copy the files uploaded to dossiers before the attachment table (register events naming a SHA-256, bytes under
    `folder`) into it, with their name, uploader and time; idempotent (a file already there for its owner is
    skipped). Run by migration 0014_attachments as the schema owner; returns how many were copied."""
    rows = conn.execute(text(
        "SELECT e.object_kind, e.object_id, e.changed_by, e.changed_at, e.changes -> 'attachment' AS meta "
        "FROM register_event e WHERE e.changes ? 'attachment' AND e.object_kind IN ('encroachment', 'hazard') "
        "AND NOT EXISTS (SELECT 1 FROM attachment a WHERE a.owner_kind = e.object_kind AND a.owner_id = e.object_id "
        "                AND a.sha256 = e.changes -> 'attachment' ->> 'sha256') ORDER BY e.id")).all()
    copied = 0
    for r in rows:
        digest = str((r.meta or {}).get("sha256") or "")
        path = folder / digest[:2] / digest
        if not re.fullmatch(r"[0-9a-f]{64}", digest) or not path.is_file():
            continue
        data = path.read_bytes()
        actual = sniff_content_type(data)
        if actual is None or hashlib.sha256(data).hexdigest() != digest:
            continue
        params = _row(r.object_kind, int(r.object_id), str(r.meta.get("name") or ""), actual, data, digest,
                      str(r.changed_by or ""), None)
        new_id = conn.execute(text(_INSERT), params).scalar()
        conn.execute(text("UPDATE attachment SET created_at = :at WHERE id = :id"), {"at": r.changed_at, "id": new_id})
        copied += 1
    return copied
