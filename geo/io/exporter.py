"""Export a layer as the bureau's ledger (xlsx, Chinese headers and labels) or as GeoJSON/GeoPackage/Shapefile.

Every format carries Chinese labels for code lists and 是/否 for flags, and re-imports to the same data
with geo.io.importer. Geometry is CGCS2000 lon/lat (EPSG:4490); point layers get 经度/纬度 columns in
xlsx, other layers a 几何(WKT) column. Shapefiles use ≤10-byte English field names (dBase limit),
UTF-8 text with a .cpg, and a field-name note (<name>_字段说明.csv) beside them.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, Engine, text

from geo.config import get_settings
from geo.errors import InvalidInput, NotFound
from geo.io.layers import Field, Layer, get_layer
from geo.models import Base
from geo.timefmt import local_minute, today

ExportFormat = Literal["xlsx", "geojson", "gpkg", "shp"]
FORMATS: dict[str, str] = {"xlsx": ".xlsx", "geojson": ".geojson", "gpkg": ".gpkg", "shp": ".shp"}
XLSX_CELL_LIMIT = 32767
"""Excel's maximum characters in one cell (a WKT longer than this cannot go into the ledger)."""
SHP_TEXT_LIMIT_BYTES = 254
LON_HEADER, LAT_HEADER, WKT_HEADER = "经度", "纬度", "几何(WKT)"


@dataclass
class ExportResult:
    """Where the export went and how many rows it holds."""

    path: Path
    rows: int
    extra_files: list[Path] = field(default_factory=list)


def default_export_path(layer: str, fmt: str) -> Path:
    """.riskmap/exports/<layer>.<ext> under the project home."""
    return get_settings().home / "exports" / f"{layer}{FORMATS[fmt]}"


def _township_filter(layer: Layer) -> str:
    """WHERE clause keeping one township: by township_id, by the enterprise, or by intersection."""
    table = Base.metadata.tables[layer.table]
    if layer.name == "township":
        return "t.code = :town"
    if "township_id" in table.c:
        return "t.township_id = (SELECT id FROM township WHERE code = :town)"
    if layer.spatial:
        return f't."{layer.geom_column}" && tw_filter.geom AND ST_Intersects(t."{layer.geom_column}", tw_filter.geom)'
    return "ref.township_id = (SELECT id FROM township WHERE code = :town)"


RISK_KINDS = {"enterprise": "enterprise", "mine": "mine"}
"""Layers whose export carries the current 风险等级 and 主要原因 (read-only columns, ignored on import)."""
RISK_HEADERS = {"risk_level": ("风险等级", "RISK_LVL"), "risk_reasons": ("主要原因", "REASONS")}
MAIN_REASONS = 3
"""主要原因 lists at most this many reasons, those of the highest level first."""


def _risk_text(column: str, value: Any) -> str | None:
    """风险等级 as 红（重大风险）…, 主要原因 as the texts of the leading reasons joined by '；'."""
    from geo.features import LEVEL_LABELS, LEVEL_SHORT

    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if column == "risk_level":
        return f"{LEVEL_SHORT.get(value, value)}（{LEVEL_LABELS.get(value, value)}）"
    reasons = [r for r in (value or []) if isinstance(r, dict) and r.get("text")]
    rank = {"red": 4, "orange": 3, "yellow": 2, "blue": 1}
    reasons.sort(key=lambda r: -rank.get(r.get("level") or "", 0))
    return "；".join(str(r["text"]) for r in reasons[:MAIN_REASONS]) or None


