"""Finding 6: text a user wrote (names, addresses, 督办部门, 核查人, codes …) that looks like a formula is written
to every xlsx the project makes as a text cell — never a formula (or an error code) — and reads back unchanged."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import text

from geo.cli import main
from geo.inspection.outputs import write_xlsx as write_plan_xlsx
from geo.inspection.plan import get_plan, make_plan
from geo.io.exporter import export_layer
from geo.io.importer import ImportRejected, import_file, write_rejects
from geo.register.ledger import write_ledger_xlsx
from geo.stats import township_level_table, write_township_xlsx
from tests.io_data import POINTS, USCC, enterprises, pipelines, townships
from tests.test_plan import NEAR_ROADS, WEEK_END, WEEK_START, add_enterprise, add_roads, planner  # noqa: F401

PAYLOADS = [
    '=HYPERLINK("http://x","y")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "=cmd|' /C calc'!A0",
    "＝1+1",
    "＋1+1",
    "－2+3",
    "＠SUM(A1)",
    "\t=1+1",
    "\r=1+1",
    "=1+1\t",
    "#N/A",
]
"""Formula starts (ASCII and full-width), DDE, tab/CR before a formula, and an Excel error code."""


def _cells(path: Path) -> list[openpyxl.cell.Cell]:
    book = openpyxl.load_workbook(path)
    return [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def _xml(value: str) -> str:
    """What an XML file can give back: a carriage return comes back as a line feed (XML end-of-line rule)."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


def _stored(engine, sql: str) -> set[str]:
    with engine.connect() as conn:
        return {v for (v,) in conn.execute(text(sql)) if v is not None}


def _text_problems(path: Path, expected: set[str]) -> list[str]:
    """Formula or error cells anywhere, and expected texts not found as string cells unchanged."""
    cells = _cells(path)
    formulas = [(c.coordinate, c.value) for c in cells if c.data_type in ("f", "e")]
    texts = {c.value for c in cells if c.data_type == "s"}
    missing = {_xml(v) for v in expected} - texts
    return [f"{path.name}: formulas {formulas}"] * bool(formulas) + [f"{path.name}: missing {missing}"] * bool(missing)


def _seed(engine, tmp_path: Path) -> None:
    """Townships, enterprises, pipelines, hazards and encroachments, then every text column set to payloads."""
    townships().to_file(tmp_path / "乡镇.geojson")
    import_file(engine, "township", tmp_path / "乡镇.geojson")
    enterprises(4).to_file(tmp_path / "企业.geojson")
    import_file(engine, "enterprise", tmp_path / "企业.geojson")
    pipelines().to_file(tmp_path / "管道.geojson")
    import_file(engine, "pipeline", tmp_path / "管道.geojson")
    with (tmp_path / "隐患.csv").open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["隐患编号", "统一社会信用代码", "隐患等级", "发现日期", "整改期限"]] + [
            [f"YH-{i}", USCC[i % 4], "重大隐患" if i % 2 else "一般隐患", "2026-11-02", "2026-11-20"]
            for i in range(len(PAYLOADS))])
    import_file(engine, "hazard", tmp_path / "隐患.csv")
    with (tmp_path / "占压.csv").open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["占压点编号", "管道编号", "发现日期", "经度", "纬度"]] + [
            [f"ZY-{i}", "GD-001", "2026-11-02", POINTS[i % 5][0], POINTS[i % 5][1]] for i in range(len(PAYLOADS))])
    import_file(engine, "encroachment", tmp_path / "占压.csv", allow_outside=True)
    with engine.begin() as conn:
        for table in ("enterprise", "hazard", "encroachment"):
            ids = conn.execute(text(f"SELECT id FROM {table} ORDER BY id")).scalars().all()
            for i, row_id in enumerate(ids):
                p = PAYLOADS[i % len(PAYLOADS)]
                if table == "enterprise":
                    conn.execute(text("UPDATE enterprise SET name = :p, address = :q WHERE id = :id"),
                                 {"p": p, "q": PAYLOADS[-1 - i], "id": row_id})
                elif table == "hazard":
                    conn.execute(text("UPDATE hazard SET supervising_department = :p, closed_by = :q, code = :c, "
                                      "description = :p WHERE id = :id"),
                                 {"p": p, "q": PAYLOADS[-1 - i], "c": f"{p}#{i}", "id": row_id})
                else:
                    conn.execute(text("UPDATE encroachment SET closed_by = :p, code = :c, description = :p "
                                      "WHERE id = :id"), {"p": p, "c": f"{PAYLOADS[-1 - i]}#{i}", "id": row_id})
        names = conn.execute(text("SELECT id FROM township ORDER BY id")).scalars().all()
        for i, row_id in enumerate(names):
            conn.execute(text("UPDATE township SET name = :p WHERE id = :id"), {"p": PAYLOADS[i], "id": row_id})


