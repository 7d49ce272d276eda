"""Finding 10 (import): decompression and parser bombs, non-finite coordinates, a wrong --encoding and huge
geometries end in a Chinese refusal or a rejects report naming row and field — never a traceback, never a
full extraction. The bombs are built on the fly, small on disk, against limits set low for the test."""

from __future__ import annotations

import csv
import json
import os
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import openpyxl
import pytest
import shapely

from geo.config import get_settings
from geo.errors import InvalidInput
from geo.io.importer import ImportRejected, import_file
from tests.io_data import POINTS, USCC, rows

ROOT = Path(__file__).resolve().parents[2]
MB = 1024 * 1024
HEADER = ["统一社会信用代码", "企业名称", "行业类别", "经度", "纬度"]


@pytest.fixture
def low_limits(monkeypatch):
    """Import limits small enough that a bomb of a few MB trips them."""
    monkeypatch.setenv("RISKMAP_IMPORT_MAX_UNPACKED_BYTES", str(8 * MB))
    monkeypatch.setenv("RISKMAP_IMPORT_MAX_MEMBERS", "20")
    monkeypatch.setenv("RISKMAP_IMPORT_MAX_RATIO", "100")
    monkeypatch.setenv("RISKMAP_MAX_VERTICES", "5000")
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def _good_csv(path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([HEADER, [USCC[0], "河曲示例化工有限公司", "危险化学品", *POINTS[0]]])
    return path


def _zeros_member(archive: zipfile.ZipFile, name: str, size: int) -> None:
    """A member of `size` zero bytes, written in chunks (it compresses about 1000:1)."""
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    with archive.open(info, "w", force_zip64=True) as fh:
        chunk = bytes(MB)
        for _ in range(size // MB):
            fh.write(chunk)


def _refused(county, path: Path, *words: str) -> str:
    """Import `path`; it must be refused with a Chinese message containing `words`, nothing written."""
    with pytest.raises(InvalidInput) as exc:
        import_file(county, "enterprise", path)
    for word in words:
        assert word in exc.value.message, exc.value.message
    assert rows(county, "SELECT count(*) FROM enterprise") == [(0,)]
    return exc.value.message


# --- decompression bombs ------------------------------------------------------------------------------

def test_a_zip_expanding_past_the_limit_is_refused_before_extraction(county, low_limits, tmp_path):
    archive = tmp_path / "企业.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(_good_csv(tmp_path / "企业.csv"), "企业.csv")
        _zeros_member(z, "说明.txt", 40 * MB)
    assert archive.stat().st_size < MB
    _refused(county, archive, "压缩包", "解压")


def test_a_zip_with_too_many_members_or_a_bomb_ratio_is_refused(county, low_limits, tmp_path):
    many = tmp_path / "多.zip"
    with zipfile.ZipFile(many, "w") as z:
        z.write(_good_csv(tmp_path / "企业.csv"), "企业.csv")
        for i in range(30):
            z.writestr(f"附件/{i}.txt", "x")
    _refused(county, many, "压缩包", "文件数")
    ratio = tmp_path / "比.zip"
    with zipfile.ZipFile(ratio, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(_good_csv(tmp_path / "企业.csv"), "企业.csv")
        _zeros_member(z, "填充.bin", 4 * MB)  # under the size limit, but ~1000:1
    _refused(county, ratio, "压缩")


def _lying_zip(path: Path, name: str, payload: bytes, declared: int) -> Path:
    """A stored one-member zip whose headers say the member is `declared` bytes (it is len(payload))."""
    data = zlib.compress(payload)[2:-4]  # raw deflate
    crc = zlib.crc32(payload)
    raw_name = name.encode()
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0x800, 8, 0, 0, crc, len(data), declared,
                        len(raw_name), 0) + raw_name
    central = struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0x800, 8, 0, 0, crc, len(data), declared,
                          len(raw_name), 0, 0, 0, 0, 0, 0) + raw_name
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, len(central), len(local) + len(data), 0)
    path.write_bytes(local + data + central + end)
    return path


