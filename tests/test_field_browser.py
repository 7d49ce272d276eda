"""The field app's story on a phone (issue #15 "Must show"), in Chromium with a 390 × 844 touch profile and the
phone's position granted: an inspector of 第1组 in 西口镇 opens today's stops and records a result with a photo; with
the connection cut it records a new 占压点 and a new hazard with photos, and one 占压点 outside its township; the app
is reloaded without signal (shell and queue survive); back online the queue is sent in order. The server then holds
each record once, the photos byte for byte (SHA-256 of what the phone made), audit rows naming the inspector; the
out-of-scope record is back in the queue with its Chinese reason and wrote nothing; a record the queue sends again
is stored once. Every screen is photographed at 390 and 1440 px; no JavaScript error, no CSP refusal, nothing
fetched from outside the machine."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from api.devserver import CHROMIUM, CHROMIUM_ARGS
from geo.timefmt import today as local_today
from tests.conftest import TEST_PASSWORD, auth_headers
from tests.field_fixtures import FieldPlan, field_county, make_field_plan
from tests.workbench_fixtures import XIKOU, workbench_server

playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")

USER = "fd-phone-inspector"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2,
         "locale": "zh-CN", "permissions": ["geolocation"]}
OFFLINE_NOTES = ("net::ERR_INTERNET_DISCONNECTED", "Failed to fetch", "status of 403", "status of 503")
"""Console notes of an offline fetch (the queue expects them) and of the refusal the story provokes."""


@pytest.fixture(scope="module")
def county_db(demo_county_db: str, demo_county_engine: Engine) -> Iterator[Engine]:
    with field_county(demo_county_db, demo_county_engine, "fieldui") as eng:
        yield eng


@pytest.fixture(scope="module")
def plan(county_db: Engine) -> FieldPlan:
    return make_field_plan(county_db, local_today())


@pytest.fixture(scope="module")
def server(county_db: Engine, plan: FieldPlan, out_dir, tmp_path_factory) -> Iterator[str]:
    with workbench_server(county_db.url_string, tmp_path_factory.mktemp("home"),  # type: ignore[attr-defined]
                          out_dir / "field-browser-server.log") as base:
        yield base


def photo_file(tmp: Path, name: str, shade: int) -> Path:
    """A 2400 × 1800 camera-sized JPEG (the phone makes it ≤ 1600 px before sending)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (2400, 1800), (shade, 120, 255 - shade))
    draw = ImageDraw.Draw(img)
    for i in range(0, 2400, 60):
        draw.line([(i, 0), (2400 - i, 1800)], fill=(255 - shade, i % 255, shade), width=9)
    out = tmp / name
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=92)
    out.write_bytes(buf.getvalue())
    return out


class Phone:
    def __init__(self, browser, base: str, plan: FieldPlan, shots: Path) -> None:
        self.base, self.shots = base, shots
        self.errors: list[str] = []
        self.outside: list[str] = []
        lon, lat = plan.inside
        self.context = browser.new_context(**PHONE, geolocation={"longitude": lon, "latitude": lat, "accuracy": 12})
        self.context.on("request", self._seen)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.add_init_script("window.__csp = []; document.addEventListener('securitypolicyviolation', "
                                  "e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));")

    def _seen(self, request) -> None:
        if not request.url.startswith((self.base, "data:", "blob:")):
            self.outside.append(request.url)

    def check(self) -> None:
        errors = [e for e in self.errors if not any(n in e for n in OFFLINE_NOTES)]
        assert errors == [] and self.outside == [], (errors, self.outside)
        assert self.page.evaluate("window.__csp || []") == []

    def tab(self, name: str) -> None:
        self.page.click(f".fd-tabs button[data-tab={name}]")
        self.page.wait_for_selector(f"#tab-{name}:not([hidden])")

    def shoot(self, name: str) -> None:
        for width, height in ((390, 844), (1440, 900)):
            self.page.set_viewport_size({"width": width, "height": height})
            self.page.wait_for_timeout(400)
            self.page.screenshot(path=str(self.shots / f"field-{name}-{width}.png"), full_page=True)
            wide = self.page.evaluate("document.documentElement.scrollWidth")
            assert wide <= width, f"{name}: {wide} px wide at {width}"
        self.page.set_viewport_size({"width": 390, "height": 844})
        self.check()

    def queue(self) -> list[dict]:
        return self.page.evaluate("FieldStore.all()")

    def wait_queue_settled(self) -> list[dict]:
        self.page.wait_for_function(
            "() => document.querySelectorAll('#fd-queue li').length > 0 && "
            "!document.querySelector('#fd-queue li[data-state=pending], #fd-queue li[data-state=sending]')",
            timeout=60_000, polling=500)
        return self.queue()


