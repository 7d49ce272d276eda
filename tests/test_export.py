"""A bureau exports its ledgers and GIS layers, and what it exports imports back to the same data."""

from __future__ import annotations

import csv

import geopandas as gpd
import openpyxl
import pyogrio
import pytest
from sqlalchemy import text

from geo.cli import main
from geo.errors import NotFound
from geo.io.exporter import export_layer
from geo.io.importer import import_file
from tests.io_data import USCC, enterprises, pipelines, rows, snapshot, townships

FORMATS = ("geojson", "gpkg", "xlsx", "shp")


def _load_enterprises(engine, tmp_path) -> None:
    townships().to_file(tmp_path / "乡镇.geojson")
    import_file(engine, "township", tmp_path / "乡镇.geojson")
    gdf = enterprises(4)
    gdf["重点监管危险化工工艺"] = ["是", "否", "否", "否"]
    gdf["安全生产标准化等级"] = [2, None, 3, None]
    gdf["乡镇代码"] = [None, None, None, "140930101"]  # declared by code, not located
    gdf.to_file(tmp_path / "企业.geojson")
    import_file(engine, "enterprise", tmp_path / "企业.geojson")


def _enterprise_state(engine) -> list:
    return snapshot(engine, "enterprise") + rows(
        engine, "SELECT e.uscc, t.code FROM enterprise e LEFT JOIN township t ON t.id = e.township_id ORDER BY 1")


@pytest.mark.parametrize("layer", ["enterprise", "pipeline"])
def test_export_then_import_gives_back_the_same_rows_in_every_format(county, tmp_path, layer):
    if layer == "enterprise":
        _load_enterprises(county, tmp_path)
        state = _enterprise_state
    else:
        pipelines().to_file(tmp_path / "管道.geojson")
        import_file(county, "pipeline", tmp_path / "管道.geojson")
        state = lambda engine: snapshot(engine, "pipeline")
    original = state(county)
    assert len(original) >= 2
    for fmt in FORMATS:
        path = tmp_path / "out" / f"{layer}.{fmt}"
        assert export_layer(county, layer, path, fmt=fmt).rows == len(snapshot(county, layer))
        with county.begin() as conn:
            conn.execute(text(f"DELETE FROM {layer}"))
        result = import_file(county, layer, path)
        assert result.source_crs.startswith(("EPSG:4490", "未声明")), fmt
        assert state(county) == original, fmt
        assert {s for (s,) in rows(county, f"SELECT DISTINCT source FROM {layer}")} == {path.name}


def test_xlsx_ledger_has_chinese_headers_labels_and_coordinates(county, tmp_path):
    _load_enterprises(county, tmp_path)
    path = tmp_path / "企业台账.xlsx"
    export_layer(county, "enterprise", path, fmt="xlsx")
    sheet = openpyxl.load_workbook(path).active
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert "企业台账" in cells[0][0]
    header = cells[1]
    assert header[:3] == ["统一社会信用代码", "企业名称", "行业类别"] and header[-2:] == ["经度", "纬度"]
    first = dict(zip(header, cells[2], strict=True))
    assert first["统一社会信用代码"] == USCC[0]
    assert (first["行业类别"], first["重大危险源"], first["重点监管危险化工工艺"]) == ("危险化学品", "是", "是")
    assert (first["经度"], first["纬度"]) == (111.30, 39.20)
    assert first["乡镇代码"] == "140930100000"


def test_shapefile_has_utf8_cpg_short_english_names_and_a_field_note(county, tmp_path):
    pipelines().to_file(tmp_path / "管道.geojson")
    import_file(county, "pipeline", tmp_path / "管道.geojson")
    path = tmp_path / "管道.shp"
    result = export_layer(county, "pipeline", path, fmt="shp")
    assert path.with_suffix(".cpg").read_text().strip().upper() in ("UTF-8", "UTF8")
    names = pyogrio.read_info(path)["fields"].tolist()
    assert all(len(n.encode()) <= 10 for n in names) and "press_mpa" in names
    with result.extra_files[0].open(encoding="utf-8-sig", newline="") as fh:
        note = {r["字段名"]: r["中文名称"] for r in csv.DictReader(fh)}
    assert note["press_mpa"] == "设计压力(MPa)" and note["medium"] == "输送介质"
    media = set(gpd.read_file(path)["medium"])
    assert media == {"天然气", "成品油"}


def test_export_of_one_township(county, tmp_path):
    _load_enterprises(county, tmp_path)
    path = tmp_path / "西口镇.geojson"
    assert export_layer(county, "enterprise", path, fmt="geojson", township_code="140930100").rows == 1
    assert list(gpd.read_file(path)["统一社会信用代码"]) == [USCC[0]]
    by_name = tmp_path / "西口镇.xlsx"
    assert export_layer(county, "enterprise", by_name, fmt="xlsx", township_code="西口镇").rows == 1
    with pytest.raises(NotFound, match="没有乡镇代码"):
        export_layer(county, "enterprise", tmp_path / "x.geojson", fmt="geojson", township_code="140930999")


def test_blank_template_with_its_guide_imports_once_filled(county, tmp_path):
    path = tmp_path / "储存模板.xlsx"
    assert main(["template", "chemical_inventory", "-o", str(path)]) == 0
    book = openpyxl.load_workbook(path)
    assert book.sheetnames[1] == "填写说明"
    guide = {r[0]: r for r in book["填写说明"].iter_rows(min_row=2, values_only=True)}
    assert guide["统一社会信用代码"][1] == "是" and "GB 32100" in guide["统一社会信用代码"][3]
    assert guide["最大储存量(吨)"][2] == "数字"
    enterprises(1).to_file(tmp_path / "企业.geojson")
    import_file(county, "enterprise", tmp_path / "企业.geojson")
    sheet = book.worksheets[0]
    sheet.append([USCC[0], "液氨", "7664-41-7", 12.5, None, "罐区"])
    book.save(path)
    assert import_file(county, "chemical_inventory", path).inserted == 1
