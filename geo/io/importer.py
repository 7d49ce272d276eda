"""Import one file into one layer: read, map columns, convert to CGCS2000, validate, write — all or nothing.

Attribute cells are parsed in Python (they are text); every spatial and referential check runs as one
set-based SQL statement over a staging table in the same transaction, and the rows go into the target
table with one INSERT … SELECT. Any rejected row means nothing is written and ImportRejected is raised.

Polygons are stored with counter-clockwise exterior rings (OGC, RFC 7946), whatever the file's
orientation (shapefiles use clockwise), so the same shape always stores the same way.

--repair fixes only invalid geometries (ST_MakeValid, keeping points/lines/polygons as such). Swapped
longitude/latitude is detected but never flipped: the same ledger feeds other systems, and a swap
usually means the two columns were mislabelled, which the user must fix at the source.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import threading
import tomllib
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from sqlalchemy import Connection, Engine, text

from geo.access.bulk import begin_bulk, file_sha256, operation
from geo.config import get_settings
from geo.county import metric_srid
from geo.db import tune_for_heavy_work
from geo.errors import InvalidInput, RiskmapError
from geo.io.columns import ColumnMap, is_known_header, map_columns
from geo.io.coords import SourceCrs, parse_crs_option, resolve_source, to_storage, usable
from geo.io.layers import Field, Layer, get_layer
from geo.io.parse import CellProblem, as_text, code_problem, is_blank, normalize_code, parse_cell
from geo.io.readers import RawTable, Reject, read_raw
from geo.models import Base

RULES_FILE = Path(__file__).with_name("rules.toml")

GEOMETRY_FIELD = "几何"
MSG = {
    "no_geometry": "缺少几何（坐标为空）",
    "empty_geometry": "几何为空",
    "bad_wkt": "几何（WKT）无法解析",
    "bad_lonlat": "经纬度不是数字",
    "bad_coordinates": "坐标含非数字（NaN/无穷大）或数值超出任何坐标系的范围",
    "too_many_vertices": "几何有 {n} 个顶点，超过上限 {cap}（RISKMAP_MAX_VERTICES），请先抽稀",
    "wrong_type": "几何类型应为{kind}，实为 {actual}",
    "invalid": "几何无效：{reason}",
    "unrepairable": "几何无效且无法安全修复：{reason}",
    "outside": "坐标在县界之外（超出 {tol:.0f} 米容差）",
    "swapped": "经纬度颠倒（对调后落在县内，请在源文件中改正经度、纬度两列）",
    "dup_file": "编码在文件内重复（与第 {first} 行相同）",
    "dup_table": "编码已存在于数据库（如需更新请用 --update）",
    "unknown_ref": "未知的{label}（数据库中没有编码 {code}）",
    "no_township": "无法确定所属乡镇：未填乡镇代码，且位置不在任何乡镇范围内",
}
GEOM_KIND_LABEL = {"point": "点", "line": "线", "polygon": "面"}
VALIDITY_REASONS = {
    "Ring Self-intersection": "环自相交",
    "Self-intersection": "自相交",
    "Too few points": "点数太少",
    "Hole lies outside shell": "内环在外环之外",
    "Nested shells": "外环相互嵌套",
    "Nested holes": "内环相互嵌套",
    "Interior is disconnected": "内部不连通",
    "Invalid Coordinate": "坐标无效",
    "Duplicate Rings": "重复的环",
}
EXTRACT_DIMENSION = {"point": 1, "line": 2, "polygon": 3}


@dataclass(frozen=True)
class Repair:
    """What --repair changed: row, field and the action in Chinese."""

    row: int
    field: str
    action: str


@dataclass
class ImportResult:
    """Outcome of an import that was written: rows inserted (and updated), repairs made, notes."""

    layer: str
    path: Path
    inserted: int
    updated: int = 0
    rows_read: int = 0
    source_crs: str = ""
    repairs: list[Repair] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)


class ImportRejected(RiskmapError):
    """Some rows were refused, so nothing was written; `rejects` lists row, field and reason."""

    code = "import_rejected"

    def __init__(self, message: str, *, rejects: list[Reject], repairs: list[Repair], rows_read: int) -> None:
        super().__init__(message)
        self.rejects = rejects
        self.repairs = repairs
        self.rows_read = rows_read


def load_rules(path: Path = RULES_FILE) -> dict[str, Any]:
    """The import thresholds (county tolerance in metres, projected-coordinates share)."""
    with path.open("rb") as fh:
        return tomllib.load(fh)


@dataclass
class _Staged:
    """Rows ready for the staging table, with what was already found wrong."""

    row_numbers: list[int]
    parts: list[int]
    geoms: np.ndarray | None
    attrs: dict[str, list[Any]]
    """Each attribute column, one value per staged row."""
    keys: list[str | None]
    ref_codes: list[str | None]
    township_codes: list[str | None]
    rejects: list[Reject]
    notes: list[str]
    rows_read: int
    source: SourceCrs


def _header_of(layer: Layer, cmap: ColumnMap, name: str) -> str:
    """The header the user sees for a field: the file's own, else the layer's Chinese header."""
    return cmap.fields.get(name, layer.field(name).header)


def _require_columns(layer: Layer, cmap: ColumnMap, raw: RawTable) -> None:
    """Refuse the whole file when a required column (or any coordinate column) is missing."""
    missing = [f.header for f in layer.fields if f.required and f.name not in cmap.fields]
    if layer.spatial and raw.tabular and not (cmap.wkt or (cmap.lon and cmap.lat)):
        missing.append("经度、纬度（或 几何(WKT)）")
    if missing:
        raise InvalidInput(f"文件缺少必填列：{'、'.join(missing)}（{layer.label}图层）")


def _table_geometries(raw: RawTable, cmap: ColumnMap, rejects: list[Reject]) -> np.ndarray:
    """Points from lon/lat columns, or shapes from a WKT column; unparsable cells become rejects."""
    out = np.empty(raw.size, dtype=object)
    for i, (row, number) in enumerate(zip(raw.records(), raw.row_numbers, strict=True)):
        if cmap.wkt and not is_blank(row.get(cmap.wkt)):
            try:
                with np.errstate(all="ignore"):  # 'nan'/'1e999' in WKT: reported below as non-finite
                    out[i] = shapely.from_wkt(as_text(row[cmap.wkt]))
            except shapely.errors.GEOSException:
                rejects.append(Reject(number, cmap.wkt, MSG["bad_wkt"], as_text(row[cmap.wkt])[:80]))
            continue
        if not cmap.lon or not cmap.lat:
            continue
        lon, lat = row.get(cmap.lon), row.get(cmap.lat)
        if is_blank(lon) and is_blank(lat):
            continue
        try:
            x, y = float(as_text(lon)), float(as_text(lat))
            if not (np.isfinite(x) and np.isfinite(y)):
                raise ValueError(x, y)
            out[i] = shapely.Point(x, y)
        except (ValueError, TypeError):
            rejects.append(Reject(number, f"{cmap.lon}/{cmap.lat}", MSG["bad_lonlat"], f"{lon}, {lat}"))
    return out


def _fit_geometry(layer: Layer, geom: Any) -> Any:
    """Shape a geometry to the layer's kind where that is lossless (one-part Multi → single)."""
    if geom is None or layer.geom_kind in (None, "any"):
        return geom
    if layer.geom_kind == "point" and geom.geom_type == "MultiPoint" and len(geom.geoms) == 1:
        return geom.geoms[0]
    return geom


