"""The bureau's ledgers and dossiers over HTTP: filters, sorting, paging, xlsx exports with a title row, the
life-cycle with a confirmation step and 409 on a stale version, attachments, progress entries and township scope."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, create_engine, text

from tests.conftest import auth_headers
from tests.workbench_fixtures import XIKOU, codes, copy_demo, total_of, workbench_server

def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), "teal").save(out, "PNG")
    return out.getvalue()


PNG = _png()


@pytest.fixture(scope="module")
def county_db(demo_county_db: str, demo_county_engine: Engine) -> Iterator[Engine]:
    url = copy_demo(demo_county_db, demo_county_engine, "wbhttp")
    eng = create_engine(url)
    eng.url_string = url  # type: ignore[attr-defined]
    yield eng
    eng.dispose()


@pytest.fixture(scope="module")
def server(county_db: Engine, out_dir, tmp_path_factory) -> Iterator[str]:
    with workbench_server(county_db.url_string, tmp_path_factory.mktemp("home"),  # type: ignore[attr-defined]
                          out_dir / "workbench-http-server.log", RISKMAP_ATTACHMENT_MAX_BYTES="4096") as base:
        yield base


@pytest.fixture(scope="module")
def editor(county_db: Engine, server: str) -> httpx.Client:
    with httpx.Client(base_url=server, headers=auth_headers(county_db, "county_editor"), timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def xikou(county_db: Engine, server: str) -> httpx.Client:
    with httpx.Client(base_url=server, headers=auth_headers(county_db, "township_editor", [XIKOU]),
                      timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def viewer(county_db: Engine, server: str) -> httpx.Client:
    with httpx.Client(base_url=server, headers=auth_headers(county_db, "county_viewer"), timeout=60) as client:
        yield client


def scalar(engine: Engine, sql: str, **params: object) -> object:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def test_hazard_ledger_filters_by_township_level_and_overdue_as_the_database_counts(editor, county_db) -> None:
    r = editor.get("/ledgers/hazards", params={"township": XIKOU, "level": "general", "size": 1000})
    assert r.status_code == 200
    expected = scalar(county_db, "SELECT count(*) FROM hazard h JOIN enterprise e ON e.id = h.enterprise_id "
                                 "JOIN township t ON t.id = e.township_id WHERE t.code = :t AND h.level = 'general'",
                      t=XIKOU)
    assert total_of(r.text) == expected > 0
    assert len(codes(r.text, "hazards")) == expected
    assert "筛选：乡镇：西口镇；级别：一般隐患" in r.text
    overdue = editor.get("/ledgers/hazards", params={"overdue": "1"})
    n_overdue = scalar(county_db, "SELECT count(*) FROM hazard WHERE deadline < CURRENT_DATE "
                                  "AND status NOT IN ('rectified', 'closed')")
    assert total_of(overdue.text) == n_overdue > 0
    assert overdue.text.count('class="wb-tag">逾期') == min(n_overdue, 50)


def test_ledger_pages_sort_and_page(editor, county_db) -> None:
    first = editor.get("/ledgers/hazards", params={"sort": "code", "size": 20})
    second = editor.get("/ledgers/hazards", params={"sort": "code", "size": 20, "page": 2})
    one, two = codes(first.text, "hazards"), codes(second.text, "hazards")
    assert len(one) == len(two) == 20
    assert one == sorted(one) and two == sorted(two) and one[-1] < two[0]
    with county_db.connect() as conn:
        db_first = conn.execute(text("SELECT code FROM hazard ORDER BY code LIMIT 20")).scalars().all()
    assert one == db_first
    desc = codes(editor.get("/ledgers/hazards", params={"sort": "-code", "size": 5}).text, "hazards")
    assert desc == sorted(desc, reverse=True) and desc[0] > one[-1]
    assert 'rel="next"' in first.text and "第 1/" in first.text
    # the filter survives paging: the next link carries it
    assert "sort=code" in re.search(r'href="([^"]+)" rel="next"', first.text).group(1)


def test_encroachment_ledger_filters_by_kind_pipeline_and_date(editor, county_db) -> None:
    pipeline = scalar(county_db, "SELECT p.code FROM encroachment e JOIN pipeline p ON p.id = e.pipeline_id "
                                 "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
    r = editor.get("/ledgers/encroachments", params={"kind": "encroachment", "pipeline": pipeline,
                                                     "from": "2015-01-01", "to": "2030-12-31"})
    expected = scalar(county_db, "SELECT count(*) FROM encroachment e JOIN pipeline p ON p.id = e.pipeline_id "
                                 "WHERE e.kind = 'encroachment' AND p.code = :p AND e.found_on BETWEEN "
                                 "'2015-01-01' AND '2030-12-31'", p=pipeline)
    assert total_of(r.text) == expected > 0
    assert "类型：占压" in r.text and "发现日期：2015-01-01 至 2030-12-31" in r.text
    assert 'id="wb-summary"' in r.text  # the rectification summary


def test_a_bad_filter_is_refused_in_chinese_on_the_page(editor) -> None:
    r = editor.get("/ledgers/hazards", params={"status": "bogus"})
    assert r.status_code == 422 and "筛选条件 状态 status“bogus”无效" in r.text
    r = editor.get("/ledgers/encroachments", params={"from": "2026-13-40"})
    assert r.status_code == 422 and "应为日期 YYYY-MM-DD" in r.text


def test_hazard_export_has_a_title_row_with_county_filter_and_date_then_the_columns(editor, county_db, out_dir) -> None:
    r = editor.get("/ledgers/hazards/export.xlsx", params={"level": "major", "township": XIKOU})
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    (out_dir / "workbench").mkdir(exist_ok=True)
    (out_dir / "workbench" / "hazards-major-xikou.xlsx").write_bytes(r.content)
    ws = load_workbook(io.BytesIO(r.content)).active
    title = ws["A1"].value
    assert "河曲县" in title and "隐患排查治理台账" in title
    assert "乡镇：西口镇" in title and "级别：重大隐患" in title and dt.date.today().isoformat() in title
    headers = [c.value for c in ws[2]]
    for name in ("编号", "企业名称", "隐患描述", "责任乡镇", "状态", "整改期限"):
        assert name in headers
    rows = list(ws.iter_rows(min_row=3, values_only=True))
    expected = scalar(county_db, "SELECT count(*) FROM hazard h JOIN enterprise e ON e.id = h.enterprise_id "
                                 "JOIN township t ON t.id = e.township_id WHERE t.code = :t AND h.level = 'major'",
                      t=XIKOU)
    assert len(rows) == expected
    assert all(row[headers.index("级别")] == "重大隐患" and row[headers.index("责任乡镇")] == "西口镇" for row in rows)


def test_encroachment_export_names_pipeline_nature_operator_and_township(editor, county_db) -> None:
    r = editor.get("/ledgers/encroachments/export.xlsx", params={"nature": "illegal_construction"})
    ws = load_workbook(io.BytesIO(r.content)).active
    assert "管道占压点台账" in ws["A1"].value and "性质：违法建设" in ws["A1"].value
    headers = [c.value for c in ws[2]]
    for name in ("管道", "性质", "责任乡镇", "管道企业", "情况描述"):
        assert name in headers
    rows = list(ws.iter_rows(min_row=3, values_only=True))
    assert len(rows) == scalar(county_db, "SELECT count(*) FROM encroachment WHERE nature = 'illegal_construction'")
    assert {row[headers.index("性质")] for row in rows} == {"违法建设"}
    assert all(row[headers.index("管道")] for row in rows)


def test_enterprise_and_major_hazard_lists(editor, county_db) -> None:
    r = editor.get("/ledgers/enterprises", params={"colour": "red"})
    expected = scalar(county_db, "SELECT count(*) FROM risk_assessment WHERE kind = 'enterprise' "
                                 "AND valid_to IS NULL AND level = 'red'")
    assert total_of(r.text) == expected > 0
    assert r.text.count("wb-colour-red") >= min(expected, 50)
    major = editor.get("/ledgers/major-hazards")
    assert major.status_code == 200 and "GB 18218-2018" in major.text
    n = total_of(major.text)
    ws = load_workbook(io.BytesIO(editor.get("/ledgers/major-hazards/export.xlsx").content)).active
    assert "重大危险源清单" in ws["A1"].value
    assert [c.value for c in ws[2]][:4] == ["级别", "R 值", "S＝Σq/Q", "危险化学品单元"]
    assert ws.max_row - 2 == n


def test_status_change_asks_for_confirmation_then_a_stale_version_is_a_chinese_409(editor, county_db) -> None:
    code = scalar(county_db, "SELECT code FROM hazard WHERE status = 'found' ORDER BY code LIMIT 1")
    version = scalar(county_db, "SELECT version FROM hazard WHERE code = :c", c=code)
    page = editor.get(f"/dossiers/hazards/{code}", params={"action": "rectifying"})
    assert "确认将" in page.text and f'name="version" value="{version}"' in page.text
    r = editor.post(f"/dossiers/hazards/{code}/status", data={"to": "rectifying", "version": str(version)})
    assert r.status_code == 303 and r.headers["location"].endswith("?done=status")
    assert scalar(county_db, "SELECT status FROM hazard WHERE code = :c", c=code) == "rectifying"
    stale = editor.post(f"/dossiers/hazards/{code}/status", data={"to": "rectified", "version": str(version)})
    assert stale.status_code == 409
    assert "已被他人修改" in stale.text and "已为你载入最新状态" in stale.text
    assert 'id="wb-state">整改中<' in stale.text  # the current state, reloaded
    assert scalar(county_db, "SELECT status FROM hazard WHERE code = :c", c=code) == "rectifying"
    # closing needs a verifier, and a viewer has no actions and is refused
    fresh = scalar(county_db, "SELECT version FROM hazard WHERE code = :c", c=code)
    assert editor.post(f"/dossiers/hazards/{code}/status",
                       data={"to": "rectified", "version": str(fresh)}).status_code == 303


def test_closing_without_verifier_is_refused_and_a_viewer_may_not_act(editor, viewer, county_db) -> None:
    code = scalar(county_db, "SELECT code FROM encroachment WHERE status = 'rectified' ORDER BY code LIMIT 1")
    version = scalar(county_db, "SELECT version FROM encroachment WHERE code = :c", c=code)
    r = editor.post(f"/dossiers/encroachments/{code}/status", data={"to": "closed", "version": str(version)})
    assert r.status_code == 422 and "销号须写明核查人" in r.text
    page = viewer.get(f"/dossiers/encroachments/{code}")
    assert page.status_code == 200 and "wb-actions" not in page.text
    refused = viewer.post(f"/dossiers/encroachments/{code}/status",
                          data={"to": "closed", "version": str(version), "verified_by": "张三"})
    assert refused.status_code == 403 and "无权" in refused.text
    done = editor.post(f"/dossiers/encroachments/{code}/status",
                       data={"to": "closed", "version": str(version), "verified_by": "张三"})
    assert done.status_code == 303
    assert scalar(county_db, "SELECT closed_by FROM encroachment WHERE code = :c", c=code) == "张三"


def test_progress_entries_and_attachments_on_a_dossier(editor, county_db) -> None:
    code = scalar(county_db, "SELECT code FROM encroachment ORDER BY code LIMIT 1")
    r = editor.post(f"/dossiers/encroachments/{code}/progress", data={"month": "2026-11", "entry": "已拆除围墙一段"})
    assert r.status_code == 303
    r = editor.post(f"/dossiers/encroachments/{code}/attachments",
                    files={"file": ("现场照片.png", PNG, "image/png")})
    assert r.status_code == 303
    page = editor.get(f"/dossiers/encroachments/{code}").text
    assert "2026-11" in page and "已拆除围墙一段" in page and "现场照片.png" in page
    link = re.search(r'href="(/api/attachments/\d+)"', page).group(1)
    assert f'src="{link}/thumbnail"' in page  # shown as its thumbnail, linking to the file
    got = editor.get(link)
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["content-type"] == "image/png" and got.headers["x-content-type-options"] == "nosniff"
    # a script disguised as a picture, and a file over the limit (4096 bytes on this server), are refused
    bad = editor.post(f"/dossiers/encroachments/{code}/attachments",
                      files={"file": ("x.png", b"<script>alert(1)</script>", "image/png")})
    assert bad.status_code == 422 and "只接受 JPEG/PNG/WebP 图片或 PDF 文件" in bad.text
    big = editor.post(f"/dossiers/encroachments/{code}/attachments",
                      files={"file": ("big.png", PNG + b"\x00" * 5000, "image/png")})
    assert big.status_code == 413 and "文件过大" in big.text and "本地规定" in big.text


def test_township_editor_sees_only_its_township_and_records_hazards_only_there(xikou, county_db) -> None:
    r = xikou.get("/ledgers/hazards", params={"size": 1000})
    names = set(re.findall(r"<td>([^<]+镇|[^<]+乡)</td>", r.text.split('id="wb-rows"', 1)[1]))
    assert names == {"西口镇"}
    outside = scalar(county_db, "SELECT h.code FROM hazard h JOIN enterprise e ON e.id = h.enterprise_id "
                                "JOIN township t ON t.id = e.township_id WHERE t.code <> :t LIMIT 1", t=XIKOU)
    missing = xikou.get(f"/dossiers/hazards/{outside}")
    assert missing.status_code == 404 and "不在你的辖区内" in missing.text
    other_ent = scalar(county_db, "SELECT e.id FROM enterprise e JOIN township t ON t.id = e.township_id "
                                  "WHERE t.code <> :t LIMIT 1", t=XIKOU)
    assert xikou.get(f"/dossiers/enterprises/{other_ent}").status_code == 404
    uscc_out = scalar(county_db, "SELECT uscc FROM enterprise WHERE id = :i", i=other_ent)
    before = scalar(county_db, "SELECT count(*) FROM hazard")
    refused = xikou.post("/ledgers/hazards/new", data={"enterprise_uscc": uscc_out, "level": "general",
                                                       "description": "越界登记"})
    assert refused.status_code == 403 and "超出辖区" in refused.text and "不能为其登记隐患" in refused.text
    assert scalar(county_db, "SELECT count(*) FROM hazard") == before
    uscc_in = scalar(county_db, "SELECT e.uscc FROM enterprise e JOIN township t ON t.id = e.township_id "
                                "WHERE t.code = :t LIMIT 1", t=XIKOU)
    ok = xikou.post("/ledgers/hazards/new", data={"enterprise_uscc": uscc_in, "level": "general",
                                                  "description": "配电室门口堆放杂物"})
    assert ok.status_code == 303
    code = ok.headers["location"].split("/")[-1].split("?")[0]
    assert scalar(county_db, "SELECT description FROM hazard WHERE code = :c", c=code) == "配电室门口堆放杂物"


def test_candidates_page_confirms_a_candidate_into_a_dossier(editor, county_db) -> None:
    r = editor.post("/ledgers/encroachments/candidates/check")
    assert r.status_code == 303
    page = editor.get("/ledgers/encroachments/candidates")
    ids = re.findall(r'data-candidate="(\d+)"', page.text)
    assert ids, "the demo county's check finds candidates"
    done = editor.post(f"/ledgers/encroachments/candidates/{ids[0]}/confirm",
                       data={"nature": "illegal_construction", "measure": "限期拆除"})
    assert done.status_code == 303
    code = done.headers["location"].split("/")[-1].split("?")[0]
    dossier = editor.get(done.headers["location"])
    assert "已认定为占压点并建档" in dossier.text and 'id="wb-state">认定<' in dossier.text
    assert "由排查候选" in dossier.text  # the timeline
    again = editor.post(f"/ledgers/encroachments/candidates/{ids[0]}/confirm", data={})
    assert again.status_code == 422 and "已认定为占压点" in again.text


def test_enterprise_dossier_shows_inventory_units_risk_reasons_and_history(editor, county_db) -> None:
    eid = scalar(county_db, "SELECT object_id FROM risk_assessment WHERE kind = 'enterprise' AND valid_to IS NULL "
                            "AND details ? 'units' ORDER BY score DESC LIMIT 1")
    r = editor.get(f"/dossiers/enterprises/{eid}")
    assert r.status_code == 200
    for part in ('id="wb-units"', 'id="wb-inventory"', 'id="wb-risk-chart"', "风险等级及理由", "执法检查", "生产安全事故"):
        assert part in r.text
    assert editor.get("/dossiers/enterprises/999999").status_code == 404


def test_only_a_major_hazard_offers_supervision_and_it_is_kept_against_the_version_read(editor, county_db) -> None:
    general = scalar(county_db, "SELECT code FROM hazard WHERE level = 'general' AND status <> 'closed' LIMIT 1")
    assert "action=supervise" not in editor.get(f"/dossiers/hazards/{general}").text
    code = scalar(county_db, "SELECT code FROM hazard WHERE level = 'major' AND status <> 'closed' "
                             "AND supervising_department IS DISTINCT FROM '县应急管理局' ORDER BY code LIMIT 1")
    assert code is not None
    version = scalar(county_db, "SELECT version FROM hazard WHERE code = :c", c=code)
    form = editor.get(f"/dossiers/hazards/{code}", params={"action": "supervise"}).text
    assert "确认挂牌督办" in form
    r = editor.post(f"/dossiers/hazards/{code}/supervision",
                    data={"department": "县应急管理局", "deadline": "2027-03-31", "version": str(version)})
    assert r.status_code == 303
    assert scalar(county_db, "SELECT supervising_department FROM hazard WHERE code = :c", c=code) == "县应急管理局"
    stale = editor.post(f"/dossiers/hazards/{code}/supervision",
                        data={"department": "县政府", "version": str(version)})
    assert stale.status_code == 409 and "已被他人修改" in stale.text
    assert "挂牌督办" in editor.get(f"/dossiers/hazards/{code}").text


def test_the_same_filtered_export_and_progress_entries_from_the_cli(county_db, tmp_path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "DATABASE_URL": county_db.url_string}  # type: ignore[attr-defined]
    target = tmp_path / "major.xlsx"
    done = subprocess.run([sys.executable, "-m", "geo.cli", "hazard", "ledger", "--xlsx", str(target), "--level",
                           "major", "--township", XIKOU], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "筛选：乡镇：西口镇；级别：重大隐患" in done.stdout
    ws = load_workbook(target).active
    assert "河曲县隐患排查治理台账" in ws["A1"].value and ws["D2"].value == "企业名称"
    code = scalar(county_db, "SELECT code FROM encroachment ORDER BY code DESC LIMIT 1")
    done = subprocess.run([sys.executable, "-m", "geo.cli", "encroach", "progress", code, "2026-10", "已约谈产权人",
                           "--by", "王五"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert scalar(county_db, "SELECT count(*) FROM register_event WHERE note = '已约谈产权人' "
                             "AND changes -> 'progress' ->> 'month' = '2026-10'") == 1
