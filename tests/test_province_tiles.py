"""Issue #16, reads at scale: the province map's detail tiles. A city viewer zoomed in past the county level gets
each county's buildings, enterprises and pipelines read from that county's own database on its shard (two
PostgreSQL servers when the stock one answers), only for counties in its region; nobody else gets them."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from geo.province.config import County, Province, load_province
from geo.tiles import tile, tile_of
from tests.test_province import own_prefix, rolled_up_province

PREFIX = own_prefix("province_tiles")
CITY = "149900"  # the synthetic counties 149901 and 149902 are both in 合成市01


@pytest.fixture(scope="module")
def two_shards(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Two synthetic counties side by side (one on each server when the stock one answers), computed, with their
    roll-up in the service's own database, and province.toml naming them."""
    from geo.province.run import compute_province

    with rolled_up_province(db_url, tmp_path_factory, PREFIX, seed=11) as made:
        assert made["crossing"] == 1
        province = load_province(made["file"])
        assert not compute_province(province).failed
        yield {"file": made["file"], "province": province, "shards": made["shards"]}


@pytest.fixture
def configured(two_shards, monkeypatch) -> Iterator[Province]:
    """The service under test reads this province.toml (RISKMAP_PROVINCE_FILE)."""
    from geo.config import get_settings

    monkeypatch.setenv("RISKMAP_PROVINCE_FILE", str(two_shards["file"]))
    get_settings.cache_clear()
    yield two_shards["province"]
    monkeypatch.delenv("RISKMAP_PROVINCE_FILE")
    get_settings.cache_clear()


def border_point(p: Province) -> tuple[float, float]:
    """Where county 1's part of the cross-border pipeline meets the border with county 2 (lon, lat)."""
    eng = create_engine(p.counties[0].database, poolclass=NullPool)
    with eng.connect() as conn:
        lon, lat = conn.execute(text(
            "SELECT ST_X(e), ST_Y(e) FROM (SELECT ST_EndPoint(ST_GeometryN(geom, 1)) AS e FROM pipeline "
            "WHERE code LIKE 'SCALE-KX-%') s")).one()
    eng.dispose()
    return float(lon), float(lat)


def border_tile(p: Province, z: int) -> tuple[int, int]:
    """The tile of the border point (15–20 m inside county 1)."""
    lon, lat = border_point(p)
    return tile_of(lon - 0.0002, lat, z)


def _fields(buf: bytes) -> Iterator[tuple[int, int, bytes | int]]:
    """The (field number, wire type, value) of one protobuf message: enough of MVT to read layers and ids."""
    i = 0

    def varint() -> int:
        nonlocal i
        out = shift = 0
        while True:
            b = buf[i]
            i += 1
            out |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return out

    while i < len(buf):
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            yield number, wire, varint()
        elif wire == 2:
            n = varint()
            yield number, wire, buf[i:i + n]
            i += n
        elif wire in (1, 5):
            i += 8 if wire == 1 else 4
        else:
            raise ValueError(f"wire type {wire}")


def mvt_ids(data: bytes) -> dict[str, set[int]]:
    """Layer name → the ids of its features (Tile.layers = 3; Layer.name = 1, .features = 2; Feature.id = 1)."""
    out: dict[str, set[int]] = {}
    for number, _, layer in _fields(data):
        if number != 3:
            continue
        name, ids = "", set()
        for n, _, v in _fields(layer):
            if n == 1:
                name = v.decode()
            elif n == 2:
                ids |= {fid for k, _, fid in _fields(v) if k == 1}
        assert name not in out, f"two layers named {name}"
        out[name] = ids
    return out


def as_owner(c: County, layer: str, z: int, x: int, y: int) -> bytes:
    """The county's tile as its own database's owner makes it (no scope): what the city viewer must get."""
    eng = create_engine(c.database, poolclass=NullPool)
    with eng.connect() as conn:
        data = tile(conn, layer, z, x, y, name=f"{layer}_{c.code}")
    eng.dispose()
    return data