def test_a_zip_whose_headers_lie_about_sizes_is_refused_in_chinese(county, low_limits, tmp_path):
    payload = _good_csv(tmp_path / "企业.csv").read_bytes() + b"\n" * (2 * MB)
    archive = _lying_zip(tmp_path / "企业.zip", "企业.csv", payload, declared=200)
    _refused(county, archive, "压缩包")


def test_a_kmz_bomb_is_refused_without_being_inflated(county, low_limits, tmp_path):
    kml = ('<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
           '<Placemark><name>甲</name><Point><coordinates>111.3,39.2,0</coordinates></Point></Placemark>')
    kmz = tmp_path / "企业.kmz"
    with zipfile.ZipFile(kmz, "w", zipfile.ZIP_DEFLATED) as z, z.open("doc.kml", "w", force_zip64=True) as fh:
        fh.write(kml.encode())
        comment = b"<!--" + b" " * MB + b"-->"
        for _ in range(40):
            fh.write(comment)
        fh.write(b"</Document></kml>")
    assert kmz.stat().st_size < MB
    _refused(county, kmz, "压缩包")


def test_an_xlsx_bomb_is_refused(county, low_limits, tmp_path):
    book = openpyxl.Workbook()
    book.active.append(HEADER)
    book.active.append([USCC[0], "甲", "危险化学品", *POINTS[0]])
    plain = tmp_path / "plain.xlsx"
    book.save(plain)
    bomb = tmp_path / "台账.xlsx"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        _zeros_member(dst, "xl/media/填充.bin", 40 * MB)
    _refused(county, bomb, "压缩包")


# --- parser bombs ----------------------------------------------------------------------------------------

def _xlsx_with_entities(tmp_path: Path, doctype: str, name_cell: str) -> Path:
    """A valid ledger whose first sheet declares entities and uses one as the 企业名称 cell."""
    book = openpyxl.Workbook()
    book.active.append(HEADER)
    book.active.append([USCC[0], "占位", "危险化学品", *POINTS[0]])
    plain = tmp_path / "plain.xlsx"
    book.save(plain)
    out = tmp_path / "台账.xlsx"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                text = text.replace("<worksheet", doctype + "<worksheet", 1)
                text = text.replace('<c r="B2" t="inlineStr"><is><t>占位</t></is></c>',
                                    f'<c r="B2" t="inlineStr"><is><t>{name_cell}</t></is></c>')
                assert name_cell in text
                data = text.encode()
            dst.writestr(item, data)
    return out


def test_an_xlsx_billion_laughs_is_refused_not_expanded(county, tmp_path):
    levels = ['<!ENTITY l0 "哈哈哈哈哈哈哈哈哈哈">'] + [
        f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10)]
    path = _xlsx_with_entities(tmp_path, f"<!DOCTYPE worksheet [{''.join(levels)}]>", "&l9;")
    _refused(county, path, "Excel", "实体")


def test_an_xlsx_with_an_internal_entity_is_refused(county, tmp_path):
    path = _xlsx_with_entities(tmp_path, '<!DOCTYPE worksheet [<!ENTITY x "河曲示例">]>', "&x;")
    _refused(county, path, "Excel", "实体")


READ_IN_1GB = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
from pathlib import Path
from geo.io.columns import is_known_header
from geo.io.layers import get_layer
from geo.io.readers import read_raw
spec = get_layer("enterprise")
table = read_raw(Path(sys.argv[1]), is_known=lambda h: is_known_header(spec, h))
print(len(table.rows), table.rows[0]["企业名称"])
"""


def test_an_xlsx_declaring_a_huge_sheet_is_read_by_its_cells(county, tmp_path):
    """A sheet whose stray cells make it span A1:XFD1048576 is read by its cells, within 1 GB of memory
    (padding it out to 17 billion cells, as before, runs out of memory at once)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append([USCC[0], "河曲示例化工有限公司", "危险化学品", *POINTS[0]])
    sheet["XFD3"] = "远处"
    sheet["A1048576"] = "远处"
    path = tmp_path / "大表.xlsx"
    book.save(path)
    with zipfile.ZipFile(path) as z:
        assert b'ref="A1:XFD1048576"' in z.read("xl/worksheets/sheet1.xml")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENBLAS_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([sys.executable, "-c", READ_IN_1GB, str(path)], capture_output=True, text=True, env=env,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-600:]
    assert done.stdout.split() == ["2", "河曲示例化工有限公司"]  # row 2, and row 1048576 (XFD3 is beyond the
    # columns read)


