"""The bureau's week in Chromium, on the demo county, through the real pages only: a county editor makes a plan for
four teams and prints its sheets to PDF; an inspector of the first team finds its stops on the front page and records a
result with a hazard, which lands in the hazard ledger and in the numbers the front page reads. Every page is
photographed at 1440 and 390 px; no JavaScript error, no CSP refusal, no request leaves the machine."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import text

from api.devserver import CHROMIUM, CHROMIUM_ARGS, running_server
from geo.timefmt import today as local_today

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")


@pytest.fixture(scope="module")
def shots(out_dir):
    d = out_dir / "workbench"
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest.fixture(scope="module")
def server(demo_county_db, demo_county_engine, out_dir):
    """The server on the demo county; what the story adds (plans, visits, hazards) is taken away afterwards."""
    with demo_county_engine.connect() as conn:
        marks = {t: conn.execute(text(f"SELECT coalesce(max(id), 0) FROM {t}")).scalar()
                 for t in ("inspection_plan", "inspection", "hazard", "register_event")}
    with running_server(demo_county_db, log=out_dir / "workbench-server.log") as base:
        yield base
    with demo_county_engine.begin() as conn:
        for t in ("register_event", "hazard", "inspection", "inspection_plan"):
            conn.execute(text(f"DELETE FROM {t} WHERE id > :m"), {"m": marks[t]})


class Session:
    """One signed-in person in their own browser context, watching for errors and requests leaving the machine."""

    def __init__(self, browser, base: str, username: str, password: str, shots: Path) -> None:
        self.base, self.shots = base, shots
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        self.context.route("**/*", self._guard)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.add_init_script("window.__csp = []; document.addEventListener('securitypolicyviolation', "
                                  "e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));")
        self.page.goto(f"{base}/", wait_until="load")  # the site's address: the login page, then the front page
        assert "/login" in self.page.url
        self.page.fill("#username", username)
        self.page.fill("#password", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(f"{base}/", timeout=60_000)

    def _guard(self, route) -> None:
        if route.request.url.startswith((self.base, "data:", "blob:")):
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def shoot(self, name: str, *, reload: bool = True) -> None:
        """The page at 1440 and at 390 px wide (full length), then back to the desk. A page got by GET is opened
        afresh at each width (as a phone would: the map fits its routes to the phone's screen)."""
        for width, height in ((1440, 900), (390, 844)):
            self.page.set_viewport_size({"width": width, "height": height})
            if reload and width != 1440:
                self.page.reload(wait_until="load")
            if self.page.query_selector("#rm-dashboard-data"):
                self.page.wait_for_selector("html[data-charts=drawn]", timeout=30_000)
            self.page.wait_for_timeout(600)
            self.page.screenshot(path=str(self.shots / f"{name}-{width}.png"), full_page=True)
        self.page.set_viewport_size({"width": 1440, "height": 900})
        if reload:
            self.page.reload(wait_until="load")
            self.page.wait_for_timeout(300)
        self.check()

    def check(self) -> None:
        assert self.errors == [] and self.outside == [], (self.errors, self.outside)
        assert self.page.evaluate("window.__csp || []") == []


@pytest.fixture(scope="module")
def browser(server):
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def test_a_week_of_inspections_in_the_browser(browser, server, demo_county_engine, shots, out_dir):
    from geo.dashboard import register_by_month
    from tests.conftest import TEST_PASSWORD, auth_headers

    auth_headers(demo_county_engine, "county_editor", username="wb-editor")

    # --- the county editor: 首页, then 巡查计划 → 新建 (a wrong field first), the progress, the plan, the sheets
    ed = Session(browser, server, "wb-editor", TEST_PASSWORD, shots)
    page = ed.page
    page.wait_for_selector("#chart-colours svg", timeout=30_000)
    assert "我的待办" in page.inner_text("#todo")
    ed.shoot("home-editor")
    page.click(".rm-nav >> text=巡查计划")
    page.wait_for_url("**/inspection-plans")
    ed.shoot("plans-list-before")
    page.click("text=新建巡查计划")
    page.wait_for_url("**/inspection-plans/new")
    page.fill("#teams", "4")
    page.fill("#work_hours", "20")
    page.fill("#time_limit_s", "5")
    page.click("#plan-form button[type=submit]")
    page.wait_for_selector("#err-work_hours")
    assert "每日工作时长（小时）应在 1–12 之间" in page.inner_text("#err-work_hours")
    assert page.input_value("#teams") == "4" and page.input_value("#time_limit_s") == "5"
    # the refused form comes back as 422 (Chromium notes the status in the console; nothing else may appear)
    assert [e for e in ed.errors if "status of 422" not in e] == []
    ed.errors.clear()
    ed.shoot("plan-new-errors", reload=False)
    assert page.is_hidden("[data-team='5']") and page.is_visible("[data-team='4']")  # one depot per team
    page.fill("#work_hours", "8")
    page.select_option("#depot_4", label="楼子营镇（乡镇内一点）") if page.query_selector(
        "#depot_4 option:has-text('楼子营镇')") else None
    page.click("#plan-form button[type=submit]")
    page.wait_for_url("**/inspection-plans/jobs/**")
    page.wait_for_selector("#job", timeout=10_000)
    ed.shoot("plan-progress", reload=False)
    page.wait_for_url(re.compile(r".*/inspection-plans/\d+(\?.*)?$"), timeout=240_000)
    plan_id = int(re.search(r"/inspection-plans/(\d+)", page.url).group(1))
    page.wait_for_selector(".folium-map .leaflet-marker-icon", timeout=30_000)
    ed.shoot("plan-team1")
    with demo_county_engine.connect() as conn:
        planned = conn.execute(text("SELECT teams FROM inspection_plan WHERE id = :p"), {"p": plan_id}).scalar()
        stops = dict(conn.execute(text(
            "SELECT r.team, count(*) FROM plan_stop s JOIN plan_route r ON r.id = s.route_id WHERE s.plan_id = :p "
            "GROUP BY 1"), {"p": plan_id}).all())
    # four teams asked for; the solver may leave a team at home when the others cover the week
    teams = sorted(stops, key=lambda t: int(t[1:-1]))
    assert planned == 4 and teams and set(teams) <= {"第1组", "第2组", "第3组", "第4组"}
    assert page.locator(".rm-teamkey a").all_inner_texts() == teams
    first, second = teams[0], teams[-1]
    assert f"{first} ·" in page.inner_text("main")
    if second != first:
        page.click(f".rm-teamkey >> text={second}")
        page.wait_for_url(re.compile(r".*team=.*"))
        page.wait_for_selector(".folium-map .leaflet-marker-icon", timeout=30_000)
        assert f"{second} ·" in page.inner_text("main") and f"{first} ·" not in page.inner_text("main")
        ed.shoot("plan-team2")
    page.click("#sheets-link")
    page.wait_for_url(f"**/inspection-plans/{plan_id}/sheets")
    assert page.locator(".rm-sheet-page").count() >= 1 and "检查人签字" in page.inner_text("main")
    ed.shoot("plan-sheets")
    pdf = out_dir / "workbench" / f"plan-{plan_id}-sheets.pdf"
    page.emulate_media(media="print")
    page.pdf(path=str(pdf), format="A4", landscape=True, print_background=True)
    page.emulate_media(media="screen")
    data = pdf.read_bytes()
    sheets = page.locator(".rm-sheet-page").count()
    assert data.startswith(b"%PDF") and data.count(b"/Type /Page") - data.count(b"/Type /Pages") >= sheets
    page.goto(f"{server}/inspection-plans", wait_until="load")
    assert f"#{plan_id}" in page.inner_text("#plans") and "未开始" in page.inner_text("#plans")
    ed.shoot("plans-list")
    ed.check()
    ed.context.close()

    # --- an inspector of the first team: its stops on the front page, one recorded with a hazard
    auth_headers(demo_county_engine, "inspector", teams=[first], username="wb-inspector")
    stops_of_1 = stops[first]
    today = local_today()
    with demo_county_engine.connect() as conn:
        before = sum(register_by_month(conn, "hazard", today=today)["found"])
    ins = Session(browser, server, "wb-inspector", TEST_PASSWORD, shots)
    page = ins.page
    page.wait_for_selector("#team-stops-table")
    assert int(page.inner_text("#todo-stops")) == min(stops_of_1, 50)
    ins.shoot("home-inspector")
    page.click("#team-stops-table >> text=记录结果 >> nth=0")
    page.wait_for_url(f"**/inspection-plans/{plan_id}?team=**")
    card = page.locator(".rm-stop-card").first
    stop_id = int(card.get_attribute("id").removeprefix("stop-"))
    card.locator("summary").click()
    card.locator("textarea[name=result]").fill("发现隐患一处，已当场责令整改")
    card.locator("select[name=finding_level_1]").select_option("major")
    card.locator("input[name=finding_1]").fill("储罐区防火堤破损")
    ins.shoot("plan-result-form", reload=False)
    card.locator("button[type=submit]").click()
    page.wait_for_selector(f"#result-{stop_id}", timeout=30_000)
    done = page.inner_text(f"#stop-{stop_id}")
    assert "已检查" in done and "储罐区防火堤破损" in done and "下次到期" in done
    ins.shoot("plan-result-saved")
    with demo_county_engine.connect() as conn:
        hazard = conn.execute(text(
            "SELECT h.code, h.level, h.status, h.found_on, i.team FROM plan_stop s "
            "JOIN inspection i ON i.id = s.inspection_id JOIN hazard h ON h.source = '执法检查 #' || i.id "
            "WHERE s.id = :s"), {"s": stop_id}).one()
        after = register_by_month(conn, "hazard", today=today)
    assert (hazard.level, hazard.status, hazard.found_on, hazard.team) == ("major", "found", today, first)
    assert hazard.code in done
    assert sum(after["found"]) == before + 1  # the front page's hazard numbers count it
    page.click(".rm-nav >> text=首页")
    page.wait_for_selector("#hazard-found")
    assert int(page.inner_text("#hazard-found")) == sum(after["found"])
    assert int(page.inner_text("#todo-stops")) == min(stops_of_1 - 1, 50)
    ins.check()
    ins.context.close()