def test_an_inspector_records_online_and_offline_and_the_queue_lands_once(server, plan, county_db, out_dir,
                                                                           tmp_path) -> None:
    shots = out_dir / "workbench"
    shots.mkdir(parents=True, exist_ok=True)
    auth_headers(county_db, "inspector", [XIKOU], teams=["第1组"], username=USER)
    photos = [photo_file(tmp_path, f"现场照片{i}.jpg", 40 * i) for i in range(1, 4)]
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        phone = Phone(browser, server, plan, shots)
        page = phone.page
        # --- sign in on the phone and open today's stops
        page.goto(f"{server}/login?next=/field", wait_until="load")
        page.fill("#username", USER)
        page.fill("#password", TEST_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{server}/field")
        page.wait_for_selector("body[data-synced=yes]", timeout=30_000)
        page.wait_for_selector("body[data-sw=ready]", timeout=30_000)
        cards = page.locator("#fd-today > li.fd-card")
        assert cards.count() == 2
        first = page.inner_text(f"#fd-today #stop-{plan.own_stops[0]}")
        assert first.startswith("1. ") and "今日" in first and "红色企业每周巡查一次，已到期" in first and "导航" in first
        assert page.get_attribute(f"#stop-{plan.own_stops[0]} a.fd-nav", "href").startswith("geo:")
        page.wait_for_selector("body[data-offline-ready]", timeout=120_000)  # the township's reference tiles kept
        assert int(page.get_attribute("body", "data-offline-ready")) > 0
        assert page.eval_on_selector("#fd-kind option[value=progress]", "o => o.disabled && o.hidden")  # an inspector may not move the registers
        phone.shoot("tasks")

        # --- a result with a photo at the first stop, online
        page.click(f"#fd-today #stop-{plan.own_stops[0]} .fd-mark-arrived")
        page.click(f"#fd-today #stop-{plan.own_stops[0]} .fd-record")
        page.wait_for_selector("#tab-record:not([hidden])")
        page.wait_for_function("() => document.getElementById('fd-pos').textContent.includes('精度')")
        assert "精度 ±12 米" in page.inner_text("#fd-pos")
        page.fill("#fd-result", "消防器材齐全，发现一处隐患")
        page.fill("#fd-finding", "配电箱未上锁")
        page.set_input_files("#fd-photos", str(photos[0]))
        page.wait_for_selector("#fd-photo-list img")
        phone.shoot("record-result")
        page.click("#fd-save")
        page.wait_for_selector("#tab-queue:not([hidden])")
        queue = phone.wait_queue_settled()
        assert [i["state"] for i in queue] == ["sent", "sent"], queue
        phone.shoot("queue-sent")

        # --- no signal: a new 占压点 and a new hazard, each with a photo, and a 占压点 outside 西口镇
        phone.context.set_offline(True)
        page.wait_for_function("() => document.getElementById('fd-online').textContent === '离线'")
        phone.tab("record")
        page.select_option("#fd-kind", "encroachment")
        page.select_option("#fd-nature", "违法建设")
        page.fill("#fd-enc-text", "管道上方新建彩钢房（现场端测试）")
        page.set_input_files("#fd-photos", str(photos[1]))
        page.wait_for_selector("#fd-photo-list img")
        phone.shoot("record-encroachment")
        page.click("#fd-save")
        page.wait_for_selector("#fd-queue li[data-state=pending]")
        phone.tab("record")
        page.select_option("#fd-kind", "hazard")
        page.select_option("#fd-level", "major")
        page.fill("#fd-hazard-text", "储罐区防火堤破损（现场端测试）")
        page.set_input_files("#fd-photos", str(photos[2]))
        page.wait_for_selector("#fd-photo-list img")
        phone.shoot("record-hazard")
        page.click("#fd-save")
        page.wait_for_function("() => document.querySelectorAll('#fd-queue li[data-state=pending]').length === 2")
        x, y = plan.outside
        phone.context.set_geolocation({"longitude": x, "latitude": y, "accuracy": 9})
        phone.tab("record")
        page.click("#fd-locate")
        page.wait_for_function("() => document.getElementById('fd-pos').textContent.includes('精度 ±9')")
        page.select_option("#fd-kind", "encroachment")
        page.fill("#fd-enc-text", "邻镇的占压（应被退回）")
        page.click("#fd-save")
        page.wait_for_function("() => document.querySelectorAll('#fd-queue li[data-state=pending]').length === 3")
        assert page.inner_text("#fd-queue-count") == "3"
        phone.shoot("queue-offline")

        # --- reload without signal: the shell comes from the service worker, the queue from IndexedDB
        page.reload(wait_until="load")
        page.wait_for_selector("body[data-synced=yes]", timeout=30_000)
        assert "离线" in page.inner_text("#fd-sync") and page.locator("#fd-today > li.fd-card").count() == 2
        phone.tab("queue")
        assert page.locator("#fd-queue li[data-state=pending]").count() == 3
        phone.tab("map")
        page.wait_for_selector("#fd-map .leaflet-interactive")
        page.wait_for_selector("#fd-map canvas.leaflet-tile")  # the reference basemap, from the phone's cache
        phone.shoot("map-offline")

        # --- back online: the queue goes out in order
        phone.context.set_offline(False)
        phone.tab("queue")
        queue = phone.wait_queue_settled()
        by_label = {i["label"]: i for i in queue}
        refused = by_label["邻镇的占压（应被退回）"]
        assert refused["state"] == "refused", [(i["label"], i["state"], i.get("status"), i.get("reason")) for i in queue]
        assert refused["status"] in (403, 404) and "辖区" in refused["reason"]
        assert "辖区" in page.inner_text(f"#fd-queue li[data-client-id='{refused['client_id']}']")
        sent = [i for i in queue if i["state"] == "sent"]
        assert len(sent) == 4  # 已到达, the result, the 占压点, the hazard
        assert [i["seq"] for i in sent] == sorted(i["seq"] for i in sent)
        phone.shoot("queue-refused")
        page.click(f"#fd-queue li[data-client-id='{refused['client_id']}'] .fd-fix")
        page.wait_for_selector("#tab-record:not([hidden])")
        assert "退回原因" in page.inner_text("#fd-form-error") and page.input_value("#fd-enc-text") == "邻镇的占压（应被退回）"
        phone.shoot("record-fix")

        # --- the same hazard sent again by the queue (its answer lost) is stored once
        hazard = next(i for i in queue if i["kind"] == "hazard")
        page.evaluate("""seq => FieldStore.all().then(a => { const i = a.find(x => x.seq === seq);
                         i.state = 'pending'; delete i.answer; return FieldStore.put(i); })""", hazard["seq"])
        page.evaluate("FieldStore.replay()")
        again = next(i for i in phone.wait_queue_settled() if i["seq"] == hazard["seq"])
        assert again["answer"]["replayed"] is True and again["answer"]["object_code"] == hazard["answer"]["object_code"]
        phone.check()
        browser.close()

    # --- the server: each record once, photos byte-identical, audit rows naming the inspector, nothing out of scope
    with county_db.connect() as conn:
        q = lambda sql, **k: conn.execute(text(sql), k).all()
        assert len(q("SELECT id FROM encroachment WHERE description = '管道上方新建彩钢房（现场端测试）'")) == 1
        assert q("SELECT id FROM encroachment WHERE description = '邻镇的占压（应被退回）'") == []
        assert len(q("SELECT id FROM hazard WHERE description = '储罐区防火堤破损（现场端测试）'")) == 1
        assert len(q("SELECT id FROM inspection WHERE result = '消防器材齐全，发现一处隐患'")) == 1
        assert q("SELECT arrived_at IS NOT NULL FROM plan_stop WHERE id = :s", s=plan.own_stops[0]) == [(True,)]
        stored = {r.sha256: r for r in q("SELECT a.sha256, a.owner_kind, a.size_bytes, a.data FROM attachment a")}
        phone_hashes = {p["sha256"]: i["kind"] for i in queue for p in i.get("photos", [])}
        assert len(phone_hashes) == 3 and set(phone_hashes) <= set(stored)
        for digest, kind in phone_hashes.items():
            row = stored[digest]
            assert hashlib.sha256(bytes(row.data)).hexdigest() == digest and row.owner_kind == kind
        # the phone wrote the photo's time and its position fix into the compressed JPEG's EXIF; the server kept both
        placed = q("SELECT count(*) FROM attachment WHERE sha256 = ANY(:d) AND taken_at IS NOT NULL "
                   "AND ST_DWithin(position, (SELECT ST_Collect(geom) FROM county), 0.01)", d=list(phone_hashes))
        assert placed == [(3,)], placed
        actors = {r.table_name for r in q("SELECT DISTINCT table_name FROM audit_log WHERE actor = :u AND "
                                          "action = 'insert'", u=USER)}
        assert {"inspection", "hazard", "encroachment", "attachment"} <= actors
        assert q("SELECT count(*) FROM field_submission WHERE login = :u AND status >= 400", u=USER) == [(1,)]


def test_a_grid_officer_records_rectification_progress_from_the_phone(server, plan, county_db, out_dir,
                                                                       tmp_path) -> None:
    """A township editor of 西口镇 (a grid officer) sees its township's open hazards and records 整改中 with a note and
    a photo; the register keeps the move with the officer's note, once, and the photo is the hazard's."""
    shots = out_dir / "workbench"
    auth_headers(county_db, "township_editor", [XIKOU], username="fd-phone-grid")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        phone = Phone(browser, server, plan, shots)
        page = phone.page
        page.goto(f"{server}/login?next=/field", wait_until="load")
        page.fill("#username", "fd-phone-grid")
        page.fill("#password", TEST_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_selector("body[data-synced=yes]", timeout=30_000)
        assert page.locator("#fd-today > li.fd-card").count() == 3  # both teams' stops in its township
        assert "隐患 YH-" in page.inner_text("#fd-open")
        phone.tab("record")
        # a grid officer may record a hazard at any enterprise of its township, not only at the plan's stops
        with county_db.connect() as conn:
            in_township = conn.execute(text("SELECT count(*) FROM enterprise e JOIN township t ON t.id = e.township_id "
                                            "WHERE t.code = :t AND e.geom IS NOT NULL"), {"t": XIKOU}).scalar_one()
        assert page.locator("#fd-enterprise option").count() == in_township > 3
        page.select_option("#fd-kind", "progress")
        item = page.eval_on_selector("#fd-item", "s => Array.from(s.options).find(o => o.text.includes('（发现）')).value")
        page.select_option("#fd-item", item)
        page.select_option("#fd-progress", "rectifying")
        page.fill("#fd-note", "企业已停用破损设备，正在更换")
        page.set_input_files("#fd-photos", str(photo_file(tmp_path, "整改照片.jpg", 200)))
        page.wait_for_selector("#fd-photo-list img")
        phone.shoot("record-progress")
        page.click("#fd-save")
        page.wait_for_selector("#fd-queue li[data-state=sent]", timeout=60_000)
        digest = phone.queue()[0]["photos"][0]["sha256"]
        phone.check()
        browser.close()
    code = item.split(":", 1)[1]
    with county_db.connect() as conn:
        events = conn.execute(text(
            "SELECT e.to_status, e.note FROM register_event e JOIN hazard h ON h.id = e.object_id "
            "WHERE e.object_kind = 'hazard' AND h.code = :c AND e.note = '企业已停用破损设备，正在更换'"),
            {"c": code}).all()
        assert events == [("rectifying", "企业已停用破损设备，正在更换")]
        owner = conn.execute(text("SELECT a.owner_kind, h.code FROM attachment a JOIN hazard h ON h.id = a.owner_id "
                                  "WHERE a.sha256 = :d"), {"d": digest}).all()
        assert owner == [("hazard", code)]


def test_on_a_shared_phone_a_record_goes_out_only_under_the_login_that_made_it(server, plan, county_db,
                                                                               out_dir) -> None:
    """A grid officer records a new 占压点 without signal, and its session ends before the signal returns; a colleague
    signs in on the same phone. The colleague's app neither sends the record under the colleague's name nor shows
    the officer's cached tasks as its own: the record waits, marked as the officer's, and nothing is written."""
    auth_headers(county_db, "township_editor", [XIKOU], username="fd-shared-a")
    auth_headers(county_db, "township_editor", [XIKOU], username="fd-shared-b")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        phone = Phone(browser, server, plan, out_dir / "workbench")
        page = phone.page

        def sign_in(name: str) -> None:
            page.goto(f"{server}/login?next=/field", wait_until="load")
            page.fill("#username", name)
            page.fill("#password", TEST_PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{server}/field")
            page.wait_for_selector("body[data-synced=yes]", timeout=30_000)

        sign_in("fd-shared-a")
        page.wait_for_selector("body[data-sw=ready]", timeout=30_000)
        phone.context.set_offline(True)
        phone.tab("record")
        page.click("#fd-locate")
        page.select_option("#fd-kind", "encroachment")
        page.fill("#fd-enc-text", "共用手机上的占压（不得以他人名义发送）")
        page.click("#fd-save")
        page.wait_for_selector("#fd-queue li[data-state=pending]")
        phone.context.clear_cookies()  # the officer's session ends (expired, or signed out elsewhere)
        phone.context.set_offline(False)
        sign_in("fd-shared-b")
        phone.tab("queue")
        page.click("#fd-send")
        page.wait_for_timeout(1500)
        item = page.locator("#fd-queue li[data-owner=other]")
        assert item.count() == 1 and item.get_attribute("data-state") == "pending"
        assert "须由其本人登录后发送" in item.inner_text() and "fd-shared-a" in item.inner_text()
        browser.close()
    with county_db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM encroachment WHERE description = "
                                 "'共用手机上的占压（不得以他人名义发送）'")).scalar_one() == 0