def _select_sql(layer: Layer, *, township: bool) -> str:
    """One SELECT of the layer with its references as codes (USCC, pipeline, township)."""
    cols: list[str] = []
    joins: list[str] = []
    for f in layer.fields:
        if f.ref is None and f.kind == "wkt":
            cols.append(f'ST_AsText(t."{f.name}") AS "{f.name}"')
        elif f.ref is None:
            cols.append(f't."{f.name}"')
        elif f.ref.table == "township":
            cols.append(f'tw.code AS "{f.name}"')
            joins.append('LEFT JOIN township tw ON tw.id = t.township_id')
        else:
            cols.append(f'ref."{f.ref.key}" AS "{f.name}"')
            joins.append(f'LEFT JOIN "{f.ref.table}" ref ON ref.id = t."{f.ref.fk}"')
    if layer.name in RISK_KINDS:
        cols += ["risk.level AS risk_level", "risk.reasons AS risk_reasons"]
        joins.append(f"LEFT JOIN risk_assessment risk ON risk.kind = '{RISK_KINDS[layer.name]}' "
                     "AND risk.object_id = t.id AND risk.valid_to IS NULL")
    if layer.spatial:
        cols.append(f'ST_AsBinary(t."{layer.geom_column}") AS geom_wkb')
    where = ""
    if township:
        if layer.spatial and "township_id" not in Base.metadata.tables[layer.table].c and layer.name != "township":
            joins.append("CROSS JOIN (SELECT geom FROM township WHERE code = :town) tw_filter")
        where = f"WHERE {_township_filter(layer)}"
    return f'SELECT {", ".join(cols)} FROM "{layer.table}" t {" ".join(joins)} {where} ORDER BY t.id'


def resolve_township(conn: Connection, township: str) -> str:
    """The 12-digit code of a township given by 12- or 9-digit code or by its name (西口镇)."""
    wanted = township.strip()
    code = wanted + "000" if len(wanted) == 9 and wanted.isdigit() else wanted
    found = conn.execute(text("SELECT code FROM township WHERE code = :c OR name = :c ORDER BY code"),
                         {"c": code}).scalars().all()
    if not found:
        raise NotFound(f"没有乡镇代码或名称为 {township} 的乡镇")
    if len(found) > 1:
        raise InvalidInput(f"有多个名为 {township} 的乡镇（{'、'.join(found)}），请用乡镇代码")
    return str(found[0])


def fetch_layer(conn: Connection, layer: Layer, *, township_code: str | None = None) -> tuple[
        pd.DataFrame, np.ndarray | None]:
    """The layer's rows (fields by name, references as codes) and geometries (EPSG:4490)."""
    params: dict[str, Any] = {}
    if township_code:
        params["town"] = resolve_township(conn, township_code)
    result = conn.execute(text(_select_sql(layer, township=bool(township_code))), params)
    frame = pd.DataFrame(result.all(), columns=list(result.keys()))
    geoms = None
    if layer.spatial:
        geoms = shapely.from_wkb(np.asarray([bytes(b) for b in frame.pop("geom_wkb")], dtype=object)) \
            if len(frame) else np.empty(0, dtype=object)
    return frame, geoms


