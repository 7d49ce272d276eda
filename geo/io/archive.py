"""Zip archives people import (zipped shapefiles, KMZ, xlsx) opened within limits, so a bomb is refused.

The central directory is checked first (member count, total unpacked size, compression ratio of each large
member), then members are unpacked in chunks counting the bytes actually produced: a header that lies is
caught while unpacking, before more than the limit reaches the disk. Limits are settings
(RISKMAP_IMPORT_MAX_UNPACKED_BYTES, _MAX_MEMBERS, _MAX_RATIO).
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from geo.config import get_settings
from geo.errors import InvalidInput

RATIO_FLOOR_BYTES = 1024 * 1024
"""Members that unpack to less than this are not ratio-checked (small, repetitive XML compresses well)."""
CHUNK_BYTES = 1024 * 1024


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


def check_members(archive: zipfile.ZipFile, name: str) -> list[zipfile.ZipInfo]:
    """The archive's members, after refusing too many of them, too large a total or a bomb's ratio."""
    settings = get_settings()
    members = archive.infolist()
    if len(members) > settings.import_max_members:
        raise InvalidInput(f"压缩包 {name} 的文件数 {len(members)} 超过上限 {settings.import_max_members}"
                           "（RISKMAP_IMPORT_MAX_MEMBERS），已拒绝")
    total = sum(m.file_size for m in members)
    if total > settings.import_max_unpacked_bytes:
        raise InvalidInput(f"压缩包 {name} 解压后共 {_mb(total)}，超过上限 {_mb(settings.import_max_unpacked_bytes)}"
                           "（RISKMAP_IMPORT_MAX_UNPACKED_BYTES），已拒绝，未解压")
    for m in members:
        if m.file_size >= RATIO_FLOOR_BYTES and m.file_size > settings.import_max_ratio * max(m.compress_size, 1):
            raise InvalidInput(f"压缩包 {name} 中的 {m.filename} 压缩比约 {m.file_size // max(m.compress_size, 1)}:1，"
                               f"超过上限 {settings.import_max_ratio}:1（RISKMAP_IMPORT_MAX_RATIO），"
                               "疑似压缩炸弹，已拒绝，未解压")
    return members


@contextmanager
def open_archive(path: Path) -> Iterator[zipfile.ZipFile]:
    """The zip at `path` with its headers checked; a damaged archive is refused in Chinese."""
    try:
        with zipfile.ZipFile(path) as archive:
            check_members(archive, path.name)
            yield archive
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise InvalidInput(f"压缩包 {path.name} 已损坏或文件头不实：{exc}") from None
    except (NotImplementedError, RuntimeError) as exc:  # zipfile's words for Deflate64/other methods, encryption
        raise InvalidInput(f"压缩包 {path.name} 使用了不支持的压缩方式或已加密（{exc}），请用普通 zip 重新压缩") from None


def check_archive(path: Path) -> None:
    """Refuse the zip at `path` (an xlsx, say, read by another library) if its headers break the limits."""
    with open_archive(path):
        pass


def _safe_relative(name: str, archive_name: str) -> Path:
    """A member name as a relative path inside the target folder; absolute paths and '..' are refused."""
    pure = PurePosixPath(name.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or (pure.parts and ":" in pure.parts[0]):
        raise InvalidInput(f"压缩包 {archive_name} 中的文件名 {name} 不安全（绝对路径或含 ..），已拒绝")
    return Path(*pure.parts)


def extract(path: Path, folder: Path, *, skip: tuple[str, ...] = ("__MACOSX",)) -> list[str]:
    """Unpack the zip at `path` into `folder` within the limits; returns the file members' names.

    Bytes are counted as they are produced: more than a member's header says, or more than the total
    limit, stops the unpacking and refuses the archive.
    """
    limit = get_settings().import_max_unpacked_bytes
    written = 0
    names: list[str] = []
    with open_archive(path) as archive:
        for member in archive.infolist():
            if member.is_dir() or member.filename.startswith(skip):
                continue
            target = folder / _safe_relative(member.filename, path.name)
            target.parent.mkdir(parents=True, exist_ok=True)
            produced = 0
            with archive.open(member) as src, target.open("wb") as dst:
                while chunk := src.read(CHUNK_BYTES):
                    produced += len(chunk)
                    written += len(chunk)
                    if produced > member.file_size or written > limit:
                        raise InvalidInput(f"压缩包 {path.name} 中的 {member.filename} 解压后超过文件头所写大小或"
                                           f"总上限 {_mb(limit)}，已拒绝")
                    dst.write(chunk)
            names.append(member.filename)
    return names
