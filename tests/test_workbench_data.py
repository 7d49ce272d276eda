"""数据管理 in the browser: a county officer imports a ledger file (all or nothing, the rejects shown and
downloadable) and edits features on the map; a township editor cannot place anything outside its townships."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.conftest import TEST_PASSWORD
from tests.io_data import USCC, enterprises
from tests.workbench import (SELF, EAST_FIRM, WEST, WEST_FIRM, add_towns, count, gbk_shapefile_zip,
                             signed_in_client)

@pytest.fixture
def towns(county):
    add_towns(county)
    return county


@pytest.fixture
def app(towns):
    from api.app import create_app

    return create_app()




def _post_import(c: TestClient, archive: Path, **fields: str):
    data = {"csrf_token": c.cookies.get("riskmap_csrf"), "layer": "enterprise", "crs": "auto", "encoding": "gbk",
            **fields}
    with archive.open("rb") as fh:
        return c.post("/data/import", data=data, files=[("files", (archive.name, fh, "application/zip"))],
                      headers={"Origin": SELF})


def _ledger(bad_row: bool):
    """Three enterprises with Chinese names; with `bad_row` the second one's credit code has a wrong check character."""
    frame = enterprises(3)
    if bad_row:
        good = frame.loc[1, "统一社会信用代码"]
        frame.loc[1, "统一社会信用代码"] = good[:-1] + ("0" if good[-1] != "0" else "1")
    return frame


def test_an_import_with_one_bad_row_writes_nothing_and_lists_the_row(app, make_user, towns, tmp_path):
    c = signed_in_client(app, make_user, "county_editor", "县局李编辑")
    before = count(towns, "SELECT count(*) FROM enterprise")
    r = _post_import(c, gbk_shapefile_zip(tmp_path / "bad", _ledger(bad_row=True)))
    assert r.status_code == 422
    assert "导入失败" in r.text and "本次导入未写入任何数据" in r.text
    table = r.text[r.text.index('id="rejects"'):]
    assert "<td class=\"rm-num\">2</td>" in table and "校验位错误" in table
    assert count(towns, "SELECT count(*) FROM enterprise") == before  # nothing written
    # the same rejects as downloads: CSV (UTF-8 with BOM) and xlsx
    links = re.findall(r'href="(/data/rejects/[^"]+)"', r.text)
    assert sorted(link.rsplit(".", 1)[1] for link in links) == ["csv", "xlsx"]
    for link in links:
        got = c.get(link)
        assert got.status_code == 200
        if link.endswith(".csv"):
            lines = list(csv.reader(io.StringIO(got.content.decode("utf-8-sig"))))
            assert lines[0] == ["行号", "字段", "原因", "值"] and lines[1][0] == "2" and "校验位错误" in lines[1][2]
        else:
            sheet = openpyxl.load_workbook(io.BytesIO(got.content)).active
            assert [c.value for c in sheet[2]][:1] == [2] and "校验位错误" in sheet["C2"].value
    assert c.get("/data/rejects/not-a-report-name-at-all.csv").status_code == 404


def test_rejects_reports_are_kept_a_week(tmp_path, monkeypatch):
    import os
    import time

    from geo.errors import NotFound
    from geo.io import reports
    from geo.io.readers import Reject

    monkeypatch.setattr(reports, "reports_dir", lambda: tmp_path)
    old = tmp_path / ("x" * 24 + ".csv")
    old.write_text("行号")
    os.utime(old, (time.time() - 8 * 86400,) * 2)
    recent = tmp_path / ("y" * 24 + ".csv")
    recent.write_text("行号")
    name = reports.store_rejects([Reject(2, "企业名称", "不能为空")])
    assert not old.exists() and recent.exists()
    assert reports.rejects_file(name, "xlsx").is_file()
    for bad in (("../../etc/passwd", "csv"), (name, "txt"), (name[:-1], "csv")):
        with pytest.raises(NotFound, match="问题清单不存在"):
            reports.rejects_file(*bad)


