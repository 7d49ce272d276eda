"""Stories of the ledgers and dossiers in Chromium, clicking through real pages only (the database is read only to
check what the pages did): a county editor takes an encroachment candidate from 认定 to 销号; a township editor
records hazards in and outside its township and resolves a conflicting edit. Screenshots at 1440 and 390 px."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from api.devserver import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import TEST_PASSWORD, auth_headers
from tests.workbench_fixtures import XIKOU, copy_demo, workbench_server

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")
WIDTHS = (1440, 390)


@pytest.fixture(scope="module")
def county_db(demo_county_db: str, demo_county_engine: Engine) -> Iterator[tuple[str, Engine]]:
    url = copy_demo(demo_county_db, demo_county_engine, "wbbrowser")
    eng = create_engine(url)
    yield url, eng
    eng.dispose()


@pytest.fixture(scope="module")
def server(county_db, out_dir, tmp_path_factory) -> Iterator[str]:
    with workbench_server(county_db[0], tmp_path_factory.mktemp("home"), out_dir / "workbench-browser-server.log") \
            as base:
        yield base


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def shots(out_dir) -> Path:
    folder = out_dir / "workbench"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Watch:
    """A page's JavaScript errors and every request that tried to leave the machine."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.outside: list[str] = []

    def attach(self, page, server: str) -> None:
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)

        def guard(route):
            if route.request.url.startswith((server, "data:", "blob:")):
                route.continue_()
            else:
                self.outside.append(route.request.url)
                route.abort()

        page.route("**/*", guard)

    def clean(self) -> None:
        # 4xx answers of a refused write are the page's message, not a script error
        errors = [e for e in self.errors if "status of 4" not in e]
        assert errors == [] and self.outside == []


def login(chromium, server: str, username: str, watch: Watch, width: int = 1440):
    """A new browser context signed in through the login page."""
    context = chromium.new_context(viewport={"width": width, "height": 900}, accept_downloads=True)
    page = context.new_page()
    watch.attach(page, server)
    page.goto(f"{server}/login?next=/ledgers/encroachments", wait_until="load")
    page.fill("#username", username)
    page.fill("#password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/ledgers/encroachments", timeout=60_000)
    return context, page


