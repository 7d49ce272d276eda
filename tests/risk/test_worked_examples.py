"""Worked examples a reviewer can redo by hand: each test's docstring holds the hand calculation and the clause,
and the data goes through import (or constructed rows) → compute → explain on a real PostGIS.

Three parts: hazardous-chemical enterprises (GB 18218-2018 §4.2–4.3 表1–表6; 应急〔2018〕19号), pipelines
(GB 32167-2015 §6.1; GB 50251-2015 §4.2) and protection zones, 越界开采 and inspection caps (石油天然气管道保护法;
矿产资源法; 国办发〔2024〕54号). Constructed sites are in metres east/north of 111.30°E 39.20°N (EPSG:4546, stored in
EPSG:4490) in 河曲县.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from geo.edit import update_feature
from geo.encroachment import find_encroachments
from geo.encroachment.zones import load_zones
from geo.inspection.due import EnterpriseStatus, list_due_and_held
from geo.inspection.duelist import load_due
from geo.io.importer import import_file
from geo.uscc import make_uscc
from riskfix import Site, compute_now, explain_of, line, lonlat, rect, texts


# ----------------------------------------------------------------------------------------------------
# Hazardous-chemical enterprises
# Worked examples a bureau can check by hand: hazardous-chemical enterprises imported from the bureau's tables,
# computed and explained on real PostGIS (GB 18218-2018 §4.2–4.3 表1–表6; 应急〔2018〕19号 评估诊断分级表).
#
# Enterprises and inventories go through the real importer (geo.io.importer.import_file, CSV with Chinese headers);
# buildings are placed with riskfix.Site in metres around the test origin.
#

USCC = [make_uscc(f"91140930MA0H{i:05d}") for i in range(1, 20)]


def write_csv(path: Path, rows: list[dict[str, object]]) -> Path:
    headers = list(dict.fromkeys(k for row in rows for k in row))
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=headers)
        writer.writeheader()
        writer.writerows(rows)
    return path


def import_enterprise(engine: Engine, tmp_path: Path, uscc: str, name: str, at: tuple[float, float],
                      **facts: object) -> int:
    """One hazchem enterprise through the importer (企业 layer), its facts under their Chinese headers."""
    lon, lat = lonlat(*at)
    row = {"统一社会信用代码": uscc, "企业名称": name, "行业类别": "危险化学品", "经度": f"{lon:.9f}",
           "纬度": f"{lat:.9f}", **facts}
    import_file(engine, "enterprise", write_csv(tmp_path / f"{uscc}.csv", [row]))
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT id FROM enterprise WHERE uscc = :u"), {"u": uscc}).scalar_one())


def import_inventory(engine: Engine, tmp_path: Path, uscc: str, lines: list[dict[str, object]]) -> None:
    """Inventory lines through the importer (危险化学品储存 layer)."""
    rows = [{"统一社会信用代码": uscc, **line} for line in lines]
    import_file(engine, "chemical_inventory", write_csv(tmp_path / f"{uscc}-库存.csv", rows))


def residents(site: Site, n_houses: int, *, x: float, floors: int = 2) -> None:
    """`n_houses` residential houses in a column at `x` m east (3 persons per floor, rules: population)."""
    for i in range(n_houses):
        site.building((x, -200 + 20 * i), floors=floors)


def unit_of(result: dict, name: str | None = None) -> dict:
    units = result["details"]["units"]
    return units[0] if name is None else next(u for u in units if u["unit"] == name)


def test_ammonia_and_methanol_with_120_people_outside_the_plant_is_grade_3(county, site, tmp_path):
    """GB 18218-2018 §4.2–4.3, 表1/表3/表5/表6. Plant boundary imported as 厂区边界(WKT): a 200 m × 200 m square.
    Outside it, within 500 m: 20 two-storey houses at 300 m east (200 m from the boundary) → 20 × 2 × 3 = 120
    persons → α = 2 (表5, ≥ 100). A three-storey dormitory inside the boundary does not count.
    液氨 50 t: Q = 10 t (表1 第1项), β = 2 (表3 氨) → q/Q = 5.
    甲醇 20 t: Q = 500 t (表1 第65项), β = 1 → q/Q = 0.04.
    S = 5.04 ≥ 1 → major hazard source; R = α·Σβq/Q = 2 × (2 × 5 + 1 × 0.04) = 20.08 → 三级 (50 > R ≥ 10, 表6)."""
    eid = import_enterprise(county, tmp_path, USCC[0], "甲氨化工", (0, 0),
                            **{"厂区边界(WKT)": rect(-100, -100, 100, 100)})
    import_inventory(county, tmp_path, USCC[0], [
        {"物质名称": "液氨", "CAS号": "7664-41-7", "最大储存量(吨)": 50, "生产储存单元": "罐区"},
        {"物质名称": "甲醇", "CAS号": "67-56-1", "最大储存量(吨)": 20, "生产储存单元": "罐区"}])
    residents(site, 20, x=300)
    site.building((50, 50), floors=3)          # dormitory inside the plant
    compute_now(county)
    result = explain_of(county, "enterprise", eid)
    assert result["details"]["persons_500m"] == 120 and result["details"]["alpha"] == 2.0
    assert (unit_of(result)["s"], unit_of(result)["r"], unit_of(result)["grade"]) == (5.04, 20.08, 3)
    assert "重大危险源三级（罐区：R=20.08，α=2）" in texts(result)
    assert "暴露人员按厂区边界外 500 m 内计（厂区边界已填报）：120 人，α=2" in texts(result)
    assert result["level"] == "orange"          # 三级 → 橙 (rules: enterprise.major_hazard_source.levels)
    reason = next(r for r in result["reasons"] if r["code"] == "enterprise.major_hazard_source")
    assert reason["clause"].startswith("GB 18218-2018 §4.2")


def test_propylene_oxide_200t_with_alpha_2_is_grade_2(county, site, tmp_path):
    """1,2-环氧丙烷: 表1 第63项, Q = 10 t; β = 1.5 — flammable liquid category 1 (flash point < 23 ℃, boiling point
    34 ℃ ≤ 35 ℃) → 表4 W5.1. q = 200 t → S = 20. No site polygon: boundary = point + 100 m (本地规定);
    20 two-storey houses at 300 m → 120 persons → α = 2. R = 2 × 1.5 × 20 = 60 → 二级 (100 > R ≥ 50) → 红."""
    eid = import_enterprise(county, tmp_path, USCC[1], "乙环氧化工", (0, 0))
    import_inventory(county, tmp_path, USCC[1], [{"物质名称": "1,2-环氧丙烷", "最大储存量(吨)": 200}])
    residents(site, 20, x=300)
    compute_now(county)
    result = explain_of(county, "enterprise", eid)
    assert (unit_of(result)["s"], unit_of(result)["r"], unit_of(result)["grade"]) == (20.0, 60.0, 2)
    assert unit_of(result)["lines"][0]["beta"] == 1.5
    assert result["level"] == "red"
    assert any(t.startswith("暴露人员按点位外扩 100 m 作为厂区边界") for t in texts(result))


def test_hydrochloric_acid_31_percent_is_not_anhydrous_hydrogen_chloride(county, tmp_path):
    """GB 18218-2018 表1 第11项 is 氯化氢（无水）, Q = 20 t. 31 % 盐酸 shares CAS 7647-01-0 but is not that entry;
    its hazard classes (skin corrosion, eye damage, STOT) are none of 表2's, so it is not counted: 60 t → Σq/Q = 0,
    not a major hazard source, and the explanation says why (the line is not dropped silently, nor flagged unknown)."""
    eid = import_enterprise(county, tmp_path, USCC[2], "丙盐酸库", (0, 0), **{"位于化工园区": "是"})
    import_inventory(county, tmp_path, USCC[2], [
        {"物质名称": "盐酸", "CAS号": "7647-01-0", "最大储存量(吨)": 60, "含量(%)": 31}])
    compute_now(county)
    result = explain_of(county, "enterprise", eid)
    assert unit_of(result)["s"] == 0 and unit_of(result)["grade"] is None
    assert not any(r["code"] == "enterprise.major_hazard_source" for r in result["reasons"])
    assert result["details"]["data_incomplete"] is False
    skipped = next(t for t in texts(result) if t.startswith("不计入 Σq/Q："))
    assert "盐酸（CAS 7647-01-0，含量 31%）60 t" in skipped and "不是表1的“氯化氢（无水）”" in skipped


def test_ammonium_nitrate_with_combustibles_is_a_major_hazard_and_an_unknown_grade_is_not_dropped(county, tmp_path):
    """硝酸铵（含可燃物>0.2%）: 表1 第43项, Q = 5 t. q = 20 t → Σq/Q = 20/5 = 4 ≥ 1 → major hazard source.
    (No residents → α = 0.5; β = 2, 表4 爆炸物 — the class taken for this entry is 本地规定 in the rules file;
    R = 0.5 × 2 × 4 = 4 → 四级.) A second enterprise lists 硝酸铵 without its combustible content: Table 1 has
    entries 43 (> 0.2 %, Q = 5) and 44 (≤ 0.2 %, Q = 50), so the line cannot be identified — it is shown as 未能辨识
    and the enterprise's data are flagged incomplete."""
    a = import_enterprise(county, tmp_path, USCC[3], "丁化肥", (0, 0))
    import_inventory(county, tmp_path, USCC[3], [
        {"物质名称": "硝酸铵", "CAS号": "6484-52-2", "最大储存量(吨)": 20, "可燃物含量(%)": 0.5}])
    b = import_enterprise(county, tmp_path, USCC[4], "戊化肥", (2000, 0))
    import_inventory(county, tmp_path, USCC[4], [{"物质名称": "硝酸铵", "CAS号": "6484-52-2", "最大储存量(吨)": 20}])
    compute_now(county)
    ra, rb = explain_of(county, "enterprise", a), explain_of(county, "enterprise", b)
    assert (unit_of(ra)["s"], unit_of(ra)["r"], unit_of(ra)["grade"]) == (4.0, 4.0, 4)
    assert unit_of(ra)["lines"][0]["source"].startswith("表1 第43项")
    assert rb["details"]["data_incomplete"] is True and unit_of(rb)["grade"] is None
    unknown = next(t for t in texts(rb) if t.startswith("未能辨识 1 条库存"))
    assert "硝酸铵（CAS 6484-52-2）20 t" in unknown and "第43项" in unknown and "第44项" in unknown


