"""A pipeline, cut into 100 m segments, reads its class location, high-consequence grade and encroachments."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from geo.risk.pipeline import impact_radius_m
from riskfix import NOW, TODAY, compute_now, explain_of, line, texts


@pytest.mark.parametrize(("d_mm", "p_mpa", "r_m"), [(762, 6.9, 198.2), (273, 1.6, 34.2), (1016, 10, 318.1),
                                                    (508, 6.3, 126.2)])
def test_potential_impact_radius(d_mm, p_mpa, r_m):
    """GB 32167-2015 eq. 1, r = 0.099·√(d²·p): 762 mm/6.9 MPa → 0.099 × 762 × √6.9 = 0.099 × 762 × 2.6268 = 198.2 m;
    273/1.6 → 0.099 × 273 × 1.2649 = 34.2 m; 1016/10 → 0.099 × 1016 × 3.1623 = 318.1 m;
    508/6.3 → 0.099 × 508 × 2.5100 = 126.2 m."""
    assert round(impact_radius_m(diameter_mm=d_mm, pressure_mpa=p_mpa), 1) == r_m


def segments(engine, pipeline_id):
    with engine.connect() as conn:
        return conn.execute(text("SELECT id, seq, from_m, to_m, township_id FROM pipeline_segment "
                                 "WHERE pipeline_id = :p ORDER BY seq"), {"p": pipeline_id}).all()


def segment_at(engine, pipeline_id, measure_m):
    return next(s for s in segments(engine, pipeline_id) if s.from_m <= measure_m < s.to_m)


def test_segments_are_100m_and_split_at_township_boundaries(site, county):
    """A 1 050 m line crossing from township A (x < 430) into B: cuts every 100 m plus one at 430 m →
    0–100 … 400–430, 430–500 … 1000–1050: 12 segments; the 400–430 piece lies in A, 430–500 in B.
    Measures are metres in EPSG:4546 (tolerance 0.5 m for the reprojected line)."""
    a = site.township("140930100000", "甲镇", -2000, -2000, 430, 2000)
    b = site.township("140930101000", "乙镇", 430, -2000, 3000, 2000)
    pid = site.pipeline("G1", [(0, 0), (1050, 0)])
    compute_now(county)
    segs = segments(county, pid)
    assert len(segs) == 12
    assert [round(s.to_m - s.from_m) for s in segs] == [100, 100, 100, 100, 30, 70, 100, 100, 100, 100, 100, 50]
    assert [s.township_id for s in segs[3:6]] == [a, a, b]
    assert segs[-1].to_m == pytest.approx(1050, abs=0.5)


def test_recompute_keeps_segment_ids(site, county):
    """Unchanged pipelines keep their segments (and so their history) across runs."""
    pid = site.pipeline("G1", [(0, 0), (500, 0)])
    compute_now(county)
    before = segments(county, pid)
    compute_now(county)
    assert segments(county, pid) == before


def houses(site, xs, *, y=50, floors=1):
    for x in xs:
        site.building((x, y), floors=floors)


def test_class_location_counts_households_in_the_best_2km_window(site, county):
    """GB 50251-2015 §4.2: 200 m each side, the 2 km window with the most dwellings decides the class; the class
    area ends 200 m from the outer edge of the outermost building.
    16 one-storey houses (10 m squares) at x = 0, 100 … 1500, 50 m north; the line starts at x = −1000, so their
    chainages are 1000 … 2500. Window [1000, 3000] holds 16 > 15 → 二级. The stretch: 1000 − 5 − 200 = 795 m to
    2500 + 5 + 200 = 2705 m: segments 700–800 and 2700–2800 touch it (二级), 600–700 and 2800–2900 do not (一级一类).
    Houses 260 m off the line never count."""
    pid = site.pipeline("G1", [(-1000, 0), (6000, 0)], diameter_mm=273, pressure_mpa=4.0)
    houses(site, range(0, 1600, 100))
    houses(site, range(3000, 6000, 50), y=260)
    compute_now(county)

    def cls(m):
        return explain_of(county, "pipeline_segment", segment_at(county, pid, m).id)["details"]["class_location"]

    assert [cls(m) for m in (650, 750, 1750, 2750, 2850, 4550)] == [0, 2, 2, 2, 0, 0]
    r = explain_of(county, "pipeline_segment", segment_at(county, pid, 1750).id)
    assert r["details"]["class_stretch_m"] == [pytest.approx(795, abs=1), pytest.approx(2705, abs=1)]


def test_fifteen_households_stay_class_1(site, county):
    """≤ 15 households → 一级二类 (class 1); the 16th house makes it 二级 (previous test)."""
    pid = site.pipeline("G1", [(0, 0), (3000, 0)])
    houses(site, range(0, 1500, 100))
    compute_now(county)
    seg = segment_at(county, pid, 700)
    assert explain_of(county, "pipeline_segment", seg.id)["details"]["class_location"] == 1


def test_apartment_blocks_make_class_3_and_a_grade_ii_hca(site, county):
    """9 six-storey blocks at x = 100…900 with no 户数 recorded count 6 floors × 4 units per floor (rules,
    本地规定) = 24 each; 40 houses at x = 0, 50 … 1950. Best window [0, 2000]: 9 × 24 + 40 = 256 ≥ 100 → 三级地区,
    from x = 0 − 5 − 200 (clipped to the line's start, 0) to 1950 + 5 + 200 = 2155 m. Four-storey share never reaches 0.5 in any window
    holding ≥ 10 buildings (at most 9/28 = 0.32, window [−1100, 900]) → not 四级. Gas row b → HCA Ⅱ → orange."""
    pid = site.pipeline("G1", [(0, 0), (3000, 0)])
    houses(site, range(100, 1000, 100), floors=6, y=80)
    houses(site, range(0, 2000, 50), y=-60)
    compute_now(county)
    r = explain_of(county, "pipeline_segment", segment_at(county, pid, 500).id)
    assert r["details"]["class_location"] == 3
    assert r["level"] == "orange"
    assert "高后果区Ⅱ级（输气管道经过三级地区）" in texts(r)
    assert "三级地区（中心线两侧 200 m、2 km 内最多 256 户；地段里程 K0+000 至 K2+155，两端距最外侧建筑 200 m）" in texts(r)


def test_tall_buildings_common_make_class_4_and_grade_iii(site, county):
    """12 five-storey blocks (share 100 %, ≥ 10 buildings) → 四级地区 → gas row a → HCA Ⅲ → red."""
    pid = site.pipeline("G1", [(0, 0), (3000, 0)])
    houses(site, range(100, 1300, 100), floors=5)
    compute_now(county)
    r = explain_of(county, "pipeline_segment", segment_at(county, pid, 500).id)
    assert (r["details"]["class_location"], r["details"]["hca_grade"], r["level"]) == (4, 3, "red")


def test_school_inside_the_impact_circle_of_a_large_line(site, county):
    """1016 mm / 10 MPa design pressure (no MAOP recorded) → r = 0.099 × 1016 × √10 = 318.07 m (> 762 mm and
    > 6.9 MPa: GB 32167-2015 表2 c, Ⅱ per P1/P3). A school 300 m away is
    inside → HCA Ⅱ → orange; the segment by a school 330 m away is not an HCA → blue."""
    pid = site.pipeline("G1", [(0, 0), (4000, 0)], diameter_mm=1016, pressure_mpa=10)
    site.building((500, 305), use="school", floors=3)
    site.building((3500, 335), use="school", floors=3)
    compute_now(county)
    near = explain_of(county, "pipeline_segment", segment_at(county, pid, 500).id)
    far = explain_of(county, "pipeline_segment", segment_at(county, pid, 3500).id)
    assert near["level"] == "orange" and near["details"]["impact_radius_m"] == 318.07
    assert "潜在影响半径 318.07 m（外径 1016 mm，设计压力 10 MPa；未填最大允许操作压力，按设计压力计）" in texts(near)
    assert far["level"] == "blue"


def test_other_gas_line_with_hospital_within_200m_is_grade_i(site, county):
    """508 mm / 6.3 MPa is neither row c nor d → row e: 特定场所 within 200 m → HCA Ⅰ (P3/P5) → yellow."""
    pid = site.pipeline("G1", [(0, 0), (2000, 0)])
    site.building((1000, 155), use="hospital", floors=4)
    compute_now(county)
    r = explain_of(county, "pipeline_segment", segment_at(county, pid, 1000).id)
    assert r["level"] == "yellow" and r["details"]["hca_grade"] == 1


def test_register_items_colour_their_pipelines_nearest_segment(site, county):
    """石油天然气管道保护法 第三十条: an open 占压 in the register on G1 → G1's nearest segment red; 安全距离不足 →
    orange (本地规定). The register names the pipeline, so an item 8 m off the line still counts on it; a closed
    (销号) item does not; an item with no pipeline named counts only within the 5 m band."""
    pid = site.pipeline("G1", [(0, 0), (2000, 0)])
    site.encroachment("ZY-1", (250, 3), pipeline_id=pid)
    site.encroachment("ZY-2", (750, 8), pipeline_id=pid)
    site.encroachment("ZY-3", (1250, 1), pipeline_id=pid, status="closed")
    site.encroachment("ZY-4", (1750, -2), pipeline_id=pid, kind="insufficient_distance")
    site.encroachment("ZY-5", (1450, 4))
    site.encroachment("ZY-6", (1050, 9))
    compute_now(county)
    levels = [explain_of(county, "pipeline_segment", segment_at(county, pid, m).id)["level"]
              for m in (250, 750, 1250, 1750, 1450, 1050)]
    assert levels == ["red", "red", "blue", "orange", "red", "blue"]
    assert "未销号占压 1 处（台账编号 ZY-1，距中心线 3 m）" in texts(explain_of(county, "pipeline_segment",
                                                                  segment_at(county, pid, 250).id))


def test_mine_within_200m_and_crossings(site, county):
    """An operating quarry working 150 m from the line → orange (第三十五条第（三）项); a crossing pipeline → yellow.
    A second mine whose licence polygon reaches 50 m from the line but whose workings are 400 m off is no mining
    within 200 m: it is not counted (the law regulates the mining, not the licence boundary)."""
    from riskfix import rect
    pid = site.pipeline("G1", [(0, 0), (2000, 0)])
    site.pipeline("G2", [(1550, -500), (1550, 500)])
    site.mine("采石场", rect(400, 150, 600, 350), workings=rect(420, 150, 580, 300))
    site.mine("远采点", rect(1000, -450, 1200, -50), workings=rect(1050, -600, 1150, -400))
    compute_now(county)
    r = explain_of(county, "pipeline_segment", segment_at(county, pid, 500).id)
    assert r["level"] == "orange" and "1 处矿山在管道 200 m 内（采石场）" in texts(r)
    far = explain_of(county, "pipeline_segment", segment_at(county, pid, 1100).id)
    assert not any("远采点" in t for t in texts(far))
    c = explain_of(county, "pipeline_segment", segment_at(county, pid, 1550).id)
    assert c["level"] == "yellow" and "与管道G2交叉" in texts(c)


def test_oil_line_reads_table_1(site, county):
    """Crude line: 60 one-storey houses 120 m off the line (60 households: ≥ 50, < 100) → oil row c → Ⅱ → orange;
    further on, a national road running 40 m beside the line → row d (≤ 50 m) → Ⅰ → yellow."""
    pid = site.pipeline("Y1", [(0, 0), (8000, 0)], medium="crude", diameter_mm=406.4, pressure_mpa=8)
    houses(site, range(0, 1200, 20), y=120)
    road = line((6800, -40), (7400, -40)).replace("MULTILINESTRING((", "LINESTRING(").replace("))", ")")
    site.conn.execute(text("INSERT INTO road (road_class, name, geom) VALUES ('trunk', 'G18', "
                           "ST_GeomFromText(:g, 4490))"), {"g": road})
    compute_now(county)
    village = explain_of(county, "pipeline_segment", segment_at(county, pid, 600).id)
    by_road = explain_of(county, "pipeline_segment", segment_at(county, pid, 7050).id)
    assert village["level"] == "orange" and "高后果区Ⅱ级（两侧 200 m 内村镇户数 ≥ 50（60 户））" in texts(village)
    assert by_road["level"] == "yellow" and by_road["details"]["hca_grade"] == 1


def test_fuel_stations_and_oil_depots_are_flammable_sites(site, county):
    """GB 32167-2015 表2 f: outside class 3/4 areas, a 加油站 150 m from a gas line (≤ 200 m) → HCA Ⅱ (P3/P5) → orange;
    表1 d: an 油库 40 m from a crude line (≤ 50 m) → HCA Ⅰ → yellow; the same depot 60 m away would not count."""
    gas = site.pipeline("G1", [(0, 0), (2000, 0)])
    oil = site.pipeline("Y1", [(0, 5000), (2000, 5000)], medium="crude")
    site.building((500, 150), use="fuel_station", size_m=2)
    site.building((500, 5040), use="oil_depot", size_m=2)
    site.building((1500, 5061), use="oil_depot", size_m=2)
    compute_now(county)
    by_station = explain_of(county, "pipeline_segment", segment_at(county, gas, 500).id)
    by_depot = explain_of(county, "pipeline_segment", segment_at(county, oil, 500).id)
    far = explain_of(county, "pipeline_segment", segment_at(county, oil, 1500).id)
    assert (by_station["level"], by_station["details"]["hca_grade"]) == ("orange", 2)
    assert "高后果区Ⅱ级（三、四级地区以外，两侧 200 m 内有加油站、油库等易燃易爆场所）" in texts(by_station)
    assert (by_depot["level"], by_depot["details"]["hca_grade"]) == ("yellow", 1)
    assert far["level"] == "blue"


def test_a_fuel_station_built_after_the_last_run_is_found_by_the_changed_run(site, county):
    """The same station and depots as above, built after a full run: `riskmap risk compute --changed` (which looks
    up each assessed segment's sites through the indexes, not the county-wide scan of a full run) gives the same
    orange and yellow, and a full run right after finds nothing to change."""
    from geo.risk import compute, load_rules
    from geo.risk.changes import changed_scope

    gas = site.pipeline("G1", [(0, 0), (2000, 0)])
    oil = site.pipeline("Y1", [(0, 5000), (2000, 5000)], medium="crude")
    compute_now(county)
    with county.connect() as conn:
        since = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
    site.building((500, 150), use="fuel_station", size_m=2)
    site.building((500, 5040), use="oil_depot", size_m=2)
    site.building((1500, 5061), use="oil_depot", size_m=2)
    with county.begin() as conn:
        scope = changed_scope(conn, load_rules(), since=since, srid=4546)
        changed = compute(conn, scope=scope, today=TODAY, now=NOW + dt.timedelta(days=1))
    assert scope.by_ids and changed.assessed["pipeline_segment"] > 0
    by_station = explain_of(county, "pipeline_segment", segment_at(county, gas, 500).id)
    by_depot = explain_of(county, "pipeline_segment", segment_at(county, oil, 500).id)
    assert (by_station["level"], by_station["details"]["hca_grade"]) == ("orange", 2)
    assert (by_depot["level"], by_depot["details"]["hca_grade"]) == ("yellow", 1)
    assert explain_of(county, "pipeline_segment", segment_at(county, oil, 1500).id)["level"] == "blue"
    full = compute_now(county, now=NOW + dt.timedelta(days=2))
    assert all(w["changed"] == 0 and w["new"] == 0 for w in full.written.values()), full.written