_KIND_TYPES = {"point": ("Point",), "line": ("LineString", "MultiLineString"),
               "polygon": ("Polygon", "MultiPolygon")}


def _geometry_problem(layer: Layer, geom: Any) -> str | None:
    """Why a geometry cannot go into the layer (missing, empty, non-finite, wrong kind), or None."""
    if geom is None:
        return MSG["no_geometry"]
    if geom.is_empty:
        return MSG["empty_geometry"]
    if not usable(shapely.get_coordinates(geom)).all():
        return MSG["bad_coordinates"]
    vertices, cap = shapely.get_num_coordinates(geom), get_settings().max_vertices
    if vertices > cap:
        return MSG["too_many_vertices"].format(n=vertices, cap=cap)
    if layer.geom_kind in _KIND_TYPES and geom.geom_type not in _KIND_TYPES[layer.geom_kind]:
        return MSG["wrong_type"].format(kind=GEOM_KIND_LABEL[layer.geom_kind], actual=geom.geom_type)
    return None


_UNCACHED_KINDS = ("json", "wkt")
"""Kinds whose parsed value is mutable or costly to share: parsed cell by cell."""

_Parsed = tuple[Any, "str | None", tuple[tuple[str, str], ...]]
"""One cell parsed: the value stored, its business code (key or reference), problems as (reason, value shown)."""


def _parse_field_cell(layer: Layer, f: Field, cell: Any) -> _Parsed:
    """parse_cell plus, for the key and references, the normalised code and its form check."""
    try:
        value = parse_cell(f, cell)
    except CellProblem as problem:
        return None, None, ((str(problem), "" if is_blank(cell) else as_text(cell)),)
    if f.ref is None and f.name != layer.key:
        return value, None, ()
    code = normalize_code(f, value) if isinstance(value, str) else None
    issue = code_problem(f, code) if code else None
    return (code if f.ref is None else None), code, (((issue, code or ""),) if issue else ())


def _memo_keys(values: list[Any]) -> tuple[list[Any], Callable[[Any], Any]]:
    """Keys that tell a column's cells apart for parsing once per distinct cell (1, 1.0 and True are different
    cells): the cells themselves when all are of one type, else (type, cell) pairs; and how to get a cell back
    from its key."""
    if len(set(map(type, values))) <= 1:
        return values, _same
    return list(zip(map(type, values), values)), itemgetter(1)


def _same(value: Any) -> Any:
    """The key is the cell itself."""
    return value


def _text_column(layer: Layer, f: Field, header: str, cells: list[str], row_numbers: list[int],
                 rejects: list[Reject]) -> tuple[list[Any], list[str | None]]:
    """A plain text column whose cells are all str, checked as a whole: as_text (NFC, stripped; NFC skipped for
    ASCII, where it changes nothing) for every cell at once, and only blank or too long cells go through
    _parse_field_cell one by one, so their rejects read exactly as before."""
    if "".join(cells).isascii():
        texts = [c.strip() for c in cells]
    else:
        texts = [unicodedata.normalize("NFC", c).strip() for c in cells]
    cap = f.max_len
    coded = f.ref is not None or f.name == layer.key
    out: list[Any] = list(texts) if f.ref is None else [None] * len(texts)
    found: list[str | None] = list(texts) if coded else [None] * len(texts)
    for i in (i for i, t in enumerate(texts) if not t or (cap is not None and len(t) > cap)):
        value, code, problems = _parse_field_cell(layer, f, cells[i])
        out[i], found[i] = value, code
        rejects.extend(Reject(row_numbers[i], header, reason, shown) for reason, shown in problems)
    return out, found


