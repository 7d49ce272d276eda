"""A bureau imports its ledgers and GIS files: every format, CRS, and every reason a row is refused."""

from __future__ import annotations

import csv
import math
import os
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pytest
import shapely
from sqlalchemy import text as sa_text

from geo.cli import main
from geo.crs import wgs84_to_gcj02
from geo.errors import InvalidInput
from geo.io.importer import ImportRejected, import_file, read_geometries
from tests.io_data import POINTS, USCC, enterprises, pipelines, rows, snapshot, townships

ROOT = Path(__file__).resolve().parent.parent


def _write_csv(path: Path, table: list[list[object]], *, encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows(table)
    return path


def _to_shapefile(gdf: gpd.GeoDataFrame, path: Path, *, encoding: str) -> None:
    """Write as Chinese GIS software does: GDAL cuts 统一社会信用代码 to 10 bytes (and says so; quiet here)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gdf.to_file(path, encoding=encoding)


def _enterprise_table(n: int = 3) -> list[list[object]]:
    gdf = enterprises(n)
    header = [c for c in gdf.columns if c != "geometry"] + ["经度", "纬度"]
    body = [[r[c] for c in header[:-2]] + [r.geometry.x, r.geometry.y] for _, r in gdf.iterrows()]
    return [header, *[["" if v is None or (isinstance(v, float) and math.isnan(v)) else v for v in row]
                      for row in body]]


def _stored_enterprises(engine):
    return rows(engine, "SELECT uscc, name, category, employees, major_hazard_source, ST_X(geom), ST_Y(geom), "
                        "source FROM enterprise ORDER BY uscc")


def _assert_landed(engine, source: str, *, tol_deg: float = 1e-9) -> None:
    stored = _stored_enterprises(engine)
    assert [(u, c) for u, _, c, *_ in stored] == [(USCC[0], "hazchem"), (USCC[1], "coal_mine"), (USCC[2], "gas")]
    assert stored[0][3] == 120 and stored[0][4] is True and stored[2][3] is None
    for (lon, lat), row in zip(POINTS, stored, strict=False):
        assert abs(row[5] - lon) < tol_deg and abs(row[6] - lat) < tol_deg
    assert {r[7] for r in stored} == {source}


# --- formats ------------------------------------------------------------------------------------------

def test_geojson_enterprises_land_with_codes_from_chinese_labels(county, tmp_path):
    path = tmp_path / "企业.geojson"
    enterprises().to_file(path)
    result = import_file(county, "enterprise", path)
    assert result.inserted == 3
    _assert_landed(county, "企业.geojson")


def test_geopackage_pipelines_are_stored_as_multilinestrings(county, tmp_path):
    path = tmp_path / "pipelines.gpkg"
    pipelines().to_file(path, layer="管道")
    assert import_file(county, "pipeline", path).inserted == 2
    got = rows(county, "SELECT code, medium, design_pressure_mpa, commissioning_year, GeometryType(geom), "
                       "ST_NumGeometries(geom) FROM pipeline ORDER BY code")
    assert got == [("GD-001", "gas", 6.3, 2012, "MULTILINESTRING", 1), ("GD-002", "product", None, None,
                                                                         "MULTILINESTRING", 2)]


def test_rivers_and_pipeline_tunnels_are_importable_layers(county, tmp_path):
    """The layers of 石油天然气管道保护法 第三十二条/第三十三条: a river (marked 示意) and a tunnel of pipeline GD-002."""
    pipelines().to_file(tmp_path / "pipelines.gpkg", layer="管道")
    import_file(county, "pipeline", tmp_path / "pipelines.gpkg")
    river = gpd.GeoDataFrame([{"河流编号": "HL-01", "河流名称": "黄河（示意）", "类型": "河流", "示意数据": "是"}],
                             geometry=[shapely.LineString([(111.22, 39.20), (111.45, 39.21)])], crs=4490)
    river.to_file(tmp_path / "河流.geojson")
    tunnel = gpd.GeoDataFrame([{"隧道编号": "SD-01", "管道编号": "GD-002", "隧道名称": "示例隧道"}],
                              geometry=[shapely.LineString([(111.30, 39.30), (111.31, 39.35)])], crs=4490)
    tunnel.to_file(tmp_path / "隧道.geojson")
    assert import_file(county, "waterway", tmp_path / "河流.geojson").inserted == 1
    assert import_file(county, "pipeline_tunnel", tmp_path / "隧道.geojson").inserted == 1
    assert rows(county, "SELECT code, kind, is_illustrative, GeometryType(geom) FROM waterway") == [
        ("HL-01", "river", True, "MULTILINESTRING")]
    assert rows(county, "SELECT t.code, p.code FROM pipeline_tunnel t JOIN pipeline p ON p.id = t.pipeline_id") == [
        ("SD-01", "GD-002")]


def _fresh_import(engine, layer: str, path: Path, **options):
    """Import into an emptied layer (several variants of one file in one test)."""
    with engine.begin() as conn:
        conn.execute(sa_text(f"DELETE FROM {layer}"))
    return import_file(engine, layer, path, **options)


def test_shapefile_with_gbk_dbf_is_decoded_with_or_without_cpg(county, tmp_path):
    path = tmp_path / "企业.shp"
    _to_shapefile(enterprises(), path, encoding="GBK")
    assert "企业名称".encode("gbk") in path.with_suffix(".dbf").read_bytes()
    for cpg in ("GBK", "936", None):
        if cpg is None:
            path.with_suffix(".cpg").unlink()
        else:
            path.with_suffix(".cpg").write_text(cpg)
        _fresh_import(county, "enterprise", path)
        assert rows(county, "SELECT name FROM enterprise ORDER BY uscc")[0] == ("河曲示例化工有限公司",), cpg
        _assert_landed(county, "企业.shp")


def test_zipped_gbk_shapefile_as_bureaus_mail_them(county, tmp_path):
    shp = tmp_path / "企业.shp"
    _to_shapefile(enterprises(), shp, encoding="GBK")
    shp.with_suffix(".cpg").unlink()
    archive = tmp_path / "企业.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for part in tmp_path.glob("企业.*"):
            if part != archive:
                z.write(part, f"数据/{part.name}")
    import_file(county, "enterprise", archive)
    _assert_landed(county, "企业.zip")


def test_geojson_written_in_gbk_is_decoded(county, tmp_path):
    path = tmp_path / "企业.geojson"
    enterprises().to_file(path)
    path.write_bytes(path.read_text(encoding="utf-8").encode("gbk"))
    import_file(county, "enterprise", path)
    _assert_landed(county, "企业.geojson")


def _kml(tmp_path: Path) -> Path:
    marks = []
    for (_, r) in enterprises().iterrows():
        data = "".join(f'<Data name="{k}"><value>{r[k]}</value></Data>' for k in ("统一社会信用代码", "行业类别",
                                                                                   "从业人数", "重大危险源")
                       if r[k] is not None and r[k] == r[k])
        marks.append(f"<Placemark><name>{r['企业名称']}</name><ExtendedData>{data}</ExtendedData>"
                     f"<Point><coordinates>{r.geometry.x},{r.geometry.y},0</coordinates></Point></Placemark>")
    path = tmp_path / "企业.kml"
    path.write_text('<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2">'
                    f"<Document><name>企业</name>{''.join(marks)}</Document></kml>", encoding="utf-8")
    return path


def test_kml_and_kmz_placemarks_with_extended_data_are_imported(county, tmp_path):
    kml = _kml(tmp_path)
    import_file(county, "enterprise", kml)
    _assert_landed(county, "企业.kml")
    kmz = tmp_path / "企业.kmz"
    with zipfile.ZipFile(kmz, "w") as z:
        z.write(kml, "doc.kml")
    _fresh_import(county, "enterprise", kmz)
    _assert_landed(county, "企业.kmz")


def test_csv_ledger_in_utf8_or_gbk_comma_or_tab(county, tmp_path):
    for encoding, delimiter in (("utf-8", ","), ("utf-8-sig", ","), ("gbk", ","), ("gbk", "\t")):
        path = tmp_path / "企业.csv"
        with path.open("w", encoding=encoding, newline="") as fh:
            csv.writer(fh, delimiter=delimiter).writerows(_enterprise_table())
        _fresh_import(county, "enterprise", path)
        _assert_landed(county, "企业.csv")


def test_xlsx_ledger_with_a_title_row_and_english_coordinate_headers(county, tmp_path):
    table = _enterprise_table()
    table[0][-2:] = ["lon", "lat"]
    book = openpyxl.Workbook()
    book.active.append(["河曲县重点企业台账（2024年）"])
    for row in table:
        book.active.append(row)
    path = tmp_path / "台账.xlsx"
    book.save(path)
    import_file(county, "enterprise", path)
    _assert_landed(county, "台账.xlsx")


def test_gcj02_csv_lands_within_a_metre_of_the_cgcs2000_points(county, tmp_path):
    table = _enterprise_table()
    lon, lat = wgs84_to_gcj02([p[0] for p in POINTS[:3]], [p[1] for p in POINTS[:3]])
    for row, x, y in zip(table[1:], lon, lat, strict=True):
        row[-2:] = [repr(float(x)), repr(float(y))]
    path = _write_csv(tmp_path / "高德坐标.csv", table)
    import_file(county, "enterprise", path, crs="gcj02")
    for u, (x, y) in zip(USCC, POINTS[:3], strict=False):
        (offset,), = rows(county, "SELECT ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(:x, :y), 4490)"
                                  "::geography) FROM enterprise WHERE uscc = :u", x=x, y=y, u=u)
        assert offset < 1.0


def test_projected_gauss_kruger_zone_file_is_projected_back(county, tmp_path):
    path = tmp_path / "企业_4546.shp"
    _to_shapefile(enterprises().to_crs(4546), path, encoding="UTF-8")
    result = import_file(county, "enterprise", path)
    assert "4546" in result.source_crs
    _assert_landed(county, "企业_4546.shp", tol_deg=1e-8)


def test_projected_metres_without_a_crs_are_refused_with_a_hint_then_taken_when_declared(county, tmp_path):
    table = _enterprise_table()
    metres = enterprises().to_crs(4546).geometry
    for row, p in zip(table[1:], metres, strict=True):
        row[-2:] = [p.x, p.y]
    table[0][-2:] = ["X", "Y"]
    path = _write_csv(tmp_path / "米.csv", table)
    with pytest.raises(InvalidInput, match="投影坐标") as exc:
        import_file(county, "enterprise", path)
    assert "--crs" in exc.value.message and "EPSG:4546" in exc.value.message
    assert rows(county, "SELECT count(*) FROM enterprise") == [(0,)]
    import_file(county, "enterprise", path, crs="EPSG:4546")
    _assert_landed(county, "米.csv", tol_deg=1e-8)


# --- references, townships, non-spatial ledgers --------------------------------------------------------

def test_township_codes_padded_and_enterprises_assigned_by_location(county, tmp_path):
    townships().to_file(tmp_path / "乡镇.geojson")
    assert import_file(county, "township", tmp_path / "乡镇.geojson").inserted == 2
    enterprises().to_file(tmp_path / "企业.geojson")
    import_file(county, "enterprise", tmp_path / "企业.geojson")
    got = rows(county, "SELECT e.uscc, t.code FROM enterprise e LEFT JOIN township t ON t.id = e.township_id "
                       "ORDER BY e.uscc")
    # (111.30, 39.20) is in 西口镇, (111.40, 39.30) in 楼子营镇, (111.25, 39.35) in neither square
    assert got == [(USCC[0], "140930100000"), (USCC[1], "140930101000"), (USCC[2], None)]


def test_inventory_ledger_references_enterprises_by_uscc(county, tmp_path):
    enterprises().to_file(tmp_path / "企业.geojson")
    import_file(county, "enterprise", tmp_path / "企业.geojson")
    path = _write_csv(tmp_path / "储存.csv", [["统一社会信用代码", "物质名称", "CAS号", "最大储存量（吨）"],
                                              [USCC[0], "液氨", "7664-41-7", "12.5"],
                                              [USCC[0].lower(), "甲醇", "67-56-1", "300"]])
    assert import_file(county, "chemical_inventory", path).inserted == 2
    assert rows(county, "SELECT e.uscc, c.substance, c.max_quantity_t FROM chemical_inventory c "
                        "JOIN enterprise e ON e.id = c.enterprise_id ORDER BY c.substance") == [
        (USCC[0], "液氨", 12.5), (USCC[0], "甲醇", 300.0)]


def test_roads_are_exploded_to_linestrings(county, tmp_path):
    gdf = gpd.GeoDataFrame([{"道路编号": "R1", "道路名称": "示例县道", "道路等级": "县道"}],
                           geometry=[shapely.MultiLineString([[(111.3, 39.2), (111.31, 39.21)],
                                                              [(111.32, 39.22), (111.33, 39.23)]])], crs=4490)
    gdf.to_file(tmp_path / "道路.geojson")
    result = import_file(county, "road", tmp_path / "道路.geojson")
    assert result.inserted == 2 and any("拆分" in n for n in result.notes)
    assert rows(county, "SELECT code, road_class, GeometryType(geom) FROM road ORDER BY code") == [
        ("R1-1", "secondary", "LINESTRING"), ("R1-2", "secondary", "LINESTRING")]


# --- every reason a row is refused: the table is unchanged, the report names row, field, reason ----------

def _seed(county, tmp_path) -> list:
    """One enterprise and one pipeline already in the database."""
    enterprises(1).to_file(tmp_path / "seed.geojson")
    import_file(county, "enterprise", tmp_path / "seed.geojson")
    pipelines().iloc[:1].to_file(tmp_path / "seed_pipe.geojson")
    import_file(county, "pipeline", tmp_path / "seed_pipe.geojson")
    return _everything(county)


def _everything(engine) -> list:
    return [snapshot(engine, t) for t in ("enterprise", "pipeline", "building", "grid_cell", "pipeline_facility")] + [
        snapshot(engine, "chemical_inventory", geom=None)]


def _enterprise_csv(tmp_path: Path, bad: dict[str, object]) -> Path:
    """A CSV with a good row (row 2) and the row under test (row 3)."""
    table = _enterprise_table(4)
    header = table[0]
    good, row = table[2], table[4]
    for k, v in bad.items():
        row[header.index(k)] = v
    return _write_csv(tmp_path / "企业.csv", [header, good, row])


BOWTIE = shapely.Polygon([(111.30, 39.20), (111.31, 39.21), (111.31, 39.20), (111.30, 39.21), (111.30, 39.20)])


def _building_file(tmp_path: Path, geom) -> Path:
    path = tmp_path / "建筑.geojson"
    good = shapely.box(111.30, 39.10, 111.301, 39.101)
    gpd.GeoDataFrame([{"建筑编号": "B1", "用途": "学校", "层数": 3}, {"建筑编号": "B2", "用途": "住宅", "层数": 6}],
                     geometry=[good, geom], crs=4490).to_file(path)
    return path


CASES = {
    "bad_uscc": (lambda tp: _enterprise_csv(tp, {"统一社会信用代码": USCC[3][:-1] + "0"}), "enterprise", 3,
                 "统一社会信用代码", "校验位"),
    "unknown_category": (lambda tp: _enterprise_csv(tp, {"行业类别": "养殖业"}), "enterprise", 3, "行业类别",
                         "代码表"),
    "missing_required": (lambda tp: _enterprise_csv(tp, {"企业名称": ""}), "enterprise", 3, "企业名称", "必填"),
    "outside_county": (lambda tp: _enterprise_csv(tp, {"经度": 112.5, "纬度": 38.5}), "enterprise", 3, "几何",
                       "县界之外"),
    "swapped_lonlat": (lambda tp: _enterprise_csv(tp, {"经度": 39.10, "纬度": 111.35}), "enterprise", 3, "几何",
                       "经纬度颠倒"),
    "duplicate_in_file": (lambda tp: _enterprise_csv(tp, {"统一社会信用代码": USCC[1]}), "enterprise", 3,
                          "统一社会信用代码", "文件内重复"),
    "duplicate_in_table": (lambda tp: _enterprise_csv(tp, {"统一社会信用代码": USCC[0]}), "enterprise", 3,
                           "统一社会信用代码", "已存在"),
    "bad_lonlat": (lambda tp: _enterprise_csv(tp, {"经度": "东经111度"}), "enterprise", 3, "经度/纬度",
                   "不是数字"),
    "bad_number": (lambda tp: _enterprise_csv(tp, {"从业人数": "约三百"}), "enterprise", 3, "从业人数", "整数"),
    "invalid_geometry": (lambda tp: _building_file(tp, BOWTIE), "building", 2, "几何", "自相交"),
    "empty_geometry": (lambda tp: _building_file(tp, shapely.Polygon()), "building", 2, "几何", "几何"),
    "unknown_enterprise": (lambda tp: _write_csv(tp / "储存.csv", [
        ["统一社会信用代码", "物质名称", "最大储存量(吨)"], [USCC[0], "液氨", 10], [USCC[5], "液氯", 5]]),
        "chemical_inventory", 3, "统一社会信用代码", "未知的企业"),
    "unknown_pipeline": (lambda tp: _write_csv(tp / "设施.csv", [
        ["管道编号", "设施类型", "设施名称", "经度", "纬度"], ["GD-001", "阀室", "1号阀室", 111.35, 39.18],
        ["GD-999", "站场", "末站", 111.5, 39.25]]), "pipeline_facility", 3, "管道编号", "未知的管道"),
    "unknown_township": (lambda tp: _write_csv(tp / "网格.csv", [
        ["网格编码", "网格名称", "乡镇代码", "几何(WKT)"],
        ["WG-1", "一网格", "140930999", "POLYGON((111.3 39.2,111.31 39.2,111.31 39.21,111.3 39.2))"]]),
        "grid_cell", 2, "乡镇代码", "未知的乡镇"),
}


def test_every_bad_row_refuses_the_whole_file_and_is_reported(county, tmp_path):
    """One case per reason; each leaves every table as it was (so they share one database state)."""
    before = _seed(county, tmp_path)
    failures = []
    for case, (make, layer, row, field, reason) in CASES.items():
        folder = tmp_path / case
        folder.mkdir()
        try:
            import_file(county, layer, make(folder))
            failures.append(f"{case}: imported")
            continue
        except ImportRejected as exc:
            rejects = exc.rejects
        if _everything(county) != before:
            failures.append(f"{case}: tables changed")
        if not any(r.row == row and r.field == field and reason in r.reason for r in rejects) or \
                any(r.row != row for r in rejects):
            failures.append(f"{case}: {rejects}")
    assert not failures, "\n".join(failures)


def test_undecodable_text_is_refused_row_by_row(county, tmp_path):
    path = tmp_path / "乱码.csv"
    good = "\n".join(",".join(map(str, r)) for r in _enterprise_table(2)[:2]).encode("utf-8")
    path.write_bytes(good + b"\n" + USCC[1].encode() + b",\xff\xfe\xfd\xfc,coal_mine,,,,111.4,39.3\n")
    with pytest.raises(ImportRejected) as exc:
        import_file(county, "enterprise", path)
    assert [(r.row, r.reason[:7]) for r in exc.value.rejects] == [(3, "无法解码的文字")]
    assert rows(county, "SELECT count(*) FROM enterprise") == [(0,)]


def test_undecodable_shapefile_cell_is_refused(county, tmp_path):
    path = tmp_path / "坏.shp"
    _to_shapefile(enterprises(2), path, encoding="GBK")
    dbf = path.with_suffix(".dbf")
    data = dbf.read_bytes()
    name = "河曲示例煤业有限公司".encode("gbk")
    dbf.write_bytes(data.replace(name, b"\xff" * len(name)))
    path.with_suffix(".cpg").unlink()
    with pytest.raises(ImportRejected) as exc:
        import_file(county, "enterprise", path)
    assert [(r.row, r.field) for r in exc.value.rejects] == [(2, "企业名称")]
    assert "无法解码的文字" in exc.value.rejects[0].reason


def test_repair_makes_a_bowtie_valid_and_lists_it(county, tmp_path):
    result = import_file(county, "building", _building_file(tmp_path, BOWTIE), repair=True)
    assert result.inserted == 2
    assert [(r.row, r.field) for r in result.repairs] == [(2, "几何")]
    assert "MultiPolygon" in result.repairs[0].action or "MULTIPOLYGON" in result.repairs[0].action.upper()
    assert rows(county, "SELECT code, use_class, ST_IsValid(geom), GeometryType(geom), ST_NumGeometries(geom) "
                        "FROM building ORDER BY code") == [("B1", "school", True, "MULTIPOLYGON", 1),
                                                           ("B2", "residential", True, "MULTIPOLYGON", 2)]


def test_a_neighbouring_mine_outside_the_county_needs_allow_outside(county, tmp_path):
    path = tmp_path / "矿山.gpkg"
    licence = shapely.box(111.70, 38.60, 111.72, 38.62)
    workings = shapely.box(111.705, 38.605, 111.725, 38.61)  # crosses the licensed boundary (越界开采)
    gpd.GeoDataFrame([{"采矿许可证号": "C1400002009121220048XXX", "矿山名称": "邻县示例煤矿", "矿山类型": "煤矿",
                       "开采方式": "地下", "开采区域(WKT)": gpd.GeoSeries([workings], crs=4490).to_crs(4546)[0].wkt}],
                     geometry=[licence], crs=4490).to_crs(4546).to_file(path)
    with pytest.raises(ImportRejected) as exc:
        import_file(county, "mine", path)
    assert [(r.row, r.field) for r in exc.value.rejects] == [(1, "几何")] and "县界之外" in exc.value.rejects[0].reason
    assert import_file(county, "mine", path, allow_outside=True).inserted == 1
    assert rows(county, "SELECT mine_type, method, GeometryType(licence_boundary), township_id FROM mine") == [
        ("coal", "underground", "MULTIPOLYGON", None)]
    (hausdorff, kind), = rows(county, "SELECT ST_HausdorffDistance(workings, ST_GeomFromText(:w, 4490)), "
                                      "GeometryType(workings) FROM mine", w=workings.wkt)
    assert kind == "MULTIPOLYGON" and hausdorff < 1e-8  # the WKT column came back from EPSG:4546 too


def test_update_replaces_existing_rows_by_code(county, tmp_path):
    enterprises(2).to_file(tmp_path / "a.geojson")
    import_file(county, "enterprise", tmp_path / "a.geojson")
    changed = enterprises(3)
    changed.loc[0, "企业名称"] = "河曲示例化工股份有限公司"
    changed.to_file(tmp_path / "b.geojson")
    result = import_file(county, "enterprise", tmp_path / "b.geojson", update=True)
    assert (result.inserted, result.updated) == (1, 2)
    assert rows(county, "SELECT name FROM enterprise WHERE uscc = :u", u=USCC[0]) == [
        ("河曲示例化工股份有限公司",)]


# --- the real GCJ-02 outline lands on the CGCS2000 one ---------------------------------------------------

def _vertex_offsets_m(a: shapely.Geometry, b: shapely.Geometry) -> np.ndarray:
    """Distance (m) from each vertex of a to the boundary of b (both in EPSG:4546)."""
    return shapely.distance(shapely.points(shapely.get_coordinates(a)), b.boundary)


def _registration_offset_m(a: shapely.Geometry, b: shapely.Geometry) -> float:
    """Length (m) of the shift of a that best overlays b (least symmetric difference; 100 m then 10 m grid)."""
    cx = cy = 0.0
    for step, span in ((100.0, 1000.0), (10.0, 100.0)):
        grid = np.arange(-span, span + step / 2, step)
        shifts = [(cx + dx, cy + dy) for dx in grid for dy in grid]
        moved = np.array([shapely.affinity.translate(a, dx, dy) for dx, dy in shifts], dtype=object)
        cx, cy = shifts[int(np.argmin(shapely.area(shapely.symmetric_difference(moved, b))))]
    return float(np.hypot(cx, cy))


def test_real_amap_gcj02_outline_lands_on_the_tianditu_cgcs2000_outline():
    """Amap's outline (GCJ-02, 479 vertices) against Tianditu's (CGCS2000, 104 vertices), in metres (EPSG:4546).

    The two are different generalisations, so their Hausdorff distance stays large after conversion;
    the shift that best overlays one on the other measures the datum offset itself.
    """
    amap = ROOT / "data" / "boundaries" / "hequ_county_amap_gcj02.geojson"
    ref = gpd.read_file(ROOT / "data" / "boundaries" / "hequ_county_tianditu_cgcs2000.geojson").to_crs(4546).iloc[0,
                                                                                                                  -1]
    raw = gpd.read_file(amap).to_crs(4546).geometry.iloc[0]
    converted = gpd.GeoSeries(read_geometries(amap, crs="gcj02"), crs=4490).to_crs(4546).iloc[0]
    before, after = shapely.hausdorff_distance(raw, ref), shapely.hausdorff_distance(converted, ref)
    med_before = float(np.median(_vertex_offsets_m(raw, ref)))
    med_after = float(np.median(_vertex_offsets_m(converted, ref)))
    reg_before, reg_after = _registration_offset_m(raw, ref), _registration_offset_m(converted, ref)
    shift_before, shift_after = raw.centroid.distance(ref.centroid), converted.centroid.distance(ref.centroid)
    c = ref.centroid
    lon, lat = gpd.GeoSeries([c], crs=4546).to_crs(4490).iloc[0].coords[0]
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    gcj_offset = gpd.GeoSeries([shapely.Point(float(g_lon), float(g_lat))], crs=4490).to_crs(4546).iloc[0].distance(c)
    print(f"\nGCJ-02 县界 vs 天地图县界 (EPSG:4546), before → after conversion: Hausdorff {before:.0f} → {after:.0f} m; "
          f"median vertex offset {med_before:.0f} → {med_after:.0f} m; best-overlay shift {reg_before:.0f} → "
          f"{reg_after:.0f} m; centroid offset {shift_before:.0f} → {shift_after:.0f} m "
          f"(GCJ-02 offset at the centroid {gcj_offset:.0f} m)")
    assert abs(reg_before - gcj_offset) < 60  # before: the outlines are apart by the GCJ-02 offset, ≈ 570 m here
    assert reg_after < 0.15 * reg_before and reg_after < 80
    assert after < before - 0.8 * gcj_offset  # most of the offset leaves the Hausdorff distance too
    assert med_after < 0.4 * med_before
    assert shift_after < 0.3 * shift_before


# --- the command line ---------------------------------------------------------------------------------

def test_cli_import_refuses_a_bad_file_prints_chinese_and_writes_the_report(county, tmp_path, capsys):
    path = _enterprise_csv(tmp_path, {"行业类别": "养殖业"})
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    cmd = [sys.executable, "-m", "geo.cli"]
    done = subprocess.run([*cmd, "import", "enterprise", str(path)], capture_output=True, text=True, env=env,
                          cwd=ROOT, check=False)
    assert done.returncode == 1, done.stderr
    assert "导入失败" in done.stdout and "未写入任何数据" in done.stdout and "第 3 行" in done.stdout
    report = path.with_name("企业.rejects.csv")
    assert report.read_bytes().startswith(b"\xef\xbb\xbf")
    with report.open(encoding="utf-8-sig", newline="") as fh:
        lines = list(csv.reader(fh))
    assert lines[0] == ["行号", "字段", "原因", "值"]
    assert lines[1][:2] == ["3", "行业类别"] and "代码表" in lines[1][2] and lines[1][3] == "养殖业"
    assert rows(county, "SELECT count(*) FROM enterprise") == [(0,)]

    fixed = _enterprise_csv(tmp_path, {})
    assert main(["import", "enterprise", str(fixed), "--crs", "EPSG:4490"]) == 0
    out = capsys.readouterr().out
    assert "导入成功" in out and "新增 2 条" in out
