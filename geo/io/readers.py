"""Read GeoJSON, GeoPackage, Shapefile, KML/KMZ, CSV and XLSX into one raw table of cells and geometries.

Text encodings are detected from the bytes: UTF-8 first, then GBK, then GB18030 (common in Chinese
GIS data, e.g. a .dbf without .cpg); a cell no candidate decodes is rejected as 无法解码的文字.
Row numbers are what the user sees: spreadsheet rows (header included) or feature numbers from 1.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
from pyproj import CRS

from geo.config import get_settings
from geo.errors import InvalidInput
from geo.io.archive import check_archive, extract, open_archive

ENCODINGS = ("utf-8", "gbk", "gb18030")
"""Candidate encodings, in the order tried."""

VECTOR_SUFFIXES = {".geojson", ".json", ".gpkg", ".shp", ".kml", ".kmz", ".zip"}
TABLE_SUFFIXES = {".csv", ".txt", ".xlsx", ".xlsm"}
KML_OWN_COLUMNS = frozenset({"id", "description", "timestamp", "begin", "end", "altitudeMode", "tessellate",
                             "extrude", "visibility", "drawOrder", "icon", "snippet"})
HEADER_SEARCH_ROWS = 10
"""A ledger may start with a title row or two; the header is looked for in this many first rows."""
CSV_CHARS_PER_VERTEX = 100
"""A CSV cell may be as long as a WKT of the vertex cap needs (the row is then refused by the cap, not here)."""
XLSX_MAX_COLUMNS = 200
"""Columns of a worksheet read; a sheet claiming 16,384 columns is not padded out to them."""


@dataclass(frozen=True)
class Reject:
    """One problem with one cell: row as the user sees it, field (header), reason in Chinese, value."""

    row: int
    field: str
    reason: str
    value: str = ""


@dataclass
class RawTable:
    """Cells as read, with row numbers, geometries and the file's CRS: row by row (header → value, CSV/XLSX) or,
    for vector files, column by column (`columns`, header → values; `rows` is then empty). Read cells through
    column() and the row count through size, which work for both."""

    headers: list[str]
    rows: list[dict[str, Any]]
    row_numbers: list[int]
    geometries: np.ndarray | None = None
    crs: CRS | None = None
    tabular: bool = False
    rejects: list[Reject] = field(default_factory=list)
    ignore: frozenset[str] = frozenset()
    dbf: bool = False
    """Field names come from a dBase file (10 bytes, possibly cut off)."""
    columns: dict[str, list[Any]] | None = None
    """Cells column by column (vector files: no dict per row is built)."""

    @property
    def size(self) -> int:
        """Rows read."""
        return len(self.row_numbers)

    def column(self, header: str) -> list[Any]:
        """Every row's cell under `header` (None where a row has none)."""
        if self.columns is not None:
            found = self.columns.get(header)
            return list(found) if found is not None else [None] * self.size
        return [row.get(header) for row in self.rows]

    def records(self) -> list[dict[str, Any]]:
        """The cells row by row (header → value)."""
        if self.columns is None:
            return self.rows
        names = list(self.columns)
        return [dict(zip(names, values, strict=True)) for values in zip(*self.columns.values(), strict=True)] \
            if names else [{} for _ in range(self.size)]


def read_raw(path: Path, *, is_known: Callable[[str], bool], encoding: str | None = None,
             sheet: str | None = None) -> RawTable:
    """Read any supported file; `is_known` tells header cells from title cells in CSV/XLSX."""
    suffix = path.suffix.lower()
    if not path.exists():
        raise InvalidInput(f"找不到文件：{path}")
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise InvalidInput(f"不认识的文字编码 {encoding}（可用：{'、'.join(ENCODINGS)}）") from None
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx(path, is_known=is_known, sheet=sheet)
    if suffix in (".csv", ".txt"):
        return read_csv(path, is_known=is_known, encoding=encoding)
    if suffix == ".shp" or (suffix == ".dbf" and path.with_suffix(".shp").exists()):
        return read_shapefile(path.with_suffix(".shp"), encoding=encoding)
    if suffix == ".zip":
        return read_zip(path, is_known=is_known, encoding=encoding, sheet=sheet)
    if suffix == ".kmz":
        return read_kmz(path)
    if suffix in VECTOR_SUFFIXES:
        return read_vector(path)
    raise InvalidInput(f"不支持的文件格式 {suffix}；支持 GeoJSON、GeoPackage、Shapefile、KML/KMZ、CSV、XLSX")