def test_diagnostic_score_by_the_guidelines_table(county, tmp_path):
    """应急〔2018〕19号 评估诊断分级表, hand-added (each item's deductions stop at its cap; bonuses added):
    固有危险性·重大危险源 (cap 10): no inventory, 备案三级 → −6.
    固有危险性·物质危险性 (cap 5): 1 吸入性剧毒 × 2 + 5 重点监管 × 0.1 = −2.5.
    固有危险性·危险化工工艺种类 (cap 10): 6 processes × 2 = 12 → capped: −10.
    周边环境 (cap 10): outside a chemical park 3 + distance assessment fails 10 = 13 → capped: −10.
    设计与评估: all units by a class-甲 institute: +2.
    设备 (cap 5): 1 obsolete process/equipment: −2.
    自控与安全设施 (cap 10): 2 places without gas detection: −2.
    人员资质 (cap 15): no registered safety engineer −3; 1 leader with a chemistry degree +2.
    应急管理: own full-time fire team +3.
    安全管理绩效 (cap 10): standardisation 三级 +2; an accident with 1 death in the last 3 years −8 (so no +5).
    Deductions 6 + 2.5 + 10 + 10 + 2 + 2 + 3 + 8 = 43.5; bonuses 2 + 2 + 3 + 2 = 9.
    Score = 100 − 43.5 + 9 = 65.5 → 橙 (60 ≤ score < 75). The level is orange (备案三级 → 橙 as well)."""
    eid = import_enterprise(county, tmp_path, USCC[5], "己精细化工", (0, 0), **{
        "备案重大危险源等级": 3, "重点监管危险化工工艺种数": 6, "重点监管危险化工工艺名称": "硝化、氯化、氟化、加氢、重氮化、氧化",
        "吸入性剧毒化学品种数": 1, "爆炸品种数": 0, "重点监管危险化学品种数": 5, "位于化工园区": "否",
        "外部安全防护距离符合要求": "不符合", "未开展反应安全风险评估": "否", "全部装置甲级资质设计": "是",
        "淘汰落后工艺设备项数": 1, "重点工艺未实现自动化控制": "否", "未设气体检测报警处数": 2,
        "未持安全合格证负责人数": 0, "配备注册安全工程师": "否", "化工类学历负责人数": 1, "专职消防队": "是",
        "安全生产标准化等级": 3, "新工艺未经试验直接生产": "否", "装置未经正规设计": "否", "特种作业人员未持证": "否"})
    with county.begin() as conn:          # the accident register row, written directly

        conn.execute(text("INSERT INTO accident (enterprise_id, occurred_on, deaths) VALUES (:e, :d, 1)"),
                     {"e": eid, "d": dt.date(2024, 11, 1)})
    compute_now(county)
    result = explain_of(county, "enterprise", eid)
    diag = result["details"]["diagnostic"]
    applied = {i["item"]: (i["deducted"], i["applied"], i["bonus"]) for i in diag["items"]}
    assert applied == {
        "major_hazard": (6, 6, 0), "substances": (2.5, 2.5, 0), "processes": (12, 10, 0),
        "surroundings": (13, 10, 0), "design": (0, 0, 2), "equipment": (2, 2, 0), "automation": (2, 2, 0),
        "personnel": (3, 3, 2), "emergency": (0, 0, 3), "performance": (8, 8, 2)}
    assert diag["score"] == 65.5 and diag["band"] == "orange"
    assert result["level"] == "orange"
    assert "安全风险诊断评分 65.5 分（橙 较大）" in texts(result)
    processes = next(t for t in texts(result) if t.startswith("固有危险性·危险化工工艺种类"))
    assert "（6 项） -12 分" in processes and "本项满分 10 分，扣完为止，实扣 10 分" in processes
    assert "按备案等级计：重大危险源三级（未填报危险化学品库存，无法按 GB 18218-2018 复核）" in texts(result)
    assert diag["direct_red"] == []
    assert any(item.startswith("固有危险性·火灾爆炸危险性") and "本系统未收录此项数据" in item
               for item in diag["not_scored"])
    reason = next(r for r in result["reasons"] if r["code"] == "diagnostic.processes")
    assert reason["clause"].startswith("应急〔2018〕19号 评估诊断分级表 一、固有危险性·危险化工工艺种类")


