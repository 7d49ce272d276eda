"""Issue #16: the roll-up a city or province user reads — JSON tree and map page from province_township_level only,
each user its own scope (a province or city viewer its region, any other user its own county only)."""

from __future__ import annotations

import json
from contextlib import suppress

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.conftest import TEST_PASSWORD

# Two cities, three counties, one township each (squares near 111.4°E 39.1°N), one red with its reason.
ROWS = [
    ("149901", "合成县01", "149900", "合成市01", "149901001000", "合成镇001", "red", 90.0, 111.30),
    ("149902", "合成县02", "149900", "合成市01", "149902001000", "合成镇001", "yellow", 30.0, 111.40),
    ("149801", "合成县05", "149800", "合成市02", "149801001000", "合成镇001", "blue", 5.0, 111.50),
]
REASON = [{"text": "辖区内有重大风险企业 2 家", "clause": "GB 18218-2018 §4.3"}]


INSERT_ROW = (
                "INSERT INTO province_township_level (county_code, county_name, city_code, city_name, township_code,"
                " township_name, level, score, reasons, computed_at, geom) VALUES (:a, :b, :c, :d, :e, :f, :g, :h,"
                " CAST(:r AS jsonb), now(), ST_Multi(ST_MakeEnvelope(:x, 39.0, :x + 0.09, 39.09, 4490)))")


@pytest.fixture
def rollup_rows(db):
    with db.begin() as conn:
        for county, cname, city, cityname, town, tname, level, score, lon in ROWS:
            conn.execute(text(
                "INSERT INTO province_township_level (county_code, county_name, city_code, city_name, township_code,"
                " township_name, level, score, reasons, computed_at, geom) VALUES (:a, :b, :c, :d, :e, :f, :g, :h,"
                " CAST(:r AS jsonb), now(), ST_Multi(ST_MakeEnvelope(:x, 39.0, :x + 0.09, 39.09, 4490)))"),
                {"a": county, "b": cname, "c": city, "d": cityname, "e": town, "f": tname, "g": level, "h": score,
                 "r": json.dumps(REASON if level == "red" else [], ensure_ascii=False), "x": lon})
    return db


def test_rollup_tree_takes_the_worst_colour_upwards(rollup_rows, make_user):
    from api.app import create_app

    with TestClient(create_app(), headers=make_user("region_viewer", region="140000")) as c:
        tree = c.get("/province/rollup").json()
        assert tree["level"] == "red"
        cities = {x["code"]: x for x in tree["cities"]}
        assert cities["149900"]["level"] == "red" and cities["149800"]["level"] == "blue"
        county = cities["149900"]["counties"][0]
        assert county["name"] == "合成县01" and county["townships"][0]["reasons"][0]["text"].startswith("辖区内")
        only = c.get("/province/rollup", params={"city": "149800"}).json()
        assert [x["code"] for x in only["cities"]] == ["149800"]
        assert c.get("/province/rollup", params={"city": "14'; --"}).status_code == 422

        page = c.get("/province", headers={"Accept": "text/html"})
        assert page.status_code == 200
        html = page.text
        for words in ("市/省级安全风险四色汇总图", "地级市（按最高风险着色）", "县区（按最高风险着色）", "乡镇（按风险着色）",
                      "合成县01", "辖区内有重大风险企业 2 家"):
            assert words in html or json.dumps(words)[1:-1] in html, words  # layer names travel as JSON
        assert "onclick=" not in html


def test_an_empty_rollup_is_a_chinese_page(db, make_user):
    from api.app import create_app

    with TestClient(create_app(), headers=make_user("county_viewer")) as c:
        r = c.get("/province", headers={"Accept": "text/html"})
        assert r.status_code == 404 and "riskmap province compute" in r.text and "汇总图暂无数据" in r.text
        assert "市/省级查看" in r.text  # a county user is told why it may see nothing
        assert c.get("/province/rollup").json() == {"cities": [], "level": None}


def test_rollup_page_needs_a_login(rollup_rows):
    from api.app import create_app

    with TestClient(create_app()) as c:
        assert c.get("/province/rollup").status_code == 401


