"""A bureau director reads why an enterprise is red, orange, yellow or blue."""

from __future__ import annotations

import datetime as dt

import pytest

from geo.risk import load_rules
from geo.risk.enterprise import accident_grade, alpha_for, identify_line, identify_major_hazards
from riskfix import compute_now, explain_of, texts

RULES = load_rules()


def grade_of(lines: list[dict], persons: float) -> list[tuple[str, float, float, int | None]]:
    units = identify_major_hazards(lines, persons=persons, rules=RULES)
    return [(u.unit, round(u.s, 3), round(u.r, 2), u.grade) for u in units]


def inv(substance: str, q: float, unit: str | None = None, **kw) -> dict:
    return {"substance": substance, "max_quantity_t": q, "unit_name": unit, **kw}


def test_liquid_ammonia_20t_with_120_residents_is_grade_4():
    """液氨 Q = 10 t, β = 2 (GB 18218 表1/表3). q = 20 t → S = 20/10 = 2 ≥ 1: major hazard source.
    120 residents within 500 m → α = 2.0 (表5, ≥100). R = 2.0 × (2 × 20/10) = 8 < 10 → 四级 (表6)."""
    assert grade_of([inv("液氨", 20)], 120) == [("全厂", 2.0, 8.0, 4)]


def test_liquid_chlorine_30t_with_nobody_around_is_grade_3():
    """液氯 Q = 5 t, β = 4. S = 30/5 = 6. Nobody within 500 m → α = 0.5. R = 0.5 × 4 × 6 = 12 → 三级 (50 > R ≥ 10)."""
    assert grade_of([inv("氯", 30, cas="7782-50-5")], 0) == [("全厂", 6.0, 12.0, 3)]


def test_chlorine_and_ammonia_in_one_tank_farm_with_60_residents_is_grade_2():
    """S = 30/5 + 50/10 = 6 + 5 = 11. Σβq/Q = 4·6 + 2·5 = 34. 60 residents → α = 1.5 (50–99).
    R = 1.5 × 34 = 51 → 二级 (100 > R ≥ 50)."""
    assert grade_of([inv("液氯", 30, "罐区"), inv("氨", 50, "罐区")], 60) == [("罐区", 11.0, 51.0, 2)]


def test_phosgene_2t_with_ten_residents_is_grade_1():
    """碳酰氯 (光气) Q = 0.3 t, β = 20. S = 2/0.3 = 6.667. 10 residents → α = 1.0.
    R = 1.0 × 20 × 6.667 = 133.33 → 一级 (R ≥ 100)."""
    assert grade_of([inv("光气", 2)], 10) == [("全厂", 6.667, 133.33, 1)]


def test_units_are_identified_separately():
    """甲醇 Q = 500 t: 300 t in each of two storage units gives S = 0.6 per unit — neither is a major hazard
    source (GB 18218-2018 §4.2: identification per 生产单元/储存单元), though 600 t on site exceeds Q."""
    assert [g[3] for g in grade_of([inv("甲醇", 300, "甲罐区"), inv("甲醇", 300, "乙罐区")], 0)] == [None, None]


def test_substance_not_in_table_1_uses_its_class():
    """'某溶剂' is not in 表1; class W5.2 gives Q = 50 t, β = 1 (表2/表4). q = 100 t → S = 2, R = 1.2 × 2 = 2.4
    with 40 residents (α = 1.2) → 四级."""
    assert grade_of([inv("某溶剂", 100, hazard_class="W5.2")], 40) == [("全厂", 2.0, 2.4, 4)]


@pytest.mark.parametrize(("persons", "alpha"), [(0, 0.5), (1, 1.0), (29.9, 1.0), (30, 1.2), (49, 1.2),
                                                 (50, 1.5), (99, 1.5), (100, 2.0), (5000, 2.0)])
def test_alpha_bands(persons, alpha):
    """GB 18218-2018 表5: 0 → 0.5; 1–29 → 1.0; 30–49 → 1.2; 50–99 → 1.5; ≥100 → 2.0."""
    assert alpha_for(persons, RULES) == alpha


@pytest.mark.parametrize(("deaths", "injuries", "loss", "grade"), [
    (0, 0, 0, "general"), (2, 9, 999, "general"), (3, 0, 0, "larger"), (0, 10, 0, "larger"),
    (0, 0, 1000, "larger"), (10, 0, 0, "major"), (0, 0, 10000, "especially_major"), (30, 0, 0, "especially_major")])
def test_accident_grades_follow_article_3(deaths, injuries, loss, grade):
    """生产安全事故报告和调查处理条例 第三条: 较大 ≥3 deaths or ≥10 serious injuries or ≥1000 万元 …"""
    assert accident_grade(deaths=deaths, serious_injuries=injuries, loss_10k_yuan=loss, rules=RULES) == grade