def _parse_column(layer: Layer, f: Field, header: str, cells: list[Any], row_numbers: list[int],
                  rejects: list[Reject]) -> tuple[list[Any], list[str | None]]:
    """Typed values and business codes of one column. Each distinct cell is parsed once (a column repeats its
    values: codes, 是/否, floors) and spread back with one lookup per row; a unique text column (names, codes)
    is checked as a whole (_text_column). Problems go to rejects with row and field, in row order."""
    if f.kind == "str" and f.form is None and set(map(type, cells)) == {str}:
        return _text_column(layer, f, header, cells, row_numbers, rejects)
    if f.kind not in _UNCACHED_KINDS:
        keys, cell_of = _memo_keys(cells)
        try:
            memo: dict[Any, _Parsed] = dict.fromkeys(keys)  # type: ignore[arg-type]
        except TypeError:  # an unhashable cell: parsed cell by cell below
            pass
        else:
            for key in memo:
                memo[key] = _parse_field_cell(layer, f, cell_of(key))
            parsed = [memo[key] for key in keys]
            if any(hit[2] for hit in memo.values()):
                for number, hit in zip(row_numbers, parsed, strict=True):
                    rejects.extend(Reject(number, header, reason, shown) for reason, shown in hit[2])
            return [hit[0] for hit in parsed], [hit[1] for hit in parsed]
    out: list[Any] = []
    found: list[str | None] = []
    for number, cell in zip(row_numbers, cells, strict=True):
        value, code, problems = _parse_field_cell(layer, f, cell)
        rejects.extend(Reject(number, header, reason, shown) for reason, shown in problems)
        out.append(value)
        found.append(code)
    return out, found


def _parse_columns(layer: Layer, columns: list[tuple[Field, str, str | None]], raw: RawTable,
                   rejects: list[Reject]) -> tuple[dict[str, list[Any]], dict[str, list[str | None]]]:
    """Typed values of every attribute column and the business codes (key and references), column by column
    (_parse_column). Problems go to rejects with row and field; a refused cell leaves None."""
    n = raw.size
    values: dict[str, list[Any]] = {}
    codes: dict[str, list[str | None]] = {}
    for f, header, column in columns:
        cells = raw.column(column) if column is not None else [None] * n
        out, found = _parse_column(layer, f, header, cells, raw.row_numbers, rejects)
        if f.ref is None:
            values[f.name] = out
        if f.ref is not None or f.name == layer.key:
            codes[f.name] = found
    if layer.name == "township" and "county_code" in values:
        county = get_settings().county_code
        values["county_code"] = [v or county for v in values["county_code"]]
    return values, codes


_TYPE_IDS = {"point": (0,), "line": (1, 5), "polygon": (3, 6)}
"""shapely.get_type_id of the kinds in _KIND_TYPES (Point; LineString, MultiLineString; Polygon, MultiPolygon)."""


def _geometry_problems(layer: Layer, geoms: np.ndarray) -> list[str | None]:
    """_geometry_problem for every row, its checks run on the whole array at once (only flagged rows are
    looked at one by one, so the reasons are the same)."""
    n = len(geoms)
    if n == 0:
        return []
    with np.errstate(all="ignore"):
        coords, index = shapely.get_coordinates(geoms, return_index=True)
        bad_coords = np.bincount(index[~usable(coords)], minlength=n) > 0
    flagged = (shapely.is_missing(geoms) | shapely.is_empty(geoms) | bad_coords
               | (shapely.get_num_coordinates(geoms) > get_settings().max_vertices))
    if layer.geom_kind in _TYPE_IDS:
        flagged |= ~np.isin(shapely.get_type_id(geoms), _TYPE_IDS[layer.geom_kind])
    out: list[str | None] = [None] * n
    for i in np.flatnonzero(flagged):
        out[i] = _geometry_problem(layer, geoms[i])
    return out


def _store_wkt_fields(layer: Layer, attrs: dict[str, list[Any]], source: SourceCrs, rules: dict[str, Any]) -> None:
    """Second geometries given as WKT (mine workings): to EPSG:4490 like the main one, as Multi* EWKT."""
    for f in layer.fields:
        if f.kind != "wkt" or f.name not in attrs:
            continue
        column = attrs[f.name]
        rows = [i for i, v in enumerate(column) if v]
        if not rows:
            continue
        geoms = to_storage(shapely.from_wkt([column[i] for i in rows]), source,
                           max_projected_share=float(rules["projected_share"]))
        multi = [g if g.geom_type.startswith("Multi") else shapely.multipolygons([g]) for g in geoms]
        for i, g in zip(rows, multi, strict=True):
            column[i] = f"SRID=4490;{shapely.to_wkt(g, rounding_precision=-1)}"


