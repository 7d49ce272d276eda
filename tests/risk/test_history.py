"""Levels follow the data, last month's levels stay readable, and a bureau's rules file changes results."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from geo.config import get_settings
from geo.models import INDUSTRY_CATEGORIES
from geo.risk import Scope, compute, explain, history, levels
from geo.risk.rules import LEVEL_RANK
from riskfix import NOW, TODAY, Site, compute_now, explain_of, pt

LATER = NOW + dt.timedelta(days=30)


def test_unchanged_results_keep_one_history_row_and_old_levels_stay_readable(site, county):
    """Run 1 (NOW): blue. Run 2 (NOW+10 d), nothing changed: still one row. A major hazard is found; run 3
    (NOW+30 d): red, the blue row closed at NOW+30 d. Asking for the levels as of NOW+5 d still says blue."""
    eid = site.enterprise("甲商贸", "industry_trade", (0, 0))
    compute_now(county)
    report = compute_now(county, now=NOW + dt.timedelta(days=10))
    assert report.written["enterprise"] == {"changed": 0, "new": 0, "unchanged": 1}
    site.hazard(eid, "major")
    compute_now(county, now=LATER)
    with county.connect() as conn:
        rows = history(conn, "enterprise", eid)
        then = levels(conn, "enterprise", at=NOW + dt.timedelta(days=5))
    # the same instants, whatever time zone they are written in (the service answers in 北京时间)
    assert [(r["level"], r["valid_to"] and dt.datetime.fromisoformat(r["valid_to"])) for r in rows] == \
        [("blue", LATER), ("red", None)]
    assert [r["level"] for r in then] == ["blue"]
    assert rows[0]["rules_version"] == "2026.12-1"


def test_township_recompute_touches_only_that_township(site, county):
    """Two townships; an edit in 乙镇 is not picked up by `compute --township 甲镇`, only by its own run."""
    a = site.township("140930100000", "甲镇", -3000, -3000, 0, 3000)
    b = site.township("140930101000", "乙镇", 0, -3000, 3000, 3000)
    ea = site.enterprise("甲企业", "other", (-1000, 0))
    eb = site.enterprise("乙企业", "other", (1000, 0))
    compute_now(county)
    site.hazard(eb, "major")
    report = compute_now(county, scope=Scope(township_id=a), now=LATER)
    assert report.assessed["enterprise"] == 1 and report.written["enterprise"]["unchanged"] == 1
    assert report.assessed["township"] == 1
    assert explain_of(county, "enterprise", eb)["level"] == "blue"
    report = compute_now(county, scope=Scope(township_id=b), now=LATER)
    assert explain_of(county, "enterprise", eb)["level"] == "red"
    assert explain_of(county, "township", b)["level"] == "red"
    assert explain_of(county, "township", a)["level"] == "blue"
    assert dt.datetime.fromisoformat(explain_of(county, "enterprise", ea)["valid_from"]) == NOW


def test_bureau_rules_file_changes_the_result(site, county, tmp_path, monkeypatch):
    """The bureau paints 三级 major hazard sources red (default orange) in its own file: no code change.
    液氯 30 t, nobody around: R = 12 → 三级 → orange by default, red with the bureau's file; history records both
    rules versions."""
    eid = site.enterprise("乙化工", "hazchem", (0, 0), in_chemical_park=True, standardisation_grade=1)
    site.inventory(eid, "液氯", 30)
    compute_now(county)
    assert explain_of(county, "enterprise", eid)["level"] == "orange"
    override = tmp_path / "bureau.toml"
    override.write_text('[meta]\nversion = "河曲县应急管理局-1"\n\n'
                        '[enterprise.major_hazard_source.levels]\n3 = "red"\n', encoding="utf-8")
    monkeypatch.setenv("RISKMAP_RULES_FILE", str(override))
    get_settings.cache_clear()
    try:
        compute_now(county, now=LATER)
    finally:
        monkeypatch.delenv("RISKMAP_RULES_FILE")
        get_settings.cache_clear()
    result = explain_of(county, "enterprise", eid)
    assert result["level"] == "red" and result["rules_version"] == "河曲县应急管理局-1"
    with county.connect() as conn:
        assert [r["rules_version"] for r in history(conn, "enterprise", eid)] == ["2026.12-1", "河曲县应急管理局-1"]


def test_a_colour_outside_the_four_is_refused(tmp_path):
    from geo.errors import InvalidInput
    from geo.risk import load_rules

    bad = tmp_path / "bad.toml"
    bad.write_text('[enterprise.key_sector]\nlevel = "purple"\n', encoding="utf-8")
    with pytest.raises(InvalidInput, match="purple"):
        load_rules(bad)


hazard_st = st.tuples(st.just("hazard"), st.sampled_from(["general", "major"]),
                      st.sampled_from(["found", "rectifying", "rectified", "closed"]),
                      st.dates(dt.date(2025, 1, 1), dt.date(2027, 12, 31)))
accident_st = st.tuples(st.just("accident"), st.integers(0, 12), st.integers(0, 60),
                        st.sampled_from([0.0, 50.0, 999.0, 1000.0, 6000.0]), st.dates(dt.date(2019, 1, 1), TODAY))


def add_factor(site: Site, eid: int, factor: tuple) -> None:
    if factor[0] == "hazard":
        _, level, status, deadline = factor
        site.hazard(eid, level, status=status, deadline=deadline)
    else:
        _, deaths, injuries, loss, on = factor
        site.accident(eid, on, deaths=deaths, injuries=injuries, loss_10k_yuan=loss)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(category=st.sampled_from(sorted(INDUSTRY_CATEGORIES)),
       existing=st.lists(st.one_of(hazard_st, accident_st), max_size=3),
       added=st.one_of(hazard_st, accident_st))
def test_adding_a_hazard_or_an_accident_never_lowers_the_level(county, category, existing, added):
    """Whatever the enterprise and its record, one more hazard or accident never lowers its level or score."""
    with county.connect() as conn:
        tx = conn.begin()
        try:
            site = Site(conn)
            eid = site.enterprise("性质测试", category, (0, 0))
            for factor in existing:
                add_factor(site, eid, factor)
            compute(conn, scope=Scope(enterprise_ids=(eid,)), today=TODAY, now=NOW)
            before = explain(conn, "enterprise", eid)
            add_factor(site, eid, added)
            compute(conn, scope=Scope(enterprise_ids=(eid,)), today=TODAY, now=LATER)
            after = explain(conn, "enterprise", eid)
        finally:
            tx.rollback()
    assert LEVEL_RANK[after["level"]] >= LEVEL_RANK[before["level"]]
    assert after["score"] >= before["score"]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(category=st.sampled_from(["industry_trade", "gas", "other"]),
       x=st.floats(-20_000, 20_000), y=st.floats(-20_000, 20_000),
       diameter_mm=st.sampled_from([None, 114.0, 273.0, 508.0, 1016.0]), pressure_mpa=st.floats(0.4, 12))
def test_an_object_with_no_risk_factor_is_blue(county, category, x, y, diameter_mm, pressure_mpa):
    """An ordinary unit with no hazard, accident or inventory, and a pipeline with nothing near it, are blue."""
    with county.connect() as conn:
        tx = conn.begin()
        try:
            site = Site(conn)
            eid = site.enterprise("无风险单位", category, (x, y))
            pid = site.pipeline("P-0", [(x + 5000, y), (x + 5600, y + 300)], diameter_mm=diameter_mm,
                                pressure_mpa=pressure_mpa)
            compute(conn, scope=Scope(enterprise_ids=(eid,), pipeline_ids=(pid,)), today=TODAY, now=NOW)
            got = {explain(conn, "enterprise", eid)["level"]} | {r["level"] for r in levels(conn, "pipeline_segment")}
        finally:
            tx.rollback()
    assert got == {"blue"}


def test_cli_compute_and_explain(site, county, capsys):
    """`riskmap risk compute` then `riskmap risk explain enterprise <id>` prints level, score and reasons in Chinese."""
    from geo.cli import main

    eid = site.enterprise("丙商贸", "industry_trade", (0, 0))
    site.hazard(eid, "major")
    site.hazard(eid, "major")
    assert main(["risk", "compute"]) == 0
    assert "风险计算完成" in capsys.readouterr().out
    assert main(["risk", "explain", "enterprise", str(eid)]) == 0
    out = capsys.readouterr().out
    assert "风险等级：红 重大" in out and "[红] 未销号重大隐患 2 项" in out
    assert main(["risk", "explain", "enterprise", str(eid), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["level"] == "red"
    assert main(["risk", "compute", "--changed"]) == 0
    assert "企业 0 个、矿山 0 个、管道 0 条（另有管段 0 段）需重算" in capsys.readouterr().out
    assert main(["risk", "explain", "mine", "999"]) == 2
    assert "尚无风险评估结果" in capsys.readouterr().err


def test_migration_0002_downgrades_cleanly(engine):
    """Upgrade a scratch database to head, downgrade to 0001 (risk tables gone), upgrade again."""
    from geo import migrate

    url = make_url(engine.url.render_as_string(hide_password=False))
    name = f"{url.database}_mig"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    scratch = create_engine(url.set(database=name))
    try:
        migrate.upgrade(scratch)
        assert {"risk_assessment", "pipeline_segment"} <= set(inspect(scratch).get_table_names())
        migrate.downgrade(scratch, "0001")
        tables = set(inspect(scratch).get_table_names())
        assert not {"risk_assessment", "risk_rules_version", "pipeline_segment"} & tables
        assert "enterprise" in tables
        migrate.upgrade(scratch)
    finally:
        scratch.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_recompute_after_an_edit_touches_only_what_it_can_affect(site, county):
    """After a full run, a house built 150 m from enterprise B and a hazard at enterprise C put only B and C
    (and the line 100 m from the house) in the changed scope; A, 3 km away, and the far line stay out."""
    from geo.risk import load_rules
    from geo.risk.changes import changed_scope

    a = site.enterprise("甲", "other", (-3000, 0))
    b = site.enterprise("乙", "other", (0, 0))
    c = site.enterprise("丙", "other", (3000, 0))
    near = site.pipeline("G1", [(-500, 250), (500, 250)])
    site.pipeline("G2", [(-500, 5000), (500, 5000)])
    compute_now(county)
    with county.connect() as conn:
        since = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
    site.building((0, 150))
    site.hazard(c, "general")
    with county.begin() as conn:
        scope = changed_scope(conn, load_rules(), since=since, srid=4546)
        report = compute(conn, scope=scope, today=TODAY, now=LATER)
    assert (scope.enterprise_ids, scope.pipeline_ids, scope.mine_ids) == ((b, c), (), ())
    with county.connect() as conn:
        lines = set(conn.execute(text("SELECT pipeline_id FROM pipeline_segment WHERE id = ANY(:s)"),
                                 {"s": list(scope.segment_ids)}).scalars())
    assert lines == {near}  # the line 100 m from the house: its segments; the far line none
    assert report.assessed["enterprise"] == 2 and a not in scope.enterprise_ids
    assert report.assessed["pipeline_segment"] == len(scope.segment_ids) > 0


def test_a_house_near_a_plant_boundary_puts_the_plant_in_the_changed_scope(site, county):
    """A plant whose 厂区边界 reaches to 250 m of a new house, its point 5.85 km away, is reassessed (α counts people
    within 500 m of the boundary, GB 18218-2018 表5); a plant of its size without a boundary, known only by
    its point 4.85 km away, is not."""
    from geo.risk import load_rules
    from geo.risk.changes import changed_scope
    from riskfix import rect

    long_plant = site.enterprise("戊化工", "hazchem", (0, 6000))
    site.conn.execute(text("UPDATE enterprise SET site_boundary = ST_GeomFromText(:g, 4490) WHERE id = :e"),
                      {"g": rect(-200, 400, 200, 6000), "e": long_plant})
    point_only = site.enterprise("己化工", "hazchem", (0, 5000))
    compute_now(county)
    with county.connect() as conn:
        since = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
    site.building((0, 150))
    with county.begin() as conn:
        scope = changed_scope(conn, load_rules(), since=since, srid=4546)
    assert long_plant in scope.enterprise_ids and point_only not in scope.enterprise_ids


def test_changed_run_gives_the_levels_a_full_run_gives(site, county):
    """Houses built along 1 km of a 6 km gas line (class location windows reach 2 km along it), a hazard, a
    stock raised and a depot-like gas station placed: `--changed` reassesses only what they touch, and a full
    run right after finds nothing to change — same levels, scores and reasons everywhere."""
    from geo.risk import load_rules
    from geo.risk.changes import changed_scope

    e1 = site.enterprise("甲化工", "hazchem", (-1500, 600))
    e2 = site.enterprise("乙加气站", "other", (2500, -600))
    site.inventory(e1, "氨", 5)
    line = site.pipeline("G9", [(-3000, 0), (3000, 0)])
    site.pipeline("G8", [(-3000, 4000), (3000, 4000)])
    for i in range(8):
        site.building((-2800 + 700 * i, 120), floors=2)
    for i in range(30):  # an old hamlet near the west end: the windows of the segments 2 km east still hold it
        site.building((-2950 + 10 * i, -100))
    compute_now(county)
    with county.connect() as conn:
        since = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
    for i in range(60):  # a village 150 m from the line between x = 0 and 1 km: 二级/三级 windows around it
        site.building((i * 17, 150 if i % 2 else -150), floors=5 if i % 3 == 0 else 1)
    site.hazard(e1, "major")
    site.inventory(e1, "液氯", 30)
    site.conn.execute(text("UPDATE enterprise SET category = 'gas' WHERE id = :e"), {"e": e2})
    with county.begin() as conn:
        scope = changed_scope(conn, load_rules(), since=since, srid=4546)
        changed = compute(conn, scope=scope, today=TODAY, now=LATER)
    assert scope.pipeline_ids == () and 0 < changed.assessed["pipeline_segment"] < 60
    with county.connect() as conn:
        lines = set(conn.execute(text("SELECT pipeline_id FROM pipeline_segment WHERE id = ANY(:s)"),
                                 {"s": list(scope.segment_ids)}).scalars())
    assert lines == {line}
    assert changed.written["pipeline_segment"]["changed"] > 0  # the village moved the class of some segments
    after_changed = current_rows(county)
    full = compute_now(county, today=TODAY, now=LATER + dt.timedelta(days=1))
    for kind, written in full.written.items():
        assert written["changed"] == 0 and written["new"] == 0, (kind, written)
    assert current_rows(county) == after_changed  # details too (households counted in each window)


def test_changed_run_rolls_up_only_the_areas_whose_objects_moved(site, county):
    """Township 甲镇 with cells W and E, a workshop in each. A house built 100 m from the east workshop is
    reassessed with it but moves nothing the roll-up reads (level, score, name): `--changed` rolls up no area.
    A major hazard found at the west workshop turns it red: `--changed` rolls up W and the township — not E. The
    east workshop renamed: only E, whose 就高 reason names it, is rolled up (the township's names the west one).
    Then moved into W: E (which loses it) and W (which gains it) are rolled up, with the township. A full run right
    after finds nothing to change in any area."""
    from geo.risk import load_rules
    from geo.risk.changes import changed_scope

    t = site.township("140930100000", "甲镇", 0, -2000, 4000, 2000)
    site.grid_cell("W", t, 0, -2000, 2000, 2000)
    e_cell = site.grid_cell("E", t, 2000, -2000, 4000, 2000)
    west = site.enterprise("西车间", "industry_trade", (500, 0))
    east = site.enterprise("东车间", "industry_trade", (3500, 0))
    compute_now(county)

    def changed_run(now: dt.datetime) -> tuple[Scope, object]:
        with county.begin() as conn:
            scope = changed_scope(conn, load_rules(), since=since, srid=4546)
            return scope, compute(conn, scope=scope, today=TODAY, now=now)

    with county.connect() as conn:
        since = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
    site.building((3500, 100))
    scope, report = changed_run(LATER)
    assert len(scope.enterprise_ids) == 1 and report.assessed["enterprise"] == 1
    assert report.written["enterprise"]["changed"] == 0
    assert (report.assessed["grid_cell"], report.assessed["township"]) == (0, 0)

    with county.connect() as conn:
        since = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
    site.hazard(west, "major")
    scope, report = changed_run(LATER + dt.timedelta(hours=1))
    assert scope.enterprise_ids == (west,) and report.written["enterprise"]["changed"] == 1
    assert (report.assessed["grid_cell"], report.assessed["township"]) == (1, 1)
    assert (report.levels["grid_cell"], report.levels["township"]) == ({"red": 1}, {"red": 1})

    with county.connect() as conn:
        since = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
    site.conn.execute(text("UPDATE enterprise SET name = '东车间（新址）' WHERE id = :e"), {"e": east})
    scope, report = changed_run(LATER + dt.timedelta(hours=2))
    assert scope.enterprise_ids == (east,)
    assert (report.assessed["grid_cell"], report.assessed["township"]) == (1, 0)
    assert "东车间（新址）" in explain_of(county, "grid_cell", e_cell)["reasons"][0]["text"]

    with county.connect() as conn:
        since = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
    site.conn.execute(text("UPDATE enterprise SET geom = ST_GeomFromText(:g, 4490) WHERE id = :e"),
                      {"g": pt(1500, 0), "e": east})  # moved into W: E loses it, W gains it
    scope, report = changed_run(LATER + dt.timedelta(hours=3))
    assert (report.assessed["grid_cell"], report.assessed["township"]) == (2, 1)
    assert sum(explain_of(county, "grid_cell", e_cell)["details"]["counts"].values()) == 0  # E holds nothing now
    full = compute_now(county, today=TODAY, now=LATER + dt.timedelta(days=1))
    for kind in ("grid_cell", "township"):
        assert full.written[kind]["changed"] == 0 and full.written[kind]["new"] == 0, (kind, full.written[kind])


def current_rows(engine) -> dict[tuple[str, int], tuple]:
    """Every current assessment: level, score, reasons and details, by (kind, object id)."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT kind, object_id, level, score, reasons, details FROM risk_assessment "
                                 "WHERE valid_to IS NULL")).all()
    return {(r.kind, r.object_id): (r.level, r.score, json.dumps(r.reasons, sort_keys=True),
                                    json.dumps(r.details, sort_keys=True)) for r in rows}