def test_the_fixed_file_is_imported_with_a_summary_and_the_importer_in_the_audit_log(app, make_user, towns, tmp_path):
    c = signed_in_client(app, make_user, "county_editor", "县局李编辑")
    r = _post_import(c, gbk_shapefile_zip(tmp_path / "good", _ledger(bad_row=False)))
    assert r.status_code == 200, r.text
    assert "导入成功" in r.text and 'id="import-inserted">3<' in r.text and "企业（enterprise）" in r.text
    assert count(towns, "SELECT count(*) FROM enterprise WHERE uscc = ANY(:u)", u=USCC[:3]) == 3
    assert count(towns, "SELECT name FROM enterprise WHERE uscc = :u", u=USCC[0]) == "河曲示例化工有限公司"
    # one bulk entry for the import (issue 17): the person, the row count, and ids covering the three new rows
    assert count(towns, "SELECT count(*) FROM audit_log WHERE table_name = 'enterprise' AND actor = '县局李编辑' "
                        "AND action = 'insert' AND record_id IS NULL AND (after->>'rows')::int = 3") == 1
    ids = count(towns, "SELECT after->'ids' FROM audit_log WHERE table_name = 'enterprise' AND actor = '县局李编辑' "
                       "AND action = 'insert' AND record_id IS NULL")
    with towns.connect() as conn:
        new_ids = conn.execute(text("SELECT id FROM enterprise WHERE uscc = ANY(:u)"), {"u": USCC[:3]}).scalars().all()
    assert all(any(lo <= i <= hi for lo, hi in ids) for i in new_ids)


def test_bad_options_and_files_are_refused_in_chinese(app, make_user, towns, tmp_path):
    c = signed_in_client(app, make_user, "admin", "管理员甲")
    archive = gbk_shapefile_zip(tmp_path / "good", _ledger(bad_row=False))
    r = _post_import(c, archive, crs="gk", epsg="3857")
    assert r.status_code == 422 and "4491–4554" in r.text
    odd = tmp_path / "notes.docx"
    odd.write_bytes(b"not a ledger")
    r = _post_import(c, odd)
    assert r.status_code == 422 and "不支持的文件类型 .docx" in r.text
    assert count(towns, "SELECT count(*) FROM enterprise") == 2


def test_an_import_form_post_without_the_csrf_token_is_refused(app, make_user, towns, tmp_path):
    c = signed_in_client(app, make_user, "admin", "管理员甲")
    archive = gbk_shapefile_zip(tmp_path / "good", _ledger(bad_row=False))
    with archive.open("rb") as fh:
        r = c.post("/data/import", data={"layer": "enterprise"}, files=[("files", (archive.name, fh, "application/zip"))],
                   headers={"Origin": SELF})
    assert r.status_code == 403 and "跨站请求被拒绝" in r.json()["message"]
    assert count(towns, "SELECT count(*) FROM enterprise") == 2


def test_who_sees_the_data_pages(app, make_user, towns, tmp_path):
    viewer = signed_in_client(app, make_user, "county_viewer", "县局查看员")
    for path in ("/data", "/data/edit"):
        r = viewer.get(path)
        assert r.status_code == 403 and "无权访问" in r.text and "县级查看" in r.text
    assert "数据管理" not in viewer.get("/data").text.split("</nav>")[0]
    town = signed_in_client(app, make_user, "township_editor", "西口镇张编辑", (WEST,))
    page = town.get("/data")
    assert page.status_code == 200 and 'id="import-form"' not in page.text and "县级编辑或管理员" in page.text
    r = _post_import(town, gbk_shapefile_zip(tmp_path / "good", _ledger(bad_row=False)))
    assert r.status_code == 403 and "无权" in r.text
    edit = town.get("/data/edit")
    assert edit.status_code == 200 and "西口镇" in edit.text and "数据库会拒绝" in edit.text
    assert count(towns, "SELECT count(*) FROM enterprise") == 2


def test_a_township_editor_cannot_move_a_point_out_of_its_township(app, make_user, towns):
    """What the edit map sends when a point is dragged: the database refuses, the answer is Chinese."""
    town = signed_in_client(app, make_user, "township_editor", "西口镇张编辑", (WEST,))
    feature = town.get("/layers/enterprise/features").json()["features"]
    assert [f["properties"]["name"] for f in feature] == [WEST_FIRM[0]]  # the other township's is not even seen
    fid = feature[0]["id"]
    version = town.get(f"/layers/enterprise/features/{fid}").json()["properties"]["version"]
    token = {"X-CSRF-Token": town.cookies.get("riskmap_csrf"), "Origin": SELF}
    moved = {"version": version, "geometry": {"type": "Point", "coordinates": [EAST_FIRM[1], EAST_FIRM[2]]}}
    r = town.patch(f"/layers/enterprise/features/{fid}", json=moved, headers=token)
    assert r.status_code == 403 and "超出辖区" in r.json()["message"]
    assert count(towns, "SELECT ST_X(geom) FROM enterprise WHERE id = :i", i=fid) == pytest.approx(WEST_FIRM[1])
    inside = {"version": version, "geometry": {"type": "Point", "coordinates": [111.25, 39.2]}}
    assert town.patch(f"/layers/enterprise/features/{fid}", json=inside, headers=token).status_code == 200


