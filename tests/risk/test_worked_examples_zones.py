"""Worked examples: pipeline protection zones, 越界开采 tolerance and the annual cap on inspections.

Each example is a small constructed site in 河曲县 (metres east/north of 111.30°E 39.20°N, EPSG:4546, stored in
EPSG:4490) in a real PostGIS; the docstring gives the reasoning and the clause the result must cite.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from geo.encroachment import find_encroachments
from geo.encroachment.zones import load_zones
from geo.inspection.due import EnterpriseStatus, list_due_and_held
from geo.inspection.duelist import load_due
from riskfix import compute_now, explain_of, line, rect, texts

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