def test_alpha_counts_residents_outside_the_plant_within_500m_in_postgis(site, county):
    """GB 18218-2018 表5 counts people outside the plant within 500 m of its boundary. No site polygon here, so the
    boundary is the point buffered by 100 m (enterprise.site.default_radius_m, 本地规定).
    Residential 3 persons/floor (rules): 12 two-storey houses at 400 m (300 m from the boundary) → 12 × 2 × 3 = 72;
    the house at 620 m (its near edge 515 m from the boundary), the house at 60 m (inside the plant) and the
    school (0 persons/floor) count 0 → α = 1.5.
    液氯 60 t: S = 12, Σβq/Q = 48, R = 1.5 × 48 = 72 → 二级 → red (一级/二级 → 红)."""
    eid = site.enterprise("甲化工", "hazchem", (0, 0), in_chemical_park=True, standardisation_grade=1)
    site.inventory(eid, "液氯", 60, unit="液氯库")
    for i in range(12):
        site.building((400, -110 + 20 * i), floors=2)
    site.building((620, 0), floors=2)
    site.building((60, 0), floors=2)
    site.building((-100, 0), use="school", floors=3)
    compute_now(county)
    result = explain_of(county, "enterprise", eid)
    assert result["level"] == "red"
    assert result["details"]["persons_500m"] == 72
    assert "重大危险源二级（液氯库：R=72，α=1.5）" in texts(result)
    assert ("暴露人员按点位外扩 100 m 作为厂区边界、其外 500 m 内计（未填报厂区边界，半径为本地规定）：72 人，α=1.5"
            in texts(result))


def test_hazchem_diagnostic_score_follows_the_guideline(site, county):
    """应急〔2018〕19号, hand-added: 液氯 30 t, nobody resident → α = 0.5, R = 0.5 × 4 × 6 = 12 → 三级: −6 (重大危险源);
    key_process flagged without a count → counted as 1 process: −2; outside a chemical park: −3;
    standardisation 二级: +5; no accident in 5 years: +5. Score = 100 − 6 − 2 − 3 + 5 + 5 = 99 → 蓝.
    The school at 180 m is a 本地规定 finding outside the score. Level: 三级 → 橙 (major hazard rule) → orange."""
    eid = site.enterprise("乙化工", "hazchem", (0, 0), key_process=True, standardisation_grade=2)
    site.inventory(eid, "液氯", 30)
    site.building((0, 185), use="school", floors=3)  # 10 m footprint: its near edge is 180 m away
    compute_now(county)
    result = explain_of(county, "enterprise", eid)
    diag = result["details"]["diagnostic"]
    assert [(d["item"], d["points"]) for d in diag["deductions"]] == [
        ("major_hazard", 6), ("processes", 2), ("surroundings", 3)]
    assert [(d["item"], d["points"]) for d in diag["bonuses"]] == [("performance", 10)]
    assert diag["score"] == 99 and diag["band"] == "blue"
    assert result["level"] == "orange"
    assert "安全风险诊断评分 99 分（蓝 低）" in texts(result)
    assert "本地规定：距学校 180 m，小于本局设定的 300 m" in texts(result)
    assert any(t.startswith("固有危险性·危险化工工艺种类：涉及重点监管危险化工工艺（18 种），每种（已标注涉及、未填种数，按 1 种计）")
               for t in texts(result))
    assert any(item.startswith("自控与安全设施：一级、二级重大危险源中的有毒") for item in diag["not_scored"])
    assert any("外部安全防护距离不满足" in item and "企业未填报" in item for item in diag["not_scored"])


def test_pipeline_crossing_the_site_is_a_local_rule_outside_the_score(site, county):
    """A gas line 60 m from the enterprise point crosses the assumed 100 m plant boundary: a 本地规定 finding with
    5 risk points, not a 19号 deduction. Score: 100 + 15 (标准化一级) + 5 (五年无事故) capped at 100."""
    eid = site.enterprise("丙化工", "hazchem", (0, 0), in_chemical_park=True, standardisation_grade=1)
    site.pipeline("G1", [(-1000, 60), (1000, 60)])
    compute_now(county)
    result = explain_of(county, "enterprise", eid)
    assert result["details"]["diagnostic"]["score"] == 100
    assert result["details"]["diagnostic"]["deductions"] == []
    assert "本地规定：油气管道G1穿越厂区（距厂区点位 60 m）" in texts(result)


def test_open_major_hazards_make_a_unit_red(site, county):
    """Supervision class: 未销号重大隐患 → 红; a closed one does not count."""
    eid = site.enterprise("丁商贸", "industry_trade", (0, 0))
    site.hazard(eid, "major")
    site.hazard(eid, "major", status="rectified")
    site.hazard(eid, "major", status="closed")
    compute_now(county)
    result = explain_of(county, "enterprise", eid)
    assert result["level"] == "red"
    assert texts(result)[0] == "未销号重大隐患 2 项"


