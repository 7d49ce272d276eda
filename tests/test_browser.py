"""What a bureau user sees in the browser: the county, a township and a grid page, offline, in Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from api.devserver import CHROMIUM, CHROMIUM_ARGS, running_server

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")

MAP_VAR_JS = "Object.keys(window).find(k => k.startsWith('map_') && window[k] instanceof L.Map)"


@pytest.fixture(scope="module")
def server(demo_county_db, out_dir):
    with running_server(demo_county_db, log=out_dir / "browser-server.log") as base:
        yield base


@pytest.fixture(scope="module")
def browser(server, demo_county_engine):
    """Chromium logged in as a county viewer (the login cookie the login page would set)."""
    from api.auth import COOKIE
    from tests.conftest import auth_headers

    token = auth_headers(demo_county_engine, "county_viewer")["Authorization"].removeprefix("Bearer ")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = b.new_context(viewport={"width": 1400, "height": 900})
        context.add_cookies([{"name": COOKIE, "value": token, "url": server}])
        yield context
        b.close()


def _open(browser, url: str, shot: Path):
    page = browser.new_page()
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
    page.goto(url, wait_until="load", timeout=60_000)
    page.wait_for_timeout(500)
    page.screenshot(path=str(shot), full_page=False)
    return page, errors, outside


def test_county_page_loads_offline_with_layers_and_legend(browser, server, demo_county_engine, out_dir):
    page, errors, outside = _open(browser, f"{server}/maps", out_dir / "county.png")
    assert errors == [] and outside == []
    control = page.inner_text(".leaflet-control-layers")
    for name in ("乡镇（按风险着色）", "网格（按风险着色）", "企业（按风险着色）", "油气管道", "占压点（按整改状态）",
                 "矿山（矿区范围）", "矿产规划分区", "管道保护范围（5/50/200 m）"):
        assert name in control
    # the legend's counts are the database's
    with demo_county_engine.connect() as conn:
        db_counts = dict(((k, lv), n) for k, lv, n in conn.execute(text(
            "SELECT kind, level, count(*) FROM risk_assessment WHERE valid_to IS NULL GROUP BY 1, 2")).all())
    cells = page.query_selector_all("#rm-legend .rm-count")
    assert cells
    for cell in cells:
        key = (cell.get_attribute("data-kind"), cell.get_attribute("data-level"))
        assert int(cell.inner_text()) == db_counts.get(key, 0), key
    assert "示意边界" in page.inner_text("#rm-legend")
    page.close()


def test_clicking_an_enterprise_shows_its_level_and_reasons(browser, server, demo_county_engine, out_dir):
    with demo_county_engine.connect() as conn:
        row = conn.execute(text(
            "SELECT e.name, ST_X(e.geom) AS lon, ST_Y(e.geom) AS lat, r.level, r.reasons FROM enterprise e "
            "JOIN risk_assessment r ON r.kind = 'enterprise' AND r.object_id = e.id AND r.valid_to IS NULL "
            "WHERE r.level = 'red' ORDER BY e.id LIMIT 1")).one()
    page, errors, _ = _open(browser, f"{server}/maps", out_dir / "county-before-click.png")
    var = page.evaluate(MAP_VAR_JS)
    page.evaluate(f"void window['{var}'].setView([{row.lat}, {row.lon}], 17, {{animate: false}})")
    page.wait_for_timeout(800)
    point = page.evaluate(f"(() => {{ const m = window['{var}']; const p = m.latLngToContainerPoint([{row.lat}, "
                          f"{row.lon}]); const r = m.getContainer().getBoundingClientRect(); "
                          "return [p.x + r.left, p.y + r.top]; })()")
    page.mouse.click(point[0], point[1])
    page.wait_for_selector(".leaflet-popup-content", timeout=5000)
    popup = page.inner_text(".leaflet-popup-content")
    page.screenshot(path=str(out_dir / "enterprise-popup.png"))
    assert row.name in popup and "重大风险" in popup
    first_reason = row.reasons[0]["text"] if isinstance(row.reasons[0], dict) else str(row.reasons[0])
    assert first_reason in popup
    assert errors == []
    page.close()


def test_township_and_grid_pages_load(browser, server, demo_county_engine, out_dir):
    with demo_county_engine.connect() as conn:
        township, grid = conn.execute(text(
            "SELECT t.code, g.code FROM township t JOIN grid_cell g ON g.township_id = t.id ORDER BY t.code, g.code "
            "LIMIT 1")).one()
    for url, shot in ((f"{server}/maps/township/{township}", "township.png"), (f"{server}/maps/grid/{grid}", "grid.png")):
        page, errors, outside = _open(browser, url, out_dir / shot)
        assert errors == [] and outside == []
        assert "建筑" in page.inner_text(".leaflet-control-layers")
        page.close()


def test_login_page_lets_a_user_in_and_keeps_strangers_out(browser, server, demo_county_engine, out_dir):
    """Not logged in: only the login page. A wrong password is refused in Chinese; the right one opens the map."""
    from tests.conftest import TEST_PASSWORD, auth_headers

    auth_headers(demo_county_engine, "county_viewer", username="browser-login")
    stranger = browser.browser.new_context(viewport={"width": 1000, "height": 700})  # no login cookie
    try:
        page = stranger.new_page()
        page.goto(f"{server}/maps/township/140930100000", wait_until="load")
        assert "/login" in page.url and "登录" in page.title()
        assert page.request.get(f"{server}/layers/enterprise/features").status == 401
        page.fill("#username", "browser-login")
        page.fill("#password", "wrong-password")
        page.click("button[type=submit]")
        assert "用户名或密码错误" in page.inner_text(".error")
        page.fill("#username", "browser-login")
        page.fill("#password", TEST_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/maps/township/140930100000", timeout=60_000)
        page.wait_for_selector(".rm-account", timeout=30_000)
        page.screenshot(path=str(out_dir / "after-login.png"))
        assert page.evaluate(MAP_VAR_JS)
        assert "browser-login" in page.inner_text(".rm-account") and "县级查看" in page.inner_text(".rm-account")
        page.click(".rm-account a")  # 退出: back to the login page, and the maps are closed again
        page.wait_for_url(lambda url: url.endswith(("/login", "/logout")), timeout=30_000)
        if page.url.endswith("/logout"):  # a link (GET) only asks; the confirm button POSTs with the CSRF token
            page.click("button[type=submit]")
        page.wait_for_url("**/login", timeout=30_000)
        page.goto(f"{server}/maps", wait_until="load")
        assert "/login" in page.url
    finally:
        stranger.close()