# --- non-finite coordinates ---------------------------------------------------------------------------

def _rejected(county, path: Path, layer: str = "enterprise"):
    with pytest.raises(ImportRejected) as exc:
        import_file(county, layer, path)
    assert rows(county, f"SELECT count(*) FROM {layer}") == [(0,)]
    return exc.value.rejects


GEOJSON_CASES = {
    "polygon_infinity": ("building", "Polygon", "[[[111.3,39.1],[Infinity,39.1],[111.31,39.11],[111.3,39.1]]]"),
    "polygon_nan": ("building", "Polygon", "[[[111.3,39.1],[NaN,39.1],[111.31,39.11],[111.3,39.1]]]"),
    "point_1e308": ("enterprise", "Point", "[1e308, 1e308]"),
}


@pytest.mark.parametrize("case", list(GEOJSON_CASES))
def test_non_finite_geojson_coordinates_are_rejects_naming_the_row(county, tmp_path, case):
    layer, kind, coordinates = GEOJSON_CASES[case]
    props = {"统一社会信用代码": USCC[0], "企业名称": "甲", "行业类别": "危险化学品"} if layer == "enterprise" \
        else {"建筑编号": "B1", "用途": "住宅"}
    path = tmp_path / "图层.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": ' +
                    json.dumps(props, ensure_ascii=False) +
                    f', "geometry": {{"type": "{kind}", "coordinates": {coordinates}}}}}]}}', encoding="utf-8")
    rejects = _rejected(county, path, layer)
    assert [(r.row, r.field) for r in rejects] == [(1, "几何")] and "非数字" in rejects[0].reason, rejects


@pytest.mark.parametrize("value", ["Infinity", "inf", "-inf", "nan", "1e999"])
def test_non_finite_csv_and_xlsx_coordinates_are_rejects_naming_the_row(county, tmp_path, value):
    table = [HEADER, [USCC[1], "乙", "危险化学品", *POINTS[1]], [USCC[0], "甲", "危险化学品", value, 39.2]]
    path = tmp_path / "企业.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(table)
    assert [(r.row, r.field) for r in _rejected(county, path)] == [(3, "经度/纬度")]
    wkt = tmp_path / "建筑.csv"
    with wkt.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["建筑编号", "用途", "几何(WKT)"],
                                  ["B1", "住宅", "POLYGON((111.3 39.1,111.301 39.1,111.301 39.101,111.3 39.1))"],
                                  ["B2", "住宅", f"POLYGON((111.3 39.1,{value} 39.1,111.301 39.101,111.3 39.1))"]])
    assert [(r.row, r.field) for r in _rejected(county, wkt, "building")] == [(3, "几何(WKT)")]
    book = openpyxl.Workbook()
    for line in table:
        book.active.append(line)
    xlsx = tmp_path / "企业.xlsx"
    book.save(xlsx)
    assert [(r.row, r.field) for r in _rejected(county, xlsx)] == [(3, "经度/纬度")]


@pytest.mark.parametrize("value", ["inf", "nan", "1e999"])
def test_non_finite_mine_workings_wkt_is_a_reject(county, tmp_path, value):
    path = tmp_path / "矿山.csv"
    box = "POLYGON((111.3 39.1,111.31 39.1,111.31 39.11,111.3 39.1))"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["采矿许可证号", "矿山名称", "矿山类型", "开采方式", "几何(WKT)", "开采区域(WKT)"])
        writer.writerow(["C1", "甲矿", "煤矿", "地下", box, box])
        writer.writerow(["C2", "乙矿", "煤矿", "地下", box, f"POLYGON((111.3 39.1,{value} 39.1,111.31 39.11,111.3 39.1))"])
    rejects = _rejected(county, path, "mine")
    assert [(r.row, r.field) for r in rejects] == [(3, "开采区域(WKT)")] and "非数字" in rejects[0].reason, rejects