def test_exports_ledgers_and_stats_write_user_text_as_text(county, tmp_path):
    _seed(county, tmp_path)
    enterprise = _stored(county, "SELECT name FROM enterprise UNION SELECT address FROM enterprise")
    township = _stored(county, "SELECT name FROM township")
    hazard = _stored(county, "SELECT supervising_department FROM hazard UNION SELECT closed_by FROM hazard "
                             "UNION SELECT code FROM hazard UNION SELECT description FROM hazard")
    encroachment = _stored(county, "SELECT closed_by FROM encroachment UNION SELECT code FROM encroachment "
                                   "UNION SELECT description FROM encroachment")
    assert set(PAYLOADS) <= hazard and set(PAYLOADS) <= encroachment and len(enterprise) == 8

    out = tmp_path / "out"
    problems: list[str] = []
    assert main(["export", "enterprise", "--format", "xlsx", "-o", str(out / "enterprise.xlsx")]) == 0
    problems += _text_problems(out / "enterprise.xlsx", enterprise)
    for layer in ("township", "hazard", "encroachment", "pipeline"):
        export_layer(county, layer, out / f"{layer}.xlsx", fmt="xlsx")
    problems += _text_problems(out / "township.xlsx", township)
    problems += _text_problems(out / "hazard.xlsx", hazard)
    problems += _text_problems(out / "encroachment.xlsx", encroachment)
    problems += _text_problems(out / "pipeline.xlsx", set())

    ledger_columns = {"hazard": "SELECT supervising_department FROM hazard UNION SELECT closed_by FROM hazard "
                                "UNION SELECT code FROM hazard UNION SELECT name FROM township",
                      "encroachment": "SELECT closed_by FROM encroachment UNION SELECT code FROM encroachment "
                                      "UNION SELECT name FROM township"}
    with county.connect() as conn:
        for kind, sql in ledger_columns.items():
            path = write_ledger_xlsx(conn, out / f"{kind}_ledger.xlsx", kind=kind,
                                     groups=("township", "pipeline") if kind == "encroachment" else ("township",),
                                     today=dt.date(2026, 12, 1))
            problems += _text_problems(path, _stored(county, sql))
        stats = write_township_xlsx(township_level_table(conn), out / "stats.xlsx")
    problems += _text_problems(stats, township)
    assert not problems, "\n".join(problems)


def test_plan_xlsx_writes_enterprise_names_and_addresses_as_text(planner, tmp_path):  # noqa: F811
    with planner.begin() as conn:
        add_roads(conn)
        for (name, x, y, category), payload in zip(NEAR_ROADS[:4], PAYLOADS, strict=False):
            eid = add_enterprise(conn, name, x, y, category=category, colour="red")
            conn.execute(text("UPDATE enterprise SET name = :p, address = :q WHERE id = :id"),
                         {"p": payload, "q": PAYLOADS[-1 - PAYLOADS.index(payload)], "id": eid})
        plan_id = make_plan(conn, WEEK_START, WEEK_END, teams=1, time_limit_s=1)
        plan = get_plan(conn, plan_id)
    path = write_plan_xlsx(plan, tmp_path / "plan.xlsx")
    problems = _text_problems(path, set(PAYLOADS[:4]) | set(PAYLOADS[-4:]))
    assert not problems, "\n".join(problems)


def test_the_rejects_report_shows_formula_like_cells_as_text(county, tmp_path):
    """The rejects CSV is opened in Excel: a refused cell like =HYPERLINK(…) or a file's header like @SUM(A1)
    must not become a formula there (a CSV has no cell types, so it gets a leading apostrophe)."""
    path = tmp_path / "企业.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["统一社会信用代码", "企业名称", "行业类别", "经度", "纬度", "从业人数"]] + [
            [USCC[i], "甲", payload, *POINTS[0], "-5.5"] for i, payload in enumerate(PAYLOADS[:9])])
    with pytest.raises(ImportRejected) as exc:
        import_file(county, "enterprise", path)
    report = write_rejects(exc.value.rejects, tmp_path / "问题清单.csv")
    with report.open(encoding="utf-8-sig", newline="") as fh:
        lines = list(csv.reader(fh))[1:]
    values = [line[3] for line in lines if line[1] == "行业类别"]
    assert values == ["'" + p for p in PAYLOADS[:9]], values
    assert ["-5.5"] == sorted({line[3] for line in lines if line[1] == "从业人数"})


def test_control_characters_xml_cannot_hold_do_not_fail_the_export(county, tmp_path):
    """A name with a C0 control character (storable in PostgreSQL) made openpyxl raise, failing the whole export."""
    enterprises(1).to_file(tmp_path / "企业.geojson")
    import_file(county, "enterprise", tmp_path / "企业.geojson")
    with county.begin() as conn:
        conn.execute(text("UPDATE enterprise SET name = :n"), {"n": "河曲\x01示例\x1f公司"})
    path = export_layer(county, "enterprise", tmp_path / "enterprise.xlsx", fmt="xlsx").path
    assert "河曲\ufffd示例\ufffd公司" in {c.value for c in _cells(path)}