@pytest.mark.parametrize(("facts", "accidents", "condition"), [
    ({"新工艺未经试验直接生产": "是"}, [], "untrialled_process"),
    ({"特种作业人员未持证": "是"}, [], "special_operators"),
    ({}, [dt.date(2026, 3, 1), dt.date(2026, 8, 1)], "accidents"),    # two fatal general accidents within a year
])
def test_direct_red_conditions_override_the_score(county, tmp_path, facts, accidents, condition):
    """应急〔2018〕19号 直接判定为红色: whatever the score (here 100, standardisation 一级 in a chemical park), any of the
    four conditions makes the enterprise red."""
    eid = import_enterprise(county, tmp_path, USCC[6], "庚化工", (0, 0),
                            **{"位于化工园区": "是", "安全生产标准化等级": 1, **facts})
    with county.begin() as conn:
        for day in accidents:
            conn.execute(text("INSERT INTO accident (enterprise_id, occurred_on, deaths) VALUES (:e, :d, 1)"),
                         {"e": eid, "d": day})
    compute_now(county)
    result = explain_of(county, "enterprise", eid)
    assert result["level"] == "red"
    assert result["details"]["diagnostic"]["direct_red"] == [condition]
    assert any(t.startswith("直接判定为红色：") for t in texts(result))


