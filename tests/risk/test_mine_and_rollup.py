"""Mines read 禁采区 and 越界开采 in hectares; grid cells and townships read their counts at a glance."""

from __future__ import annotations

import datetime as dt

from geo.risk import levels
from riskfix import compute_now, explain_of, lonlat, rect, texts


def test_mine_working_outside_its_licence_is_red_with_the_area(site, county):
    """Licence 0–1000 × 0–1000 m; workings 900–1100 × 0–180 m: the part 1000–1100 × 0–180 lies outside,
    100 m × 180 m = 18 000 m² = 1.8 ha reaching 100 m beyond the boundary (both above the tolerance of 0.01 ha
    and 5 m) → "越界开采 1.8 公顷，最远越出矿区范围 100 m" → red.
    The owning enterprise inherits the violation (dynamic factor: mine violations)."""
    owner = site.enterprise("甲矿业", "non_coal_mine", (500, -500))
    mid = site.mine("甲采石场", rect(0, 0, 1000, 1000), workings=rect(900, 0, 1100, 180), enterprise_id=owner)
    compute_now(county)
    r = explain_of(county, "mine", mid)
    assert r["level"] == "red"
    assert texts(r)[0] == "越界开采 1.8 公顷，最远越出矿区范围 100 m"
    e = explain_of(county, "enterprise", owner)
    assert e["level"] == "red" and "所属矿山甲采石场：越界开采 1.8 公顷，最远越出矿区范围 100 m" in texts(e)


def test_operating_inside_no_mining_zone_is_red_restricted_orange(site, county):
    """Workings 200 × 200 m inside a 禁采区 → red (4 ha); a mine in a 限采区 → orange (rules); a closed mine in the
    禁采区 is not 'operating' → blue."""
    site.mine_zone("no_mining_zone", "黄河湿地", rect(-5000, -5000, 0, 5000))
    site.mine_zone("restricted_zone", "公路两侧", rect(3000, -5000, 5000, 5000))
    a = site.mine("乙矿", rect(-1000, 0, -500, 500), workings=rect(-900, 100, -700, 300), method="underground")
    b = site.mine("丙矿", rect(3500, 0, 4000, 500), method="underground")
    c = site.mine("丁矿", rect(-3000, 0, -2500, 500), operating=False)
    compute_now(county)
    ra, rb, rc = (explain_of(county, "mine", i) for i in (a, b, c))
    assert (ra["level"], rb["level"], rc["level"]) == ("red", "orange", "blue")
    assert texts(ra)[0] == "在禁采区“黄河湿地”内开采（4 公顷）"


def test_open_pit_near_dwellings_and_pipeline(site, county):
    """Open pit: a house 250 m from the pit < 300 m blasting distance → orange; gas line 120 m from the workings
    (the pit fills the licence) → orange (石油天然气管道保护法 第三十五条第（三）项, measured from the workings)."""
    mid = site.mine("戊露天矿", rect(0, 0, 500, 500), workings=rect(0, 0, 500, 500))
    site.building((500 + 255, 250))            # 10 m footprint: near edge 250 m from the pit
    site.pipeline("G9", [(-120, -1000), (-120, 1000)])
    compute_now(county)
    r = explain_of(county, "mine", mid)
    assert r["level"] == "orange"
    assert "露天开采距居民建筑 250 m（1 栋），小于爆破安全距离 300 m" in texts(r)
    assert "距管道G9 120 m，小于 200 m" in texts(r)


def test_grid_cells_and_townships_roll_up(site, county):
    """Township 甲镇 (4 km × 4 km = 16 km²) holds grid cell A (1 km² at its corner) and B (the rest).
    In A: one red unit (open major hazard) and one yellow (construction); in B: one blue unit.
    Cell A: highest red; red+orange density 1/km² ≥ 1.0 → would rise, but red is the cap → red.
    Cell B: blue. Township: 红 1、黄 1、蓝 1; density 1/16 = 0.06 < 0.2 → stays red."""
    t = site.township("140930100000", "甲镇", 0, 0, 4000, 4000)
    a = site.grid_cell("A", t, 0, 0, 1000, 1000)
    b = site.grid_cell("B", t, 1000, 0, 4000, 4000)
    red = site.enterprise("红单位", "industry_trade", (300, 300))
    site.hazard(red, "major")
    site.enterprise("黄单位", "construction", (600, 600))
    site.enterprise("蓝单位", "other", (2000, 2000))
    compute_now(county)
    ra, rb, rt = explain_of(county, "grid_cell", a), explain_of(county, "grid_cell", b), explain_of(county, "township", t)
    assert (ra["level"], rb["level"], rt["level"]) == ("red", "blue", "red")
    assert ra["details"]["counts"] == {"blue": 0, "yellow": 1, "orange": 0, "red": 1}
    assert texts(rt)[0] == "就高：取辖区内对象的最高等级 红 重大（红单位）"
    assert "按对象计（同一管道相邻同因管段、矿山及其企业各计 1 个）：红 1 个、橙 0 个、黄 1 个、蓝 1 个" in texts(rt)
    with county.connect() as conn:
        assert [r["details"]["name"] for r in levels(conn, "enterprise", township="140930100000")] == [
            "红单位", "黄单位", "蓝单位"]
        assert [r["details"]["name"] for r in levels(conn, "enterprise", colour="yellow")] == ["黄单位"]
        x0, y0 = lonlat(0, 0)
        x1, y1 = lonlat(1000, 1000)
        assert [r["details"]["name"] for r in levels(conn, "enterprise", bbox=(x0, y0, x1, y1))] == ["红单位", "黄单位"]