def decode_cells(raw: list[bytes], *, encoding: str | None = None) -> tuple[str, list[str | None]]:
    """Decode byte strings with the first candidate encoding that decodes them all (else the best one).

    Returns the encoding and the decoded strings, None where the chosen encoding fails.
    """
    candidates = (encoding,) if encoding else ENCODINGS
    best: tuple[int, str, list[str | None]] | None = None
    for enc in candidates:
        out: list[str | None] = []
        for b in raw:
            try:
                out.append(b.decode(enc))
            except UnicodeDecodeError:
                out.append(None)
        failures = sum(v is None for v in out)
        if failures == 0:
            return enc, out
        if best is None or failures < best[0]:
            best = (failures, enc, out)
    assert best is not None
    return best[1], best[2]


def _vector_frame(path: Path, **kwargs: Any) -> Any:
    """Every layer of a vector file that has geometries, concatenated."""
    import pandas as pd

    layers = pyogrio.list_layers(path)
    frames = []
    for name, _ in layers:
        with np.errstate(all="ignore"):  # NaN/Inf coordinates are refused row by row later, not warned about
            frame = pyogrio.read_dataframe(path, layer=name, **kwargs)
        if "geometry" in frame:
            frames.append(frame)
    if not frames:
        raise InvalidInput(f"文件 {path.name} 中没有可读取的要素图层")
    if len(frames) == 1:
        return frames[0]
    crs = frames[0].crs
    import geopandas as gpd

    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=crs)


def _table_from_frame(frame: Any, *, ignore: frozenset[str] = frozenset()) -> RawTable:
    """A GeoDataFrame as a raw table numbered from 1, column by column (Series.tolist gives the same Python values
    as a dict per row would, without building one)."""
    names = [c for c in frame.columns if c != "geometry"]
    columns = {str(c): frame[c].tolist() for c in names}
    crs = CRS.from_user_input(frame.crs) if frame.crs is not None else None
    return RawTable(headers=list(columns), rows=[], row_numbers=list(range(1, len(frame) + 1)),
                    geometries=np.asarray(frame.geometry.values, dtype=object), crs=crs, ignore=ignore,
                    columns=columns)


def read_zip(path: Path, *, is_known: Callable[[str], bool], encoding: str | None = None,
             sheet: str | None = None) -> RawTable:
    """A zipped shapefile (or one other supported file) as bureaus mail them; unpacked to a temporary folder."""
    import tempfile

    with open_archive(path) as archive:
        names = [n for n in archive.namelist() if not n.endswith("/") and not n.startswith("__MACOSX")]
    inner = [n for n in names if Path(n).suffix.lower() in (".shp", ".gpkg", ".geojson", ".json", ".kml",
                                                             ".csv", ".xlsx")]
    if len(inner) != 1:
        raise InvalidInput(f"压缩包 {path.name} 中应恰好有一个 Shapefile/GPKG/GeoJSON/KML/CSV/XLSX 文件，"
                           f"实有 {len(inner)} 个")
    with tempfile.TemporaryDirectory() as tmp:
        extract(path, Path(tmp))
        return read_raw(Path(tmp) / inner[0], is_known=is_known, encoding=encoding, sheet=sheet)


