"""Shared by the 数据管理 and 用户与审计 workbench tests: a two-township county, a browser signed in through the
login page, and a page that records JavaScript errors, CSP violations and any request leaving the machine."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text

from geo.uscc import make_uscc

WEST, EAST = "140930100000", "140930101000"
"""西口镇 (west of 111.35°E) and 楼子营镇 (east of it) in the fixture county."""
WEST_FIRM = ("河曲县西化工有限公司", 111.22, 39.25)
EAST_FIRM = ("河曲县东煤业有限公司", 111.45, 39.10)
SHOTS = Path(__file__).resolve().parent / "out" / "workbench"
WIDTHS = (1440, 390)


def add_townships(conn: Connection) -> None:
    """西口镇 and 楼子营镇: the fixture county's outline cut at 111.35°E (in the caller's transaction)."""
    conn.execute(text("""
        INSERT INTO township (code, name, county_code, geom, is_illustrative)
        SELECT :w, '西口镇', '140930',
               ST_Multi(ST_Intersection(c.geom, ST_MakeEnvelope(111.0, 38.8, 111.35, 39.6, 4490))), true FROM county c
        UNION ALL
        SELECT :e, '楼子营镇', '140930',
               ST_Multi(ST_Intersection(c.geom, ST_MakeEnvelope(111.35, 38.8, 111.7, 39.6, 4490))), true FROM county c"""),
        {"w": WEST, "e": EAST})


def add_towns(engine: Engine) -> None:
    """Two townships of 河曲县 (the county outline cut at 111.35°E) and one enterprise in each."""
    with engine.begin() as conn:
        add_townships(conn)
        for i, (name, lon, lat) in enumerate([WEST_FIRM, EAST_FIRM]):
            conn.execute(text(
                "INSERT INTO enterprise (uscc, name, category, township_id, geom) VALUES (:u, :n, 'hazchem', "
                "(SELECT id FROM township WHERE ST_Covers(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4490))), "
                "ST_SetSRID(ST_MakePoint(:x, :y), 4490))"),
                {"u": make_uscc(f"9114093000000{i:03d}X"), "n": name, "x": lon, "y": lat})


def count(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def gbk_shapefile_zip(folder: Path, frame: Any, name: str = "企业台账") -> Path:
    """`frame` as a GBK-encoded shapefile without .cpg (as county GIS software writes it), zipped."""
    import warnings

    folder.mkdir(parents=True, exist_ok=True)
    shp = folder / f"{name}.shp"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GDAL says it cuts 统一社会信用代码 to 10 bytes
        frame.to_file(shp, encoding="GBK")
    shp.with_suffix(".cpg").unlink(missing_ok=True)
    archive = folder / f"{name}.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for part in folder.glob(f"{name}.*"):
            if part != archive:
                z.write(part, part.name)
    return archive


@dataclass
class Watch:
    """What went wrong on a page: JavaScript errors, CSP violations, requests that would leave the machine."""

    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    def csp(self, page: Any) -> list[str]:
        return list(page.evaluate("window.__csp || []"))

    def assert_clean(self, page: Any, *, refused: tuple[int, ...] = ()) -> None:
        """No error, violation or outside request; the browser's note of an HTTP status in `refused` (a page or
        fetch the server answered with a Chinese refusal on purpose) is not a JavaScript error."""
        notes = tuple(f"Failed to load resource: the server responded with a status of {s} " for s in refused)
        errors = [e for e in self.errors if not e.startswith(notes)]
        assert errors == [], errors
        assert self.outside == [], self.outside
        assert self.csp(page) == [], self.csp(page)


def watched_page(context: Any, width: int = 1440) -> tuple[Any, Watch]:
    """A new page of `context` that records errors and violations and aborts every non-local request."""
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": 900 if width > 600 else 844})
    watch = Watch()
    page.add_init_script("window.__csp = []; document.addEventListener('securitypolicyviolation', "
                         "e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));")
    page.on("pageerror", lambda e: watch.errors.append(str(e)))
    page.on("console", lambda m: watch.errors.append(m.text) if m.type == "error" else None)

    def guard(route: Any) -> None:
        if route.request.url.startswith(("http://127.0.0.1", "data:", "blob:")):
            route.continue_()
        else:
            watch.outside.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    return page, watch


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's headless Chromium under Playwright."""
    from playwright.sync_api import sync_playwright

    from api.devserver import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def sign_in(page: Any, server: str, username: str, password: str, next_: str = "/data") -> None:
    """Through the login page, as a person does."""
    page.goto(f"{server}/login?next={next_}", wait_until="load")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("load")
    assert "/login" not in page.url, page.inner_text("body")


def screenshots(page: Any, name: str, *, full_page: bool = True) -> None:
    """The page as it is now at desktop and phone width (tests/out/workbench/<name>-<width>.png)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900 if width > 600 else 844})
        page.wait_for_timeout(300)
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=full_page)
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= width, f"{name}: the page is {wide} px wide at a {width} px window"
    page.set_viewport_size(size)
    page.wait_for_timeout(200)


SELF = "http://testserver"
"""The TestClient's origin: forms post with it as Origin, as a browser on the same site does."""


def signed_in_client(app: Any, make_user: Any, role: str, username: str, townships: tuple[str, ...] = ()) -> Any:
    """A browser signed in through the login form (session and CSRF cookies), as the pages are used."""
    from fastapi.testclient import TestClient

    from tests.conftest import TEST_PASSWORD

    make_user(role, townships=townships, username=username)
    c = TestClient(app, base_url=SELF)
    c.get("/login")
    r = c.post("/login", data={"username": username, "password": TEST_PASSWORD,
                               "csrf_token": c.cookies.get("riskmap_csrf")},
               headers={"Origin": SELF}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return c