def stage_rows(raw: RawTable, layer: Layer, *, declared: SourceCrs | None, rules: dict[str, Any]) -> _Staged:
    """Parse cells and geometries of a raw table into staging rows, collecting row-level rejects."""
    cmap = map_columns(layer, raw.headers, ignore=raw.ignore, dbf=raw.dbf)
    _require_columns(layer, cmap, raw)
    rejects = list(raw.rejects)
    notes = [f"未识别的列（已忽略）：{'、'.join(cmap.unknown)}"] if cmap.unknown else []
    source = resolve_source(declared, raw.crs)
    geoms = None
    unreadable: set[int] = set()
    if layer.spatial:
        found = _table_geometries(raw, cmap, rejects) if raw.tabular else raw.geometries
        assert found is not None
        unreadable = {r.row for r in rejects[len(raw.rejects):]}
        geoms = to_storage(found, source, max_projected_share=float(rules["projected_share"]))
    ref_field, town_field = layer.ref_field, layer.township_field
    columns = [(f, _header_of(layer, cmap, f.name), cmap.fields.get(f.name)) for f in layer.fields]
    values, codes = _parse_columns(layer, columns, raw, rejects)
    fitted = problems = None
    if geoms is not None:
        fitted = np.empty(len(geoms), dtype=object)
        # only a point layer has anything to fit (one-part MultiPoint → Point): others are taken as they are
        fitted[:] = [_fit_geometry(layer, g) for g in geoms] if layer.geom_kind == "point" else geoms
        problems = _geometry_problems(layer, fitted)
    no_codes: list[str | None] = [None] * raw.size
    key_codes = codes.get(layer.key, no_codes) if layer.key else no_codes
    shapes: list[Any] | np.ndarray
    if not layer.explode:  # one staged row per row read: only rows with a geometry problem are looked at
        numbers, parts, source_rows, keys = list(raw.row_numbers), [1] * raw.size, list(range(raw.size)), \
            list(key_codes)
        shapes = fitted.copy() if fitted is not None else [None] * raw.size
        for i, problem in enumerate(problems or ()):
            if problem:
                if raw.row_numbers[i] not in unreadable:
                    rejects.append(Reject(raw.row_numbers[i], cmap.wkt or GEOMETRY_FIELD, problem))
                shapes[i] = None  # refused already: the database never sees a non-finite or oversized shape
    else:
        numbers, parts, source_rows, keys, shapes = [], [], [], [], []
        for i, number in enumerate(raw.row_numbers):
            pieces: list[Any] = [None]
            if fitted is not None and problems is not None:
                geom = fitted[i]
                problem = problems[i]
                if problem and number not in unreadable:
                    rejects.append(Reject(number, cmap.wkt or GEOMETRY_FIELD, problem))
                if problem:
                    geom = None  # refused already: the database never sees a non-finite or oversized shape
                pieces = list(geom.geoms) if geom is not None and hasattr(geom, "geoms") else [geom]
            key = key_codes[i]
            if len(pieces) > 1:
                notes.append(f"第 {number} 行：多段线拆分为 {len(pieces)} 条" + (f"，编号加后缀 -1…-{len(pieces)}"
                                                                                if key else ""))
            for part, piece in enumerate(pieces, start=1):
                numbers.append(number)
                parts.append(part)
                source_rows.append(i)
                shapes.append(piece)
                keys.append(f"{key}-{part}" if key and len(pieces) > 1 else key)
    if len(source_rows) != raw.size:  # some rows were split into parts: every column follows
        values = {name: [column[j] for j in source_rows] for name, column in values.items()}
        codes = {name: [column[j] for j in source_rows] for name, column in codes.items()}
    if layer.key and layer.key in values:
        values[layer.key] = [k or v for k, v in zip(keys, values[layer.key], strict=True)]
    _store_wkt_fields(layer, values, source, rules)
    return _Staged(row_numbers=numbers, parts=parts,
                   geoms=np.asarray(shapes, dtype=object) if layer.spatial else None, attrs=values, keys=keys,
                   ref_codes=codes.get(ref_field.name, no_codes) if ref_field else [None] * len(numbers),
                   township_codes=codes.get(town_field.name, no_codes) if town_field else [None] * len(numbers),
                   rejects=rejects, notes=notes, rows_read=raw.size, source=source)


_STAGE_COLUMNS = ("NULL::integer AS row_no, NULL::integer AS part, NULL::geometry(Geometry, 4490) AS geom, "
                  "NULL::text AS key, NULL::text AS ref_code, NULL::text AS township_code, NULL::integer AS ref_id, "
                  "NULL::integer AS township_id")


def _attr_columns(layer: Layer) -> list[str]:
    """The layer's fields that go straight into its table (references are resolved to ids instead)."""
    return [f.name for f in layer.fields if f.ref is None]


def _create_stage_sql(layer: Layer) -> str:
    """The staging table: row bookkeeping, the geometry, codes, and one column per attribute typed as the target
    table's own column ("f_<name>"), so COPY parses each cell once with that type's input function and the
    INSERT … SELECT moves columns as they are (no JSON per row)."""
    attrs = "".join(f', NULL::{_column_type(layer, name)} AS "f_{name}"' for name in _attr_columns(layer))
    return f"CREATE TEMP TABLE io_stage ON COMMIT DROP AS SELECT {_STAGE_COLUMNS}{attrs} WITH NO DATA"


def _column_type(layer: Layer, name: str) -> str:
    """The SQL type of a target column, e.g. character varying(64), integer, jsonb, geometry(MULTIPOLYGON,4490)."""
    column = Base.metadata.tables[layer.table].c[name]
    from sqlalchemy.dialects import postgresql

    return column.type.compile(dialect=postgresql.dialect())


def _copy_text(value: str | None) -> str:
    """A value in COPY's text format: \\N for NULL (and for empty text, as the staging table wants),
    backslash, tab, newline and carriage return escaped."""
    if not value:
        return "\\N"
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return (value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
                .replace("\r", "\\r"))
    return value


_COPY_SPECIAL = ("\\", "\t", "\n", "\r")
"""What COPY's text format escapes."""