def test_rollup_map_in_chromium(rollup_rows, make_user, db_url, out_dir):
    from pathlib import Path

    from api.devserver import CHROMIUM, running_server

    pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium not installed")
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    from tests.workbench import chromium, screenshots, sign_in, watched_page

    make_user("region_viewer", username="省厅查看", region="140000")
    with rollup_rows.begin() as conn:
        conn.execute(text("UPDATE province_township_level SET service_url = 'https://riskmap.c01.example.cn' "
                          "WHERE county_code = '149901'"))
    with running_server(db_url, log=out_dir / "province-server.log") as server, chromium() as browser:
        page, watch = watched_page(browser.new_context())
        sign_in(page, server, "省厅查看", TEST_PASSWORD, next_="/province")
        page.wait_for_selector(".leaflet-control-layers")  # areas go to a canvas (prefer_canvas)
        assert page.locator(".leaflet-control-layers").inner_text().count("着色") == 3
        screenshots(page, "province-rollup", full_page=False)
        page.wait_for_timeout(500)  # the map settles after the screenshots' resizes
        box = page.locator(".leaflet-container").bounding_box()
        link = page.locator(".leaflet-popup-content a")
        for _ in range(3):  # the red county (the first of three side by side)
            page.mouse.click(box["x"] + box["width"] * 0.30, box["y"] + box["height"] * 0.5)
            with suppress(PlaywrightTimeout):  # a click during a repaint: click again
                link.wait_for(timeout=5000)
            if link.count():
                break
        assert link.get_attribute("href") == "https://riskmap.c01.example.cn/maps"
        page.wait_for_timeout(400)  # the popup fades in
        page.screenshot(path=str(out_dir / "workbench" / "province-rollup-popup-1440.png"))
        assert not watch.errors and not watch.outside, (watch.errors, watch.outside)


def test_a_city_viewer_sees_only_its_citys_counties(rollup_rows, make_user):
    from api.app import create_app

    with TestClient(create_app(), headers=make_user("region_viewer", region="149900")) as c:
        tree = c.get("/province/rollup").json()
        assert [x["code"] for x in tree["cities"]] == ["149900"]
        assert [k["code"] for k in tree["cities"][0]["counties"]] == ["149901", "149902"]
        assert c.get("/province/rollup", params={"city": "149800"}).json() == {"cities": [], "level": None}
        html = c.get("/province", headers={"Accept": "text/html"}).text
        assert "合成县01" in html and "合成县05" not in html and "合成市02" not in html
        front = c.get("/", headers={"Accept": "text/html"}, follow_redirects=False)  # its front page: the roll-up
        assert front.status_code == 303 and front.headers["location"] == "/province"
    with TestClient(create_app(), headers=make_user("region_viewer", region="150000")) as c:  # another province
        assert c.get("/province/rollup").json() == {"cities": [], "level": None}


def test_a_county_user_of_the_rollup_database_sees_only_its_own_county(rollup_rows, county, make_user):
    """The roll-up database is also 河曲县's (140930): its county staff read 河曲县's rows, a township editor its
    township's, never the other counties'; a city viewer of 忻州市 reads 河曲县's detail, one of 太原市 none of it."""
    from api.app import create_app

    with county.begin() as conn:
        for code, name in (("140930100000", "文笔镇"), ("140930101000", "楼子营镇")):
            conn.execute(text("INSERT INTO township (code, name, county_code, geom) SELECT :c, :n, '140930', "
                              "ST_Multi(geom) FROM county"), {"c": code, "n": name})
            conn.execute(text(INSERT_ROW), {"a": "140930", "b": "河曲县", "c": "140900", "d": "忻州市", "e": code,
                                            "f": name, "g": "orange", "h": 60.0, "r": "[]", "x": 111.2})
    app = create_app()
    with TestClient(app, headers=make_user("county_viewer")) as c:
        tree = c.get("/province/rollup").json()
        assert [(x["code"], [k["code"] for k in x["counties"]]) for x in tree["cities"]] == [("140900", ["140930"])]
        html = c.get("/province", headers={"Accept": "text/html"}).text
        assert "河曲县" in html and "合成县01" not in html
    with TestClient(app, headers=make_user("township_editor", townships=["140930101000"])) as c:
        towns = [t["township_code"] for x in c.get("/province/rollup").json()["cities"] for k in x["counties"]
                 for t in k["townships"]]
        assert towns == ["140930101000"]
    with TestClient(app, headers=make_user("region_viewer", region="140900")) as c:
        tree = c.get("/province/rollup").json()
        assert [x["code"] for x in tree["cities"]] == ["140900"]
        assert len(c.get("/stats/townships").json()) == 2  # 忻州市 holds 河曲县: its detail too
    with TestClient(app, headers=make_user("region_viewer", region="140100")) as c:  # 太原市
        assert c.get("/province/rollup").json() == {"cities": [], "level": None}
        assert c.get("/stats/townships").json() == []