# ---- in Chromium, clicking through the real pages ------------------------------------------------------------------

@pytest.fixture(scope="module")
def server(db_url, out_dir):
    from api.devserver import CHROMIUM, running_server

    pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium not installed")
    with running_server(db_url, log=out_dir / "workbench-data-server.log") as base:
        yield base


@pytest.fixture(scope="module")
def chrome(server):
    from tests.workbench import chromium

    with chromium() as browser:
        yield browser


def _marker_point(page, lon: float, lat: float) -> tuple[float, float]:
    """Where (lon, lat) is on the screen of the edit map."""
    return tuple(page.evaluate(
        "([lon, lat]) => { const m = window.riskmapEdit.map; const p = m.latLngToContainerPoint([lat, lon]); "
        "const r = m.getContainer().getBoundingClientRect(); return [p.x + r.left, p.y + r.top]; }", [lon, lat]))


def test_story_an_admin_imports_a_gbk_shapefile_fixes_the_bad_row_and_imports_again(chrome, server, towns, make_user,
                                                                                      tmp_path):
    from tests.workbench import screenshots, sign_in, watched_page

    make_user("admin", username="管理员王")
    context = chrome.new_context(accept_downloads=True)
    page, watch = watched_page(context)
    sign_in(page, server, "管理员王", TEST_PASSWORD)
    assert page.url.endswith("/data")
    screenshots(page, "data-import")
    before = count(towns, "SELECT count(*) FROM enterprise")

    page.set_input_files("#files", str(gbk_shapefile_zip(tmp_path / "bad", _ledger(bad_row=True))))
    page.select_option("#layer", "enterprise")
    page.select_option("#encoding", "gbk")
    page.click("#import-form button[type=submit]")
    page.wait_for_selector("#import-rejects")
    rejects = page.inner_text("#rejects")
    assert "校验位错误" in rejects and "\n2\t" in rejects
    assert "本次导入未写入任何数据" in page.inner_text("#import-rejects")
    assert count(towns, "SELECT count(*) FROM enterprise") == before  # nothing written
    assert page.input_value("#encoding") == "gbk" and page.input_value("#layer") == "enterprise"  # the form kept
    assert not page.is_checked("input[name=update]") and not page.is_checked("input[name=repair]")
    with page.expect_download() as got:
        page.click("#import-rejects a[href$='.xlsx']")
    assert got.value.suggested_filename.endswith(".xlsx")
    screenshots(page, "data-import-rejects")

    page.set_input_files("#files", str(gbk_shapefile_zip(tmp_path / "good", _ledger(bad_row=False))))
    page.click("#import-form button[type=submit]")
    page.wait_for_selector("#import-result")
    assert page.inner_text("#import-inserted") == "3"
    assert count(towns, "SELECT count(*) FROM enterprise") == before + 3
    assert count(towns, "SELECT name FROM enterprise WHERE uscc = :u", u=USCC[1]) == "河曲示例煤业有限公司"
    screenshots(page, "data-import-success")
    watch.assert_clean(page, refused=(422,))  # the rejected import's page
    context.close()


