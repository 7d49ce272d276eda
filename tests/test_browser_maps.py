"""A map an officer reads at a glance (issue #14): what Chromium draws on the county, township, grid, pipeline
and mine pages — cluster colours, the layer control, unblended areas, legends counting the page's scope, the
print control, the phone layout — offline, under the pages' CSP."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import text

from api.devserver import CHROMIUM, CHROMIUM_ARGS, running_server
from layers.style import ENCROACHMENT_STATUS_COLOURS, LEVEL_COLOURS

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")

ORDER = ("red", "orange", "yellow", "blue")

MAP_JS = "window[Object.keys(window).find(k => k.startsWith('map_') && window[k] instanceof L.Map)]"

# the drawn things (paths and markers) of a layer, through groups and marker clusters
LEAVES_JS = """
window.__leaves = function (layer, out) {
  out = out || [];
  if (layer instanceof L.MarkerClusterGroup) { layer.eachLayer(l => out.push(l)); }
  else if (layer.eachLayer) { layer.eachLayer(l => window.__leaves(l, out)); }
  else { out.push(layer); }
  return out;
};
window.__overlays = function () {
  const m = %s, c = Object.values(window).find(v => v instanceof L.Control.Layers);
  return c._layers.filter(x => x.overlay).map(x => ({name: x.name, layer: x.layer, map: m}));
};
void 0;
""" % MAP_JS


@pytest.fixture(scope="module")
def server(demo_county_db, out_dir):
    with running_server(demo_county_db, log=out_dir / "browser-maps-server.log") as base:
        yield base


@pytest.fixture(scope="module")
def pw():
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def _context(pw, server, engine, *, width=1440, height=900, role="county_viewer", townships=(), **kw):
    from api.auth import COOKIE
    from tests.conftest import auth_headers

    token = auth_headers(engine, role, townships=townships)["Authorization"].removeprefix("Bearer ")
    context = pw.new_context(viewport={"width": width, "height": height}, accept_downloads=True, **kw)
    context.add_cookies([{"name": COOKIE, "value": token, "url": server}])
    return context


@pytest.fixture(scope="module")
def desk(pw, server, demo_county_engine):
    context = _context(pw, server, demo_county_engine)
    yield context
    context.close()


@pytest.fixture(scope="module")
def phone(pw, server, demo_county_engine):
    context = _context(pw, server, demo_county_engine, width=390, height=844, is_mobile=True, has_touch=True,
                       permissions=["geolocation"], geolocation={"latitude": 39.38, "longitude": 111.15})
    yield context
    context.close()


@pytest.fixture(scope="module")
def places(demo_county_engine):
    """A township with grid cells, one of its grids, a pipeline and a mine whose workings cross its boundary."""
    with demo_county_engine.connect() as conn:
        township, grid = conn.execute(text(
            "SELECT t.code, g.code FROM township t JOIN grid_cell g ON g.township_id = t.id "
            "WHERE EXISTS (SELECT 1 FROM enterprise e WHERE ST_Covers(g.geom, e.geom)) ORDER BY t.code, g.code "
            "LIMIT 1")).one()
        pipeline = conn.execute(text(
            "SELECT p.code FROM pipeline p JOIN pipeline_segment s ON s.pipeline_id = p.id GROUP BY p.code "
            "ORDER BY count(*) DESC, p.code LIMIT 1")).scalar_one()
        mine = conn.execute(text(
            "SELECT licence_no FROM mine WHERE workings IS NOT NULL AND NOT ST_Covers(licence_boundary, workings) "
            "ORDER BY licence_no LIMIT 1")).scalar_one()
    return {"county": "/maps", "township": f"/maps/township/{township}", "grid": f"/maps/grid/{grid}",
            "pipeline": f"/maps/pipeline/{pipeline}", "mine": f"/maps/mine/{mine}",
            "codes": {"township": township, "grid": grid, "pipeline": pipeline, "mine": mine}}


def _eventually(page, expression: str, tries: int = 40) -> bool:
    """Poll `expression` (wait_for_function would evaluate a string, which the pages' CSP refuses)."""
    for _ in range(tries):
        if page.evaluate(expression):
            return True
        page.wait_for_timeout(250)
    return False


def _open(context, url: str):
    page = context.new_page()
    errors: list[str] = []
    outside: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    def guard(route):
        if route.request.url.startswith(("http://127.0.0.1", "data:", "blob:")):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    response = page.goto(url, wait_until="load", timeout=60_000)
    page.wait_for_timeout(600)
    page.evaluate(LEAVES_JS)
    return page, errors, outside, response


def test_cluster_bubbles_take_the_worst_members_colour_and_no_enterprise_is_drawn_twice(
        desk, server, demo_county_engine, out_dir):
    page, errors, outside, _ = _open(desk, f"{server}/maps")
    drawn = page.evaluate("""(() => {
      const m = %s, out = {clusters: [], single: [], all: []};
      Object.values(m._layers).forEach(l => {
        if (l instanceof L.MarkerCluster) {
          const icon = l._icon.querySelector('.rm-cluster');
          out.clusters.push({level: icon.dataset.level, bg: icon.style.backgroundColor, title: icon.title,
                             ids: l.getAllChildMarkers().map(c => c.feature.id)});
        } else if (l.feature && l.feature.properties && 'level' in l.feature.properties && l instanceof L.CircleMarker) {
          out.single.push(l.feature.id);
        }
      });
      const g = Object.values(m._layers).find(l => l instanceof L.MarkerClusterGroup);
      g.eachLayer(c => out.all.push(c.feature.id));
      return out;
    })()""" % MAP_JS)
    with demo_county_engine.connect() as conn:
        level = dict(conn.execute(text(
            "SELECT e.id, r.level FROM enterprise e LEFT JOIN risk_assessment r ON r.kind = 'enterprise' "
            "AND r.object_id = e.id AND r.valid_to IS NULL")).all())
    assert len(drawn["clusters"]) >= 5
    seen_levels = set()
    for c in drawn["clusters"]:
        levels = [level[i] for i in c["ids"]]
        worst = next(lv for lv in ORDER if lv in levels)
        seen_levels.add(worst)
        assert c["level"] == worst, c
        hexcol = LEVEL_COLOURS[worst]
        assert c["bg"] == "rgb({}, {}, {})".format(*(int(hexcol[i:i + 2], 16) for i in (1, 3, 5))), c
        for lv, label in zip(ORDER, ("重大", "较大", "一般", "低"), strict=True):
            if levels.count(lv):
                assert f"{label} {levels.count(lv)}" in c["title"], c
    assert len(seen_levels) >= 2  # the bubbles are not all one colour, as they were by count
    # every enterprise is drawn once: in a bubble or as its own dot, never both
    in_clusters = [i for c in drawn["clusters"] for i in c["ids"]]
    assert sorted(in_clusters + drawn["single"]) == sorted(drawn["all"]) == sorted(level)
    page.screenshot(path=str(out_dir / "maps-clusters.png"))
    assert errors == [] and outside == []
    page.close()


def test_searching_an_enterprise_opens_its_popup_without_drawing_the_enterprises_again(
        desk, server, demo_county_engine):
    with demo_county_engine.connect() as conn:
        name = conn.execute(text("SELECT name FROM enterprise ORDER BY id DESC LIMIT 1")).scalar_one()
    page, errors, _, _ = _open(desk, f"{server}/maps")
    page.fill(".leaflet-control-search input", name[:6])
    page.dispatch_event(".leaflet-control-search input", "keyup")  # typed Chinese comes without key events
    page.locator(".leaflet-control-search .search-tip", has_text=name).first.click()
    page.wait_for_selector(".leaflet-popup-content", timeout=10_000)
    assert name in page.inner_text(".leaflet-popup-content")
    # still drawn once: the dots on the map are enterprises outside any bubble
    twice = page.evaluate("""(() => {
      const m = %s, g = Object.values(m._layers).find(l => l instanceof L.MarkerClusterGroup);
      const inBubbles = new Set();
      Object.values(m._layers).forEach(l => { if (l instanceof L.MarkerCluster) {
        l.getAllChildMarkers().forEach(c => inBubbles.add(c)); } });
      const out = [];
      g.eachLayer(c => { if (m.hasLayer(c) && inBubbles.has(c)) { out.push(c.feature.id); } });
      return out;
    })()""" % MAP_JS)
    assert twice == [] and errors == []
    page.close()


@pytest.mark.parametrize("which", ["county", "township"])
def test_unticking_each_overlay_removes_everything_it_drew(desk, server, places, which):
    page, errors, _, _ = _open(desk, f"{server}{places[which]}")
    names = page.evaluate("window.__overlays().map(o => o.name)")
    assert "企业（按风险着色）" in names and "乡镇（按风险着色）" in names
    for i, name in enumerate(names):
        box = page.locator(".leaflet-control-layers-overlays input").nth(i)
        if not box.is_checked():
            box.check()
            page.wait_for_timeout(150)
        before = page.evaluate(f"(() => {{ const o = window.__overlays()[{i}]; "
                               "return window.__leaves(o.layer).filter(l => o.map.hasLayer(l)).length; })()")
        box.uncheck()
        page.wait_for_timeout(150)
        after = page.evaluate(f"(() => {{ const o = window.__overlays()[{i}]; "
                              "return window.__leaves(o.layer).filter(l => o.map.hasLayer(l)).length; })()")
        assert after == 0, (name, before, after)
        if name.startswith("企业"):
            assert before > 0 and page.locator(".rm-cluster").count() == 0
    # with every overlay off, nothing is drawn on the map at all
    left = page.evaluate("Object.values(%s._layers).filter(l => l instanceof L.Path || l instanceof L.Marker)"
                         ".length" % MAP_JS)
    assert left == 0
    assert errors == []
    page.close()


def _fills(page) -> dict[str, list[str]]:
    """Fill colours of every filled thing on the map, per overlay; and the colours the legend shows."""
    return page.evaluate("""(() => {
      const out = {};
      window.__overlays().forEach(o => {
        out[o.name] = [...new Set(window.__leaves(o.layer).filter(l => o.map.hasLayer(l) && l.options
          && l.options.fill !== false && l.options.fillOpacity > 0 && l.options.fillColor)
          .map(l => l.options.fillColor.toLowerCase()))];
      });
      out.__clusters = [...document.querySelectorAll('.rm-cluster')].map(e => e.style.backgroundColor);
      out.__legend = [...document.querySelectorAll('#rm-legend [data-colour]')].map(e => e.dataset.colour.toLowerCase());
      return out;
    })()""")


@pytest.mark.parametrize("which", ["county", "township", "pipeline", "mine"])
def test_areas_never_blend_and_every_colour_drawn_is_in_the_legend(desk, server, places, which):
    page, errors, _, _ = _open(desk, f"{server}{places[which]}")
    for tick_grid in (False, True):
        if tick_grid:
            box = page.locator(".leaflet-control-layers-overlays label", has_text="网格").locator("input")
            if not box.is_checked():
                box.check()
                page.wait_for_timeout(200)
        fills = _fills(page)
        legend = set(fills.pop("__legend"))
        for rgb in fills.pop("__clusters"):  # bubbles too: "rgb(230, 0, 18)" → "#e60012"
            r, g, b = (int(x) for x in re.findall(r"\d+", rgb))
            assert f"#{r:02x}{g:02x}{b:02x}" in legend, rgb
        for name, colours in fills.items():
            assert set(colours) <= legend, (name, set(colours) - legend)
        areas = [n for n in fills if n.startswith(("乡镇", "网格", "管道保护范围")) and fills[n]]
        assert len(areas) <= 1, areas  # one filled area layer: a blue cell over a red township is never purple
        if tick_grid:
            assert not fills["乡镇（按风险着色）"]  # the townships keep their outlines only
    # 占压 status colours are none of the four risk colours and have their own legend
    assert not set(ENCROACHMENT_STATUS_COLOURS.values()) & set(LEVEL_COLOURS.values())
    assert "占压点（按整改状态）" in page.text_content("#rm-legend .rm-legend-more")
    assert errors == []
    page.close()


def _db_counts(conn, scope: str, code: str | None) -> dict[tuple[str, str], int]:
    """Current levels of the objects a page draws, counted straight from the object tables."""
    geo = {"enterprise": ("enterprise", "geom"), "mine": ("mine", "licence_boundary"),
           "pipeline_segment": ("pipeline_segment", "geom"), "grid_cell": ("grid_cell", "geom")}
    box = None
    if scope == "pipeline":
        box = ("SELECT ST_Envelope(ST_Transform(ST_Expand(ST_Transform(p.geom, c.metric_srid), 1000), 4490)) "
               "FROM pipeline p, county c WHERE p.code = :c")
    elif scope == "mine":
        box = ("SELECT ST_Envelope(ST_Transform(ST_Expand(ST_Transform(m.licence_boundary, c.metric_srid), 1000), "
               "4490)) FROM mine m, county c WHERE m.licence_no = :c")
    elif scope == "grid":
        box = "SELECT ST_Envelope(geom) FROM grid_cell WHERE code = :c"
    out: dict[tuple[str, str], int] = {}
    for kind, (table, g) in geo.items():
        cond = "true"
        if scope == "township":
            cond = "o.township_id = (SELECT id FROM township WHERE code = :c)"
        elif scope in ("pipeline", "mine"):
            cond = f"o.{g} && ({box})"
        elif scope == "grid":
            town = "o.township_id = (SELECT township_id FROM grid_cell WHERE code = :c)"
            cond = {"enterprise": "ST_Covers((SELECT geom FROM grid_cell WHERE code = :c), o.geom)",
                    "grid_cell": "o.code = :c"}.get(kind, f"{town} AND o.{g} && ({box})")
        for lv, n in conn.execute(text(
                f"SELECT r.level, count(*) FROM {table} o JOIN risk_assessment r ON r.kind = :k "
                f"AND r.object_id = o.id AND r.valid_to IS NULL WHERE {cond} GROUP BY 1"), {"k": kind, "c": code}):
            out[(kind, lv)] = n
    return out


@pytest.mark.parametrize("scope", ["county", "township", "grid", "pipeline", "mine"])
def test_legend_counts_what_the_page_shows(desk, server, places, demo_county_engine, scope):
    page, errors, _, _ = _open(desk, f"{server}{places[scope]}")
    shown = {(c.get_attribute("data-kind"), c.get_attribute("data-level")): int(c.inner_text())
             for c in page.query_selector_all("#rm-legend .rm-count")}
    with demo_county_engine.connect() as conn:
        expected = _db_counts(conn, scope, places["codes"].get(scope))
        county = _db_counts(conn, "county", None)
    assert shown and all(shown[k] == expected.get(k, 0) for k in shown), (scope, shown, expected)
    if scope != "county":  # a narrower scope counts fewer than the county (the old legend did not)
        assert sum(shown.values()) < sum(county.values())
    if scope == "grid":
        assert sum(v for (k, _), v in shown.items() if k == "grid_cell") == 1
    assert "计数范围" in page.inner_text("#rm-legend") and errors == []
    page.close()


def test_pipeline_page_highlights_its_line_and_its_bands_take_no_clicks(desk, server, places):
    code = places["codes"]["pipeline"]
    page, errors, _, _ = _open(desk, f"{server}{places['pipeline']}")
    widths = page.evaluate("""(() => {
      const o = window.__overlays().find(o => o.name === '油气管道');
      return window.__leaves(o.layer).map(l => [l.feature.properties.pipeline_code, l.options.weight]);
    })()""")
    mine = [w for c, w in widths if c == code]
    others = [w for c, w in widths if c != code]
    assert mine and min(mine) >= 7 and (not others or max(others) < 7)
    bands = page.evaluate("""(() => {
      const o = window.__overlays().find(o => o.name.startsWith('管道保护范围'));
      const ls = window.__leaves(o.layer).filter(l => o.map.hasLayer(l));
      return [ls.length, ls.filter(l => l.options.interactive !== false).length];
    })()""")
    assert bands[0] > 0 and bands[1] == 0
    # a click on the line, inside its bands, opens the pipeline's popup
    point = page.evaluate("""(code => {
      const m = %s, o = window.__overlays().find(o => o.name === '油气管道');
      const l = window.__leaves(o.layer).find(l => l.feature.properties.pipeline_code === code && l.getPopup());
      const ll = l.getLatLngs().flat(3), p = ll[Math.floor(ll.length / 2)];
      m.setView(p, 17, {animate: false});
      const q = m.latLngToContainerPoint(p), r = m.getContainer().getBoundingClientRect();
      return [q.x + r.left, q.y + r.top];
    })""" % MAP_JS, code)
    page.wait_for_timeout(400)
    page.mouse.click(point[0], point[1])
    page.wait_for_selector(".leaflet-popup-content", timeout=5000)
    assert code in page.inner_text(".leaflet-popup-content")
    assert errors == []
    page.close()


def test_mine_page_draws_workings_and_the_part_over_the_boundary(desk, server, places):
    page, errors, _, _ = _open(desk, f"{server}{places['mine']}")
    parts = page.evaluate("""(() => {
      const o = window.__overlays().find(o => o.name.startsWith('矿山'));
      return window.__leaves(o.layer).filter(l => o.map.hasLayer(l) && l.feature.properties.part)
        .map(l => l.feature.properties.part);
    })()""")
    assert "workings" in parts and "over" in parts
    assert "越界开采" in page.text_content("#rm-legend .rm-legend-more")
    assert errors == []
    page.close()


def test_scale_and_measuring_are_chinese_and_metric(desk, server):
    page, errors, _, _ = _open(desk, f"{server}/maps")
    scales = page.locator(".leaflet-control-scale-line").all_inner_texts()
    assert len(scales) == 1 and re.fullmatch(r"\d+ (米|公里)", scales[0].strip()), scales
    page.click(".rm-measure a")
    assert "点击" in page.inner_text(".rm-measure")
    assert errors == []
    page.close()


def test_township_editor_opens_on_its_township_and_is_refused_another_in_chinese(pw, server, demo_county_engine):
    with demo_county_engine.connect() as conn:
        (mine, mine_name), (other, _) = conn.execute(text(
            "SELECT code, name FROM township ORDER BY code LIMIT 2")).all()
    context = _context(pw, server, demo_county_engine, role="township_editor", townships=[mine])
    try:
        page, errors, outside, _ = _open(context, f"{server}/maps")
        assert mine_name in page.title() and errors == [] and outside == []
        response = page.goto(f"{server}/maps/township/{other}", wait_until="load")
        assert response.status == 404 and response.headers["content-type"].startswith("text/html")
        assert "不在本辖区" in page.inner_text("main") and page.evaluate("document.documentElement.lang") == "zh-CN"
        assert page.request.get(f"{server}/maps/township/{other}",
                                headers={"Accept": "application/json"}).status == 404
    finally:
        context.close()


def test_export_control_produces_a_png_of_the_map(desk, server, places, out_dir):
    page, errors, _, _ = _open(desk, f"{server}{places['township']}")
    assert page.locator(".rm-print-button").count() == 1 and page.locator(".rm-export-button").count() == 1
    page.hover(".rm-export-button")
    with page.expect_download(timeout=60_000) as got:
        page.locator(".rm-export-button .easyPrintSizeMode").first.click()  # A4 横向
    path = out_dir / "maps" / "export-a4.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    got.value.save_as(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 20_000
    assert page.locator(".rm-print-head").count() == 1  # title and date on the sheet
    assert errors == []
    page.close()


def test_print_control_opens_a_sheet_to_print_under_the_csp(pw, server, places, demo_county_engine):
    """打印 → A3 横向: a window holding the map's picture opens and prints; nothing is refused by the CSP."""
    context = _context(pw, server, demo_county_engine)
    context.add_init_script("window.print = function () { document.documentElement.dataset.printed = 'yes'; };")
    page, errors, _, _ = _open(context, f"{server}{places['mine']}")
    page.hover(".rm-print-button")
    with page.expect_popup(timeout=60_000) as got:
        page.locator(".rm-print-button .easyPrintSizeMode").nth(2).click()  # A3 横向
    sheet = got.value
    sheet.on("pageerror", lambda e: errors.append(str(e)))
    for _ in range(120):  # the sheet runs under the page's CSP, so no wait_for_function (it evaluates a string)
        if sheet.evaluate("document.images.length === 1 && document.images[0].complete "
                          "&& document.images[0].naturalWidth > 1000"):
            break
        sheet.wait_for_timeout(500)
    assert sheet.evaluate("document.images[0].naturalWidth") > 1000
    assert sheet.evaluate("document.images[0].src").startswith("data:image/png")
    assert sheet.evaluate("document.documentElement.dataset.printed") == "yes"
    assert errors == []
    context.close()


def test_phone_layout_leaves_the_map_visible(phone, server, places, demo_county_engine, out_dir):
    page, errors, outside, response = _open(phone, f"{server}{places['township']}")
    with demo_county_engine.connect() as conn:
        townships = conn.execute(text("SELECT code FROM township ORDER BY code")).scalars().all()
    sizes = {t: len(page.request.get(f"{server}/maps/township/{t}").body()) for t in townships}
    assert max(sizes.values()) < 500_000, sizes  # every township's page, over a phone's connection
    assert page.locator(".leaflet-control-layers-expanded").count() == 0
    assert page.locator(".rm-legend-control.rm-folded").count() == 1
    covered = page.evaluate("""(() => {
      const map = document.querySelector('.folium-map').getBoundingClientRect();
      const boxes = [...document.querySelectorAll('.leaflet-control-container .leaflet-control')]
        .map(e => e.getBoundingClientRect()).filter(r => r.width && r.height);
      let hit = 0, n = 0;
      for (let x = map.left + 2; x < map.right; x += 4) for (let y = map.top + 2; y < map.bottom; y += 4) {
        n++; if (boxes.some(r => x >= r.left && x <= r.right && y >= r.top && y <= r.bottom)) hit++;
      }
      return hit / n;
    })()""")
    assert covered <= 0.4, covered
    # a popup fits the screen
    page.evaluate("""(() => { const o = window.__overlays().find(o => o.name.startsWith('乡镇'));
      window.__leaves(o.layer).find(l => l.getPopup()).openPopup(); })()""")
    page.wait_for_selector(".leaflet-popup-content", timeout=5000)
    page.wait_for_timeout(500)
    box = page.locator(".leaflet-popup").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["height"] <= 844, box
    page.screenshot(path=str(out_dir / "maps" / "phone-popup.png"))
    page.keyboard.press("Escape")
    # 定位: the browser's position, no request leaving the machine
    page.click(".rm-locate a")
    assert _eventually(page, "Object.values(%s._layers).some(l => l.options && l.options.className === 'rm-me')"
                       % MAP_JS), page.inner_text(".rm-locate")
    page.screenshot(path=str(out_dir / "maps-phone-located.png"))
    assert errors == [] and outside == []
    page.close()


@pytest.mark.parametrize("width", [1440, 390])
def test_screenshots_of_every_kind_of_page(pw, server, places, demo_county_engine, out_dir, width):
    context = _context(pw, server, demo_county_engine, width=width, height=900 if width > 600 else 844)
    (out_dir / "maps").mkdir(parents=True, exist_ok=True)
    try:
        for kind in ("county", "township", "grid", "pipeline", "mine"):
            page, errors, outside, response = _open(context, f"{server}{places[kind]}")
            page.screenshot(path=str(out_dir / "maps" / f"{kind}-{width}.png"))
            assert response.status == 200 and errors == [] and outside == [], (kind, errors, outside)
            page.close()
    finally:
        context.close()