def _present(f: Field, value: Any) -> Any:
    """A stored value as a person reads it: code → Chinese label, flag → 是/否, date → ISO text."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if f.kind == "code" and f.codes:
        return f.codes.get(value, value)
    if f.kind == "bool":
        return "是" if value else "否"
    if isinstance(value, dt.datetime):
        return local_minute(value)
    if f.kind == "date" and isinstance(value, dt.date):
        return value.isoformat()
    if f.kind == "json":
        return json.dumps(value, ensure_ascii=False, sort_keys=True) if value else None
    return value


def present_frame(layer: Layer, frame: pd.DataFrame, *, names: str = "header") -> pd.DataFrame:
    """Rows with Chinese labels, headed by Chinese headers (or shapefile names), typed for the writers."""
    out = {}
    for f in layer.fields:
        column = f.header if names == "header" else f.shp_name
        values = [_present(f, v) for v in frame[f.name]] if len(frame) else []
        if f.kind == "int":
            out[column] = pd.array(values, dtype="Int64")
        elif f.kind == "float":
            out[column] = pd.array([np.nan if v is None else float(v) for v in values], dtype="float64")
        else:
            out[column] = pd.array(values, dtype=object)
    for name, (header, shp) in RISK_HEADERS.items():
        if name in frame.columns:
            out[header if names == "header" else shp] = pd.array(
                [_risk_text(name, v) for v in frame[name]] if len(frame) else [], dtype=object)
    return pd.DataFrame(out, index=range(len(frame)))


def write_xlsx(layer: Layer, frame: pd.DataFrame, geoms: np.ndarray | None, path: Path, *,
               title: str | None = None) -> None:
    """The 台账: a title row, Chinese headers, labels; 经度/纬度 for points, 几何(WKT) otherwise."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from geo.io.xlsx import append_row

    table = present_frame(layer, frame)
    if geoms is not None:
        if layer.geom_kind == "point":
            table[LON_HEADER] = shapely.get_x(geoms) if len(geoms) else []
            table[LAT_HEADER] = shapely.get_y(geoms) if len(geoms) else []
        else:
            wkts = shapely.to_wkt(geoms, rounding_precision=-1) if len(geoms) else []
            too_long = [i for i, w in enumerate(wkts) if w and len(w) > XLSX_CELL_LIMIT]
            if too_long:
                raise InvalidInput(f"第 {too_long[0] + 1} 条的几何超过 Excel 单元格上限（{XLSX_CELL_LIMIT} 字符），"
                                   "请导出为 gpkg 或 geojson")
            table[WKT_HEADER] = list(wkts)
    book = Workbook()
    sheet = book.active
    sheet.title = layer.label[:31]
    append_row(sheet, [title or f"{layer.label}台账（{today().isoformat()} 导出，坐标系 CGCS2000）"])
    sheet["A1"].font = Font(bold=True, size=14)
    append_row(sheet, list(table.columns))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in table.itertuples(index=False):
        append_row(sheet, [None if (v is pd.NA or (isinstance(v, float) and np.isnan(v))) else
                           (int(v) if isinstance(v, np.integer) else v) for v in row])
    for i, column in enumerate(table.columns, start=1):
        sheet.column_dimensions[sheet.cell(row=2, column=i).column_letter].width = max(10, 2 * len(column) + 2)
    sheet.freeze_panes = "A3"
    write_guide(book.create_sheet("填写说明"), layer)
    book.save(path)


KIND_LABELS = {"str": "文本", "int": "整数", "float": "数字", "bool": "是/否", "date": "日期（如 2024-03-05）",
               "code": "代码表", "json": "JSON 对象", "wkt": "WKT 文本（与经纬度同一坐标系）"}


def guide_rows(layer: Layer) -> list[list[str]]:
    """One line per column of the ledger: header, required, type, allowed values, other accepted headers."""
    lines = [["列名", "必填", "类型", "可填值 / 说明", "也接受的列名"]]
    for f in layer.fields:
        note = "、".join(f.codes.values()) if f.codes else ""
        if f.ref is not None:
            note = f"{f.ref.label}的编码，须已在数据库中" + ("；不填则按位置归属乡镇" if f.ref.table == "township" else "")
        if f.form == "uscc":
            note = (note + "；" if note else "") + "18 位，校验位按 GB 32100-2015"
        kind = KIND_LABELS[f.kind] + (f"，最多 {f.max_len} 字" if f.max_len and f.kind == "str" else "")
        lines.append([f.header, "是" if f.required else "", kind, note, "、".join((*f.headers[1:], f.name))])
    if layer.geom_kind == "point":
        lines += [[LON_HEADER, "是", "数字（度）", "CGCS2000 经度；高德/腾讯坐标导入时加 --crs gcj02", "lon、lng、longitude、x"],
                  [LAT_HEADER, "是", "数字（度）", "CGCS2000 纬度", "lat、latitude、y"]]
    elif layer.spatial:
        lines.append([WKT_HEADER, "是", "WKT 文本", "CGCS2000 经纬度，如 POLYGON((111.3 39.2, …))", "wkt、geometry、几何"])
    return lines