def read_kmz(path: Path) -> RawTable:
    """A KMZ unpacked within the archive limits (GDAL would inflate it whole in memory), then its KML read."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        names = [n for n in extract(path, Path(tmp)) if n.lower().endswith(".kml")]
        if not names:
            raise InvalidInput(f"KMZ 文件 {path.name} 中没有 KML 文档")
        main = min(names, key=lambda n: (n.lower() != "doc.kml", n.count("/"), n))
        return read_vector(Path(tmp) / main)


def _utf8_copy(path: Path, folder: str) -> Path:
    """A UTF-8 copy of a GeoJSON written in GBK/GB18030 (non-standard, but Chinese tools emit it)."""
    _, (decoded,) = decode_cells([path.read_bytes()])
    if decoded is None:
        raise InvalidInput(f"文件 {path.name} 含无法解码的文字（已尝试 {'、'.join(ENCODINGS)}）")
    copy = Path(folder) / path.name
    copy.write_text(decoded, encoding="utf-8")
    return copy


def read_vector(path: Path) -> RawTable:
    """GeoJSON, GeoPackage, KML/KMZ (all layers, features numbered from 1 across them)."""
    import tempfile

    suffix = path.suffix.lower()
    ignore: frozenset[str] = frozenset()
    if suffix == ".kml":
        pyogrio.set_gdal_config_options({"LIBKML_LAUNDER_FIELD_NAMES": "NO"})
        ignore = KML_OWN_COLUMNS
    try:
        try:
            frame = _vector_frame(path)
        except UnicodeDecodeError:
            if suffix not in (".geojson", ".json"):
                raise
            with tempfile.TemporaryDirectory() as tmp:
                frame = _vector_frame(_utf8_copy(path, tmp))
    except UnicodeDecodeError:
        raise InvalidInput(f"文件 {path.name} 含无法解码的文字（GeoJSON/GeoPackage/KML 应为 UTF-8）") from None
    except pyogrio.errors.DataSourceError as exc:
        raise InvalidInput(f"无法读取文件 {path.name}：{exc}") from None
    return _table_from_frame(frame, ignore=ignore)


def _decode_name(raw: bytes, encoding: str) -> str | None:
    """A dBase field name; GDAL may have cut a multi-byte character at the 10-byte limit."""
    for cut in range(4):
        try:
            return (raw[: len(raw) - cut] if cut else raw).decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _name_encoding(raw_names: list[bytes], preferred: str) -> tuple[str, list[str]]:
    """The encoding (preferred first) that decodes every dBase field name."""
    for enc in (preferred, *ENCODINGS):
        names = [_decode_name(b, enc) for b in raw_names]
        if all(n is not None for n in names):
            return enc, [n for n in names if n is not None]
    raise InvalidInput(f"字段名含无法解码的文字（已尝试 {'、'.join(ENCODINGS)}）")


def read_shapefile(path: Path, *, encoding: str | None = None) -> RawTable:
    """Shapefile read byte-exact (latin-1), then decoded as UTF-8/GBK/GB18030 whatever .cpg says."""
    try:
        with np.errstate(all="ignore"):
            frame = pyogrio.read_dataframe(path, encoding="latin1")
    except pyogrio.errors.DataSourceError as exc:
        raise InvalidInput(f"无法读取文件 {path.name}：{exc}") from None
    columns = [c for c in frame.columns if c != "geometry"]
    frame = frame.astype({c: object for c in columns})
    cells = [(i, c) for c in columns for i, v in enumerate(frame[c])
             if isinstance(v, str)]
    raw = [frame[c].iat[i].encode("latin1") for i, c in cells]
    raw_names = [str(c).encode("latin1") for c in columns]
    if encoding or any(not b.isascii() for b in raw):
        enc, decoded = decode_cells(raw, encoding=encoding)
        if encoding:
            check_declared_encoding(path, raw, decoded, encoding)
        enc, names = _name_encoding(raw_names, enc)
    else:
        enc, names = _name_encoding(raw_names, "utf-8")
        decoded = [b.decode("ascii") for b in raw]
    rename = dict(zip(columns, names, strict=True))
    rejects: list[Reject] = []
    for (i, c), value in zip(cells, decoded, strict=True):
        if value is None:
            rejects.append(Reject(i + 1, rename[c], f"无法解码的文字（已尝试 {'、'.join(ENCODINGS)}）",
                                  frame[c].iat[i].encode("latin1").hex(" ")))
        frame.iat[i, frame.columns.get_loc(c)] = value
    frame = frame.rename(columns=rename)
    table = _table_from_frame(frame)
    table.rejects = rejects
    table.dbf = True
    return table


def _header_index(rows: list[list[Any]], is_known: Callable[[str], bool]) -> int:
    """Index of the header row: the first of the first rows with two or more known headers."""
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if sum(1 for v in row if v not in (None, "") and is_known(str(v))) >= 2:
            return i
    return 0


def _table_rows(grid: list[tuple[int, list[Any]]], is_known: Callable[[str], bool]) -> tuple[list[str], list[
        dict[str, Any]], list[int]]:
    """Headers, rows (header → cell) and spreadsheet row numbers of a grid, blank rows skipped."""
    if not grid:
        raise InvalidInput("文件是空的")
    h = _header_index([r for _, r in grid], is_known)
    headers = [str(v).strip() if v is not None else "" for v in grid[h][1]]
    rows, numbers = [], []
    for number, values in grid[h + 1:]:
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        rows.append({hd: (values[j] if j < len(values) else None) for j, hd in enumerate(headers) if hd})
        numbers.append(number)
    return [hd for hd in headers if hd], rows, numbers


def read_csv(path: Path, *, is_known: Callable[[str], bool], encoding: str | None = None) -> RawTable:
    """CSV in UTF-8 (BOM or not), GBK or GB18030; row numbers are spreadsheet rows, header included."""
    data = path.read_bytes()
    bom = data.startswith(b"\xef\xbb\xbf")
    if bom:
        data = data[3:]
    lines = data.splitlines(keepends=True)
    _, decoded = decode_cells(lines, encoding=encoding)
    if encoding:
        check_declared_encoding(path, lines, decoded, encoding, bom=bom)
    rejects = [Reject(i + 1, "（整行）", f"无法解码的文字（已尝试 {'、'.join(ENCODINGS)}）", lines[i][:60].hex(" "))
               for i, v in enumerate(decoded) if v is None]
    bad_lines = {r.row for r in rejects}
    text = "".join(v if v is not None else "\n" for v in decoded)
    first = next((v for v in decoded if v and v.strip()), "")
    delimiter = max((",", "\t", ";", "|"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter if first.count(delimiter) else ",")
    grid: list[tuple[int, list[Any]]] = []
    start = 1
    csv.field_size_limit(max(csv.field_size_limit(), CSV_CHARS_PER_VERTEX * get_settings().max_vertices))
    try:
        for values in reader:
            if start not in bad_lines:
                grid.append((start, [v.strip() if v.strip() else None for v in values]))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InvalidInput(f"CSV 文件 {path.name} 第 {start} 行无法读取（{exc}）：单元格过长或引号不成对") from None
    headers, rows, numbers = _table_rows(grid, is_known)
    return RawTable(headers=headers, rows=rows, row_numbers=numbers, tabular=True, rejects=rejects)


def check_declared_encoding(path: Path, lines: list[bytes], decoded: list[str | None], encoding: str, *,
                            bom: bool = False) -> None:
    """Refuse (编码不符) a file the --encoding given does not fit: UTF-8 text (a BOM, or non-ASCII bytes that
    are all valid UTF-8) declared as something else, or text that only another encoding reads whole."""
    if codecs.lookup(encoding).name not in ("utf-8", "utf-8-sig") and (bom or (
            any(not b.isascii() for b in lines) and all(_is_utf8(b) for b in lines))):
        raise InvalidInput(f"编码不符：文件 {path.name} 是 UTF-8 编码{'（带 BOM）' if bom else ''}，不是 {encoding}；"
                           "请去掉 --encoding 自动识别，或改用 --encoding utf-8")
    if all(v is not None for v in decoded):
        return
    detected, others = decode_cells(lines)
    fits = all(v is not None for v in others)
    if not fits and any(v is not None and v.strip() for v in decoded):
        return  # a few bad lines in the right encoding: they are reported row by row
    first = next(i for i, v in enumerate(decoded) if v is None) + 1
    hint = (f"文件看起来是 {detected} 编码，请改用 --encoding {detected}，或去掉 --encoding 自动识别" if fits
            else f"已尝试 {'、'.join(ENCODINGS)} 均无法完整解码，请确认文件的编码")
    raise InvalidInput(f"编码不符：文件 {path.name} 不能按 {encoding} 解码（第 {first} 行起）；{hint}")


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    """True when `exc` or an exception it was raised from or during is a `kind`."""
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _cell(value: Any) -> Any:
    """An xlsx cell as read: midnight datetimes as dates, blank text as None."""
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date()
    if isinstance(value, str):
        return value.strip() or None
    return value


def read_xlsx(path: Path, *, is_known: Callable[[str], bool], sheet: str | None = None) -> RawTable:
    """First (or the named) worksheet; a title row above the header is skipped."""
    import zipfile
    from xml.etree.ElementTree import ParseError

    import openpyxl
    from defusedxml import DefusedXmlException
    from openpyxl.utils.exceptions import InvalidFileException

    check_archive(path)  # an xlsx is a zip: its headers within the limits (zipfile then never reads past them)
    with path.open("rb") as fh:
        book = None
        try:
            book = openpyxl.load_workbook(fh, read_only=True, data_only=True)
            if sheet is not None and sheet not in book.sheetnames:
                raise InvalidInput(f"Excel 文件中没有工作表“{sheet}”；现有：{'、'.join(book.sheetnames)}")
            ws = book[sheet] if sheet else book.worksheets[0]
            ws.reset_dimensions()  # the sheet's own <dimension> may claim a million rows and 16,384 columns
            grid = []
            for i, row in enumerate(ws.iter_rows(values_only=True, max_col=XLSX_MAX_COLUMNS), start=1):
                if row.count(None) == len(row):
                    continue  # gaps are filled with empty rows: skipped at C speed
                values = [_cell(v) for v in row]
                while values and values[-1] is None:
                    values.pop()
                if values:
                    grid.append((i, values))
        except (OSError, KeyError, ValueError, ParseError, NotImplementedError, zipfile.BadZipFile,
                InvalidFileException) as exc:
            if _caused_by(exc, DefusedXmlException):  # openpyxl parses through defusedxml when it is installed
                raise InvalidInput(f"Excel 文件 {path.name} 含 DTD 实体声明（<!ENTITY>），可能是恶意构造的文件"
                                   "（实体膨胀/外部实体），已拒绝，未展开") from None
            raise InvalidInput(f"无法读取 Excel 文件 {path.name}：{exc}") from None
        finally:
            if book is not None:
                book.close()
    headers, rows, numbers = _table_rows(grid, is_known)
    return RawTable(headers=headers, rows=rows, row_numbers=numbers, tabular=True)