def test_density_raises_a_cell_one_step(site, county):
    """Cell 1 km × 1 km with two orange units (3 overdue hazards each): density 2/km² ≥ 1.0 → orange raised to red.
    A 3 km × 3 km cell with one orange unit: 1/9 = 0.11 < 1.0 → stays orange."""
    t = site.township("140930100000", "甲镇", 0, 0, 4000, 4000)
    small = site.grid_cell("S", t, 0, 0, 1000, 1000)
    big = site.grid_cell("L", t, 1000, 1000, 4000, 4000)
    for i, at in enumerate([(200, 200), (700, 700), (2500, 2500)]):
        e = site.enterprise(f"橙单位{i}", "industry_trade", at)
        for _ in range(3):
            site.hazard(e, "general", deadline=dt.date(2026, 1, 1))
    compute_now(county)
    rs, rl = explain_of(county, "grid_cell", small), explain_of(county, "grid_cell", big)
    assert (rs["level"], rl["level"]) == ("red", "orange")
    assert "红橙对象 2 个/1 km²＝2 个/km²，不低于 1，上调一级" in texts(rs)


def test_a_run_over_one_object_rolls_up_as_a_full_run(site, county):
    """Township 甲镇 (0–4000 × −2000–2000 m) with cells West (x < 2000) and East. A gas line along y = 0 with 120
    houses 100 m off it at x = 1862 … 2133 (4.6 m apart, as in the class-location worked example): one HCA Ⅱ
    stretch, 7 segments of 100 m, across both cells — one object in the township and in each cell (issue #12 §5).
    A run for one enterprise (what `--changed` does after its name is edited) rolls up the cell and township
    holding it; their counts and texts are then exactly those of a full run, not one count per segment."""
    from geo.risk import Scope

    t = site.township("140930100000", "甲镇", 0, -2000, 4000, 2000)
    west = site.grid_cell("W", t, 0, -2000, 2000, 2000)
    east = site.grid_cell("E", t, 2000, -2000, 4000, 2000)
    site.pipeline("G1", [(0, 0), (4000, 0)])
    for i in range(60):
        for y in (100, -100):
            site.building((1862 + 4.6 * i, y), size_m=4)
    ent = site.enterprise("某单位", "other", (500, 1500))
    compute_now(county)
    full = {k: explain_of(county, *k) for k in (("grid_cell", west), ("grid_cell", east), ("township", t))}
    assert full[("township", t)]["details"]["counts"]["orange"] == 1
    assert full[("grid_cell", west)]["details"]["counts"]["orange"] == 1
    compute_now(county, scope=Scope(enterprise_ids=(ent,)))
    for key, before in full.items():
        after = explain_of(county, *key)
        assert (after["level"], after["details"]["counts"], texts(after)) == (
            before["level"], before["details"]["counts"], texts(before)), key


def test_runs_over_a_township_or_one_company_roll_up_as_a_full_run(site, county):
    """Township 甲镇 (0–4000 × −2000–2000 m), cells W (x < 2000) and E. A quarry company in W runs a mine in E
    whose workings cross its licence by 100 m (越界开采, red), and the company inherits the red: in the township
    the two are one object, in W the company and in E the mine. A gas line along y = 0 with 120 houses beside it
    across the W/E boundary: one HCA Ⅱ stretch, one object in each area. After a full run, a run over the township
    and a run over the company alone (what `--changed` does after it is edited) give every cell and the township
    the counts and texts of the full run."""
    from geo.risk import Scope

    t = site.township("140930100000", "甲镇", 0, -2000, 4000, 2000)
    west = site.grid_cell("W", t, 0, -2000, 2000, 2000)
    east = site.grid_cell("E", t, 2000, -2000, 4000, 2000)
    owner = site.enterprise("甲矿业", "non_coal_mine", (500, 1500))
    site.mine("甲采石场", rect(2500, 500, 3500, 1500), workings=rect(3400, 500, 3600, 680), enterprise_id=owner)
    site.pipeline("G1", [(0, 0), (4000, 0)])
    for i in range(60):
        for y in (100, -100):
            site.building((1862 + 4.6 * i, y), size_m=4)
    compute_now(county)
    areas = (("grid_cell", west), ("grid_cell", east), ("township", t))
    full = {k: explain_of(county, *k) for k in areas}
    assert [full[k]["details"]["counts"]["red"] for k in areas] == [1, 1, 1]  # company + mine: one in the township
    assert [full[k]["details"]["counts"]["orange"] for k in areas] == [1, 1, 1]
    for scope in (Scope(township_id=t), Scope(enterprise_ids=(owner,))):
        compute_now(county, scope=scope)
        for key, before in full.items():
            after = explain_of(county, *key)
            assert (after["level"], after["details"]["counts"], texts(after)) == (
                before["level"], before["details"]["counts"], texts(before)), (scope, key)
