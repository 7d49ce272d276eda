"""An intranet map with no online basemap is not grey: the county's own roads, rivers, stations and place names
(参考底图) are drawn light beneath the risk colours, from the reference vector tiles, offline, at every zoom."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from api.devserver import CHROMIUM, CHROMIUM_ARGS, running_server
from geo.reference import reference_labels
from geo.tiles import tile, tile_of

mvt = pytest.importorskip("mapbox_vector_tile")


def _seat(conn, name: str) -> tuple[float, float]:
    return conn.execute(text("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM township "
                             "WHERE name = :n) q"), {"n": name}).one()


def _decode(conn, z: int, lon: float, lat: float) -> dict:
    x, y = tile_of(lon, lat, z)
    return mvt.decode(tile(conn, "reference", z, x, y))


def _values(layer: dict | None, key: str) -> set:
    return {f["properties"].get(key) for f in (layer or {}).get("features", [])}


def test_reference_tiles_carry_roads_water_and_names_generalised_by_zoom(demo_county_engine):
    with demo_county_engine.connect() as conn:
        lon, lat = _seat(conn, "西口镇")
        far = _decode(conn, 8, lon, lat)
        county = _decode(conn, 10, lon, lat)
        street = _decode(conn, 14, lon, lat)
        river_lon, river_lat = conn.execute(text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointN(ST_GeometryN(geom, 1), 2) AS p FROM waterway "
            "WHERE name LIKE '黄河%') q")).one()
        river = _decode(conn, 12, river_lon, river_lat)

    # z8: the county outline, the Yellow River and only the main roads; no names yet
    assert "黄河（示意）" in _values(far.get("water"), "name")
    assert _values(far.get("road"), "road_class") <= {"motorway", "trunk", "primary"}
    assert far.get("road") and far.get("boundary") and "place" not in far
    # z10: county roads too, township names, stations; village roads not yet
    assert {"primary", "secondary"} <= _values(county["road"], "road_class")
    assert "unclassified" not in _values(county["road"], "road_class")
    assert "西口镇" in _values(county["place"], "name")
    assert _values(county["place"], "kind") == {"township"}
    # z14: every road, village and grid names
    assert "unclassified" in _values(street["road"], "road_class") or "tertiary" in _values(street["road"],
                                                                                            "road_class")
    assert {"village", "grid"} <= _values(street["place"], "kind")
    assert "黄河（示意）" in _values(river["water"], "name")


def test_place_names_come_with_tile_pixels_for_the_browser(demo_county_engine):
    with demo_county_engine.connect() as conn:
        lon, lat = _seat(conn, "西口镇")
        labels = reference_labels(conn, 13, *tile_of(lon, lat, 13))
        assert reference_labels(conn, 8, *tile_of(lon, lat, 8)) == []
    names = {lab["name"]: lab for lab in labels}
    assert "西口镇" in names and names["西口镇"]["kind"] == "township"
    assert any(lab["kind"] == "grid" and lab["name"].endswith("网格") for lab in labels)
    assert all(0 <= lab["x"] <= 256 and 0 <= lab["y"] <= 256 for lab in labels)
    assert not any(lab["name"].endswith(("村委会", "居委会")) for lab in labels)


# ------------------------------------------------------------------------------------------------ in the browser

playwright_api = pytest.importorskip("playwright.sync_api")
browser_only = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")

MAP_VAR_JS = "Object.keys(window).find(k => k.startsWith('map_') && window[k] instanceof L.Map)"


@pytest.fixture(scope="module")
def server(demo_county_db, out_dir):
    with running_server(demo_county_db, log=out_dir / "basemap-server.log") as base:
        yield base


@pytest.fixture(scope="module")
def chromium(server, demo_county_engine):
    from api.auth import COOKIE
    from tests.conftest import auth_headers

    token = auth_headers(demo_county_engine, "county_viewer")["Authorization"].removeprefix("Bearer ")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b, token
        b.close()


def _page(chromium, server, width: int):
    b, token = chromium
    from api.auth import COOKIE

    ctx = b.new_context(viewport={"width": width, "height": 900 if width > 600 else 800})
    ctx.add_cookies([{"name": COOKIE, "value": token, "url": server}])
    page = ctx.new_page()
    errors: list[str] = []
    outside: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    def guard(route):
        if route.request.url.startswith(("http://127.0.0.1", "data:", "blob:")):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    return page, errors, outside


def _labels(page) -> list[str]:
    return page.eval_on_selector_all(".leaflet-pane.leaflet-rmReferenceLabels-pane .rm-ref-label",
                                     "els => els.map(e => e.textContent)")


def _wait_for_labels(page, text_: str) -> None:
    page.wait_for_function("t => [...document.querySelectorAll('.rm-ref-label')].some(e => e.textContent === t)",
                           arg=text_, timeout=30_000)


@browser_only
@pytest.mark.parametrize("width", [1440, 390])
def test_county_page_draws_the_reference_basemap_beneath_the_risk_layers(chromium, server, demo_county_engine,
                                                                          out_dir, width):
    page, errors, outside = _page(chromium, server, width)
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(f"{server}/maps", wait_until="load", timeout=60_000)
    _wait_for_labels(page, "西口镇")
    page.wait_for_timeout(1500)
    # one request a reference tile (the names come inside it), each once, all for the zoom the page shows: the
    # view is fitted before the layers are added
    tiles = [u.split("/tiles/", 1)[1] for u in requested if "/tiles/" in u]
    reference = [t for t in tiles if t.startswith("reference/")]
    zoom = page.evaluate(f"() => window[{MAP_VAR_JS}].getZoom()")
    assert reference and all(t.endswith(".pbf") for t in reference) and len(set(reference)) == len(reference)
    assert {int(t.split("/")[-3]) for t in tiles} == {zoom}, tiles
    shot = out_dir / "basemap" / f"county-{width}.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot))
    assert not errors and not outside

    panes = page.evaluate("""() => {
        const z = n => Number(getComputedStyle(document.querySelector('.leaflet-' + n + '-pane')).zIndex);
        const lab = document.querySelector('.leaflet-rmReferenceLabels-pane');
        return {ref: z('rmReference'), overlay: z('overlay'), labels: z('rmReferenceLabels'), marker: z('marker'),
                labelEvents: getComputedStyle(lab).pointerEvents,
                canvases: document.querySelectorAll('.leaflet-rmReference-pane canvas').length};
    }""")
    assert panes["ref"] < panes["overlay"] < panes["labels"] < panes["marker"]
    assert panes["labelEvents"] == "none" and panes["canvases"] > 0
    # the reference lines were drawn: some canvas of the reference pane has non-transparent pixels
    drawn = page.evaluate("""() => [...document.querySelectorAll('.leaflet-rmReference-pane canvas')].some(c => {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) return true; } return false; })""")
    assert drawn
    with demo_county_engine.connect() as conn:
        townships = set(conn.execute(text("SELECT name FROM township")).scalars())
    assert townships & set(_labels(page))
    assert "参考底图（本县数据）" in page.text_content(".leaflet-control-layers")  # folded to its icon on a phone
    page.context.close()


@browser_only
@pytest.mark.parametrize("width", [1440, 390])
def test_township_page_names_villages_and_grid_cells_without_hovering(chromium, server, demo_county_engine,
                                                                       out_dir, width):
    with demo_county_engine.connect() as conn:
        code, lon, lat = conn.execute(text(
            "SELECT code, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM township "
            "WHERE name = '西口镇'")).one()
        grids = set(conn.execute(text(
            "SELECT g.name FROM grid_cell g JOIN township t ON t.id = g.township_id WHERE t.code = :c"),
            {"c": code}).scalars())
    page, errors, outside = _page(chromium, server, width)
    page.goto(f"{server}/maps/township/{code}", wait_until="load", timeout=60_000)
    _wait_for_labels(page, "西口镇")
    page.wait_for_timeout(1000)
    shot = out_dir / "basemap" / f"township-{width}.png"
    page.screenshot(path=str(shot))
    page.evaluate(f"() => {{ window[{MAP_VAR_JS}].setView([{lat}, {lon}], 14); }}")
    page.wait_for_function("() => document.querySelectorAll('.rm-ref-grid').length > 0", timeout=30_000)
    page.wait_for_timeout(1500)
    page.screenshot(path=str(out_dir / "basemap" / f"township-z14-{width}.png"))
    assert not errors and not outside
    seen = set(_labels(page))
    assert grids & seen
    assert page.evaluate("() => document.querySelectorAll('.rm-ref-village').length") > 0
    page.context.close()