def test_registered_grade_is_used_when_the_inventory_grades_lower(county, site, tmp_path):
    """Registered (备案) 二级; the inventory gives 液氨 20 t, 120 persons → α = 2, R = 2 × 2 × 2 = 8 → 四级 (GB 18218-2018
    表6). The more severe registered grade is used (一级/二级 → 红) and the explanation names the difference; the
    diagnostic deducts −8 for 二级 (应急〔2018〕19号 重大危险源)."""
    eid = import_enterprise(county, tmp_path, USCC[7], "辛液氨库", (0, 0), **{"备案重大危险源等级": 2})
    import_inventory(county, tmp_path, USCC[7], [{"物质名称": "液氨", "最大储存量(吨)": 20}])
    residents(site, 20, x=300)
    compute_now(county)
    result = explain_of(county, "enterprise", eid)
    assert unit_of(result)["grade"] == 4
    assert result["level"] == "red"
    assert "按备案等级计：重大危险源二级；库存辨识结果为四级，低于备案等级，请核对库存或备案" in texts(result)
    assert result["details"]["diagnostic"]["deductions"][0] == {"item": "major_hazard", "item_label": "重大危险源",
                                                                 "points": 8}


def test_site_boundary_edited_online_is_used_for_alpha(county, site, tmp_path):
    """The 厂区边界 drawn in the editor (geo.edit, GeoJSON polygon) replaces the 100 m default: with a 600 m × 600 m
    site the 20 houses at 300 m are inside the plant, so nobody is outside within 500 m → α = 0.5 (表5)."""
    eid = import_enterprise(county, tmp_path, USCC[8], "壬化工", (0, 0))
    import_inventory(county, tmp_path, USCC[8], [{"物质名称": "液氯", "最大储存量(吨)": 10}])
    residents(site, 20, x=300)
    compute_now(county)
    assert explain_of(county, "enterprise", eid)["details"]["alpha"] == 2.0
    ring = [list(lonlat(x, y)) for x, y in ((-350, -350), (350, -350), (350, 350), (-350, 350), (-350, -350))]
    with county.begin() as conn:
        version = conn.execute(text("SELECT version FROM enterprise WHERE id = :i"), {"i": eid}).scalar_one()
        update_feature(conn, "enterprise", eid, version=version, properties={
            "site_boundary": {"type": "Polygon", "coordinates": [ring]}, "registered_major_hazard_grade": 4,
            "external_distance_ok": True})
    compute_now(county)
    result = explain_of(county, "enterprise", eid)
    assert result["details"]["persons_500m"] == 0 and result["details"]["alpha"] == 0.5
    assert result["details"]["site_boundary"] is True


# ----------------------------------------------------------------------------------------------------
# Pipelines
# Worked examples for pipelines, each checked by hand: a bureau imports or enters the data, computes, and reads
# the explanation (real PostGIS; distances in the county's Gauss–Krüger zone, EPSG:4546).

