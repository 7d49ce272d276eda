"""Worked examples a bureau can check by hand: hazardous-chemical enterprises imported from the bureau's tables,
computed and explained on real PostGIS (GB 18218-2018 §4.2–4.3 表1–表6; 应急〔2018〕19号 评估诊断分级表).

Enterprises and inventories go through the real importer (geo.io.importer.import_file, CSV with Chinese headers);
buildings are placed with riskfix.Site in metres around the test origin.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from geo.edit import update_feature
from geo.io.importer import import_file
from geo.uscc import make_uscc
from riskfix import Site, compute_now, explain_of, lonlat, rect, texts

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