def write_guide(sheet: Any, layer: Layer) -> None:
    """The 填写说明 sheet of a ledger (import reads the first sheet and ignores this one)."""
    from openpyxl.styles import Font

    from geo.io.xlsx import append_row

    for line in guide_rows(layer):
        append_row(sheet, line)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABCDE", (22, 6, 24, 60, 40), strict=True):
        sheet.column_dimensions[letter].width = width


def write_template(layer: str, path: Path | str) -> Path:
    """An empty ledger (台账模板) of a layer with its 填写说明 sheet; needs no database."""
    spec = get_layer(layer)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    empty = pd.DataFrame({f.name: pd.Series([], dtype=object) for f in spec.fields})
    write_xlsx(spec, empty, np.empty(0, dtype=object) if spec.spatial else None, path,
               title=f"{spec.label}台账模板（坐标系 CGCS2000；填写说明见第二张表）")
    return path


def _write_vector(frame: pd.DataFrame, geoms: np.ndarray, path: Path, *, driver: str, **options: Any) -> None:
    """Write rows and EPSG:4490 geometries with pyogrio."""
    import geopandas as gpd

    gdf = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=4490), crs=4490)
    gdf.to_file(path, driver=driver, engine="pyogrio", **options)


def write_shapefile(layer: Layer, frame: pd.DataFrame, geoms: np.ndarray, path: Path) -> list[Path]:
    """Shapefile with English short field names, UTF-8 .cpg, and the field-name note beside it."""
    kinds = {g.geom_type.removeprefix("Multi") for g in geoms if g is not None}
    if len(kinds) > 1:
        raise InvalidInput(f"Shapefile 只能保存一种几何类型（本图层有 {'、'.join(sorted(kinds))}），请导出为 gpkg")
    for f in layer.fields:
        if f.kind == "wkt" and any(isinstance(v, str) and len(v.encode()) > SHP_TEXT_LIMIT_BYTES for v in frame[f.name]):
            raise InvalidInput(f"{f.header} 超过 Shapefile 文本上限（{SHP_TEXT_LIMIT_BYTES} 字节），请导出为 gpkg")
    table = present_frame(layer, frame, names="shp")
    _write_vector(table, geoms, path, driver="ESRI Shapefile", encoding="UTF-8")
    note = path.with_name(f"{path.stem}_字段说明.csv")
    with note.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["字段名", "中文名称", "说明"])
        for f in layer.fields:
            remark = "代码表：" + "、".join(f.codes.values()) if f.codes else ""
            if f.kind == "str" and (f.max_len is None or f.max_len * 3 > SHP_TEXT_LIMIT_BYTES):
                remark = f"Shapefile 文本最长 {SHP_TEXT_LIMIT_BYTES} 字节（约 84 个汉字），更长的内容请导出 gpkg"
            writer.writerow([f.shp_name, f.header, remark])
    return [note]


def export_layer(engine: Engine, layer: str, path: Path | str, *, fmt: ExportFormat | str,
                 township_code: str | None = None) -> ExportResult:
    """Write one layer (optionally one township's part) to `path` in xlsx, geojson, gpkg or shp."""
    spec = get_layer(layer)
    if fmt not in FORMATS:
        raise InvalidInput(f"不支持的导出格式 {fmt}；可选：{'、'.join(FORMATS)}")
    if not spec.spatial and fmt != "xlsx":
        raise InvalidInput(f"{spec.label}图层没有几何，只能导出为 xlsx 台账")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with engine.connect() as conn:
        frame, geoms = fetch_layer(conn, spec, township_code=township_code)
    extra: list[Path] = []
    if fmt == "xlsx":
        write_xlsx(spec, frame, geoms, path)
    elif fmt == "shp":
        assert geoms is not None
        extra = write_shapefile(spec, frame, geoms, path)
    else:
        assert geoms is not None
        driver = "GeoJSON" if fmt == "geojson" else "GPKG"
        if path.exists():
            path.unlink()
        _write_vector(present_frame(spec, frame), geoms, path, driver=driver)
    return ExportResult(path=path, rows=len(frame), extra_files=extra)