def write_rows_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def segments(engine, pipeline_id: int) -> list[dict]:
    """Every segment of the pipeline with its current assessment, in chainage order."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT s.id, s.from_m, s.to_m, a.level, a.details FROM pipeline_segment s "
                                 "JOIN risk_assessment a ON a.kind = 'pipeline_segment' AND a.object_id = s.id "
                                 "AND a.valid_to IS NULL WHERE s.pipeline_id = :p ORDER BY s.seq"),
                            {"p": pipeline_id}).mappings().all()
    return [dict(r) for r in rows]


def segment_at(engine, pipeline_id: int, m: float) -> dict:
    return next(s for s in segments(engine, pipeline_id) if s["from_m"] <= m < s["to_m"])


def pipeline_id(engine, code: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT id FROM pipeline WHERE code = :c"), {"c": code}).scalar_one())


def test_impact_radius_of_a_1016mm_line_uses_its_maop(site, county, tmp_path):
    """GB 32167-2015 §6.1.2 式(1): r = 0.099·√(d²·p), d outside diameter (mm), p maximum allowable operating
    pressure (MPa). 1016 mm at MAOP 10 MPa: r = 0.099 × √(1016² × 10) = 0.099 × 1016 × 3.16228 = 318.07 m.
    The line is imported from a ledger with 设计压力 12 MPa and 最大允许操作压力 10 MPa: the MAOP is used and named.
    A second line with only a design pressure of 10 MPa gives the same radius and says it used the design pressure."""
    path = write_rows_csv(tmp_path / "管道.csv",
                     ["管道编号", "管道名称", "输送介质", "设计压力(MPa)", "最大允许操作压力(MPa)", "管径(mm)", "几何(WKT)"],
                     [["GX1", "示例干线", "天然气", 12, 10, 1016, line((0, 0), (2000, 0))],
                      ["GX2", "示例支线", "天然气", 10, "", 1016, line((0, 3000), (2000, 3000))]])
    assert import_file(county, "pipeline", path).inserted == 2
    compute_now(county)
    with_maop = explain_of(county, "pipeline_segment", segment_at(county, pipeline_id(county, "GX1"), 500)["id"])
    design = explain_of(county, "pipeline_segment", segment_at(county, pipeline_id(county, "GX2"), 500)["id"])
    assert with_maop["details"]["impact_radius_m"] == 318.07 and with_maop["details"]["pressure_used"] == "maop"
    assert "潜在影响半径 318.07 m（外径 1016 mm，最大允许操作压力 10 MPa）" in texts(with_maop)
    assert "潜在影响半径 318.07 m（外径 1016 mm，设计压力 10 MPa；未填最大允许操作压力，按设计压力计）" in texts(design)
    reason = next(r for r in with_maop["reasons"] if r["code"] == "pipeline.impact_radius")
    assert reason["clause"].startswith("GB 32167-2015 §6.1.2 式(1)")
    # The operator lowers the MAOP to 8 MPa and the ledger is re-imported (update): 0.099 × 1016 × √8 = 284.49 m.
    path = write_rows_csv(tmp_path / "管道更新.csv", ["管道编号", "管道名称", "输送介质", "设计压力(MPa)",
                                                 "最大允许操作压力(MPa)", "管径(mm)", "几何(WKT)"],
                     [["GX1", "示例干线", "天然气", 12, 8, 1016, line((0, 0), (2000, 0))]])
    assert import_file(county, "pipeline", path, update=True).updated == 1
    compute_now(county)
    again = explain_of(county, "pipeline_segment", segment_at(county, pipeline_id(county, "GX1"), 500)["id"])
    assert "潜在影响半径 284.49 m（外径 1016 mm，最大允许操作压力 8 MPa）" in texts(again)


def test_120_houses_make_class_3_and_hca_ii_only_200m_beyond_the_outermost_houses(site, county):
    """GB 50251-2015 §4.2 and GB 32167-2015 表2 b, §6.1.1.2. A 10 km gas line along x (chainage = x).
    120 one-storey houses (4 m squares), 60 each side 100 m off the line at x = 5010, 5014.6 … 5281.4:
    one household each (农村每一独立户), 120 ≥ 100 within the best 2 km window → 三级地区 → HCA Ⅱ (orange).
    The area ends 200 m from the outer edge of the outermost houses: 5010 − 2 − 200 = 4808 m to
    5281.4 + 2 + 200 = 5483.4 m (K4+808 to K5+483), so the segments 4.8–5.5 km carry it and no other segment does
    (a 2 km window alone would have reached from 3.0 to 7.3 km)."""
    pid = site.pipeline("G1", [(0, 0), (10000, 0)])
    for i in range(60):
        for y in (100, -100):
            site.building((5010 + 4.6 * i, y), size_m=4)
    compute_now(county)
    inside = [s for s in segments(county, pid) if 4800 <= s["from_m"] and s["to_m"] <= 5500.5]
    outside = [s for s in segments(county, pid) if s["to_m"] <= 4800.5 or s["from_m"] >= 5499.5]
    assert len(inside) == 7 and len(outside) == 93
    assert {(s["details"]["class_location"], s["details"].get("hca_grade"), s["level"]) for s in inside} == {
        (3, 2, "orange")}
    assert {(s["details"]["class_location"], s["details"].get("hca_grade"), s["level"]) for s in outside} == {
        (0, None, "blue")}
    r = explain_of(county, "pipeline_segment", inside[3]["id"])
    assert "高后果区Ⅱ级（输气管道经过三级地区）" in texts(r)
    assert "三级地区（中心线两侧 200 m、2 km 内最多 120 户；地段里程 K4+808 至 K5+483，两端距最外侧建筑 200 m）" in texts(r)


def test_a_multi_storey_building_counts_its_dwelling_units(site, county, tmp_path):
    """GB 50251-2015 §4.2 counts every dwelling unit (每一独立户). A six-storey block imported with 户数 120 counts
    120 households → 三级地区 (≥ 100) → HCA Ⅱ. The same block without 户数 counts 6 floors × 4 units per floor
    (本地规定, rules file) = 24 households → 二级地区 (> 15, < 100), not an HCA."""
    a = site.pipeline("GA", [(0, 0), (3000, 0)])
    b = site.pipeline("GB", [(0, 6000), (3000, 6000)])
    path = write_rows_csv(tmp_path / "建筑.csv", ["建筑编号", "用途", "层数", "户数", "几何(WKT)"],
                     [["JZ-1", "住宅", 6, 120, rect(1480, 60, 1520, 80)],
                      ["JZ-2", "住宅", 6, "", rect(1480, 6060, 1520, 6080)]])
    assert import_file(county, "building", path).inserted == 2
    compute_now(county)
    ra = explain_of(county, "pipeline_segment", segment_at(county, a, 1500)["id"])
    rb = explain_of(county, "pipeline_segment", segment_at(county, b, 1500)["id"])
    assert (ra["details"]["class_location"], ra["details"]["households_2km"], ra["level"]) == (3, 120, "orange")
    assert (rb["details"]["class_location"], rb["details"]["households_2km"], rb["level"]) == (2, 24, "blue")
    assert any(t.startswith("二级地区（中心线两侧 200 m、2 km 内最多 24 户") for t in texts(rb))


def test_an_encroachment_on_pipeline_a_colours_only_a(site, county):
    """石油天然气管道保护法 第三十条. Pipelines A (y = 0) and B (y = 6) run side by side. Register item ZY-A on A lies
    at (1050, 9): 9 m from A, 3 m from B. It colours A's nearest segment (1000–1100) red and nothing of B."""
    a = site.pipeline("A", [(0, 0), (2000, 0)])
    b = site.pipeline("B", [(0, 6), (2000, 6)])
    site.encroachment("ZY-A", (1050, 9), pipeline_id=a)
    compute_now(county)
    assert [s["level"] for s in segments(county, a)].count("red") == 1
    assert segment_at(county, a, 1050)["level"] == "red"
    assert {s["level"] for s in segments(county, b)} == {"blue"}
    assert "未销号占压 1 处（台账编号 ZY-A，距中心线 9 m）" in texts(
        explain_of(county, "pipeline_segment", segment_at(county, a, 1050)["id"]))


