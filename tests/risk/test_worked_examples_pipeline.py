"""Worked examples for pipelines, each checked by hand: a bureau imports or enters the data, computes, and reads
the explanation (real PostGIS; distances in the county's Gauss–Krüger zone, EPSG:4546)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import text

from geo.io.importer import import_file
from riskfix import compute_now, explain_of, line, rect, texts


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
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
    path = write_csv(tmp_path / "管道.csv",
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
    path = write_csv(tmp_path / "管道更新.csv", ["管道编号", "管道名称", "输送介质", "设计压力(MPa)",
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
    path = write_csv(tmp_path / "建筑.csv", ["建筑编号", "用途", "层数", "户数", "几何(WKT)"],
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
