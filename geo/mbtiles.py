"""A local MBTiles basemap (the MBTiles 1.3 file format): read one raster tile, or write a small file.

MBTiles rows are in TMS order (y counted from the south), so y is flipped from the XYZ scheme Leaflet uses.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

from geo.errors import NotFound


def _flip(z: int, y: int) -> int:
    return (1 << z) - 1 - y


def read_tile(path: Path, z: int, x: int, y: int) -> bytes:
    """The tile image at XYZ (z, x, y), or NotFound (Chinese) when the file has none there."""
    if not path.exists():
        raise NotFound(f"本地底图文件不存在：{path}")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        row = db.execute("SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
                         (z, x, _flip(z, y))).fetchone()
    if row is None:
        raise NotFound(f"本地底图在 z={z} x={x} y={y} 处没有瓦片")
    return bytes(row[0])


def tile_format(path: Path) -> str:
    """The tiles' image format from the metadata table (png when unstated)."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        row = db.execute("SELECT value FROM metadata WHERE name = 'format'").fetchone()
    return row[0] if row else "png"


def write_mbtiles(path: Path, tiles: Iterable[tuple[int, int, int, bytes]], *, name: str, fmt: str = "png") -> Path:
    """Write (z, x, y, image) tiles in XYZ order to a new MBTiles file (used to package a basemap)."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE metadata (name text, value text)")
        db.execute("CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer, tile_data blob)")
        db.execute("CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row)")
        db.executemany("INSERT INTO metadata VALUES (?, ?)", [("name", name), ("format", fmt), ("type", "baselayer")])
        db.executemany("INSERT INTO tiles VALUES (?, ?, ?, ?)", [(z, x, _flip(z, y), data) for z, x, y, data in tiles])
    return path