def test_story_an_admin_draws_a_grid_cell_and_moves_an_enterprise_on_the_edit_map(chrome, server, towns, make_user):
    from tests.workbench import screenshots, sign_in, watched_page

    make_user("admin", username="管理员王")
    context = chrome.new_context()
    page, watch = watched_page(context)
    sign_in(page, server, "管理员王", TEST_PASSWORD)
    page.click("text=地图编辑")
    page.wait_for_selector(".rm-edit-dot")
    assert page.locator(".rm-edit-dot").count() == 2
    screenshots(page, "data-edit", full_page=False)

    # draw a grid cell: four clicks and the first again
    page.select_option("#edit-layer", "grid_cell")
    page.click("#edit-add")
    corners = [(111.20, 39.15), (111.24, 39.15), (111.24, 39.12), (111.20, 39.12), (111.20, 39.15)]
    for lon, lat in corners:
        x, y = _marker_point(page, lon, lat)
        page.mouse.click(x, y)
        page.wait_for_timeout(150)
    page.wait_for_selector("#edit-form:not([hidden])")
    page.fill("#f-code", "XK-001")
    page.fill("#f-name", "西口一网格")
    page.fill("#f-officer_name", "刘网格员")
    page.click("#edit-save")
    page.wait_for_selector(".rm-status-ok")
    assert "已新增：西口一网格" in page.inner_text("#edit-status")
    assert count(towns, "SELECT ST_Area(geom) FROM grid_cell WHERE code = 'XK-001'") == \
        pytest.approx(0.04 * 0.03, rel=0.03)
    assert count(towns, "SELECT t.code FROM grid_cell g JOIN township t ON t.id = g.township_id") == WEST

    # reshape it: select, drag its north-east corner out a little, save (a new version of the same cell)
    page.wait_for_timeout(500)
    x, y = _marker_point(page, 111.22, 39.135)
    page.mouse.click(x, y)
    page.wait_for_selector("#edit-form:not([hidden])")
    page.wait_for_selector(".leaflet-marker-pane .marker-icon")
    x, y = _marker_point(page, 111.24, 39.15)
    tx, ty = _marker_point(page, 111.25, 39.16)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(tx, ty, steps=10)
    page.mouse.up()
    assert "位置已改动" in page.inner_text("#edit-status")
    page.click("#edit-save")
    page.wait_for_selector("text=已保存：西口一网格")
    assert count(towns, "SELECT version FROM grid_cell WHERE code = 'XK-001'") == 2
    assert count(towns, "SELECT ST_Area(geom) FROM grid_cell WHERE code = 'XK-001'") > 0.04 * 0.03 * 1.05

    # select the western enterprise, drag it a little, change its employees, save; then delete it (confirmed)
    page.select_option("#edit-layer", "enterprise")
    page.wait_for_selector(".rm-edit-dot")
    other, other_watch = watched_page(context)  # a colleague's tab, opened before the change below
    other.goto(f"{server}/data/edit", wait_until="load")
    other.wait_for_selector(".rm-edit-dot")
    other.mouse.click(*_marker_point(other, WEST_FIRM[1], WEST_FIRM[2]))
    other.wait_for_selector("#edit-form:not([hidden])")  # filled from version 1
    x, y = _marker_point(page, WEST_FIRM[1], WEST_FIRM[2])
    page.mouse.click(x, y)
    page.wait_for_selector("#edit-form:not([hidden])")
    assert page.input_value("#f-name") == WEST_FIRM[0]
    tx, ty = _marker_point(page, 111.24, 39.22)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(tx, ty, steps=12)
    page.mouse.up()
    page.fill("#f-employees", "88")
    screenshots(page, "data-edit-selected", full_page=False)
    page.click("#edit-save")
    page.wait_for_selector(".rm-status-ok")
    lon, employees, version = (count(towns, "SELECT ST_X(geom) FROM enterprise WHERE name = :n", n=WEST_FIRM[0]),
                               count(towns, "SELECT employees FROM enterprise WHERE name = :n", n=WEST_FIRM[0]),
                               count(towns, "SELECT version FROM enterprise WHERE name = :n", n=WEST_FIRM[0]))
    assert lon == pytest.approx(111.24, abs=0.01) and employees == 88 and version == 2
    # someone else had the same form open: their save is refused with the 409 in Chinese, nothing overwritten
    other.fill("#f-employees", "5")
    other.click("#edit-save")
    other.wait_for_selector(".rm-status-error")
    assert "该记录已被他人修改" in other.inner_text("#edit-status")
    assert count(towns, "SELECT employees FROM enterprise WHERE name = :n", n=WEST_FIRM[0]) == 88
    other_watch.assert_clean(other, refused=(409,))
    page.wait_for_selector(".rm-edit-dot")
    x, y = _marker_point(page, lon, count(towns, "SELECT ST_Y(geom) FROM enterprise WHERE name = :n", n=WEST_FIRM[0]))
    page.mouse.click(x, y)
    page.wait_for_selector("#edit-delete:not([hidden])")
    page.once("dialog", lambda d: d.accept())
    page.click("#edit-delete")
    page.wait_for_selector("text=已删除")
    assert count(towns, "SELECT count(*) FROM enterprise WHERE name = :n", n=WEST_FIRM[0]) == 0
    watch.assert_clean(page)
    context.close()