def _png() -> bytes:
    """A real (decodable) PNG: the server reads it to make the thumbnail."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(out, "PNG")
    return out.getvalue()


def summary_totals(page) -> tuple[int, int]:
    found = int(page.inner_text('#wb-summary [data-count="found"]'))
    rectified = int(page.inner_text('#wb-summary [data-count="rectified"]'))
    return found, rectified


def dashboard_totals(page) -> tuple[int, int]:
    """首页 through the navigation bar: all encroachment points and those rectified (已整改 or 销号); then back to the
    encroachment ledger through the 台账 menu."""
    page.click("nav.rm-nav >> a:text-is('首页')")
    page.wait_for_selector("#enc-total-done")
    totals = int(page.inner_text("#enc-total")), int(page.inner_text("#enc-total-done"))
    page.click("nav.rm-nav summary:text-is('台账')")
    page.click("nav.rm-nav .rm-menu a:text-is('占压点')")
    page.wait_for_url("**/ledgers/encroachments")
    return totals


def confirm_action(page, label: str, button: str, **fields: str) -> None:
    """Click an action of the dossier, then confirm it in the confirmation panel."""
    page.click(f"#wb-actions a.wb-button:text-is('{label}')")
    page.wait_for_selector(".wb-confirm")
    for name, value in fields.items():
        page.fill(f".wb-confirm [name={name}]", value)
    page.click(f".wb-confirm button:text-is('{button}')")
    page.wait_for_load_state("load")


def test_county_editor_confirms_a_candidate_and_takes_it_to_closed(chromium, server, county_db, shots) -> None:
    url, engine = county_db
    auth_headers(engine, "county_editor", username="wb-county-editor")
    watch = Watch()
    context, page = login(chromium, server, "wb-county-editor", watch)
    found0, rectified0 = summary_totals(page)
    board0 = dashboard_totals(page)
    page.click("text=自动排查候选（待认定）")
    page.wait_for_url("**/ledgers/encroachments/candidates")
    page.click("button:text-is('重新排查')")
    page.wait_for_selector("text=排查完成")
    row = page.locator("#wb-candidates tbody tr[data-candidate]").first
    candidate = row.get_attribute("data-candidate")
    page.screenshot(path=str(shots / "candidates-1440.png"))
    row.locator("summary").click()
    row.locator("select[name=nature]").select_option("illegal_construction")
    row.locator("input[name=measure]").fill("限期拆除违章建筑，恢复管道保护范围")
    row.locator("button:text-is('确认认定')").click()
    page.wait_for_selector("#wb-notice")
    assert "已认定为占压点并建档" in page.inner_text("#wb-notice")
    code = re.search(r"/dossiers/encroachments/([^?]+)", page.url).group(1)
    assert page.inner_text("#wb-state") == "认定"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT e.code FROM encroachment_candidate c JOIN encroachment e "
                                 "ON e.id = c.encroachment_id WHERE c.id = :i"), {"i": int(candidate)}).scalar() == code

    # a photo of the site and this month's progress, through the page's forms (multipart with the CSRF field)
    page.set_input_files("input[name=file]", files=[{"name": "现场照片.png", "mimeType": "image/png",
                                                     "buffer": _png()}])
    page.click("button:text-is('上传附件')")
    page.wait_for_selector("#wb-attachments")
    assert "现场照片.png" in page.inner_text("#wb-attachments")
    page.fill("input[name=month]", "2026-12")
    page.fill("textarea[name=entry]", "已下达限期拆除通知书")
    page.click("button:text-is('记录进展')")
    page.wait_for_selector("#wb-progress")
    assert "已下达限期拆除通知书" in page.inner_text("#wb-progress")

    page.click("nav.rm-crumbs >> text=占压点台账")
    page.wait_for_url("**/ledgers/encroachments")
    assert summary_totals(page) == (found0 + 1, rectified0)
    page.goto(f"{server}/dossiers/encroachments/{code}", wait_until="load")

    confirm_action(page, "开始整改（整改中）", "确认开始整改（整改中）", note="已下达整改通知书")
    assert page.inner_text("#wb-state") == "整改中"
    confirm_action(page, "整改完成（已整改）", "确认整改完成（已整改）")
    assert page.inner_text("#wb-state") == "已整改"
    page.click("#wb-actions a.wb-button:text-is('销号')")
    page.wait_for_selector(".wb-confirm")
    page.screenshot(path=str(shots / "dossier-encroachment-confirm-1440.png"), full_page=True)
    page.fill(".wb-confirm [name=verified_by]", "李核查")
    page.click(".wb-confirm button:text-is('确认销号')")
    page.wait_for_load_state("load")
    assert page.inner_text("#wb-state") == "销号"
    timeline = page.inner_text("#wb-timeline")
    for step in ("认定", "整改中", "已整改", "销号", "核查人：李核查", "wb-county-editor"):
        assert step in timeline
    with engine.connect() as conn:
        assert conn.execute(text("SELECT status, closed_by FROM encroachment WHERE code = :c"),
                            {"c": code}).one() == ("closed", "李核查")
    page.click("nav.rm-crumbs >> text=占压点台账")
    page.wait_for_url("**/ledgers/encroachments")
    assert summary_totals(page) == (found0 + 1, rectified0 + 1)
    # the 首页 dashboard's encroachment progress moved with it: one more point, one more rectified
    assert dashboard_totals(page) == (board0[0] + 1, board0[1] + 1)
    watch.clean()
    context.close()


def test_township_editor_records_hazards_in_scope_only_and_resolves_a_conflict(chromium, server, county_db,
                                                                                shots) -> None:
    url, engine = county_db
    auth_headers(engine, "township_editor", [XIKOU], username="wb-xikou")
    with engine.connect() as conn:
        inside = conn.execute(text("SELECT e.id, e.uscc, e.name FROM enterprise e JOIN township t "
                                   "ON t.id = e.township_id WHERE t.code = :t ORDER BY e.id LIMIT 1"),
                              {"t": XIKOU}).one()
        outside_uscc = conn.execute(text("SELECT e.uscc FROM enterprise e JOIN township t ON t.id = e.township_id "
                                         "WHERE t.code <> :t ORDER BY e.id LIMIT 1"), {"t": XIKOU}).scalar()
    watch = Watch()
    context, page = login(chromium, server, "wb-xikou", watch)

    # from the enterprise's page (reached through the enterprise ledger)
    page.click("nav.rm-nav summary:text-is('台账')")
    page.click("nav.rm-nav a:text-is('企业')")
    page.wait_for_url("**/ledgers/enterprises")
    page.fill(".wb-filter input[name=q]", inside.uscc)
    page.click(".wb-filter button:text-is('筛选')")
    page.wait_for_selector(f"#wb-rows a:text-is('{inside.name}')")
    page.click(f"#wb-rows a:text-is('{inside.name}')")
    page.wait_for_url("**/dossiers/enterprises/*")
    page.click("#wb-new-hazard summary")
    page.fill("#wb-hazard-form [name=description]", "液氨储罐区可燃气体报警器失效")
    page.select_option("#wb-hazard-form [name=level]", "major")
    page.click("#wb-hazard-form button[type=submit]")
    page.wait_for_selector("#wb-notice")
    assert "隐患已登记" in page.inner_text("#wb-notice")
    code = re.search(r"/dossiers/hazards/([^?]+)", page.url).group(1)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT e.uscc FROM hazard h JOIN enterprise e ON e.id = h.enterprise_id "
                                 "WHERE h.code = :c"), {"c": code}).scalar() == inside.uscc

    # from the hazard ledger, for an enterprise outside 西口镇: refused, nothing written
    page.goto(f"{server}/ledgers/hazards", wait_until="load")
    before = _count(engine)
    page.click("#wb-new-hazard summary")
    page.fill("#wb-hazard-form [name=enterprise_uscc]", outside_uscc)
    page.fill("#wb-hazard-form [name=description]", "越界登记的隐患")
    page.click("#wb-hazard-form button[type=submit]")
    page.wait_for_selector("#wb-hazard-form .wb-error")
    refusal = page.inner_text("#wb-hazard-form .wb-error")
    assert "超出辖区" in refusal and "不能为其登记隐患" in refusal
    page.screenshot(path=str(shots / "hazard-refused-1440.png"), full_page=True)
    assert _count(engine) == before

    # two pages on the same hazard: the second one's confirmation is stale
    first = page
    first.goto(f"{server}/dossiers/hazards/{code}", wait_until="load")
    second = context.new_page()
    watch.attach(second, server)
    second.goto(f"{server}/dossiers/hazards/{code}", wait_until="load")
    first.click("#wb-actions a.wb-button:text-is('开始整改（整改中）')")
    second.click("#wb-actions a.wb-button:text-is('开始整改（整改中）')")
    first.click(".wb-confirm button:text-is('确认开始整改（整改中）')")
    first.wait_for_selector("#wb-notice")
    assert first.inner_text("#wb-state") == "整改中"
    second.click(".wb-confirm button:text-is('确认开始整改（整改中）')")
    second.wait_for_selector("#wb-error")
    message = second.inner_text("#wb-error")
    assert "已被他人修改" in message and "已为你载入最新状态" in message
    assert second.inner_text("#wb-state") == "整改中"
    second.screenshot(path=str(shots / "dossier-hazard-409-1440.png"), full_page=True)
    # from the reloaded state the second page goes on
    confirm_action(second, "整改完成（已整改）", "确认整改完成（已整改）")
    assert second.inner_text("#wb-state") == "已整改"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT status FROM hazard WHERE code = :c"), {"c": code}).scalar() == "rectified"
    watch.clean()
    context.close()


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM hazard")).scalar_one())


def test_every_workbench_page_at_desktop_and_phone_width(chromium, server, county_db, shots) -> None:
    url, engine = county_db
    auth_headers(engine, "county_editor", username="wb-shots")
    with engine.connect() as conn:
        ez = conn.execute(text("SELECT code FROM encroachment ORDER BY code LIMIT 1")).scalar()
        hz = conn.execute(text("SELECT code FROM hazard WHERE level = 'major' ORDER BY code LIMIT 1")).scalar()
        en = conn.execute(text("SELECT object_id FROM risk_assessment WHERE kind = 'enterprise' AND valid_to IS NULL "
                               "AND details ? 'units' ORDER BY score DESC LIMIT 1")).scalar()
    pages = {
        "ledger-encroachments": "/ledgers/encroachments",
        "ledger-hazards": "/ledgers/hazards?level=major",
        "ledger-enterprises": "/ledgers/enterprises",
        "ledger-major-hazards": "/ledgers/major-hazards",
        "candidates": "/ledgers/encroachments/candidates",
        "dossier-encroachment": f"/dossiers/encroachments/{ez}",
        "dossier-hazard": f"/dossiers/hazards/{hz}?action=supervise",
        "dossier-enterprise": f"/dossiers/enterprises/{en}",
        "hazard-new": "/ledgers/hazards/new",
        "not-found": "/dossiers/hazards/YH-0000-0000",
    }
    for width in WIDTHS:
        watch = Watch()
        context, page = login(chromium, server, "wb-shots", watch, width)
        for name, path in pages.items():
            page.goto(server + path, wait_until="load")
            page.wait_for_timeout(300)
            assert "安全风险四色图" in page.title()
            if name.startswith("dossier-"):  # the small map draws the point (and the pipeline, township)
                assert page.locator("#wb-map .leaflet-interactive").count() >= 1
            if name == "dossier-enterprise":
                assert page.locator("#wb-risk-chart svg").count() == 1
            page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
        # the filter is swapped in by htmx (the URL follows), and paging too
        page.goto(f"{server}/ledgers/hazards", wait_until="load")
        page.select_option(".wb-filter select[name=level]", "general")
        page.click(".wb-filter button:text-is('筛选')")
        page.wait_for_url("**/ledgers/hazards?*level=general*")
        page.wait_for_selector("text=筛选：级别：一般隐患")
        page.click("a[rel=next]")
        page.wait_for_url("**page=2*")
        assert "第 2/" in page.inner_text(".wb-pager")
        watch.clean()
        context.close()