def test_region_codes_are_checked(db):
    from geo.access.users import add_user, grant
    from geo.errors import InvalidInput

    with db.begin() as conn:
        for role, region in (("region_viewer", None), ("region_viewer", "140930"), ("region_viewer", "001400"),
                             ("county_viewer", "140900")):
            with pytest.raises(InvalidInput, match="市/省级查看"):
                add_user(conn, f"u{region}", "correct-horse-42", role, region=region)
        user = add_user(conn, "city", "correct-horse-42", "region_viewer", region="140900")
        assert user.region_code == "140900"
        assert grant(conn, "city", role="county_viewer").region_code is None  # another role drops the region
        assert grant(conn, "city", role="region_viewer", region="140000").region_code == "140000"
    with db.connect() as conn, pytest.raises(Exception, match="ck_app_user_region"):  # as the database refuses
        conn.execute(text("INSERT INTO app_user (username, password_hash, role) VALUES ('x', 'h', 'region_viewer')"))


def test_admin_page_shows_a_region_viewers_region(db, make_user):
    from api.app import create_app

    make_user("region_viewer", username="忻州市局", region="140900")
    with TestClient(create_app(), headers=make_user("admin")) as c:
        html = c.get("/admin/users", headers={"Accept": "text/html"}).text
        assert "市/省级查看" in html and "地级市 140900" in html


def test_a_county_links_to_its_own_riskmap(db, make_user):
    """province.toml's service_url travels with the county's roll-up rows: its county and townships link to their
    maps on the county's own service (which signs its users in itself); a county without one has no link."""
    from api.app import create_app
    from geo.errors import InvalidInput
    from geo.province.config import parse_province
    from geo.province.rollup import replace_county

    base = {"name": "合成县01", "city_code": "149900", "city_name": "合成市01"}
    p = parse_province({"county": [
        {**base, "code": "149901", "database": "postgresql://u@h1/a", "service_url": "https://riskmap.c01.example.cn/"},
        {**base, "code": "149902", "name": "合成县02", "database": "postgresql://u@h1/b"}]})
    assert p.counties[0].service_url == "https://riskmap.c01.example.cn" and p.counties[1].service_url is None
    for bad in ("javascript:alert(1)", "riskmap.c01.example.cn", "https://x.cn/?a=1", 42):
        with pytest.raises(InvalidInput, match="第 1 个县区：service_url"):
            parse_province({"county": [{**base, "code": "149901", "database": "postgresql://u@h1/a",
                                        "service_url": bad}]})
    with db.begin() as conn:
        geom = conn.execute(text("SELECT encode(ST_AsEWKB(ST_Multi(ST_MakeEnvelope(111.3, 39.0, 111.39, 39.09, "
                                 "4490))), 'hex')")).scalar_one()
        for county in p.counties:
            replace_county(conn, county, [{"township_code": county.code + "001000", "township_name": "合成镇001",
                                           "level": "red", "score": 80.0, "reasons": [], "computed_at": "2026-12-05",
                                           "geom": geom}])
    with TestClient(create_app(), headers=make_user("region_viewer", region="140000")) as c:
        counties = {k["code"]: k for k in c.get("/province/rollup").json()["cities"][0]["counties"]}
        assert counties["149901"]["map_url"] == "https://riskmap.c01.example.cn/maps"
        assert counties["149902"]["map_url"] is None
        html = c.get("/province", headers={"Accept": "text/html"}).text
        assert "https://riskmap.c01.example.cn/maps/township/149901001000" in html.replace("\\/", "/")
        assert html.count("查看详情") == 2  # 149901 and its township; 149902 has no service to link to


def test_cli_adds_a_city_viewer(db, monkeypatch, capsys):
    import io

    from geo.cli import main
    from geo.db import get_engine

    monkeypatch.setenv("PGOPTIONS", "")
    get_engine().dispose()
    monkeypatch.setattr("sys.stdin", io.StringIO("secret-password-1\n"))
    assert main(["user", "add", "忻州市局", "--role", "region_viewer", "--region", "140900", "--password-stdin"]) == 0
    assert "市/省级查看，范围 地级市 140900" in capsys.readouterr().out
    assert main(["user", "grant", "忻州市局", "--region", "140000"]) == 0
    assert "范围 省 140000" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("secret-password-1\n"))
    assert main(["user", "add", "无区域", "--role", "region_viewer", "--password-stdin"]) == 2
    assert "--region" in capsys.readouterr().err
    get_engine().dispose()