def test_story_a_township_editor_drags_a_point_out_of_its_township_and_is_refused(chrome, server, towns, make_user):
    from tests.workbench import screenshots, sign_in, watched_page

    make_user("township_editor", townships=(WEST,), username="西口镇张编辑")
    context = chrome.new_context()
    page, watch = watched_page(context)
    sign_in(page, server, "西口镇张编辑", TEST_PASSWORD)
    assert page.query_selector("#import-form") is None
    screenshots(page, "data-import-township-editor")
    page.click("text=地图编辑")
    page.wait_for_selector(".rm-edit-dot")
    assert page.locator(".rm-edit-dot").count() == 1  # the other township's enterprise is not even shown
    page.click(".leaflet-control-zoom-out")  # room to drag it east
    page.wait_for_timeout(600)
    x, y = _marker_point(page, WEST_FIRM[1], WEST_FIRM[2])
    page.mouse.click(x, y)
    page.wait_for_selector("#edit-form:not([hidden])")
    tx, ty = _marker_point(page, EAST_FIRM[1], EAST_FIRM[2])
    assert 0 < tx < page.viewport_size["width"] and 0 < ty < page.viewport_size["height"]
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(tx, ty, steps=15)
    page.mouse.up()
    assert "位置已改动" in page.inner_text("#edit-status")
    page.click("#edit-save")
    page.wait_for_selector(".rm-status-error")
    status = page.inner_text("#edit-status")
    assert "未保存" in status and "超出辖区" in status and "所辖乡镇" in status
    screenshots(page, "data-edit-refused", full_page=False)
    assert count(towns, "SELECT ST_X(geom) FROM enterprise WHERE name = :n", n=WEST_FIRM[0]) == \
        pytest.approx(WEST_FIRM[1])
    assert count(towns, "SELECT version FROM enterprise WHERE name = :n", n=WEST_FIRM[0]) == 1
    # the point is shown back where the database keeps it
    box = page.locator(".rm-edit-dot-on").bounding_box()
    assert abs(box["x"] + box["width"] / 2 - x) < 3 and abs(box["y"] + box["height"] / 2 - y) < 3
    watch.assert_clean(page, refused=(403,))  # the refused PATCH
    context.close()


def test_county_staff_draw_mine_zones_township_editors_may_not(app, make_user, towns):
    """A 矿产规划分区 belongs to no township: county staff add it, a township editor is refused and not offered it."""
    editor = signed_in_client(app, make_user, "county_editor", "县局李编辑")
    token = {"X-CSRF-Token": editor.cookies.get("riskmap_csrf"), "Origin": SELF}
    zone = {"type": "Feature", "properties": {"code": "JC-01", "name": "黄河沿岸禁采区", "kind": "no_mining_zone"},
            "geometry": {"type": "Polygon", "coordinates": [[[111.20, 39.12], [111.24, 39.12], [111.24, 39.15],
                                                             [111.20, 39.15], [111.20, 39.12]]]}}
    made = editor.post("/layers/mine_zone/features", json=zone, headers=token)
    assert made.status_code == 201, made.text
    assert made.json()["properties"]["version"] == 1
    assert '"mine_zone"' in editor.get("/data/edit").text
    town = signed_in_client(app, make_user, "township_editor", "西口镇张编辑", (WEST,))
    assert '"mine_zone"' not in town.get("/data/edit").text and '"enterprise"' in town.get("/data/edit").text
    token = {"X-CSRF-Token": town.cookies.get("riskmap_csrf"), "Origin": SELF}
    zone["properties"]["code"] = "JC-02"
    refused = town.post("/layers/mine_zone/features", json=zone, headers=token)
    assert refused.status_code == 403 and "无权" in refused.json()["message"]
    assert count(towns, "SELECT count(*) FROM mine_zone") == 1