def test_larger_accident_makes_red_and_fatal_general_accident_orange(site, county):
    """Loss 1200 万元 ≥ 1000 → 较大 accident → red; 2 deaths is 一般 (< 3) → orange (近三年一般事故有死亡)."""
    a = site.enterprise("戊建筑", "construction", (0, 0))
    site.accident(a, dt.date(2025, 5, 1), loss_10k_yuan=1200)
    b = site.enterprise("己建筑", "construction", (500, 0))
    site.accident(b, dt.date(2025, 5, 1), deaths=2)
    c = site.enterprise("庚建筑", "construction", (900, 0))
    site.accident(c, dt.date(2020, 5, 1), deaths=5)          # 较大, but older than three years
    compute_now(county)
    ra, rb, rc = (explain_of(county, "enterprise", i) for i in (a, b, c))
    assert (ra["level"], rb["level"], rc["level"]) == ("red", "orange", "yellow")
    assert texts(ra)[0] == "2025-05-01 发生较大事故（死亡 0 人、重伤 0 人、直接经济损失 1200 万元）"
    assert "近 3 年发生一般事故 1 起（死亡 2 人）" in texts(rb)


def test_overdue_general_hazards(site, county):
    """One overdue general hazard → yellow; three → orange (rules: orange_from = 3); not yet due → nothing."""
    a = site.enterprise("辛商贸", "industry_trade", (0, 0))
    site.hazard(a, "general", deadline=dt.date(2026, 10, 1))
    site.hazard(a, "general", deadline=dt.date(2026, 12, 31))
    b = site.enterprise("壬商贸", "industry_trade", (500, 0))
    for _ in range(3):
        site.hazard(b, "general", deadline=dt.date(2026, 10, 1), status="rectifying")
    compute_now(county)
    assert explain_of(county, "enterprise", a)["level"] == "yellow"
    rb = explain_of(county, "enterprise", b)
    assert rb["level"] == "orange" and "逾期未整改一般隐患 3 项" in texts(rb)


def test_key_sectors_are_at_least_yellow_others_blue(site, county):
    """Bureau practice (本地规定): key industries → yellow (二级监控); ordinary units with no accident → blue."""
    ids = {cat: site.enterprise(f"{cat}单位", cat, (i * 300, 0))
           for i, cat in enumerate(["metallurgy", "fireworks", "industry_trade", "other"])}
    compute_now(county)
    assert {c: explain_of(county, "enterprise", i)["level"] for c, i in ids.items()} == {
        "metallurgy": "yellow", "fireworks": "yellow", "industry_trade": "blue", "other": "blue"}


def test_substance_names_match_whatever_the_bracket_width():
    """'硝酸(>70%)' typed with ASCII brackets is 表1's 硝酸（>70%）: Q = 100 t. 150 t → S = 1.5 ≥ 1."""
    assert grade_of([inv("硝酸(>70%)", 150)], 0)[0][1] == 1.5


def test_rules_file_holds_all_of_table_1_and_the_guidelines_table():
    """GB 18218-2018 表1 has 85 entries (numbered 1–85, each with Q and β and where β comes from); every item of
    the 应急〔2018〕19号 table lists its lines with points, its cap and a clause citing the guideline, so a rules
    page can print the whole table."""
    table1 = RULES["gb18218"]["substances"]
    assert [e["no"] for e in table1] == list(range(1, 86))
    assert all(e["q_t"] > 0 and e["beta"] > 0 and e["beta_basis"] for e in table1)
    by_name = {e["name"]: e for e in table1}
    assert (by_name["乙醚"]["beta"], by_name["1,2-环氧丙烷"]["beta"]) == (1.5, 1.5)
    assert by_name["氯化氢（无水）"]["condition"] == {"field": "concentration_pct", "at_least": 99}
    items = RULES["diagnostic"]["items"]
    assert all(i["clause"].startswith("应急〔2018〕19号") and "cap" in i and i["lines"] for i in items.values())
    assert [line["points"] for line in items["major_hazard"]["lines"].values()] == [-10, -8, -6, -4]
    assert (items["processes"]["cap"], items["processes"]["lines"]["key_process"]["points"]) == (10, -2)
    assert [items["performance"]["lines"][f"standardisation_{g}"]["points"] for g in (1, 2, 3)] == [15, 5, 2]
    assert items["surroundings"]["lines"]["outside_park"]["points"] == -3
    assert len(RULES["diagnostic"]["direct_red"]) - 2 == 4      # text, clause and the four conditions


def test_fuming_or_strong_nitric_acid_is_matched_by_concentration():
    """硝酸（含硝酸>70%）: 表1 第81项, Q = 100 t. 98 % matches by CAS; 65 % does not (and, with no 表2 class given,
    stays unidentified rather than silently counted or dropped)."""
    ok = identify_line(RULES, inv("硝酸", 150, cas="7697-37-2", concentration_pct=98))
    weak = identify_line(RULES, inv("硝酸", 150, cas="7697-37-2", concentration_pct=65))
    assert (ok.status, ok.q_t) == ("counted", 100.0)
    assert weak.status == "unidentified"
