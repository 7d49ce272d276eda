"""Township officials follow each encroachment and each hazard to 销号 on one register (一点一档 / 隐患台账)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from shapely.geometry import LineString, Point, box, shape
from sqlalchemy import Engine, text

from tests.encroach_fixtures import X0, Y0, add_building, add_enterprise, add_pipeline, to_storage, truncate_register, \
    two_townships
from geo.encroachment import check_encroachments
from geo.encroachment.register import add_attachment, confirm_candidate, record_encroachment
from geo.encroachment.reports import encroachment_points, pipeline_zone_bands, report_encroachments
from geo.errors import InvalidInput
from geo.register import InvalidTransition, VerifierRequired, change_status, history, list_items, summarise, \
    update_fields
from geo.register.hazard import list_for_supervision, record_hazard, supervised_hazards
from geo.register.ledger import write_ledger_xlsx

TODAY = dt.date(2026, 11, 23)


@pytest.fixture
def desk(county: Engine) -> Iterator[Engine]:
    """Two townships and pipeline GX-01 along y = Y0 across them; the register emptied afterwards."""
    with county.begin() as conn:
        two_townships(conn)
        add_pipeline(conn, "GX-01", LineString([(X0 - 3000, Y0), (X0 + 3000, Y0)]), operator="晋西输气公司")
    yield county
    with county.begin() as conn:
        truncate_register(conn)


def _record(conn, x: float, *, deadline: dt.date | None = None, on: dt.date = TODAY) -> str:
    point = to_storage(Point(x, Y0 + 2))
    return record_encroachment(conn, wkt=point.wkt, by="巡线员王五", nature="违法建设", deadline=deadline,
                               measure="拆除", on=on)


def test_field_record_takes_township_pipeline_and_operator_from_its_place(desk: Engine) -> None:
    with desk.begin() as conn:
        code = record_encroachment(conn, wkt=to_storage(box(X0 + 100, Y0 - 3, X0 + 108, Y0 + 5)).wkt,
                                   by="巡线员王五", nature="历史遗留", formed_on=dt.date(2009, 5, 1),
                                   attachments=["照片/2026-11-23-001.jpg"], on=TODAY)
        row = conn.execute(text(
            "SELECT e.status, e.nature, e.formed_on, e.responsible_operator, t.name AS township, p.code AS pipeline, "
            "e.dossier FROM encroachment e JOIN township t ON t.id = e.township_id "
            "JOIN pipeline p ON p.id = e.pipeline_id WHERE e.code = :c"), {"c": code}).one()
    assert code == "ZY-2026-0001"
    assert (row.status, row.nature, row.township, row.pipeline, row.responsible_operator) == (
        "found", "historical", "东镇", "GX-01", "晋西输气公司")
    assert row.formed_on == dt.date(2009, 5, 1)
    assert row.dossier == {"attachments": ["照片/2026-11-23-001.jpg"], "distance_m": 0.0}


def test_life_cycle_moves_in_order_keeps_every_change_and_closing_needs_a_verifier(desk: Engine) -> None:
    with desk.begin() as conn:
        code = _record(conn, X0 - 100)
    with desk.begin() as conn, pytest.raises(InvalidTransition, match="当前为“发现”，不能改为“已整改”"):
        change_status(conn, "encroachment", code, "rectified", by="张三")
    with desk.begin() as conn:
        change_status(conn, "encroachment", code, "认定", by="张三", on=TODAY)
        change_status(conn, "encroachment", code, "rectifying", by="张三", note="下发整改通知书")
        update_fields(conn, "encroachment", code, by="张三", measure="拆除围墙", deadline=dt.date(2026, 12, 31))
        add_attachment(conn, code, reference="整改通知书 河应急〔2026〕12号", by="张三")
        change_status(conn, "encroachment", code, "rectified", by="张三")
    with desk.begin() as conn, pytest.raises(VerifierRequired, match="销号须写明核查人"):
        change_status(conn, "encroachment", code, "closed", by="张三")
    with desk.begin() as conn:
        change_status(conn, "encroachment", code, "销号", by="张三", verified_by="县应急局李四", on=TODAY)
        closed = conn.execute(text("SELECT status, closed_by, closed_on FROM encroachment WHERE code = :c"),
                              {"c": code}).one()
        events = history(conn, "encroachment", code)
    assert tuple(closed) == ("closed", "县应急局李四", TODAY)
    assert [(e.from_status, e.to_status) for e in events] == [
        (None, "found"), ("found", "confirmed"), ("confirmed", "rectifying"), ("rectifying", "rectifying"),
        ("rectifying", "rectifying"), ("rectifying", "rectified"), ("rectified", "closed")]
    assert events[3].changes["measure"] == {"old": "拆除", "new": "拆除围墙"}
    assert events[4].changes["dossier"]["new"]["attachments"] == ["整改通知书 河应急〔2026〕12号"]
    assert events[-1].changes == {"closed_on": TODAY.isoformat(), "closed_by": "县应急局李四"}
    assert all(e.changed_by == "张三" for e in events[1:])
    with desk.begin() as conn, pytest.raises(InvalidTransition, match="可改为：无"):
        change_status(conn, "encroachment", code, "rectifying", by="张三")


def test_overdue_is_flagged_until_rectified(desk: Engine) -> None:
    with desk.begin() as conn:
        late = _record(conn, X0 - 100, deadline=TODAY - dt.timedelta(days=1))
        due_today = _record(conn, X0 - 200, deadline=TODAY)
        fixed = _record(conn, X0 - 300, deadline=TODAY - dt.timedelta(days=30))
        for status in ("confirmed", "rectifying", "rectified"):
            change_status(conn, "encroachment", fixed, status, by="张三")
        overdue = [i["code"] for i in list_items(conn, "encroachment", only_overdue=True, today=TODAY)]
    assert overdue == [late]
    assert due_today not in overdue


def test_reports_count_found_rectified_rate_and_overdue_per_township_and_pipeline(desk: Engine) -> None:
    with desk.begin() as conn:
        add_pipeline(conn, "GX-02", LineString([(X0 + 1000, Y0 - 1500), (X0 + 1000, Y0 + 1500)]))
        west = [_record(conn, X0 - x, deadline=TODAY - dt.timedelta(days=5)) for x in (100, 200, 300)]
        east = record_encroachment(conn, wkt=to_storage(Point(X0 + 1003, Y0 + 500)).wkt, by="王五", on=TODAY)
        for status in ("confirmed", "rectifying", "rectified", "closed"):
            change_status(conn, "encroachment", west[0], status, by="张三", verified_by="李四")
        by_township = report_encroachments(conn, by="township", today=TODAY)
        by_pipeline = report_encroachments(conn, by="pipeline", today=TODAY)
    assert [(r.group_name, r.found, r.rectified, r.overdue) for r in by_township] == [("西镇", 3, 1, 2),
                                                                                      ("东镇", 1, 0, 0)]
    assert by_township[0].rectification_rate == pytest.approx(1 / 3)
    assert [(r.group_code, r.found, r.rectified) for r in by_pipeline] == [("GX-01", 3, 1), ("GX-02", 1, 0)]
    assert east.startswith("ZY-2026-")


def test_confirming_a_check_candidate_opens_its_dossier(desk: Engine) -> None:
    with desk.begin() as conn:
        building = add_building(conn, box(X0 - 50, Y0 + 1, X0 - 40, Y0 + 9))
        candidate = next(c for c in check_encroachments(conn) if c.feature_id == building)
        code = confirm_candidate(conn, candidate.candidate_id, by="张三", nature="合法性待认定",
                                 deadline=dt.date(2027, 3, 31), on=TODAY)
        row = conn.execute(text(
            "SELECT e.status, e.kind, e.nature, e.responsible_operator, e.township_id, ST_Equals(e.geom, b.geom) "
            "AS same_geom, e.dossier->>'zone' AS zone FROM encroachment e, building b WHERE e.code = :c AND b.id = :b"),
            {"c": code, "b": building}).one()
        events = history(conn, "encroachment", code)
        with pytest.raises(InvalidInput, match=f"已认定为占压点 {code}"):
            confirm_candidate(conn, candidate.candidate_id, by="张三")
    assert (row.status, row.kind, row.nature, row.responsible_operator, row.zone) == (
        "confirmed", "encroachment", "legality_pending", "晋西输气公司", "zone_5m")
    assert row.township_id == candidate.township_id and row.same_geom
    assert [e.to_status for e in events] == ["found", "confirmed"]


def test_map_layer_data_points_by_status_and_zone_bands_in_4490(desk: Engine) -> None:
    with desk.begin() as conn:
        code = _record(conn, X0 - 100)
        change_status(conn, "encroachment", code, "confirmed", by="张三")
        points = encroachment_points(conn, today=TODAY)
        bands = pipeline_zone_bands(conn, pipeline_code="GX-01")
    assert points[0]["properties"]["status_label"] == "认定"
    assert points[0]["geometry"]["type"] == "Point"
    assert [(b["properties"]["zone"], b["properties"]["inner_m"], b["properties"]["outer_m"]) for b in bands] == [
        ("zone_5m", 0.0, 5.0), ("zone_50m", 5.0, 50.0), ("zone_200m", 50.0, 200.0)]
    band_5_50 = shape(bands[1]["geometry"])
    assert band_5_50.contains(to_storage(Point(X0, Y0 + 20)))
    assert not band_5_50.contains(to_storage(Point(X0, Y0 + 3)))
    assert not band_5_50.contains(to_storage(Point(X0, Y0 + 60)))


@pytest.fixture
def ledger(desk: Engine) -> Engine:
    """Two enterprises (西镇, 东镇) with general and major hazards at various stages."""
    with desk.begin() as conn:
        west = conn.execute(text("SELECT id FROM township WHERE name = '西镇'")).scalar_one()
        east = conn.execute(text("SELECT id FROM township WHERE name = '东镇'")).scalar_one()
        add_enterprise(conn, "91140930MA0000001X", "西镇化工", Point(X0 - 1000, Y0 + 500), west)
        add_enterprise(conn, "91140930MA0000002X", "东镇化工", Point(X0 + 1000, Y0 + 500), east)
        past = TODAY - dt.timedelta(days=10)
        codes = [
            record_hazard(conn, enterprise_uscc="91140930MA0000001X", level="general", by="检查组",
                          found_on=past, deadline=past),
            record_hazard(conn, enterprise_uscc="91140930MA0000001X", level="general", by="检查组", found_on=past),
            record_hazard(conn, enterprise_uscc="91140930MA0000001X", level="major", by="检查组", found_on=past,
                          deadline=TODAY + dt.timedelta(days=30)),
            record_hazard(conn, enterprise_uscc="91140930MA0000002X", level="major", by="检查组", found_on=past,
                          deadline=past),
        ]
        for status in ("rectifying", "rectified", "closed"):
            change_status(conn, "hazard", codes[1], status, by="企业安全员", verified_by="县应急局李四")
    return desk


def test_hazard_ledger_runs_on_the_same_life_cycle_with_its_own_statuses(ledger: Engine) -> None:
    with ledger.begin() as conn, pytest.raises(InvalidInput, match="隐患没有“confirmed”这一状态"):
        change_status(conn, "hazard", "YH-2026-0001", "confirmed", by="张三")
    with ledger.begin() as conn, pytest.raises(InvalidTransition, match="当前为“发现”，不能改为“已整改”"):
        change_status(conn, "hazard", "YH-2026-0001", "rectified", by="张三")
    with ledger.begin() as conn:
        change_status(conn, "hazard", "YH-2026-0001", "整改中", by="张三", on=TODAY)
        change_status(conn, "hazard", "YH-2026-0001", "已整改", by="张三", on=TODAY)
        rectified_on = conn.execute(text("SELECT rectified_on FROM hazard WHERE code = 'YH-2026-0001'")).scalar()
        events = history(conn, "hazard", "YH-2026-0001")
    with ledger.begin() as conn, pytest.raises(VerifierRequired):
        change_status(conn, "hazard", "YH-2026-0001", "closed", by="张三", verified_by=" ")
    assert rectified_on == TODAY
    assert [(e.from_status, e.to_status) for e in events] == [(None, "found"), ("found", "rectifying"),
                                                              ("rectifying", "rectified")]


def test_hazard_report_per_township_keeps_general_and_major_apart(ledger: Engine) -> None:
    with ledger.connect() as conn:
        rows = summarise(conn, "hazard", by="township", split=True, today=TODAY)
    assert [(r.group_name, r.category, r.found, r.rectified, r.overdue) for r in rows] == [
        ("西镇", "general", 2, 1, 1), ("西镇", "major", 1, 0, 0), ("东镇", "major", 1, 0, 1)]
    assert rows[0].rectification_rate == pytest.approx(0.5)


def test_only_major_hazards_are_listed_for_supervision(ledger: Engine) -> None:
    with ledger.begin() as conn:
        list_for_supervision(conn, "YH-2026-0004", department="县应急管理局", by="局长")
        with pytest.raises(InvalidInput, match="只有重大隐患才能挂牌督办"):
            list_for_supervision(conn, "YH-2026-0001", department="县应急管理局", by="局长")
        listed = supervised_hazards(conn, today=TODAY)
        events = history(conn, "hazard", "YH-2026-0004")
    assert [(h["code"], h["supervising_department"], h["overdue"]) for h in listed] == [
        ("YH-2026-0004", "县应急管理局", True)]
    assert events[-1].note == "挂牌督办"


def test_xlsx_ledgers_have_chinese_headers_and_the_report_numbers(ledger: Engine, out_dir: Path) -> None:
    with ledger.connect() as conn:
        path = write_ledger_xlsx(conn, out_dir / "隐患台账.xlsx", kind="hazard", split=True, today=TODAY)
    wb = load_workbook(path)
    assert wb.sheetnames == ["隐患台账", "按乡镇统计"]
    items = [r for r in wb["隐患台账"].iter_rows(values_only=True)]
    assert items[0][:3] == ("编号", "状态", "类别") and len(items) == 5
    assert items[2][1] == "销号" and items[2][9] == "县应急局李四"
    counts = [r for r in wb["按乡镇统计"].iter_rows(values_only=True)]
    assert counts[0] == ("代码", "名称", "类别", "发现数", "已整改数", "整改率", "逾期数")
    assert counts[1][1:] == ("西镇", "一般隐患", 2, 1, "50.0%", 1)
    assert counts[-1][1:] == ("合计", "重大隐患", 2, 0, "0.0%", 1)


def test_register_commands_speak_chinese(ledger: Engine, out_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from geo.cli import main

    assert main(["hazard", "status", "YH-2026-0003", "rectifying", "--by", "张三"]) == 0
    assert "隐患 YH-2026-0003：发现 → 整改中" in capsys.readouterr().out
    assert main(["hazard", "status", "YH-2026-0003", "closed", "--by", "张三"]) == 2
    assert "不能改为“销号”" in capsys.readouterr().err
    assert main(["encroach", "record", "--lon", "111.29", "--lat", "39.2", "--by", "王五", "--nature", "违法建设"]) == 0
    assert "已登记现场发现的占压点 ZY-" in capsys.readouterr().out
    xlsx = out_dir / "占压点台账.xlsx"
    assert main(["encroach", "report", "--by", "pipeline", "--xlsx", str(xlsx)]) == 0
    out = capsys.readouterr().out
    assert "占压点：1 处，已完成整改 0 处" in out
    assert load_workbook(xlsx).sheetnames == ["占压点台账", "按管道统计", "按乡镇统计"]


def test_migration_0003_downgrades_cleanly_and_comes_back(db_url: str) -> None:
    """On a scratch database of its own, so that other tests' data and tables are never touched."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from geo import migrate

    url = make_url(db_url)
    scratch = f"{url.database}_mig0003"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{scratch}"'))
    engine = create_engine(url.set(database=scratch))
    try:
        migrate.upgrade(engine)
        migrate.downgrade(engine, "0002")
        with engine.connect() as conn:
            left = conn.execute(text(
                "SELECT count(*) FROM pg_class WHERE relname IN "
                "('register_event', 'pipeline_piece', 'encroachment_candidate', 'register_item')")).scalar()
            functions = conn.execute(text("SELECT count(*) FROM pg_proc WHERE proname LIKE 'riskmap_%pipeline%'")
                                     ).scalar()
        migrate.upgrade(engine)
        with engine.connect() as conn:
            back = conn.execute(text("SELECT count(*) FROM pg_class WHERE relname = 'pipeline_piece'")).scalar()
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        admin.dispose()
    assert (left, functions, back) == (0, 0, 1)