def test_a_city_viewer_reads_both_counties_detail_from_their_shards(configured, make_user):
    from api.app import create_app

    p = configured
    assert len(p.shards()) == len(configured_shards := {c.shard for c in p.counties})  # one county per server
    z = 14
    x, y = border_tile(p, z)
    with TestClient(create_app(), headers=make_user("region_viewer", region=CITY)) as c:
        r = c.get(f"/province/tiles/pipeline_segment/{z}/{x}/{y}.pbf")
        assert r.status_code == 200 and r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
        assert "X-Riskmap-Missing-Counties" not in r.headers
        # both counties' pipelines, each from its own database, exactly as their owners would draw them
        parts = [as_owner(k, "pipeline_segment", z, x, y) for k in p.counties]
        assert all(parts), "the border tile holds pipeline pieces on both sides"
        got = mvt_ids(r.content)
        assert got == mvt_ids(b"".join(parts))
        assert set(got) == {"pipeline_segment_149901", "pipeline_segment_149902"} and all(got.values())
        for layer in ("building", "enterprise"):
            r = c.get(f"/province/tiles/{layer}/{z}/{x}/{y}.pbf")
            assert r.status_code in (200, 204)
            assert mvt_ids(r.content) == mvt_ids(b"".join(as_owner(k, layer, z, x, y) for k in p.counties)), layer
        # at the county level and above: no detail (the roll-up colours the map there)
        x9, y9 = border_tile(p, 9)
        assert c.get(f"/province/tiles/enterprise/9/{x9}/{y9}.pbf").status_code == 204
        assert c.get(f"/province/tiles/road/{z}/{x}/{y}.pbf").status_code == 404
    print(f"分片：{sorted(configured_shards)}")


def test_no_detail_outside_the_viewers_region(configured, make_user):
    """Another city's or province's viewer, county staff and strangers get none of the counties' detail."""
    from api.app import create_app
    from geo.province.tiles import county_tile

    p = configured
    z = 14
    x, y = border_tile(p, z)
    url = f"/province/tiles/pipeline_segment/{z}/{x}/{y}.pbf"
    app = create_app()
    for region in ("149800", "150000"):
        with TestClient(app, headers=make_user("region_viewer", region=region)) as c:
            assert c.get(url).status_code == 204, region
    with TestClient(app, headers=make_user("county_viewer")) as c:
        r = c.get(url)
        assert r.status_code == 403 and "市/省级查看" in r.json()["message"]
    with TestClient(app) as c:
        assert c.get(url).status_code == 401
    # province.toml naming a county wrongly: its database's own county row decides, and shows nothing
    first = p.counties[0]
    liar = County(**{**first.__dict__, "code": "149801", "city_code": "149800"})
    assert county_tile(first, "pipeline_segment", z, x, y, region=CITY, user="t")
    assert county_tile(liar, "pipeline_segment", z, x, y, region="149800", user="t") == b""


