"""用户与审计 in the browser: the administrator adds and changes accounts and reads the audit log; nobody else
gets in (a Chinese 403 page)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.conftest import TEST_PASSWORD
from tests.workbench import SELF, EAST, WEST, add_towns, count, signed_in_client

@pytest.fixture
def towns(county):
    add_towns(county)
    return county


@pytest.fixture
def app(towns):
    from api.app import create_app

    return create_app()




def _form(c: TestClient, path: str, data: dict, **kw):
    return c.post(path, data={"csrf_token": c.cookies.get("riskmap_csrf"), **data}, headers={"Origin": SELF}, **kw)


def test_only_the_administrator_gets_in(app, make_user, towns):
    for role, username, towns_ in (("county_editor", "县局李编辑", ()), ("township_editor", "西口镇张编辑", (WEST,)),
                                   ("county_viewer", "县局查看员", ())):
        c = signed_in_client(app, make_user, role, username, towns_)
        for path in ("/admin", "/admin/users", "/admin/audit"):
            r = c.get(path)
            assert r.status_code == 403 and "无权访问" in r.text and "系统管理员" in r.text, (role, path)
        r = _form(c, "/admin/users", {"username": "越权用户", "password": "long-enough-1", "role": "admin"})
        assert r.status_code == 403 and "无权" in r.text
        assert "用户与审计" not in c.get("/data").text.split("</nav>")[0]
    assert count(towns, "SELECT count(*) FROM app_user WHERE username = '越权用户'") == 0


def test_the_administrator_adds_a_township_editor_and_finds_it_in_the_audit_log(app, make_user, towns):
    admin = signed_in_client(app, make_user, "admin", "管理员甲")
    page = admin.get("/admin")
    assert page.status_code == 200 and "西口镇" in page.text and "新增用户" in page.text
    r = _form(admin, "/admin/users", {"username": "xikou-wang", "display_name": "王干事", "role": "township_editor",
                                      "townships": [WEST], "teams": "一组、二组", "password": "long-enough-1"},
              follow_redirects=True)
    assert r.status_code == 200 and "已新增用户 xikou-wang（乡镇编辑）" in r.text
    row = r.text[r.text.index('data-username="xikou-wang"'):]
    row = row[:row.index("</tr>")]
    assert "王干事" in row and "西口镇" in row and "一组、二组" in row and "正常" in row
    with towns.connect() as conn:
        from sqlalchemy import text

        user = conn.execute(text("SELECT role, township_codes, teams FROM app_user WHERE username = 'xikou-wang'")).one()
    assert user.role == "township_editor" and list(user.township_codes) == [WEST] and list(user.teams) == ["一组", "二组"]

    log = admin.get("/admin/audit", params={"table": "app_user", "actor": "管理员甲"})
    assert log.status_code == 200
    body = log.text[log.text.index('id="audit"'):]
    assert "新增" in body and "用户" in body and "xikou-wang" in body and "***" in body  # the hash is never shown
    assert "long-enough-1" not in log.text


def test_wrong_input_is_refused_in_chinese_and_nothing_is_written(app, make_user, towns):
    admin = signed_in_client(app, make_user, "admin", "管理员甲")
    users_before = count(towns, "SELECT count(*) FROM app_user")
    for data, message in (
            ({"username": "缺乡镇", "role": "township_editor", "password": "long-enough-1"}, "必须指定所辖乡镇"),
            ({"username": "短密码", "role": "county_viewer", "password": "short"}, "密码至少 8 位"),
            ({"username": "管理员甲", "role": "county_viewer", "password": "long-enough-1"}, "用户名已存在"),
            ({"username": "怪乡镇", "role": "township_editor", "townships": ["999999999999"],
              "password": "long-enough-1"}, "乡镇代码不存在")):
        r = _form(admin, "/admin/users", data)
        assert r.status_code == 422 and message in r.text, (data, r.text[-600:])
        assert f'value="{data["username"]}"' in r.text  # the form keeps what was typed (not the password)
    assert count(towns, "SELECT count(*) FROM app_user") == users_before


def test_role_townships_and_disabling_are_changed_from_the_list(app, make_user, towns):
    admin = signed_in_client(app, make_user, "admin", "管理员甲")
    make_user("township_editor", townships=(WEST,), username="小张")
    r = _form(admin, "/admin/users/小张", {"role": "township_editor", "townships": [WEST, EAST], "teams": ""},
              follow_redirects=True)
    assert r.status_code == 200 and "已修改用户 小张" in r.text
    assert count(towns, "SELECT township_codes FROM app_user WHERE username = '小张'") == [WEST, EAST]
    r = _form(admin, "/admin/users/小张/disabled", {"disabled": "true"}, follow_redirects=True)
    assert "已停用用户 小张" in r.text and count(towns, "SELECT disabled FROM app_user WHERE username = '小张'")
    r = _form(admin, "/admin/users/小张", {"role": "township_editor", "townships": [WEST], "password": "new-secret-99"},
              follow_redirects=True)
    assert "密码已重设" in r.text
    assert count(towns, "SELECT password_changed_at IS NOT NULL FROM app_user WHERE username = '小张'")
    assert 'action="/admin/users/%E7%AE%A1%E7%90%86%E5%91%98%E7%94%B2/disabled"' not in admin.get("/admin").text
    r = _form(admin, "/admin/users/管理员甲/disabled", {"disabled": "true"})
    assert r.status_code == 422 and "不能停用自己" in r.text
    r = _form(admin, "/admin/users/没有这人", {"role": "county_viewer"})
    assert r.status_code == 422 and "用户不存在" in r.text


def test_the_audit_log_filters_by_who_table_record_and_dates_and_pages(app, make_user, towns):
    admin = signed_in_client(app, make_user, "admin", "管理员甲")
    for i in range(55):
        _form(admin, "/admin/users", {"username": f"user{i:02d}", "role": "county_viewer", "password": "long-enough-1"})
    page1 = admin.get("/admin/audit", params={"actor": "管理员甲", "table": "app_user"})
    rows1 = page1.text.count("<tr>") - 1
    assert rows1 == 50 and "下一页" in page1.text and "上一页" not in page1.text
    following = re.search(r'href="(/admin/audit\?[^"]*offset=50)"', page1.text).group(1).replace("&amp;", "&")
    page2 = admin.get(following)
    assert page2.text.count("<tr>") - 1 == 5 and "上一页" in page2.text and "user00" in page2.text
    assert "user54" in page1.text and "user00" not in page1.text  # newest first
    # a record, a day range, a stranger
    record = count(towns, "SELECT id::text FROM app_user WHERE username = 'user07'")
    one = admin.get("/admin/audit", params={"table": "app_user", "record_id": record})
    assert one.text.count("<tr>") - 1 == 1 and "user07" in one.text
    assert "没有符合条件的记录" in admin.get("/admin/audit", params={"since": "2001-01-01", "until": "2001-01-02"}).text
    assert "没有符合条件的记录" in admin.get("/admin/audit", params={"actor": "无此人"}).text
    bad = admin.get("/admin/audit", params={"since": "昨天"})
    assert bad.status_code == 422 and "开始日期应为日期" in bad.text


# ---- in Chromium, clicking through the real pages ------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(db_url, out_dir):
    from pathlib import Path

    from api.devserver import CHROMIUM, running_server

    pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium not installed")
    with running_server(db_url, log=out_dir / "workbench-admin-server.log") as base:
        yield base


@pytest.fixture(scope="module")
def chrome(server):
    from tests.workbench import chromium

    with chromium() as browser:
        yield browser


def test_story_an_admin_adds_a_user_and_finds_the_change_in_the_audit_log(chrome, server, towns, make_user):
    from tests.workbench import screenshots, sign_in, watched_page

    make_user("admin", username="管理员王")
    context = chrome.new_context()
    page, watch = watched_page(context)
    sign_in(page, server, "管理员王", TEST_PASSWORD)
    page.click("nav.rm-nav >> text=用户与审计")
    page.wait_for_selector("#add-user")
    screenshots(page, "admin-users")

    page.fill("#new-username", "xikou-zhao")
    page.fill("#new-display", "赵干事")
    page.select_option("#new-role", "township_editor")
    page.check("#add-user input[name=townships][value='%s']" % WEST)
    page.fill("#new-teams", "一组")
    page.fill("#new-password", "long-enough-1")
    page.click("#add-user button[type=submit]")
    page.wait_for_selector("#admin-saved")
    assert "已新增用户 xikou-zhao（乡镇编辑）" in page.inner_text("#admin-saved")
    row = page.inner_text("tr[data-username='xikou-zhao']")
    assert "赵干事" in row and "西口镇" in row and "乡镇编辑" in row
    assert count(towns, "SELECT role FROM app_user WHERE username = 'xikou-zhao'") == "township_editor"
    screenshots(page, "admin-users-added")

    # change the new user's townships from the list, then disable it (confirmed)
    page.click("tr[data-username='xikou-zhao'] summary")
    page.check(f"tr[data-username='xikou-zhao'] input[name=townships][value='{EAST}']")
    screenshots(page, "admin-users-change")
    page.click("tr[data-username='xikou-zhao'] .rm-change button[type=submit]")
    page.wait_for_selector("#admin-saved")
    assert count(towns, "SELECT township_codes FROM app_user WHERE username = 'xikou-zhao'") == [WEST, EAST]
    page.once("dialog", lambda d: d.accept())
    page.click("tr[data-username='xikou-zhao'] .rm-confirm button")
    page.wait_for_selector("text=已停用用户 xikou-zhao")
    assert count(towns, "SELECT disabled FROM app_user WHERE username = 'xikou-zhao'") is True

    # the audit log page: filter by who and table (htmx swaps the results; the address bar keeps the filters)
    page.click("text=审计日志")
    page.wait_for_selector("#audit-filters")
    page.fill("#audit-filters input[name=actor]", "管理员王")
    page.select_option("#audit-filters select[name=table]", "app_user")
    page.evaluate("window.__samePage = true")
    page.click("#audit-filters button[type=submit]")
    page.wait_for_url("**/admin/audit?*actor=*")
    page.wait_for_selector("#audit")
    assert page.evaluate("window.__samePage === true")  # htmx swapped the results in; no page load
    log = page.inner_text("#audit")
    assert "xikou-zhao" in log and "新增" in log and "修改" in log and "管理员王" in log
    assert "停用：否 → 是" in log and "所辖乡镇：" in log  # before → after of the two changes
    assert "long-enough-1" not in page.content()
    record = count(towns, "SELECT id::text FROM app_user WHERE username = 'xikou-zhao'")
    assert all(r == record for r in page.locator("#audit tbody tr td:nth-child(5)").all_inner_texts())
    screenshots(page, "admin-audit")
    watch.assert_clean(page)
    context.close()


def test_story_a_county_viewer_is_shown_the_chinese_403_page(chrome, server, towns, make_user):
    from tests.workbench import screenshots, sign_in, watched_page

    make_user("county_viewer", username="县局查看员")
    context = chrome.new_context()
    page, watch = watched_page(context)
    sign_in(page, server, "县局查看员", TEST_PASSWORD, next_="/admin")
    assert "无权访问" in page.inner_text("main") and "系统管理员" in page.inner_text("main")
    assert page.locator("nav.rm-nav >> text=用户与审计").count() == 0
    screenshots(page, "admin-forbidden")
    watch.assert_clean(page, refused=(403,))
    context.close()
