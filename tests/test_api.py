"""The HTTP service a bureau's staff and integrations use: layers as GeoJSON, filters, pages, errors."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from geo.tiles import tile_of
from geo.uscc import make_uscc


@pytest.fixture
def small_county(county):
    """Two townships of 河曲县 (split at 111.35°E) and three enterprises."""
    with county.begin() as conn:
        conn.execute(text("""
            INSERT INTO township (code, name, county_code, geom, is_illustrative)
            SELECT '140930100000', '西口镇', '140930',
                   ST_Multi(ST_Intersection(c.geom, ST_MakeEnvelope(111.0, 38.8, 111.35, 39.6, 4490))), true
            FROM county c
            UNION ALL
            SELECT '140930101000', '楼子营镇', '140930',
                   ST_Multi(ST_Intersection(c.geom, ST_MakeEnvelope(111.35, 38.8, 111.7, 39.6, 4490))), true
            FROM county c"""))
        for i, (name, lon, lat, cat) in enumerate([
            ("河曲县甲化工有限公司", 111.22, 39.25, "hazchem"),
            ("河曲县乙建材有限公司", 111.25, 39.20, "industry_trade"),
            ("河曲县丙煤业有限公司", 111.45, 39.10, "coal_mine"),
        ]):
            conn.execute(text(
                "INSERT INTO enterprise (uscc, name, category, township_id, geom) VALUES (:u, :n, :c, "
                "(SELECT id FROM township WHERE ST_Covers(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4490))), "
                "ST_SetSRID(ST_MakePoint(:x, :y), 4490))"),
                {"u": make_uscc(f"9114093000000{i:03d}X"), "n": name, "c": cat, "x": lon, "y": lat})
        conn.execute(text(
            "INSERT INTO pipeline (code, name, medium, geom) VALUES ('GD-1', '河曲输气支线', 'gas', "
            "ST_Multi(ST_GeomFromText('LINESTRING(111.22 39.20, 111.40 39.15)', 4490)))"))
        conn.execute(text(
            "INSERT INTO mine (licence_no, name, mine_type, method, licence_boundary) VALUES "
            "('C1400002009121220045678', '河曲县丙煤矿', 'coal', 'underground', "
            "ST_Multi(ST_GeomFromText('POLYGON((111.44 39.09,111.46 39.09,111.46 39.11,111.44 39.11,111.44 39.09))', 4490)))"))
    return county


@pytest.fixture
def client(small_county, make_user):
    from api.app import create_app

    with TestClient(create_app(), headers=make_user("admin")) as c:
        yield c


def test_health_reports_postgis(client):
    r = client.get("/health")
    assert r.status_code == 200 and r.json()["database"] == "ok" and r.json()["postgis"]


def test_enterprises_as_geojson_filtered_by_township_text_and_bbox(client):
    all_ = client.get("/layers/enterprise/features").json()
    assert all_["type"] == "FeatureCollection" and all_["numberMatched"] == 3
    west = client.get("/layers/enterprise/features", params={"township": "140930100000"}).json()
    assert sorted(f["properties"]["name"] for f in west["features"]) == ["河曲县乙建材有限公司", "河曲县甲化工有限公司"]
    assert all(f["properties"]["township_code"] == "140930100000" for f in west["features"])
    found = client.get("/layers/enterprise/features", params={"q": "煤业"}).json()
    assert [f["properties"]["name"] for f in found["features"]] == ["河曲县丙煤业有限公司"]
    boxed = client.get("/layers/enterprise/features", params={"bbox": "111.21,39.24,111.23,39.26"}).json()
    assert [f["properties"]["name"] for f in boxed["features"]] == ["河曲县甲化工有限公司"]
    lon, lat = boxed["features"][0]["geometry"]["coordinates"]
    assert (lon, lat) == (111.22, 39.25)


def test_pagination_counts_and_links(client):
    p1 = client.get("/layers/enterprise/features", params={"limit": 2}).json()
    p2 = client.get("/layers/enterprise/features", params={"limit": 2, "offset": 2}).json()
    assert p1["numberMatched"] == p2["numberMatched"] == 3
    assert p1["numberReturned"] == 2 and p2["numberReturned"] == 1
    assert p1["links"][0]["rel"] == "next" and p2["links"] == []
    ids = [f["id"] for f in p1["features"] + p2["features"]]
    assert len(set(ids)) == 3


def test_errors_are_chinese_with_stable_codes(client):
    r = client.get("/layers/nosuch/features")
    assert r.status_code == 404 and r.json()["code"] == "not_found" and "图层" in r.json()["message"]
    r = client.get("/layers/enterprise/features", params={"bbox": "1,2,3"})
    assert r.status_code == 422 and r.json()["code"] == "invalid_input" and "bbox" in r.json()["message"]
    r = client.get("/layers/enterprise/features", params={"limit": 0})
    assert r.status_code == 422 and r.json()["code"] == "invalid_request" and "limit" in r.json()["message"]
    r = client.get("/layers/enterprise/features", params={"township": "140930999000"})
    assert r.status_code == 404 and "乡镇" in r.json()["message"]
    r = client.get("/layers/enterprise/features/999999")
    assert r.status_code == 404 and "999999" in r.json()["message"]
    r = client.get("/no/such/path")
    assert r.status_code == 404 and r.json()["message"] == "资源不存在"


def test_openapi_document_is_served(client):
    spec = client.get("/openapi.json").json()
    assert "/layers/{layer}/features" in spec["paths"] and "/maps" in spec["paths"]


def test_map_pages_are_offline_and_in_chinese(client):
    page = client.get("/maps")
    assert page.status_code == 200
    body = page.text
    assert "河曲县" in body and "重大风险" in body and "示意边界" in body
    assert "cdn.jsdelivr" not in body and "cdnjs" not in body and "unpkg" not in body and "code.jquery" not in body
    assert "/vendor/leaflet/dist/leaflet.js" in body
    assert client.get("/vendor/leaflet/dist/leaflet.js").status_code == 200
    assert client.get("/maps/township/140930100000").status_code == 200
    r = client.get("/maps/township/140930999000")
    assert r.status_code == 404 and "乡镇" in r.json()["message"]


def test_vector_tiles_carry_enterprises_and_follow_zoom_rules(client):
    import mapbox_vector_tile

    x, y = tile_of(111.22, 39.25, 15)
    r = client.get(f"/tiles/enterprise/15/{x}/{y}.pbf")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    layer = mapbox_vector_tile.decode(r.content)["enterprise"]
    assert [f["properties"]["name"] for f in layer["features"]] == ["河曲县甲化工有限公司"]
    # below z13 enterprises come clustered: the county fits in one z8 tile with all three counted
    x, y = tile_of(111.3, 39.2, 8)
    clusters = mapbox_vector_tile.decode(client.get(f"/tiles/enterprise/8/{x}/{y}.pbf").content)["enterprise"]
    assert sum(f["properties"]["n"] for f in clusters["features"]) == 3
    # buildings are not drawn below z14: an empty tile, 204
    assert client.get(f"/tiles/building/10/{x}/{y}.pbf").status_code == 204
    r = client.get("/tiles/enterprise/3/99/0.pbf")
    assert r.status_code == 422 and "瓦片" in r.json()["message"]
    assert client.get("/tiles/nosuch/3/1/1.pbf").status_code == 404


def test_statistics_by_township_as_json_xlsx_and_page(client, tmp_path):
    from openpyxl import load_workbook

    rows = client.get("/stats/townships").json()
    assert [r["name"] for r in rows] == ["西口镇", "楼子营镇"]
    assert set(rows[0]) >= {"code", "red", "orange", "yellow", "blue", "total"}
    x = client.get("/stats/townships.xlsx")
    assert x.status_code == 200
    (tmp_path / "s.xlsx").write_bytes(x.content)
    ws = load_workbook(tmp_path / "s.xlsx").active
    assert [c.value for c in ws[2]] == ["乡镇代码", "乡镇名称", "重大风险", "较大风险", "一般风险", "低风险", "合计"]
    assert ws.cell(row=3, column=2).value == "西口镇" and ws.cell(row=5, column=2).value == "全县合计"
    page = client.get("/stats").text
    assert "<svg" in page and "西口镇" in page and "导出" in page


def test_big_counties_get_vector_tiles_instead_of_embedded_points(client, small_county, monkeypatch):
    import layers.pages

    monkeypatch.setitem(layers.pages.EMBED_LIMITS, "enterprise", 1)
    body = client.get("/maps").text
    assert "L.vectorGrid.protobuf" in body and "/tiles/enterprise/{z}/{x}/{y}.pbf" in body
    assert "/vendor/leaflet.vectorgrid/dist/Leaflet.VectorGrid.bundled.min.js" in body
    assert "河曲县甲化工有限公司" not in body  # the points are no longer inside the HTML
    # tiles are asked for only over the county (its extent and a margin), and the view is fitted before any
    # layer is added, so no tile is fetched for the zoom the map is created at
    with small_county.connect() as conn:
        x0, y0, x1, y1 = conn.execute(text("SELECT ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) "
                                           "FROM county")).one()
    at = body.index("bounds: ", body.index("L.vectorGrid.protobuf")) + len("bounds: ")
    (south, west), (north, east) = json.JSONDecoder().raw_decode(body[at:])[0]
    assert south < y0 < y1 < north and west < x0 < x1 < east and north - y1 < 0.01 and x0 - west < 0.01
    assert body.index(").fitBounds(") < body.index("L.vectorGrid.protobuf")


def test_pipeline_tiles_draw_one_line_per_colour_below_z13(client, small_county):
    import mapbox_vector_tile

    from geo.risk import compute

    with small_county.begin() as conn:
        compute(conn)  # cuts GD-1 into its segments and assesses them
        n, colours = conn.execute(text(
            "SELECT count(*), count(DISTINCT coalesce(r.level, 'none')) FROM pipeline_segment s LEFT JOIN "
            "risk_assessment r ON r.kind = 'pipeline_segment' AND r.object_id = s.id AND r.valid_to IS NULL")).one()
    assert n > 20
    z10 = tile_of(111.22, 39.20, 10)
    assert tile_of(111.40, 39.15, 10) == z10  # the whole line lies in one z10 tile
    runs = mapbox_vector_tile.decode(client.get(f"/tiles/pipeline_segment/10/{z10[0]}/{z10[1]}.pbf").content)
    runs = runs["pipeline_segment"]["features"]
    assert len(runs) == colours and len({f["properties"]["level"] for f in runs}) == colours
    x, y = tile_of(111.31, 39.175, 13)
    close = mapbox_vector_tile.decode(client.get(f"/tiles/pipeline_segment/13/{x}/{y}.pbf").content)
    segments = close["pipeline_segment"]["features"]
    assert len(segments) > colours and len({f["properties"]["seq"] for f in segments}) == len(segments)


def test_map_pages_and_tiles_come_gzipped_when_asked(client, monkeypatch):
    import mapbox_vector_tile

    import api.compress

    plain = client.get("/maps", headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and "content-encoding" not in plain.headers
    packed = client.get("/maps", headers={"Accept-Encoding": "gzip, deflate"})
    assert packed.headers["content-encoding"] == "gzip" and packed.headers["vary"] == "Accept-Encoding"
    assert "河曲县甲化工有限公司" in packed.text  # the client unpacks it: the same page
    assert int(packed.headers["content-length"]) < len(plain.content) / 3
    assert "content-encoding" not in client.get("/maps", headers={"Accept-Encoding": "gzip;q=0"}).headers
    # tiles too (this county's are small: compress from the first byte here)
    monkeypatch.setattr(api.compress, "MIN_BYTES", 1)
    x, y = tile_of(111.22, 39.25, 15)
    packed = client.get(f"/tiles/enterprise/15/{x}/{y}.pbf", headers={"Accept-Encoding": "gzip"})
    plain = client.get(f"/tiles/enterprise/15/{x}/{y}.pbf", headers={"Accept-Encoding": "identity"})
    assert packed.headers["content-encoding"] == "gzip" and "content-encoding" not in plain.headers
    assert packed.content == plain.content
    assert [f["properties"]["name"] for f in mapbox_vector_tile.decode(packed.content)["enterprise"]["features"]] \
        == ["河曲县甲化工有限公司"]
    empty = client.get(f"/tiles/building/10/{x // 32}/{y // 32}.pbf", headers={"Accept-Encoding": "gzip"})
    assert empty.status_code == 204 and "content-encoding" not in empty.headers


def test_pipeline_and_mine_pages_and_standalone_file(client, db_url, tmp_path):
    import os
    import subprocess
    import sys

    page = client.get("/maps/pipeline/GD-1").text
    assert "河曲输气支线（管道）安全风险图" in page and "zone_5m" in page  # the 5/50/200 m bands are drawn
    page = client.get("/maps/mine/C1400002009121220045678").text
    assert "河曲县丙煤矿（矿山）安全风险图" in page
    assert client.get("/maps/pipeline/NOPE").status_code == 404
    out = tmp_path / "西口镇.html"
    res = subprocess.run([sys.executable, "-m", "geo.cli", "map", "--township", "140930100000", "-o", str(out)],
                         env={**os.environ, "DATABASE_URL": db_url}, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "离线" in res.stdout
    html = out.read_text(encoding="utf-8")
    assert "西口镇_files/leaflet/dist/leaflet.js" in html and "cdn" not in html
    assert (tmp_path / "西口镇_files" / "leaflet" / "dist" / "leaflet.js").exists()


def test_basemap_choices(small_county, tmp_path, monkeypatch, make_user):
    """None by default (intranet); 天地图 with its key; 高德 shifts overlays to GCJ-02; a local MBTiles file."""
    from api.app import create_app
    from geo.config import get_settings

    headers = make_user("county_viewer")

    def page(**env: str) -> tuple[TestClient, str]:
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        get_settings.cache_clear()
        c = TestClient(create_app(), headers=headers)
        return c, c.get("/maps").text

    try:
        _check_basemaps(page, tmp_path)
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def _check_basemaps(page, tmp_path) -> None:
    from geo.crs import wgs84_to_gcj02
    from geo.mbtiles import write_mbtiles

    _, none = page()
    assert "tianditu" not in none and "autonavi" not in none and "openstreetmap" not in none
    _, tdt = page(RISKMAP_BASEMAP="tianditu", RISKMAP_TIANDITU_KEY="k123")
    assert "tianditu.gov.cn/vec_w/wmts" in tdt and "tk=k123" in tdt
    # 高德: the enterprise at 111.22, 39.25 (CGCS2000) is drawn at its GCJ-02 position
    _, amap = page(RISKMAP_BASEMAP="amap")
    glon, glat = wgs84_to_gcj02(111.22, 39.25)
    assert "autonavi" in amap and f"{float(glon):.6f}"[:9] in amap and f"{float(glat):.6f}"[:8] in amap
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 20
    mb = write_mbtiles(tmp_path / "county.mbtiles", [(10, 827, 388, png)], name="河曲县底图")
    client, local = page(RISKMAP_BASEMAP="mbtiles", RISKMAP_MBTILES_PATH=str(mb))
    assert "/basemap/{z}/{x}/{y}" in local
    r = client.get("/basemap/10/827/388")
    assert r.status_code == 200 and r.content == png and r.headers["content-type"] == "image/png"
    assert client.get("/basemap/10/0/0").status_code == 404