def test_a_shard_that_does_not_answer_leaves_the_others_drawn(configured, make_user, engine, tmp_path, monkeypatch):
    """A third county rolled up over the same tile whose server is down: the tile still has the two others and
    says which county is missing."""
    from api.app import create_app
    from geo.config import get_settings
    from geo.province.config import province_toml

    p = configured
    z = 14
    x, y = border_tile(p, z)
    rows = [{"code": k.code, "name": k.name, "city_code": k.city_code, "city_name": k.city_name,
             "database": k.database} for k in p.counties]
    rows.append({"code": "149903", "name": "合成县03", "city_code": CITY, "city_name": "合成市01",
                 "database": "postgresql+psycopg2://riskmap@127.0.0.1:1/riskmap_149903"})  # nothing listens there
    path = tmp_path / "province.toml"
    path.write_text(province_toml("合成省", p.rollup_database, rows), encoding="utf-8")
    monkeypatch.setenv("RISKMAP_PROVINCE_FILE", str(path))
    get_settings.cache_clear()
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO province_township_level (county_code, county_name, city_code, city_name, township_code, "
            "township_name, level, score, computed_at, geom) VALUES ('149903', '合成县03', :c, '合成市01', "
            "'149903001000', '合成镇001', 'blue', 1, now(), "
            "ST_Multi(ST_Transform(ST_TileEnvelope(:z, :x, :y), 4490)))"), {"c": CITY, "z": z, "x": x, "y": y})
    try:
        with TestClient(create_app(), headers=make_user("region_viewer", region=CITY)) as c:
            r = c.get(f"/province/tiles/pipeline_segment/{z}/{x}/{y}.pbf")
        assert r.status_code == 200 and r.headers["X-Riskmap-Missing-Counties"] == "149903"
        assert mvt_ids(r.content) == mvt_ids(b"".join(as_owner(k, "pipeline_segment", z, x, y) for k in p.counties))
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM province_township_level WHERE county_code = '149903'"))


def test_the_province_map_asks_for_detail_past_the_county_level(configured, make_user):
    from api.app import create_app

    with TestClient(create_app(), headers=make_user("region_viewer", region=CITY)) as c:
        html = c.get("/province", headers={"Accept": "text/html"}).text.replace("\\/", "/")
        assert "/province/tiles/enterprise/{z}/{x}/{y}.pbf" in html and "minZoom: 12" in html
        for name in ("县区明细：建筑（12 级起）", "县区明细：油气管道（风险颜色）（12 级起）", "县区明细：企业（风险颜色）（12 级起）"):
            assert name in html or json.dumps(name)[1:-1] in html, name  # layer names travel as JSON
    with TestClient(create_app(), headers=make_user("county_viewer")) as c:  # its own county only: no detail layer
        html = c.get("/province", headers={"Accept": "text/html"}).text
        assert "/province/tiles/" not in html.replace("\\/", "/")


def test_zoomed_in_the_province_map_draws_both_counties_detail_in_chromium(configured, make_user, db_url, out_dir):
    """A city viewer zooms the roll-up map in on the border: pipelines, buildings and enterprises of both counties
    come from their own databases and are drawn (screenshots at 1440 and 390 px)."""
    from pathlib import Path

    from api.devserver import CHROMIUM, running_server

    pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium not installed")
    from tests.conftest import TEST_PASSWORD
    from tests.workbench import chromium, screenshots, sign_in, watched_page

    make_user("region_viewer", username="合成市局", region=CITY)
    lon, lat = border_point(configured)
    with running_server(db_url, log=out_dir / "province-tiles-server.log") as server, chromium() as browser:
        page, watch = watched_page(browser.new_context())
        sign_in(page, server, "合成市局", TEST_PASSWORD, next_="/province")
        page.wait_for_selector(".leaflet-control-layers")
        assert "县区明细：油气管道" in page.locator(".leaflet-control-layers").inner_text()
        counties = set()
        page.on("response", lambda r: counties.update(
            r.headers.get("content-type", "") == "application/vnd.mapbox-vector-tile" and r.status == 200
            and [r.url.split("/province/tiles/")[1].split("/")[0]] or []))
        with page.expect_response(lambda r: "/province/tiles/pipeline_segment/15/" in r.url and r.status == 200):
            page.evaluate("([lat, lon]) => { const k = Object.keys(window).find(n => n.startsWith('map_') && "
                          "window[n] && window[n].setView); window[k].setView([lat, lon], 15); }", [lat, lon])
        page.wait_for_timeout(800)  # the canvases paint
        assert {"pipeline_segment", "building"} <= counties, counties
        screenshots(page, "province-detail-tiles", full_page=False)
        assert not watch.errors and not watch.outside, (watch.errors, watch.outside)