# --- encoding ----------------------------------------------------------------------------------------

def test_a_wrong_encoding_option_is_named_as_such(county, tmp_path):
    """UTF-8 files imported with --encoding gbk: one GBK cannot decode (reported 文件是空的 before), one GBK
    decodes into nonsense (reported as missing columns before), one with a BOM; and an unknown encoding."""
    undecodable = _good_csv(tmp_path / "企业.csv")
    nonsense = tmp_path / "乱码.csv"
    nonsense.write_text("统一社会信用代码,企业名称\n91,河曲\n", encoding="utf-8")
    with_bom = tmp_path / "带BOM.csv"
    with_bom.write_bytes(b"\xef\xbb\xbf" + nonsense.read_bytes())
    for path in (undecodable, nonsense, with_bom):
        with pytest.raises(InvalidInput) as exc:
            import_file(county, "enterprise", path, encoding="gbk")
        assert "编码不符" in exc.value.message and "utf-8" in exc.value.message.lower(), (path.name, exc.value)
    with pytest.raises(InvalidInput) as exc:
        import_file(county, "enterprise", undecodable, encoding="klingon")
    assert "编码" in exc.value.message


# --- vertex caps --------------------------------------------------------------------------------------

def test_geometries_over_the_vertex_cap_are_rejects_naming_row_and_field(county, low_limits, tmp_path):
    ring = shapely.Point(111.35, 39.15).buffer(0.01, quad_segs=2000)  # 8,001 vertices
    assert shapely.get_num_coordinates(ring) > 5000
    small = shapely.box(111.30, 39.10, 111.301, 39.101)
    geojson = tmp_path / "建筑.geojson"
    features = [{"type": "Feature", "properties": {"建筑编号": code, "用途": "住宅"},
                 "geometry": shapely.geometry.mapping(g)} for code, g in (("B1", small), ("B2", ring))]
    geojson.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    rejects = _rejected(county, geojson, "building")
    assert [(r.row, r.field) for r in rejects] == [(2, "几何")] and "顶点" in rejects[0].reason, rejects
    table = tmp_path / "建筑.csv"
    with table.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["建筑编号", "用途", "几何(WKT)"], ["B1", "住宅", small.wkt], ["B2", "住宅", ring.wkt]])
    rejects = _rejected(county, table, "building")
    assert [(r.row, r.field) for r in rejects] == [(3, "几何(WKT)")] and "顶点" in rejects[0].reason, rejects


# --- integers beyond the column ----------------------------------------------------------------------

def test_integers_beyond_int4_are_rejects_naming_row_and_field(county, tmp_path):
    path = tmp_path / "企业.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([[*HEADER, "从业人数"], [USCC[0], "甲", "危险化学品", *POINTS[0], "2147483647"],
                                  [USCC[1], "乙", "危险化学品", *POINTS[1], "2147483648"]])
    rejects = _rejected(county, path)
    assert [(r.row, r.field) for r in rejects] == [(3, "从业人数")] and "范围" in rejects[0].reason, rejects


def test_an_encrypted_or_deflate64_zip_is_refused_in_chinese(county, tmp_path):
    """Windows writes Deflate64 for large files; some senders encrypt: both ended in a traceback."""
    good = _good_csv(tmp_path / "企业.csv")
    deflate64 = tmp_path / "企业.zip"
    with zipfile.ZipFile(deflate64, "w") as z:
        z.write(good, "企业.csv")
    data = bytearray(deflate64.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        at = data.find(signature)
        data[at + offset:at + offset + 2] = struct.pack("<H", 9)  # compression method 9: Deflate64
    deflate64.write_bytes(bytes(data))
    _refused(county, deflate64, "压缩包")
    encrypted = tmp_path / "加密.zip"
    with zipfile.ZipFile(encrypted, "w") as z:
        z.write(good, "企业.csv")
    data = bytearray(encrypted.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        data[at + offset:at + offset + 2] = struct.pack("<H", 0x801)  # general purpose flags: encrypted, UTF-8
    encrypted.write_bytes(bytes(data))
    _refused(county, encrypted, "压缩包")