def test_a_run_of_hca_segments_and_a_mine_with_its_enterprise_count_once(site, county):
    """Roll-up (本地规定; 就高). Township 甲镇 0–12 km × −2–2 km = 48 km² holds a 10 km gas line with 120 houses
    at 5.0–5.3 km: segments 4.8–5.5 km are one HCA Ⅱ stretch (7 orange segments → 1 orange object); the blue
    segments before and after are two runs (2 blue objects). A quarry and the enterprise that runs it are one
    object (yellow: 在产矿山 重点行业领域). Counts: 红 0、橙 1、黄 1、蓝 2; red+orange 1/48 km² = 0.02 < 0.2,
    no raise → orange (highest, 就高)."""
    t = site.township("140930100000", "甲镇", -1000, -2000, 11000, 2000)
    pid = site.pipeline("G1", [(0, 0), (10000, 0)])
    for i in range(60):
        for y in (100, -100):
            site.building((5010 + 4.6 * i, y), size_m=4)
    owner = site.enterprise("示例采石有限公司", "non_coal_mine", (2000, 1500))
    site.mine("示例采石场", rect(1800, 1300, 2200, 1700), enterprise_id=owner)
    compute_now(county)
    assert [s["level"] for s in segments(county, pid)].count("orange") == 7
    r = explain_of(county, "township", t)
    assert r["details"]["counts"] == {"red": 0, "orange": 1, "yellow": 1, "blue": 2}
    assert r["level"] == "orange"
    assert "按对象计（同一管道相邻同因管段、矿山及其企业各计 1 个）：红 0 个、橙 1 个、黄 1 个、蓝 2 个" in texts(r)
    assert texts(r)[0] == "就高：取辖区内对象的最高等级 橙 较大（测试管道G1 第49–55段：高后果区Ⅱ级（输气管道经过三级地区））"


def test_the_legend_says_how_areas_are_rolled_up():
    """The map legend names the roll-up method (就高, 本地规定) and how objects are counted."""
    from geo.features import COUNTED_KINDS, LEVELS
    from layers.legend import legend_html

    html = legend_html({k: {lv: 0 for lv in LEVELS} for k in COUNTED_KINDS}, title="河曲县", illustrative=False)
    assert "区域等级按“就高”原则汇总" in html and "同一管道相邻同因管段、矿山及其企业各计 1 个对象" in html


@pytest.mark.parametrize("d_mm,p_mpa,r_m", [(1016, 10, 318.07)])
def test_the_radius_formula_by_hand(d_mm, p_mpa, r_m):
    """0.099 × √(1016² × 10) = 0.099 × 3212.86 = 318.07 m (GB 32167-2015 §6.1.2 式(1))."""
    from geo.risk.pipeline import impact_radius_m

    assert round(impact_radius_m(diameter_mm=d_mm, pressure_mpa=p_mpa), 2) == r_m


# ----------------------------------------------------------------------------------------------------
# Protection zones, 越界开采 and inspection caps
# Worked examples: pipeline protection zones, 越界开采 tolerance and the annual cap on inspections.
#
# Each example is a small constructed site in 河曲县 (metres east/north of 111.30°E 39.20°N, EPSG:4546, stored in
# EPSG:4490) in a real PostGIS; the docstring gives the reasoning and the clause the result must cite.
#

