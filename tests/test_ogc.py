"""Desktop GIS and programs read the county through OGC API – Features and vector tiles, in the user's scope.

A real server on loopback with the demo county; GDAL's OAPIF driver (through pyogrio) opens it with an API token
sent as a bearer header, as QGIS and ogr2ogr would; a TileJSON leads to a tile that is decoded.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from sqlalchemy import text

from api.devserver import running_server
from geo.features import LAYERS

pyogrio = pytest.importorskip("pyogrio")
pytestmark = pytest.mark.skipif("OAPIF" not in pyogrio.list_drivers(), reason="GDAL without the OAPIF driver")

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CGCS2000 = "http://www.opengis.net/def/crs/EPSG/0/4490"


@pytest.fixture(scope="module")
def server(demo_county_db, out_dir) -> Iterator[str]:
    with running_server(demo_county_db, log=out_dir / "ogc-server.log") as base:
        yield base


def _api_token(server: str, engine, role: str, townships: tuple[str, ...] = ()) -> str:
    """A user signs in and asks for an API token for their GIS (POST /auth/api-tokens), as a bureau would."""
    from tests.conftest import auth_headers

    login = auth_headers(engine, role, townships)
    r = httpx.post(f"{server}/auth/api-tokens", json={"name": "QGIS 对接", "days": 30}, headers=login)
    assert r.status_code == 201, r.text
    return r.json()["token"]


@pytest.fixture(scope="module")
def county_token(server, demo_county_engine) -> str:
    return _api_token(server, demo_county_engine, "county_viewer")


@pytest.fixture(scope="module")
def town(demo_county_engine) -> tuple[str, int]:
    """The township with the most enterprises: its code and its enterprise count in the database."""
    with demo_county_engine.connect() as conn:
        code, n = conn.execute(text(
            "SELECT t.code, count(*) FROM enterprise e JOIN township t ON t.id = e.township_id "
            "GROUP BY t.code ORDER BY 2 DESC, 1 LIMIT 1")).one()
    return code, int(n)


@pytest.fixture(scope="module")
def town_token(server, demo_county_engine, town) -> str:
    return _api_token(server, demo_county_engine, "township_editor", (town[0],))


@contextmanager
def gdal_bearer(token: str | None) -> Iterator[None]:
    """GDAL sends the token as a bearer header on every request (GDAL_HTTP_AUTH=BEARER, GDAL ≥ 3.9).

    GDAL_HTTP_HEADERS does not reach the server here: the OAPIF driver sets its own headers (Accept).
    """
    options = {"GDAL_HTTP_AUTH": "BEARER", "GDAL_HTTP_BEARER": token} if token else {}
    pyogrio.set_gdal_config_options({**options, "GDAL_HTTP_TIMEOUT": "60"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"GDAL_HTTP_AUTH": None, "GDAL_HTTP_BEARER": None})


def _get(server: str, path: str, token: str, **params: object) -> httpx.Response:
    return httpx.get(f"{server}{path}", params=params, headers={"Authorization": f"Bearer {token}"}, timeout=60)


def test_gdal_lists_every_layer_and_reads_all_enterprises_with_their_risk(server, county_token, demo_county_engine):
    with gdal_bearer(county_token):
        listed = pyogrio.list_layers(f"OAPIF:{server}/ogc/")
        kinds = {str(n): str(g) for n, g in listed}
        assert set(kinds) == set(LAYERS)
        assert kinds["enterprise"] == "Point" and kinds["township"] == "MultiPolygon"
        for name in LAYERS:  # every layer opens and reads (township, grid, pipelines, buildings, mines …)
            first = pyogrio.read_dataframe(f"OAPIF:{server}/ogc/", layer=name, max_features=3)
            assert first.crs.to_epsg() == 4490 and list(first.columns)[-1] == "geometry", name
        df = pyogrio.read_dataframe(f"OAPIF:{server}/ogc/", layer="enterprise")
    with demo_county_engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM enterprise WHERE geom IS NOT NULL")).scalar_one()
        red = conn.execute(text(
            "SELECT e.name, ST_X(e.geom) AS lon, ST_Y(e.geom) AS lat, r.reasons->0->>'text' AS reason "
            "FROM enterprise e JOIN risk_assessment r ON r.kind = 'enterprise' AND r.object_id = e.id "
            "AND r.valid_to IS NULL WHERE r.level = 'red' ORDER BY e.id LIMIT 1")).one()
    assert len(df) == n
    assert df.crs.to_epsg() == 4490  # the storage CRS the collections advertise
    row = df[df["name"] == red.name].iloc[0]
    assert row["风险等级"] == "重大风险" and row["level"] == "red" and row["主要原因"] == red.reason
    # GDAL asked for EPSG:4490 (lat/lon axis order) and put the axes back: x is the longitude
    assert row.geometry.x == pytest.approx(red.lon, abs=1e-6) and row.geometry.y == pytest.approx(red.lat, abs=1e-6)


def test_a_township_editors_token_shows_only_its_township(server, town, town_token):
    code, n = town
    with gdal_bearer(town_token):
        df = pyogrio.read_dataframe(f"OAPIF:{server}/ogc/", layer="enterprise")
    assert len(df) == n and set(df["township_code"]) == {code}
    other = _get(server, "/ogc/collections/enterprise/items", town_token, township_code="0" * 12).json()
    assert other["numberMatched"] == 0 and other["features"] == []


def test_without_a_token_gdal_gets_a_clear_401_not_the_login_page(server):
    r = httpx.get(f"{server}/ogc/collections", headers={"Accept": "application/json"})
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    assert "登录" in r.json()["message"]
    with gdal_bearer(None), pytest.raises(Exception, match="401"):
        pyogrio.list_layers(f"OAPIF:{server}/ogc/")


def test_landing_conformance_and_collections_answer_as_ogc_api_features_requires(server, county_token):
    landing = _get(server, "/ogc/", county_token).json()
    rels = {link["rel"] for link in landing["links"]}
    assert {"self", "alternate", "service-desc", "conformance", "data"} <= rels
    conf = _get(server, "/ogc/conformance", county_token).json()["conformsTo"]
    for cls in ("core", "geojson", "oas30", "html"):
        assert f"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/{cls}" in conf
    assert "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs" in conf
    body = _get(server, "/ogc/collections", county_token).json()
    assert {c["id"] for c in body["collections"]} == set(LAYERS)
    for c in body["collections"]:
        assert c["title"] == LAYERS[c["id"]].title and c["crs"] == [CRS84, CGCS2000] and c["storageCrs"] == CGCS2000
        assert {"self", "items", "describedby"} <= {link["rel"] for link in c["links"]}
        bbox = c["extent"]["spatial"]["bbox"][0]
        assert 110 < bbox[0] < bbox[2] < 112 and 38 < bbox[1] < bbox[3] < 40  # 河曲县
    api = _get(server, "/ogc/api", county_token)
    assert api.headers["content-type"].startswith("application/vnd.oai.openapi+json;version=3.0")
    doc = api.json()
    assert doc["openapi"].startswith("3.0")
    limit = next(p for p in doc["paths"]["/ogc/collections/{collectionId}/items"]["get"]["parameters"]
                 if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 10000 and limit["schema"]["default"] == 10
    for c in body["collections"]:
        for part in ("", "/schema", "/queryables", "/items"):
            assert _get(server, f"/ogc/collections/{c['id']}{part}", county_token, limit=2).status_code == 200
    schema = _get(server, "/ogc/collections/enterprise/schema", county_token).json()
    assert schema["properties"]["name"]["title"] == "企业名称" and schema["properties"]["employees"]["type"] == "integer"


def test_paging_follows_next_links_to_every_feature_once(server, county_token, demo_county_engine):
    with demo_county_engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM enterprise")).scalar_one()
    url, ids, pages = f"{server}/ogc/collections/enterprise/items?limit=300", [], 0
    while url:
        r = httpx.get(url, headers={"Authorization": f"Bearer {county_token}"}, timeout=60)
        assert r.status_code == 200 and r.headers["content-type"] == "application/geo+json"
        assert r.headers["content-crs"] == f"<{CRS84}>"
        page = r.json()
        assert page["type"] == "FeatureCollection" and page["numberMatched"] == n
        assert page["numberReturned"] == len(page["features"]) <= 300
        rels = {link["rel"]: link for link in page["links"]}
        assert {"self", "alternate"} <= set(rels)
        ids += [f["id"] for f in page["features"]]
        url = rels["next"]["href"] if "next" in rels else None
        pages += 1
    assert len(ids) == len(set(ids)) == n and pages == -(-n // 300)


def test_crs_bbox_and_property_filters(server, county_token, demo_county_engine):
    with demo_county_engine.connect() as conn:
        one = conn.execute(text("SELECT id, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM enterprise ORDER BY id LIMIT 1")).one()
        reds = conn.execute(text("SELECT count(*) FROM risk_assessment WHERE kind = 'enterprise' AND level = 'red' "
                                 "AND valid_to IS NULL")).scalar_one()
        near = conn.execute(text(
            "SELECT count(*) FROM enterprise WHERE ST_Intersects(geom, ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4490))"),
            {"x0": one.lon - 0.05, "y0": one.lat - 0.05, "x1": one.lon + 0.05, "y1": one.lat + 0.05}).scalar_one()
    path = f"/ogc/collections/enterprise/items/{one.id}"
    plain = _get(server, path, county_token)
    assert plain.headers["content-crs"] == f"<{CRS84}>"
    assert plain.json()["geometry"]["coordinates"] == pytest.approx([one.lon, one.lat], abs=1e-6)
    flipped = _get(server, path, county_token, crs="http://www.opengis.net/def/crs/EPSG/0/4490")
    assert flipped.headers["content-crs"] == f"<{CGCS2000}>"
    assert flipped.json()["geometry"]["coordinates"] == pytest.approx([one.lat, one.lon], abs=1e-6)
    items = "/ogc/collections/enterprise/items"
    box = f"{one.lon - 0.05},{one.lat - 0.05},{one.lon + 0.05},{one.lat + 0.05}"
    assert _get(server, items, county_token, bbox=box, limit=1).json()["numberMatched"] == near
    box_latlon = f"{one.lat - 0.05},{one.lon - 0.05},{one.lat + 0.05},{one.lon + 0.05}"
    assert _get(server, items, county_token, bbox=box_latlon, limit=1,
                **{"bbox-crs": CGCS2000}).json()["numberMatched"] == near
    red = _get(server, items, county_token, level="red", limit=1000).json()
    assert red["numberMatched"] == reds and {f["properties"]["风险等级"] for f in red["features"]} == {"重大风险"}
    for bad in ({"limit": "0"}, {"bbox": "1,2,3"}, {"crs": "EPSG:3857"}, {"colour": "red"}, {"offset": "-1"},
                {"datetime": "yesterday"}):
        r = _get(server, items, county_token, **bad)
        assert r.status_code == 400 and r.json()["message"], bad
    # over the maximum is not an error: the maximum is used (OGC 17-069r4 /req/core/fc-limit-response-1)
    assert _get(server, items, county_token, limit=50000).json()["numberReturned"] <= 10000
    assert _get(server, "/ogc/collections/nothing/items", county_token).status_code == 404


def test_a_feature_outside_the_township_is_not_found(server, town, town_token, demo_county_engine):
    with demo_county_engine.connect() as conn:
        outside = conn.execute(text(
            "SELECT e.id FROM enterprise e JOIN township t ON t.id = e.township_id WHERE t.code <> :c LIMIT 1"),
            {"c": town[0]}).scalar_one()
    r = _get(server, f"/ogc/collections/enterprise/items/{outside}", town_token)
    assert r.status_code == 404 and "辖区" in r.json()["message"]


def test_html_pages_are_chinese_workbench_pages(server, county_token):
    r = _get(server, "/ogc/collections", county_token, f="html")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "数据集合" in r.text and "企业" in r.text and 'class="rm-nav"' in r.text
    r = _get(server, "/ogc/collections/enterprise/items", county_token, f="html", limit=5)
    assert "风险等级" in r.text and "下一页" in r.text


def test_tilejson_leads_to_a_vector_tile_with_enterprises(server, county_token, demo_county_engine):
    import mapbox_vector_tile

    from geo.tiles import tile_of

    with demo_county_engine.connect() as conn:
        name, lon, lat = conn.execute(text(
            "SELECT name, ST_X(geom), ST_Y(geom) FROM enterprise ORDER BY id LIMIT 1")).one()
    tj = _get(server, "/tiles/enterprise.json", county_token).json()
    assert tj["tilejson"] == "3.0.0" and tj["vector_layers"][0]["id"] == "enterprise" and tj["name"] == "企业"
    west, south, east, north = tj["bounds"]
    assert west < lon < east and south < lat < north
    x, y = tile_of(lon, lat, 15)
    url = tj["tiles"][0].format(z=15, x=x, y=y)
    r = httpx.get(url, headers={"Authorization": f"Bearer {county_token}"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    decoded = mapbox_vector_tile.decode(r.content)
    assert name in {f["properties"].get("name") for f in decoded["enterprise"]["features"]}
    # the same tile through the OGC API – Tiles tileset description's template
    ts = _get(server, "/ogc/collections/enterprise/tiles/WebMercatorQuad", county_token).json()
    template = next(link["href"] for link in ts["links"] if link["rel"] == "item")
    again = httpx.get(template.format(tileMatrix=15, tileRow=y, tileCol=x),
                      headers={"Authorization": f"Bearer {county_token}"})
    assert again.content == r.content
    assert json.loads(json.dumps(ts))["tileMatrixSetURI"].endswith("WebMercatorQuad")


def test_datetime_filters_encroachments_by_the_day_they_were_formed(server, county_token, demo_county_engine):
    with demo_county_engine.connect() as conn:
        first, last = conn.execute(text("SELECT min(formed_on), max(formed_on) FROM encroachment")).one()
        if first is None:
            pytest.skip("demo county without dated encroachments")
        middle = first + (last - first) / 2
        before = conn.execute(text("SELECT count(*) FROM encroachment WHERE formed_on <= :d"),
                              {"d": middle}).scalar_one()
        on_day = conn.execute(text("SELECT count(*) FROM encroachment WHERE formed_on = :d"), {"d": first}).scalar_one()
    items = "/ogc/collections/encroachment/items"
    assert _get(server, items, county_token, datetime=f"../{middle.isoformat()}").json()["numberMatched"] == before
    assert _get(server, items, county_token, datetime=first.isoformat()).json()["numberMatched"] == on_day >= 1
    assert _get(server, items, county_token, datetime=f"{last.isoformat()}/{first.isoformat()}").status_code == 400