def _copy_texts(values: list[str | None]) -> list[str]:
    """_copy_text of every value; a column with nothing to escape is taken as it is."""
    joined = "".join(v for v in values if v)
    if not any(c in joined for c in _COPY_SPECIAL):
        return [v or "\\N" for v in values]
    return [_copy_text(v) for v in values]


def _copy_cell(value: Any, dumps: Any) -> str:
    """A parsed attribute in COPY's text format, for its typed staging column (None → \\N; empty text stays
    empty, as it did through JSON)."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (dict, list)):
        return _copy_text(dumps(value)) or "\\N"
    text_value = str(value)
    return _copy_text(text_value) if text_value else ""


def _copy_column(values: list[Any], dumps: Any) -> list[str]:
    """One attribute column as COPY text. Text without anything to escape is taken as it is (None → \\N, empty
    text stays empty); otherwise each distinct value is encoded once (_copy_cell) and spread back."""
    if set(map(type, values)) <= {str, type(None)}:
        joined = "".join(v for v in values if v is not None)
        if not any(c in joined for c in _COPY_SPECIAL):
            return ["\\N" if v is None else v for v in values]
    keys, cell_of = _memo_keys(values)
    try:
        seen: dict[Any, str] = dict.fromkeys(keys)  # type: ignore[arg-type]
    except TypeError:  # dict/list values (json fields) are not hashable
        return [_copy_cell(v, dumps) for v in values]
    for key in seen:
        seen[key] = _copy_cell(cell_of(key), dumps)
    return [seen[key] for key in keys]


def _attr_copy_columns(layer: Layer, attrs: dict[str, list[Any]], n: int) -> list[list[str]]:
    """Each attribute column as COPY text, one cell per staged row (_copy_column)."""
    dumps = json.JSONEncoder(ensure_ascii=False).encode
    return [["\\N"] * n if attrs.get(name) is None else _copy_column(attrs[name], dumps)
            for name in _attr_columns(layer)]


def _ewkb_hex(geoms: np.ndarray, srid: int) -> list[str]:
    """Hex EWKB carrying `srid`, as COPY's text format wants it for a geometry(…, srid) column: plain 2-D WKB
    from GEOS (binary, hexed by Python: several times faster than GEOS's own hex writer) with the SRID flag and
    value spliced into each header — no copy of the geometries to set their SRID first."""
    srid_hex = srid.to_bytes(4, "little").hex()
    out = []
    for wkb in shapely.to_wkb(geoms, output_dimension=2, byte_order=1, flavor="extended").tolist():
        h = wkb.hex()
        out.append(f"{h[:8]}{wkb[4] | 0x20:02x}{srid_hex}{h[10:]}")
    return out


def copy_stage(conn: Connection, staged: _Staged, layer: Layer, *, township_ids: np.ndarray | None = None) -> None:
    """Create the staging table and COPY every staged row into it (one round trip, COPY's text format);
    `township_ids` (0: unknown) fills township_id for rows placed beforehand."""
    conn.execute(text("DROP TABLE IF EXISTS io_stage"))
    conn.execute(text(_create_stage_sql(layer)))
    n = len(staged.row_numbers)
    wkb = np.full(n, "\\N", dtype=object)
    if staged.geoms is not None and n:
        ok = ~(shapely.is_missing(staged.geoms) | shapely.is_empty(staged.geoms))
        if ok.any():
            wkb[ok] = _ewkb_hex(staged.geoms[ok], 4490)
    columns = [[str(v) for v in staged.row_numbers], [str(v) for v in staged.parts], list(wkb),
               _copy_texts(staged.keys), _copy_texts(staged.ref_codes), _copy_texts(staged.township_codes),
               ["\\N"] * n if township_ids is None else [str(v) if v else "\\N" for v in township_ids.tolist()],
               *_attr_copy_columns(layer, staged.attrs, n)]
    lines = "\n".join(map("\t".join, zip(*columns, strict=True)))
    buf = io.StringIO(lines + "\n" if n else "")
    names = ", ".join(["row_no", "part", "geom", "key", "ref_code", "township_code", "township_id",
                       *(f'"f_{name}"' for name in _attr_columns(layer))])
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.copy_expert(f"COPY io_stage ({names}) FROM STDIN", buf)
    finally:
        cursor.close()


def _validity_reason(reason: str) -> str:
    """ST_IsValidReason in Chinese (the location it gives is kept)."""
    for english, chinese in VALIDITY_REASONS.items():
        if reason.startswith(english):
            return chinese + reason[len(english):]
    return reason


def check_validity(conn: Connection, layer: Layer, *, repair: bool) -> tuple[list[Reject], list[Repair]]:
    """Invalid geometries: repaired with ST_MakeValid keeping the geometry kind (--repair), else rejected."""
    invalid = conn.execute(text(
        "SELECT row_no, part, ST_IsValidReason(geom) FROM io_stage "
        "WHERE geom IS NOT NULL AND NOT ST_IsValid(geom) ORDER BY row_no, part")).all()
    if not invalid:
        return [], []
    if not repair:
        return [Reject(r, GEOMETRY_FIELD, MSG["invalid"].format(reason=_validity_reason(why))) for r, _, why
                in invalid], []
    dim = EXTRACT_DIMENSION.get(layer.geom_kind or "")
    fixed = conn.execute(text(
        "UPDATE io_stage SET geom = CASE WHEN CAST(:dim AS integer) IS NULL THEN ST_MakeValid(geom) "
        "ELSE ST_CollectionExtract(ST_MakeValid(geom), :dim) END, "
        "township_id = NULL "  # placed again from the repaired shape by assign_townships
        "WHERE geom IS NOT NULL AND NOT ST_IsValid(geom) "
        "RETURNING row_no, ST_GeometryType(geom), ST_NumGeometries(geom), ST_IsEmpty(geom) OR NOT ST_IsValid(geom)"),
        {"dim": dim}).all()
    broken = {r for r, *_, bad in fixed if bad}
    reasons = {r: why for r, _, why in invalid}
    rejects = [Reject(r, GEOMETRY_FIELD, MSG["unrepairable"].format(reason=_validity_reason(reasons[r])))
               for r in sorted(broken)]
    repairs = [Repair(r, GEOMETRY_FIELD, f"{_validity_reason(reasons[r])} → 已用 ST_MakeValid 修复为 "
                                         f"{kind.removeprefix('ST_')}（{n} 部分）")
               for r, kind, n, bad in fixed if not bad]
    return rejects, repairs


_COUNTY_CHECK = """
WITH c AS MATERIALIZED (
    SELECT ST_Transform(ST_Buffer(ST_Transform(geom, :srid), :tol), 4490) AS g FROM county WHERE code = :county
), outside AS (
    SELECT s.row_no, s.geom FROM io_stage s CROSS JOIN c
    WHERE s.geom IS NOT NULL AND NOT ST_IsEmpty(s.geom) AND NOT ST_Intersects(s.geom, c.g)
)
SELECT DISTINCT o.row_no,
       CASE WHEN ST_Intersects(ST_FlipCoordinates(o.geom), c.g) THEN 'swapped' ELSE 'outside' END,
       ST_AsText(ST_PointOnSurface(o.geom))
FROM outside o CROSS JOIN c ORDER BY o.row_no
"""
"""The county outline buffered by the tolerance in metres (its Gauss–Krüger zone), back in EPSG:4490 once;
then every row is a prepared point/shape-in-polygon test in degrees, no per-row transform."""


def check_county(conn: Connection, *, tolerance_m: float, allow_outside: bool = False) -> list[Reject]:
    """Rows farther than the tolerance from the county outline; 'swapped' when flipping lon/lat fixes it.

    allow_outside keeps rows outside the county (e.g. a neighbouring mine that matters to the bureau)
    but still refuses swapped coordinates and latitudes beyond ±90°.
    """
    srid = metric_srid(conn)
    rows = conn.execute(text(_COUNTY_CHECK), {"srid": srid, "tol": tolerance_m,
                                              "county": get_settings().county_code}).all()
    return [Reject(r, GEOMETRY_FIELD, MSG[v].format(tol=tolerance_m), at) for r, v, at in rows
            if not (allow_outside and v == "outside" and _plausible_lonlat(at))]


def _plausible_lonlat(wkt: str) -> bool:
    """True when a WKT point is a possible longitude/latitude."""
    point = shapely.from_wkt(wkt)
    return bool(-180 <= point.x <= 180 and -90 <= point.y <= 90)


def file_duplicates(staged: _Staged, header: str) -> list[Reject]:
    """Keys repeated within the file: every row but the first with that key (one dict pass, no sort in SQL)."""
    first: dict[str, int] = {}
    for row, key in zip(staged.row_numbers, staged.keys, strict=True):
        if key:  # an empty key is NULL in the staging table, as no key
            first[key] = min(row, first.get(key, row))
    rejects = [Reject(row, header, MSG["dup_file"].format(first=first[key]), key)
               for row, key in zip(staged.row_numbers, staged.keys, strict=True) if key and row != first[key]]
    return sorted(rejects, key=lambda r: r.row)


def check_duplicates(conn: Connection, layer: Layer, header: str, *, update: bool,
                     staged: _Staged) -> tuple[list[Reject], int]:
    """Keys repeated within the file, and keys already in the table (rejected unless --update)."""
    rejects = file_duplicates(staged, header)
    existing = conn.execute(text(
        f'SELECT s.row_no, s.key FROM io_stage s JOIN "{layer.table}" t ON t."{layer.key}" = s.key '
        "ORDER BY s.row_no")).all()
    if update:
        return rejects, len(existing)
    return rejects + [Reject(r, header, MSG["dup_table"], key) for r, key in existing], 0


def resolve_references(conn: Connection, layer: Layer, headers: dict[str, str]) -> list[Reject]:
    """Look referenced codes up (enterprise USCC, pipeline code, township code) and keep their ids."""
    rejects: list[Reject] = []
    for f, column, code_column in ((layer.ref_field, "ref_id", "ref_code"),
                                   (layer.township_field, "township_id", "township_code")):
        if f is None or f.ref is None:
            continue
        conn.execute(text(
            f'UPDATE io_stage s SET {column} = r.id FROM "{f.ref.table}" r WHERE r."{f.ref.key}" = s.{code_column}'))
        missing = conn.execute(text(
            f"SELECT DISTINCT row_no, {code_column} FROM io_stage WHERE {code_column} IS NOT NULL "
            f"AND {column} IS NULL ORDER BY row_no")).all()
        rejects += [Reject(r, headers[f.name], MSG["unknown_ref"].format(label=f.ref.label, code=code), code)
                    for r, code in missing]
    return rejects


def locate_townships(conn: Connection, staged: _Staged) -> np.ndarray:
    """Per staged row, the id of the township containing its point on surface (GEOS, as ST_PointOnSurface and
    ST_Intersects compute it; the lowest id where townships overlap), 0 where none or where the row names its
    township code. One read of the townships, then one vectorised STRtree query: no per-row SQL."""
    n = len(staged.row_numbers)
    found = np.zeros(n, dtype=np.int64)
    if staged.geoms is None or n == 0:
        return found
    wanted = np.array([code is None for code in staged.township_codes], dtype=bool)
    wanted &= ~(shapely.is_missing(staged.geoms) | shapely.is_empty(staged.geoms))
    if not wanted.any():
        return found
    towns = conn.execute(text("SELECT id, ST_AsBinary(geom) FROM township WHERE geom IS NOT NULL ORDER BY id")).all()
    if not towns:
        return found
    ids = np.array([t[0] for t in towns], dtype=np.int64)
    tree = shapely.STRtree(shapely.from_wkb([bytes(t[1]) for t in towns]))
    rows = np.flatnonzero(wanted)
    with np.errstate(all="ignore"):
        points = shapely.point_on_surface(staged.geoms[rows])
    point_i, town_i = tree.query(points, predicate="intersects")
    if len(point_i):
        best = np.full(len(rows), np.iinfo(np.int64).max)
        np.minimum.at(best, point_i, ids[town_i])
        hit = best != np.iinfo(np.int64).max
        found[rows[hit]] = best[hit]
    return found


def assign_townships(conn: Connection, layer: Layer, header: str) -> list[Reject]:
    """Rows without a township code and not yet placed (locate_townships, or repaired since) get the township
    containing their point on surface (GiST index)."""
    conn.execute(text(
        "UPDATE io_stage s SET township_id = t.id FROM township t "
        "WHERE s.township_id IS NULL AND s.township_code IS NULL AND s.geom IS NOT NULL "
        "AND ST_Intersects(t.geom, ST_PointOnSurface(s.geom))"))
    if layer.name != "grid_cell":
        return []
    return [Reject(r, header, MSG["no_township"]) for (r,) in conn.execute(text(
        "SELECT DISTINCT row_no FROM io_stage WHERE township_id IS NULL AND township_code IS NULL "
        "AND geom IS NOT NULL ORDER BY row_no"))]


def _insert_columns(layer: Layer) -> tuple[list[str], list[str]]:
    """Target columns and the SELECT expressions that fill them from the staging table."""
    table = Base.metadata.tables[layer.table]
    cols = [f.name for f in layer.fields if f.ref is None]
    exprs = [f'ST_ForcePolygonCCW(s."f_{f.name}")' if f.kind == "wkt" else f's."f_{f.name}"'
             for f in layer.fields if f.ref is None]
    if layer.spatial:
        cols.append(layer.geom_column or "geom")
        geom = "ST_ForcePolygonCCW(s.geom)" if layer.geom_kind in ("polygon", "any") else "s.geom"
        exprs.append(f"ST_Multi({geom})" if layer.multi else geom)
    for f, column in ((layer.ref_field, "ref_id"), (layer.township_field, "township_id")):
        if f is not None and f.ref is not None:
            cols.append(f.ref.fk)
            exprs.append(f"s.{column}")
    if layer.township_by_location and layer.township_field is None:
        cols.append("township_id")
        exprs.append("s.township_id")
    if "source" in table.c:
        cols.append("source")
        exprs.append("CAST(:source AS text)")
    return cols, exprs


def write_rows(conn: Connection, layer: Layer, *, source: str, update: bool) -> tuple[int, int]:
    """INSERT … SELECT the staged rows into the layer's table (and UPDATE existing keys with --update)."""
    cols, exprs = _insert_columns(layer)
    col_sql = ", ".join(f'"{c}"' for c in cols)
    select = f"SELECT {', '.join(exprs)} FROM io_stage s"
    updated = 0
    if update and layer.key:
        sets = ", ".join(f'"{c}" = v."{c}"' for c in cols if c != layer.key)
        updated = conn.execute(text(
            f'UPDATE "{layer.table}" t SET {sets} FROM ({select}) AS v ({col_sql}) '
            f'WHERE t."{layer.key}" = v."{layer.key}"'), {"source": source}).rowcount
        select += f' WHERE NOT EXISTS (SELECT 1 FROM "{layer.table}" t WHERE t."{layer.key}" = s.key)'
    inserted = conn.execute(text(f'INSERT INTO "{layer.table}" ({col_sql}) {select} ORDER BY s.row_no, s.part'),
                            {"source": source}).rowcount
    return inserted, updated


def _sorted(rejects: list[Reject]) -> list[Reject]:
    """By row; one problem per row and field (the first found: an undecodable cell is not also 'empty')."""
    seen: set[tuple[int, str]] = set()
    unique = []
    for r in rejects:
        if (r.row, r.field) not in seen:
            seen.add((r.row, r.field))
            unique.append(r)
    return sorted(unique, key=lambda r: r.row)


def read_geometries(path: Path, *, crs: str | None = None, layer: str = "township") -> np.ndarray:
    """A file's geometries converted to CGCS2000 lon/lat exactly as import_file would store them."""
    spec = get_layer(layer)
    raw = read_raw(Path(path), is_known=lambda h: is_known_header(spec, h))
    assert raw.geometries is not None
    return to_storage(raw.geometries, resolve_source(parse_crs_option(crs), raw.crs))


_GC_STATE = {"pauses": 0, "was_enabled": True}
_GC_LOCK = threading.Lock()


@contextmanager
def cycle_collection_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while an import runs (back as it was when the last one ends).

    An import allocates a few hundred thousand short-lived containers (cells, rows, codes) that reference
    counting frees and that form no cycles; meanwhile the collector's full pass, which they trigger, scans the
    whole process heap (SQLAlchemy, pandas, …) for nothing — about 0.1 s of a 20,000-row import's CPU time."""
    with _GC_LOCK:
        if _GC_STATE["pauses"] == 0:
            _GC_STATE["was_enabled"] = gc.isenabled()
            gc.disable()
        _GC_STATE["pauses"] += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _GC_STATE["pauses"] -= 1
            if _GC_STATE["pauses"] == 0 and _GC_STATE["was_enabled"]:
                gc.enable()


def import_file(engine: Engine, layer: str, path: Path | str, *, crs: str | None = None, repair: bool = False,
                update: bool = False, allow_outside: bool = False, encoding: str | None = None,
                sheet: str | None = None, actor: tuple[str, str] | None = None) -> ImportResult:
    """Import `path` into `layer` in one transaction; ImportRejected (nothing written) if any row is bad.

    `actor` (username, role) names the person in the audit log when the import comes from a web page.
    """
    with cycle_collection_paused():
        return _import_file(engine, layer, Path(path), crs=crs, repair=repair, update=update,
                            allow_outside=allow_outside, encoding=encoding, sheet=sheet, actor=actor)


def _import_file(engine: Engine, layer: str, path: Path, *, crs: str | None, repair: bool, update: bool,
                 allow_outside: bool, encoding: str | None, sheet: str | None,
                 actor: tuple[str, str] | None) -> ImportResult:
    """import_file's work (read, stage, check, write in one transaction)."""
    spec = get_layer(layer)
    rules = load_rules()
    raw = read_raw(path, is_known=lambda h: is_known_header(spec, h), encoding=encoding, sheet=sheet)
    staged = stage_rows(raw, spec, declared=parse_crs_option(crs), rules=rules)
    cmap = map_columns(spec, raw.headers, ignore=raw.ignore, dbf=raw.dbf)
    headers = {f.name: _header_of(spec, cmap, f.name) for f in spec.fields}
    rejects: list[Reject] = list(staged.rejects)
    repairs: list[Repair] = []
    op = operation("import", path.name, file_sha256(path), layer=layer)
    with engine.begin() as conn:
        # the audit trigger's transition table holds every inserted row, geometry included: with a stock server's
        # 4 MB work_mem a 20,000-building import spilled it to a temporary file
        tune_for_heavy_work(conn)
        if actor is not None:
            from geo.access.logins import as_actor

            as_actor(conn, *actor)
        placed = locate_townships(conn, staged) if spec.township_by_location else None
        copy_stage(conn, staged, spec, township_ids=placed)
        updated = 0
        if spec.spatial:
            bad, repairs = check_validity(conn, spec, repair=repair)
            rejects += bad
            rejects += check_county(conn, tolerance_m=float(rules["county_tolerance_m"]),
                                    allow_outside=allow_outside)
        if spec.key:
            bad, updated = check_duplicates(conn, spec, headers[spec.key], update=update, staged=staged)
            rejects += bad
        rejects += resolve_references(conn, spec, headers)
        if spec.township_by_location:
            town = spec.township_field
            rejects += assign_townships(conn, spec, headers[town.name] if town else "乡镇代码")
        if rejects:
            rejects = _sorted(rejects)
            rows = len({r.row for r in rejects})
            raise ImportRejected(
                f"{path.name}：{rows} 行有问题（共 {len(rejects)} 处），本次导入未写入任何数据",
                rejects=rejects, repairs=repairs, rows_read=staged.rows_read)
        begin_bulk(conn, op)  # one audit entry per table with the ids written, not a copy of each row
        inserted, updated = write_rows(conn, spec, source=path.name, update=update)
    return ImportResult(layer=layer, path=path, inserted=inserted, updated=updated, rows_read=staged.rows_read,
                        source_crs=staged.source.describe(), repairs=repairs, notes=staged.notes)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
"""What Excel may take for the start of a formula when it opens a CSV (full-width forms included)."""


def csv_text(value: object) -> object:
    """A rejects-report cell Excel shows as text: a leading apostrophe before anything formula-like.

    A CSV has no cell types, so unlike the xlsx writers (geo.io.xlsx) this has to change the text;
    plain numbers such as -111.3 are left alone.
    """
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    try:
        float(value)
        return value
    except ValueError:
        return "'" + value


def write_rejects(rejects: list[Reject], path: Path) -> Path:
    """The rejects report: CSV in UTF-8 with BOM (Excel opens it), columns 行号/字段/原因/值."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["行号", "字段", "原因", "值"])
        writer.writerows([r.row, csv_text(r.field), csv_text(r.reason), csv_text(r.value)] for r in rejects)
    return path


def write_rejects_xlsx(rejects: list[Reject], path: Path) -> Path:
    """The rejects report as an Excel workbook (cells typed as text, so nothing is taken for a formula)."""
    from openpyxl import Workbook

    from geo.io.xlsx import append_row

    path.parent.mkdir(parents=True, exist_ok=True)
    book = Workbook()
    sheet = book.active
    sheet.title = "问题清单"
    append_row(sheet, ["行号", "字段", "原因", "值"])
    for r in rejects:
        append_row(sheet, [r.row, r.field, r.reason, r.value])
    sheet.column_dimensions["C"].width = 60
    book.save(path)
    return path


def default_rejects_path(path: Path) -> Path:
    """Next to the input: <name>.rejects.csv."""
    return path.with_name(f"{path.stem}.rejects.csv")