ZONES = load_zones()


def _found(county, **kw) -> dict[tuple[str, int], list]:
    with county.connect() as conn:
        out: dict[tuple[str, int], list] = {}
        for c in find_encroachments(conn, **kw):
            out.setdefault((c.feature_type, c.feature_id), []).append(c)
    return out


def _road(site, *points: tuple[float, float]) -> int:
    return site._insert("INSERT INTO road (geom) VALUES (ST_GeometryN(ST_GeomFromText(:g, 4490), 1))",
                        g=line(*points))


def test_a_road_across_a_pipeline_is_a_crossing_not_an_encroachment(site, county):
    """A road crosses a gas line at right angles: distance 0. Crossing a pipeline is a works permit matter —
    石油天然气管道保护法 第三十五条第（一）项 (穿跨越管道的施工作业) — kind 交叉穿越, never 占压 (Art 30 is about
    buildings and digging inside the 5 m strip, not a road passing over the line)."""
    site.pipeline("G1", [(-1000, 0), (1000, 0)])
    road = _road(site, (0, -300), (0, 300))
    found = _found(county)[("road", road)]
    assert [c.zone for c in found] == ["road_crossing"]
    zone = ZONES.by_code("road_crossing")
    assert (zone.kind, zone.clause) == ("crossing", "石油天然气管道保护法 第三十五条第（一）项")
    assert found[0].distance_m == 0.0


def test_a_house_3_m_off_the_centreline_is_an_encroachment_under_article_30(site, county):
    """A 10 m house whose near wall is 3 m from the centreline stands inside the 5 m strip where 第三十条第（三）项
    forbids 建房以及修建其他建筑物、构筑物 → 占压 (kind encroachment), 3 m."""
    site.pipeline("G1", [(-1000, 0), (1000, 0)])
    house = site.building((0, 8))  # 10 m footprint: y from 3 to 13
    (c,) = _found(county)[("building", house)]
    assert c.zone == "zone_5m" and round(c.distance_m, 3) == 3.0
    zone = ZONES.by_code("zone_5m")
    assert (zone.kind, zone.clause) == ("encroachment", "石油天然气管道保护法 第三十条第（三）项")


def test_a_house_near_an_oil_line_is_judged_by_the_oil_design_code_never_article_35_2(site, county):
    """Beyond 5 m the law fixes no distance for buildings; Art 35(2) (5–50 m) lists railways, roads, canals, power
    lines and cables — not buildings. So a house 30 m from a crude line is judged by GB 50253's separation
    (15 m kept as 本地规定（可在规则文件中修改）): no finding at 30 m, one at 12 m citing GB 50253, and neither ever
    cites 第三十五条第（二）项."""
    site.pipeline("Y1", [(-1000, 0), (1000, 0)], medium="crude")
    at_30 = site.building((0, 35))   # near wall 30 m off
    at_12 = site.building((300, 17))  # near wall 12 m off
    found = _found(county)
    assert ("building", at_30) not in found
    (c,) = found[("building", at_12)]
    zone = ZONES.by_code(c.zone)
    assert c.zone == "oil_building" and round(c.distance_m, 3) == 12.0
    assert zone.clause.startswith("GB 50253") and "本地规定（可在规则文件中修改）" in zone.clause
    cited = {ZONES.by_code(c.zone).clause for cs in found.values() for c in cs if c.feature_type == "building"}
    assert not any("第三十五条第（二）项" in clause for clause in cited)


def test_a_quarry_300_m_from_a_river_crossing_is_an_article_32_finding(site, county):
    """A gas line runs north–south and crosses a river running west–east at the origin. A quarry's workings begin
    300 m east of the crossing, along the river: inside 第三十二条's 500 m each side of the crossing (禁止采石),
    and 300 m from the centreline — outside Art 35(3)'s 200 m. The same mine's licence alone (no workings) would be
    no finding: the law is about mining, so distances are measured from the workings."""
    site.pipeline("G2", [(0, -2000), (0, 2000)])
    site._insert("INSERT INTO waterway (name, geom) VALUES ('黄河', ST_GeomFromText(:g, 4490))",
                 g=line((-3000, 0), (3000, 0)))
    quarry = site.mine("河滩采石场", rect(250, -100, 600, 100), workings=rect(300, -20, 340, 20))
    licence_only = site.mine("未开采矿区", rect(-100, 500, 100, 700))  # a licence across the pipeline, no workings
    found = _found(county)
    zones = {c.zone: c for c in found[("mine", quarry)]}
    assert set(zones) == {"river_500m"}
    assert round(zones["river_500m"].distance_m, 1) == 300.0  # the crossing point is found in lon/lat: ±3 mm
    assert ZONES.by_code("river_500m").clause == "石油天然气管道保护法 第三十二条"
    assert ("mine", licence_only) not in found


