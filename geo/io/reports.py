"""Rejects reports of imports made from the web page, kept for download (CSV and xlsx) under a random name."""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path

from geo.config import get_settings
from geo.errors import NotFound
from geo.io.importer import write_rejects, write_rejects_xlsx
from geo.io.readers import Reject

FORMATS = ("csv", "xlsx")
_NAME = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
KEEP_DAYS = 7
"""A report is kept this long after the import that made it (本地规定), then removed when the next one is written."""


def reports_dir() -> Path:
    """Where the web imports' rejects reports are kept (.riskmap/rejects/web)."""
    return get_settings().home / "rejects" / "web"


def store_rejects(rejects: list[Reject]) -> str:
    """Write the report as CSV and xlsx under a new random name (unguessable, so the link is the permission)."""
    _prune()
    name = secrets.token_urlsafe(18)
    write_rejects(rejects, reports_dir() / f"{name}.csv")
    write_rejects_xlsx(rejects, reports_dir() / f"{name}.xlsx")
    return name


def rejects_file(name: str, fmt: str) -> Path:
    """The stored report `name` in `fmt` (csv/xlsx); NotFound for anything else."""
    path = reports_dir() / f"{name}.{fmt}"
    if fmt not in FORMATS or not _NAME.match(name) or not path.is_file():
        raise NotFound("问题清单不存在或已被清理，请重新导入生成")
    return path


def _prune() -> None:
    """Remove reports older than KEEP_DAYS."""
    folder = reports_dir()
    if not folder.is_dir():
        return
    cutoff = time.time() - KEEP_DAYS * 86400
    for path in folder.iterdir():
        try:
            if path.suffix.lstrip(".") in FORMATS and path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:  # removed meanwhile by another worker
            continue
