"""Issue #16: the administrator creates a city's or province's viewer (市/省级查看) on 用户与角色, not only with the
CLI — its 6-digit region code checked with Chinese messages naming the field, the forms CSRF-protected as the
others; a changed role drops the region."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import TEST_PASSWORD
from tests.workbench import SELF, add_towns, count, signed_in_client


@pytest.fixture
def app(county):
    from api.app import create_app

    add_towns(county)
    return create_app()


def _form(c: TestClient, path: str, data: dict, **kw):
    return c.post(path, data={"csrf_token": c.cookies.get("riskmap_csrf"), **data}, headers={"Origin": SELF}, **kw)


def _user(engine, name: str) -> tuple[str, str | None] | None:
    from sqlalchemy import text

    with engine.connect() as conn:
        row = conn.execute(text("SELECT role, region_code FROM app_user WHERE username = :u"), {"u": name}).first()
    return tuple(row) if row else None


def test_the_administrator_adds_a_city_viewer_who_then_reads_the_rollup(app, make_user, county):
    admin = signed_in_client(app, make_user, "admin", "管理员甲")
    page = admin.get("/admin/users")
    assert "地级市/省代码" in page.text and 'name="region_code"' in page.text
    r = _form(admin, "/admin/users", {"username": "忻州市局王", "display_name": "王科长", "role": "region_viewer",
                                      "region_code": " 140900 ", "password": TEST_PASSWORD}, follow_redirects=True)
    assert r.status_code == 200 and "已新增用户 忻州市局王（市/省级查看，地级市 140900）" in r.text
    row = r.text[r.text.index('data-username="忻州市局王"'):]
    assert "地级市 140900" in row[:row.index("</tr>")]
    assert _user(county, "忻州市局王") == ("region_viewer", "140900")
    log = admin.get("/admin/audit", params={"table": "app_user", "actor": "管理员甲"}).text
    assert "忻州市局王" in log and "140900" in log

    viewer = TestClient(app, base_url=SELF)  # the new account signs in and lands on its roll-up
    viewer.get("/login")
    r = viewer.post("/login", data={"username": "忻州市局王", "password": TEST_PASSWORD,
                                    "csrf_token": viewer.cookies.get("riskmap_csrf")},
                    headers={"Origin": SELF}, follow_redirects=False)
    assert r.status_code == 303
    assert viewer.get("/province/rollup").status_code == 200


@pytest.mark.parametrize(("data", "message"), [
    ({"role": "region_viewer"}, "地级市/省代码：“市/省级查看”必须填写"),
    ({"role": "region_viewer", "region_code": "14090"}, "应为 6 位数字的行政区划代码"),
    ({"role": "region_viewer", "region_code": "１４０９００"}, "应为 6 位数字的行政区划代码"),  # full-width digits
    ({"role": "region_viewer", "region_code": "14O900"}, "应为 6 位数字的行政区划代码"),
    ({"role": "region_viewer", "region_code": "140930"}, "140930 不是地级市或省的代码"),  # a county
    ({"role": "region_viewer", "region_code": "000000"}, "000000 不是地级市或省的代码"),
    ({"role": "county_viewer", "region_code": "140900"}, "只有“市/省级查看”填写"),
])
def test_a_wrong_region_is_refused_in_chinese_and_nothing_is_written(app, make_user, county, data, message):
    admin = signed_in_client(app, make_user, "admin", "管理员甲")
    before = count(county, "SELECT count(*) FROM app_user")
    r = _form(admin, "/admin/users", {"username": "新账号", "password": TEST_PASSWORD, **data})
    assert r.status_code == 422 and message in r.text, r.text[r.text.find("admin-error"):][:300]
    assert 'value="新账号"' in r.text  # the form comes back as typed
    assert count(county, "SELECT count(*) FROM app_user") == before


def test_the_administrator_changes_a_region_and_a_role(app, make_user, county):
    admin = signed_in_client(app, make_user, "admin", "管理员甲")
    make_user("region_viewer", username="市局", region="140900")
    make_user("county_viewer", username="县局")
    r = _form(admin, "/admin/users/市局", {"role": "region_viewer", "region_code": "140000"}, follow_redirects=True)
    assert "已修改用户 市局（市/省级查看，省 140000）" in r.text and _user(county, "市局") == ("region_viewer", "140000")
    r = _form(admin, "/admin/users/市局", {"role": "region_viewer", "region_code": "1400"})
    assert r.status_code == 422 and "用户 市局 未修改：地级市/省代码：应为 6 位数字" in r.text
    assert _user(county, "市局") == ("region_viewer", "140000")
    # another role drops the region, though the form's field still holds it
    r = _form(admin, "/admin/users/市局", {"role": "county_viewer", "region_code": "140000"}, follow_redirects=True)
    assert "已修改用户 市局（县级查看）" in r.text and _user(county, "市局") == ("county_viewer", None)
    r = _form(admin, "/admin/users/县局", {"role": "region_viewer", "region_code": ""})
    assert r.status_code == 422 and "必须填写所辖地级市或省" in r.text
    assert _user(county, "县局") == ("county_viewer", None)


def test_the_forms_need_the_csrf_token(app, make_user, county):
    admin = signed_in_client(app, make_user, "admin", "管理员甲")
    make_user("region_viewer", username="市局", region="140900")
    r = admin.post("/admin/users", data={"username": "伪造", "password": TEST_PASSWORD, "role": "region_viewer",
                                         "region_code": "140900"}, headers={"Origin": SELF})
    assert r.status_code == 403 and _user(county, "伪造") is None
    r = admin.post("/admin/users/市局", data={"role": "region_viewer", "region_code": "150000",
                                              "csrf_token": "forged"}, headers={"Origin": SELF})
    assert r.status_code == 403 and _user(county, "市局") == ("region_viewer", "140900")
    r = admin.post("/admin/users/市局", data={"role": "region_viewer", "region_code": "150000",
                                              "csrf_token": admin.cookies.get("riskmap_csrf")},
                   headers={"Origin": "https://evil.example"})  # another site posting with the cookie
    assert r.status_code == 403 and _user(county, "市局") == ("region_viewer", "140900")


def test_region_viewer_form_in_chromium(app, make_user, county, db_url, out_dir):
    """The add form with a city viewer being created and a Chinese error, at 1440 and 390 px."""
    from pathlib import Path

    from api.devserver import CHROMIUM, running_server

    pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium not installed")
    from tests.workbench import chromium, screenshots, sign_in, watched_page

    make_user("admin", username="管理员乙")
    make_user("region_viewer", username="山西省厅", region="140000")
    with running_server(db_url, log=out_dir / "province-admin-server.log") as server, chromium() as browser:
        page, watch = watched_page(browser.new_context())
        sign_in(page, server, "管理员乙", TEST_PASSWORD, next_="/admin/users")
        page.fill("#new-username", "忻州市局")
        page.select_option("#new-role", "region_viewer")
        page.fill("#new-region", "140930")
        page.fill("#new-password", TEST_PASSWORD)
        page.click("#add-user button[type=submit]")
        page.wait_for_selector("#admin-error")
        assert "140930 不是地级市或省的代码" in page.inner_text("#admin-error")
        screenshots(page, "province-admin-region-error")
        page.fill("#new-region", "140900")
        page.fill("#new-password", TEST_PASSWORD)
        page.click("#add-user button[type=submit]")
        page.wait_for_selector("#admin-saved")
        assert "地级市 140900" in page.inner_text("#admin-saved")
        page.locator('tr[data-username="忻州市局"] summary').click()
        screenshots(page, "province-admin-region-viewer")
        # the refused form comes back with status 422 (as it should); nothing else went wrong
        assert [e for e in watch.errors if "status of 422" not in e] == [] and not watch.outside, watch