def test_a_quarry_800_m_from_a_pipeline_tunnel_is_an_article_33_finding(site, county):
    """A pipeline tunnel 400 m long; workings 800 m east of its centreline: inside 第三十三条's 1,000 m each side
    (禁止采石、采矿、爆破), far outside Art 35(3)'s 200 m of the line."""
    pid = site.pipeline("G3", [(0, -2000), (0, 2000)])
    site._insert("INSERT INTO pipeline_tunnel (pipeline_id, name, geom) VALUES (:p, '隧道', ST_GeomFromText(:g, 4490))",
                 p=pid, g=line((0, -200), (0, 200)))
    quarry = site.mine("山脚采石场", rect(800, -50, 900, 50), workings=rect(800, -50, 900, 50))
    (c,) = _found(county)[("mine", quarry)]
    assert c.zone == "tunnel_1000m" and round(c.distance_m, 3) == 800.0
    assert ZONES.by_code("tunnel_1000m").clause == "石油天然气管道保护法 第三十三条"


def test_a_half_metre_sliver_along_the_licence_boundary_is_not_over_boundary(site, county):
    """Workings drawn 0.5 m past a 1,000 m licence edge: 500 m² (0.05 ha) outside — above the 0.01 ha area
    tolerance but only 0.5 m deep, under the 5 m depth tolerance (digitising and datum differences, 本地规定).
    Both must be exceeded, so it is not 越界开采: the mine stays at its base colour."""
    mid = site.mine("边界采石场", rect(0, 0, 1000, 1000), workings=rect(0, 0, 1000.5, 1000))
    compute_now(county)
    r = explain_of(county, "mine", mid)
    assert r["level"] == "yellow"
    assert not any("越界" in t for t in texts(r))


def test_a_50_m_deep_overreach_of_half_a_hectare_is_red_with_area_and_depth(site, county):
    """Workings 900–1050 × 0–100 m on a 0–1000 m licence: the part outside is 50 m × 100 m = 5 000 m² = 0.5 ha,
    reaching 50 m beyond the boundary — both above the tolerance → 越界开采 (矿产资源法 第四十条), red, and the
    explanation gives the area and the depth."""
    mid = site.mine("越界采石场", rect(0, 0, 1000, 1000), workings=rect(900, 0, 1050, 100))
    compute_now(county)
    r = explain_of(county, "mine", mid)
    assert r["level"] == "red"
    assert "越界开采 0.5 公顷，最远越出矿区范围 50 m" in texts(r)
    reason = next(x for x in r["reasons"] if x["text"].startswith("越界开采"))
    assert "矿产资源法" in reason["clause"] and "第四十条" in reason["clause"]


def test_an_enterprise_at_its_annual_cap_is_not_due_and_the_reason_says_so(site, county):
    """Two unrated (blue-frequency) enterprises last inspected on 2026-03-02, due again by the monthly rule in week
    2026-W48. The shipped cap for blue units is 1 inspection a year (本地规定 following 国办发〔2024〕54号's call for
    published caps): the one inspected this year is held back, with the reason; the other, last inspected in
    2025, is due."""
    capped = site.enterprise("已检企业", "hazchem", (0, 0))
    fresh = site.enterprise("去年检查企业", "hazchem", (100, 0))
    for eid, day in ((capped, dt.date(2026, 3, 2)), (fresh, dt.date(2025, 12, 2))):
        site.conn.execute(text("INSERT INTO inspection (enterprise_id, inspected_on) VALUES (:e, :d)"),
                          {"e": eid, "d": day})
    week = (dt.date(2026, 11, 23), dt.date(2026, 11, 29))
    with county.connect() as conn:
        due = {s.item.enterprise_id for s in load_due(conn, *week)}
        listed = {s.item.enterprise_id: s.item for s in load_due(conn, *week, with_held=True)}
    assert capped not in due and fresh in due
    held = listed[capped]
    assert held.held_back
    assert ("已达年度行政检查次数上限（蓝色企业每年不超过 1 次，2026 年已检查 1 次），本期不安排"
            "（国办发〔2024〕54号 严格控制涉企行政检查频次；上限为本地规定）") in held.reasons


def test_a_red_non_coal_mine_at_its_cap_is_held_back_but_an_overdue_hazard_still_calls(site, county):
    """Non-coal mines have their own caps (red ≤4 a year, the Shanxi 2025 pattern, 本地规定). A red mine
    with 4 inspections this year is held back; one with an overdue hazard (a problem lead) is still due, and its
    reasons say the cap was reached."""
    week = (dt.date(2026, 11, 23), dt.date(2026, 11, 29))
    last = dt.date(2026, 11, 1)
    units = [EnterpriseStatus(1, "甲矿", "red", last, category="non_coal_mine", inspections_this_year=4),
             EnterpriseStatus(2, "乙矿", "red", last, overdue_hazards=True, category="non_coal_mine",
                              inspections_this_year=4),
             EnterpriseStatus(3, "丙矿", "red", last, category="non_coal_mine", inspections_this_year=3)]
    items = {i.enterprise_id: i for i in list_due_and_held(units, *week)}
    assert items[1].held_back and "红色非煤矿山企业每年不超过 4 次" in items[1].reason_text
    assert not items[2].held_back and "因逾期隐患或新发现占压的问题线索仍安排" in items[2].reason_text
    assert not items[3].held_back
