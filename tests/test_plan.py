"""The bureau plans a week of inspections: who is due by colour, routes over the roads, results recorded.

Small county fixtures are built in SQL around the county seat 西口镇 (111.15E 39.38N) inside the real 河曲县
outline; the real OSM Liechtenstein roads serve as a real road graph; the demo county gets a 4-team weekly plan.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from geo.inspection.due import load_frequencies
from geo.inspection.duelist import load_due
from geo.inspection.network import Stop, best_leg, build_network, route_paths, travel_times
from geo.inspection.plan import get_plan, load_plan_config, make_plan
from geo.inspection.results import Finding, record_inspection
from geo.uscc import make_uscc

ROOT = Path(__file__).resolve().parent.parent
WEEK_START, WEEK_END = dt.date(2026, 11, 23), dt.date(2026, 11, 29)  # 2026-W48
MY_TABLES = "inspection_plan, road_edge, road_vertex"

# A small road network east of the county seat (lon/lat, EPSG:4490): a primary road split into noded pieces,
# a tertiary road crossing it without a shared end point (the graph must cut it), a oneway lane,
# and a short village road far from everything (a disconnected piece).
ROADS = [
    ("HQ-R1", "primary", False, "LINESTRING(111.10 39.38, 111.15 39.38)"),
    ("HQ-R2", "primary", False, "LINESTRING(111.15 39.38, 111.20 39.38, 111.25 39.38)"),
    ("HQ-R3", "primary", False, "LINESTRING(111.25 39.38, 111.30 39.38)"),
    ("HQ-R4", "tertiary", False, "LINESTRING(111.20 39.33, 111.20 39.43)"),
    ("HQ-R5", "unclassified", False, "LINESTRING(111.25 39.38, 111.25 39.43)"),
    ("HQ-R6", "unclassified", True, "LINESTRING(111.20 39.43, 111.25 39.43)"),
    ("HQ-ISO", "unclassified", False, "LINESTRING(111.40 39.30, 111.41 39.30)"),
]
NEAR_ROADS = [  # (name, lon, lat, category) each within ~300 m of a road
    ("河曲县甲化工有限公司", 111.120, 39.382, "hazchem"),
    ("河曲县乙建材有限公司", 111.170, 39.378, "industry_trade"),
    ("河曲县丙冶炼有限公司", 111.202, 39.350, "metallurgy"),
    ("河曲县丁燃气有限公司", 111.198, 39.420, "gas"),
    ("河曲县戊建筑有限公司", 111.230, 39.383, "construction"),
    ("河曲县己商贸有限公司", 111.252, 39.410, "industry_trade"),
    ("河曲县庚化工有限公司", 111.280, 39.377, "hazchem"),
    ("河曲县辛煤业有限公司", 111.224, 39.432, "coal_mine"),
]
FAR = ("河曲县远山石料有限公司", 111.300, 39.500, "non_coal_mine")       # ≈ 8 km from any road
ISOLATED = ("河曲县孤村木业有限公司", 111.405, 39.3003, "other")          # on the disconnected piece


@pytest.fixture
def planner(county):
    """The county with townships, a rules-version row, and the planner's own tables emptied afterwards."""
    with county.begin() as conn:
        conn.execute(text(
            "INSERT INTO township (code, name, county_code, geom, is_illustrative) "
            "SELECT '140930100000', '西口镇', '140930', ST_Multi(ST_Intersection(c.geom, "
            "ST_MakeEnvelope(110.9, 38.8, 111.26, 39.7, 4490))), true FROM county c UNION ALL "
            "SELECT '140930101000', '楼子营镇', '140930', ST_Multi(ST_Intersection(c.geom, "
            "ST_MakeEnvelope(111.26, 38.8, 111.8, 39.7, 4490))), true FROM county c"))
        conn.execute(text("INSERT INTO risk_rules_version (rules_hash, version, content) "
                          "VALUES ('test', 'test', '{}') ON CONFLICT DO NOTHING"))
    yield county
    with county.begin() as conn:
        conn.execute(text(f"TRUNCATE {MY_TABLES} RESTART IDENTITY CASCADE"))


def add_enterprise(conn: Connection, name: str, lon: float, lat: float, *, category: str = "industry_trade",
                   colour: str | None = None, last: dt.date | None = None) -> int:
    """One enterprise (its township found by location), optionally its current colour and last inspection."""
    eid = conn.execute(text(
        "INSERT INTO enterprise (uscc, name, category, address, township_id, geom) VALUES (:u, :n, :c, :a, "
        "(SELECT id FROM township WHERE ST_Covers(geom, ST_SetSRID(ST_MakePoint(:x, :y), 4490))), "
        "ST_SetSRID(ST_MakePoint(:x, :y), 4490)) RETURNING id"),
        {"u": make_uscc(f"91140930{abs(hash(name)) % 10**9:09d}"), "n": name, "c": category,
         "a": f"山西省忻州市河曲县{name[3:5]}村", "x": lon, "y": lat}).scalar_one()
    if colour:
        conn.execute(text("INSERT INTO risk_assessment (kind, object_id, level, rules_version, rules_hash) "
                          "VALUES ('enterprise', :e, :l, 'test', 'test')"), {"e": eid, "l": colour})
    if last:
        conn.execute(text("INSERT INTO inspection (enterprise_id, inspected_on, team) VALUES (:e, :d, '一组')"),
                     {"e": eid, "d": last})
    return int(eid)


def add_roads(conn: Connection) -> None:
    for code, cls, oneway, wkt in ROADS:
        conn.execute(text("INSERT INTO road (code, road_class, oneway, geom) "
                          "VALUES (:c, :k, :o, ST_GeomFromText(:w, 4490))"), {"c": code, "k": cls, "o": oneway, "w": wkt})


# --- due list from the database -------------------------------------------------------------------------


def test_due_list_by_colour_on_each_date_edge(planner):
    """Each colour is due exactly when last inspection + its interval falls on or before the week's Sunday (the
    frequencies alone: annual caps off here — with the shipped caps the blue unit, inspected once this year,
    would be held back; see tests/risk/test_worked_examples.py)."""
    d = dt.date
    with planner.begin() as conn:
        due_ids = {
            add_enterprise(conn, "红甲", 111.1, 39.3, colour="red", last=d(2026, 11, 22)),      # 22 + 7 = 29
            add_enterprise(conn, "橙甲", 111.1, 39.3, colour="orange", last=d(2026, 11, 19)),   # 19 + 10 = 29
            add_enterprise(conn, "黄甲", 111.1, 39.3, colour="yellow", last=d(2026, 11, 14)),   # 14 + 15 = 29
            add_enterprise(conn, "蓝甲", 111.1, 39.3, colour="blue", last=d(2026, 10, 30)),     # 30 + 30 = 29 Nov
            add_enterprise(conn, "未评", 111.1, 39.3),                                          # never inspected
        }
        not_due = {
            add_enterprise(conn, "红乙", 111.1, 39.3, colour="red", last=d(2026, 11, 23)),
            add_enterprise(conn, "橙乙", 111.1, 39.3, colour="orange", last=d(2026, 11, 20)),
            add_enterprise(conn, "黄乙", 111.1, 39.3, colour="yellow", last=d(2026, 11, 15)),
            add_enterprise(conn, "蓝乙", 111.1, 39.3, colour="blue", last=d(2026, 10, 31)),
        }
        no_caps = dataclasses.replace(load_frequencies(), annual_cap={}, annual_cap_by_category={})
        due = load_due(conn, WEEK_START, WEEK_END, frequencies=no_caps)
    got = {s.item.enterprise_id: s for s in due}
    assert set(got) == due_ids
    assert not set(got) & not_due
    assert [s.item.colour for s in due][0] == "red"  # most urgent first
    unrated = next(s for s in due if s.item.name == "未评")
    assert unrated.item.colour == "blue" and "从未检查" in unrated.item.reasons


def test_overdue_hazards_and_new_encroachments_make_a_unit_due(planner):
    """A blue unit inspected last week is due only with a hazard overdue at the week's start, or a new encroachment."""
    last = dt.date(2026, 11, 20)
    with planner.begin() as conn:
        overdue = add_enterprise(conn, "蓝隐患逾期", 111.1, 39.3, colour="blue", last=last)
        rectified = add_enterprise(conn, "蓝已整改", 111.1, 39.3, colour="blue", last=last)
        on_start = add_enterprise(conn, "蓝期限当天", 111.1, 39.3, colour="blue", last=last)
        encroached = add_enterprise(conn, "河曲县燃气有限公司", 111.1, 39.3, colour="blue", last=last)
        for eid, deadline, status in ((overdue, dt.date(2026, 11, 22), "found"),
                                      (rectified, dt.date(2026, 11, 1), "rectified"),
                                      (on_start, WEEK_START, "rectifying")):
            conn.execute(text("INSERT INTO hazard (enterprise_id, level, found_on, deadline, status) "
                              "VALUES (:e, 'general', '2026-11-01', :d, :s)"), {"e": eid, "d": deadline, "s": status})
        conn.execute(text("INSERT INTO encroachment (code, geom, status, responsible_operator) VALUES "
                          "('ZY-1', ST_SetSRID(ST_MakePoint(111.1, 39.3), 4490), 'found', '河曲县燃气有限公司')"))
        due = {s.item.enterprise_id: s.item for s in load_due(conn, WEEK_START, WEEK_END)}
    assert set(due) == {overdue, encroached}
    assert "有逾期未整改隐患" in due[overdue].reasons
    assert "新发现占压" in due[encroached].reasons


def test_township_filter_keeps_only_that_townships_units(planner):
    with planner.begin() as conn:
        west = add_enterprise(conn, "西口企业", 111.15, 39.38)
        add_enterprise(conn, "楼子营企业", 111.40, 39.30)
        due = load_due(conn, WEEK_START, WEEK_END, township="140930100000")
    assert [s.item.enterprise_id for s in due] == [west]


# --- road network and plans ------------------------------------------------------------------------------


def test_graph_cuts_crossing_roads_and_respects_oneway(planner):
    """The tertiary road crossing the primary mid-way is cut there; the oneway lane has no way back."""
    with planner.begin() as conn:
        add_roads(conn)
        built = build_network(conn)
        crossing = conn.execute(text(
            "SELECT count(*) FROM road_edge e JOIN road r ON r.id = e.road_id WHERE r.code = 'HQ-R4'")).scalar()
        oneway = conn.execute(text(
            "SELECT e.cost_s, e.reverse_cost_s, e.length_m FROM road_edge e JOIN road r ON r.id = e.road_id "
            "WHERE r.code = 'HQ-R6'")).one()
    assert crossing == 2
    assert built["components"] == 2  # the main network and the isolated village road
    assert oneway.reverse_cost_s == -1
    # 0.05° of longitude at 39.43°N ≈ 4.30 km, at the 村道 speed of 25 km/h
    assert oneway.length_m == pytest.approx(4300, rel=0.01)
    assert oneway.cost_s == pytest.approx(oneway.length_m / (25 / 3.6))


def _tight_config() -> dict:
    """One working day and two-hour visits, so two teams cannot visit every unit."""
    cfg = load_plan_config()
    cfg["day"] = {**cfg["day"], "weekdays": [1], "time_limit_s": 3}
    cfg["service_minutes"] = {k: 120 for k in cfg["service_minutes"]}
    return cfg


def test_plan_keeps_hours_follows_roads_and_reports_unreachable_stops(planner):
    with planner.begin() as conn:
        add_roads(conn)
        ids = {name: add_enterprise(conn, name, x, y, category=c, colour="red")
               for name, x, y, c in [*NEAR_ROADS, FAR, ISOLATED]}
        plan_id = make_plan(conn, WEEK_START, WEEK_END, teams=2, config=_tight_config())
        plan = get_plan(conn, plan_id)
        srid = conn.execute(text("SELECT metric_srid FROM county")).scalar()
        off_road = conn.execute(text(
            "SELECT count(*) FROM plan_route p WHERE p.plan_id = :p AND NOT ST_Covers("
            "(SELECT ST_Buffer(ST_Transform(ST_Union(geom), :srid), 3) FROM road), ST_Transform(p.geom, :srid))"),
            {"p": plan_id, "srid": srid}).scalar()
        road_km = conn.execute(text("SELECT sum(ST_Length(ST_Transform(geom, :srid))) / 1000 FROM plan_route "
                                    "WHERE plan_id = :p"), {"p": plan_id, "srid": srid}).scalar()
    assert plan["routes"], "no team got a route"
    assert all(r["return_s"] <= 8 * 3600 for r in plan["routes"])  # no team over its 8 hours
    assert all(r["geometry"] and r["geometry"]["type"] == "MultiLineString"
               for r in plan["routes"] if any(s["snapped"] for s in r["stops"]))
    assert off_road == 0 and road_km > 1
    stops = [s for r in plan["routes"] for s in r["stops"]] + plan["dropped"]
    assert sorted(s["enterprise_id"] for s in stops) == sorted(ids.values())  # none silently lost
    assert plan["dropped"] and all(s["dropped_reason"] for s in plan["dropped"])
    notes = {s["name"]: s["snap_note"] for s in plan["fallback_stops"]}
    assert set(notes) == {FAR[0], ISOLATED[0]}
    assert "超过 2000 米" in notes[FAR[0]]
    assert "不连通" in notes[ISOLATED[0]]
    for r in plan["routes"]:  # arrival times increase along each route
        arrivals = [s["arrival_s"] for s in r["stops"]]
        assert arrivals == sorted(arrivals) and [s["seq"] for s in r["stops"]] == list(range(1, len(arrivals) + 1))


def test_teams_leave_from_their_own_depots(planner):
    """Team 2 has its own station east of the seat (plan.toml [[depots]]); team 1 leaves from the bureau."""
    cfg = load_plan_config()
    cfg["day"] = {**cfg["day"], "weekdays": [1], "time_limit_s": 2}
    cfg["depots"] = [{"team": 2, "name": "楼子营应急站", "lon": 111.27, "lat": 39.381}]
    with planner.begin() as conn:
        add_roads(conn)
        for name, x, y, c in NEAR_ROADS:
            add_enterprise(conn, name, x, y, category=c, colour="blue")
        plan = get_plan(conn, make_plan(conn, WEEK_START, WEEK_END, teams=2, config=cfg))
    depots = {r["team"]: (r["depot"], r["depot_lon"]) for r in plan["routes"]}
    assert depots.get("第1组", ("河曲县应急管理局", 111.15)) == ("河曲县应急管理局", 111.15)
    assert depots["第2组"] == ("楼子营应急站", 111.27)
    assert [d["name"] for d in plan["summary"]["depots"]] == ["河曲县应急管理局", "楼子营应急站"]


def test_recorded_findings_create_hazards_and_change_the_next_due_list(planner):
    with planner.begin() as conn:
        eid = add_enterprise(conn, "河曲县壬化工有限公司", 111.17, 39.378, category="hazchem", colour="yellow",
                             last=dt.date(2026, 10, 1))
        assert [s.item.enterprise_id for s in load_due(conn, WEEK_START, WEEK_END)] == [eid]
        out = record_inspection(conn, enterprise=eid, inspected_on=dt.date(2026, 11, 24), team="第1组",
                                result="发现隐患两处", findings=[
                                    Finding("general", "灭火器过期"),
                                    Finding("major", "储罐区防火堤破损", dt.date(2026, 12, 5))])
        hazards = conn.execute(text("SELECT level, status, deadline FROM hazard WHERE enterprise_id = :e "
                                    "ORDER BY id"), {"e": eid}).all()
        next_week = load_due(conn, dt.date(2026, 11, 30), dt.date(2026, 12, 6))
        later = load_due(conn, dt.date(2026, 12, 7), dt.date(2026, 12, 13))
    assert len(out["hazard_ids"]) == 2
    assert [(h.level, h.status) for h in hazards] == [("general", "found"), ("major", "found")]
    assert hazards[0].deadline == dt.date(2026, 12, 24)  # 30 days by default for a general hazard
    assert next_week == []  # inspected on the 24th: yellow is next due on 9 December
    assert [s.item.enterprise_id for s in later] == [eid]
    assert "有逾期未整改隐患" in later[0].item.reasons  # the major hazard's deadline (5 Dec) has passed


def test_http_plan_map_sheet_and_result(planner, make_user):
    from api.app import create_app

    with planner.begin() as conn:
        add_roads(conn)
        for name, x, y, c in NEAR_ROADS[:4]:
            add_enterprise(conn, name, x, y, category=c, colour="orange")
    with TestClient(create_app(), headers=make_user("admin")) as client:
        r = client.post("/plans", json={"week": "2026-W48", "teams": 2, "time_limit_s": 2})
        assert r.status_code == 201, r.text
        plan = r.json()
        assert client.get(f"/plans/{plan['id']}").json()["summary"]["due"] == 4
        assert client.get("/plans").json()[0]["id"] == plan["id"]
        page = client.get(f"/plans/{plan['id']}/map")
        assert page.status_code == 200 and "<title>巡查路线" in page.text and '"LineString"' in page.text
        assert "预计到达" in client.get(f"/plans/{plan['id']}/sheet").text
        county_page = client.get("/maps", params={"plan": plan["id"]})  # the routes on the main map too
        assert county_page.status_code == 200 and '"LineString"' in county_page.text
        stop = plan["routes"][0]["stops"][0]
        res = client.post(f"/plans/{plan['id']}/stops/{stop['stop_id']}/result", json={
            "inspected_on": "2026-11-23", "team": "第1组", "result": "合格",
            "findings": [{"level": "general", "description": "安全通道堵塞"}]})
        assert res.status_code == 201, res.text
        assert client.get(f"/plans/{plan['id']}").json()["routes"][0]["stops"][0]["inspection_id"] \
            == res.json()["inspection_id"]
        bad = client.post("/inspections", json={"enterprise": "nope", "inspected_on": "2026-11-23"})
        assert bad.status_code == 404 and "没有企业" in bad.json()["message"]
        assert client.get("/plans/999999").status_code == 404
        wrong = client.post("/plans", json={"week": "2026-W60"})
        assert wrong.status_code == 422 and "不存在的周次" in wrong.json()["message"]
        empty = client.post("/plans", json={"week": "2026-W48", "township": "140930101000", "time_limit_s": 1})
        assert empty.status_code == 201 and empty.json()["status"] == "该时段没有需要检查的企业"


def test_cli_plan_writes_sheet_xlsx_and_pdf(planner, out_dir):
    from openpyxl import load_workbook

    with planner.begin() as conn:
        add_roads(conn)
        for name, x, y, c in NEAR_ROADS[:3]:
            add_enterprise(conn, name, x, y, category=c, colour="red")
    xlsx, sheet, pdf = out_dir / "plan.xlsx", out_dir / "plan_sheet.html", out_dir / "plan_sheet.pdf"
    done = subprocess.run([sys.executable, "-m", "geo.cli", "plan", "--week", "2026-W48", "--teams", "2",
                           "--time-limit", "2", "--xlsx", str(xlsx), "--html", str(sheet), "--pdf", str(pdf)],
                          capture_output=True, text=True, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr
    assert "应检 3 家" in done.stdout
    ws = load_workbook(xlsx).active
    assert [c.value for c in ws[1]][:5] == ["计划编号", "巡查组", "日期", "序号", "企业名称"]
    assert ws.max_row == 4
    assert "服务时长" in sheet.read_text(encoding="utf-8")
    assert pdf.read_bytes()[:5] == b"%PDF-"
    again = subprocess.run([sys.executable, "-m", "geo.cli", "plan", "--show", "1", "--json"],
                           capture_output=True, text=True, cwd=ROOT, check=False)
    assert again.returncode == 0 and json.loads(again.stdout)["summary"]["due"] == 3, again.stderr
    rec = subprocess.run([sys.executable, "-m", "geo.cli", "inspect", "record", "--enterprise", "1", "--date",
                          "2026-11-23", "--finding", "general:消防通道堵塞"], capture_output=True, text=True,
                         cwd=ROOT, check=False)
    assert rec.returncode == 0 and "新增隐患 1 条" in rec.stdout, rec.stderr


# --- real roads: OSM Liechtenstein -----------------------------------------------------------------------

DRIVABLE = {"motorway", "trunk", "primary", "secondary", "tertiary", "unclassified", "residential", "service",
            "track"}
OSM_CLASS = {"living_street": "residential", "road": "unclassified", "secondary_link": "secondary"}
OSM_ROADS = Path(__file__).resolve().parent / "data" / "osm_liechtenstein_2013_roads.gpkg"
"""OSM Liechtenstein 2013 roads (tests/data/PROVENANCE.md)."""


def test_real_osm_roads_route_between_vaduz_and_schaan(db):
    """OSM Liechtenstein roads (ODbL, © OpenStreetMap contributors) as a real graph; UTM 32N as the metric zone."""
    import pyogrio

    from geo.config import get_settings

    roads = pyogrio.read_dataframe(OSM_ROADS, layer="roads", columns=["highway", "oneway", "name"])
    roads["road_class"] = roads["highway"].map(lambda h: OSM_CLASS.get(h, h))
    roads = roads[roads["road_class"].isin(DRIVABLE)]
    rows = [{"k": k, "o": o == "yes", "n": n, "g": g.wkb_hex}
            for k, o, n, g in zip(roads["road_class"], roads["oneway"], roads["name"], roads.geometry, strict=True)]
    try:
        with db.begin() as conn:
            conn.execute(text("INSERT INTO county (code, name, metric_srid, geom) VALUES (:c, '列支敦士登（测试路网）', "
                              "32632, ST_Multi(ST_MakeEnvelope(9.4, 47.0, 9.7, 47.3, 4490)))"),
                         {"c": get_settings().county_code})
            conn.execute(text("INSERT INTO road (road_class, oneway, name, geom, source) VALUES (:k, :o, :n, "
                              "ST_SetSRID(ST_GeomFromWKB(decode(:g, 'hex')), 4490), 'OSM 2013 (ODbL)')"), rows)
            built = build_network(conn)
            main_share = conn.execute(text("SELECT max(n)::float / sum(n) FROM (SELECT count(*) AS n FROM road_vertex "
                                           "GROUP BY component) c")).scalar()
            vaduz, schaan = Stop(9.5215, 47.1410), Stop(9.5095, 47.1665)
            tt = travel_times(conn, [vaduz, schaan])
            assert all(s.vertex is not None for s in tt.snaps), [s.note for s in tt.snaps]
            leg = best_leg(tt, 0, 1)
            assert leg is not None
            road_m, = (m for _, m in route_paths(conn, [(0, leg)]).values())
            straight_m = conn.execute(text(
                "SELECT ST_Distance(ST_Transform(ST_SetSRID(ST_MakePoint(:x1, :y1), 4490), 32632), "
                "ST_Transform(ST_SetSRID(ST_MakePoint(:x2, :y2), 4490), 32632))"),
                {"x1": vaduz.lon, "y1": vaduz.lat, "x2": schaan.lon, "y2": schaan.lat}).scalar()
    finally:
        with db.begin() as conn:
            conn.execute(text(f"TRUNCATE {MY_TABLES} RESTART IDENTITY CASCADE"))
    assert built["edges"] > len(rows)  # OSM ways are cut where they meet mid-way
    assert main_share > 0.8
    path_m = road_m + leg.access_m
    assert straight_m > 2000
    assert straight_m <= path_m <= 2 * straight_m
    assert 60 < tt.matrix[0][1] < 900  # seconds by car from Vaduz to Schaan: minutes, not hours


# --- the demo county -------------------------------------------------------------------------------------


def test_demo_county_weekly_plan_for_four_teams(demo_county_engine):
    """A weekly plan for 4 teams on the demo county, inside a transaction rolled back (the demo stays as it is)."""
    with demo_county_engine.connect() as conn:
        started = time.perf_counter()
        plan_id = make_plan(conn, WEEK_START, WEEK_END, teams=4)
        seconds = time.perf_counter() - started
        plan = get_plan(conn, plan_id)
        conn.rollback()
    s = plan["summary"]
    print(f"\n示范县 2026-W48，4 个组：应检 {s['due']} 家，安排 {s['visited']}，未安排 {s['dropped']}，"
          f"矩阵 {s['matrix_s']} 秒，求解 {s['solve_s']} 秒，合计 {seconds:.1f} 秒")
    assert s["due"] > 0 and s["visited"] > 0
    assert {r["team"] for r in plan["routes"]} == {"第1组", "第2组", "第3组", "第4组"}
    assert all(r["return_s"] <= 8 * 3600 for r in plan["routes"])
    assert s["visited"] + s["dropped"] == s["due"]
    # no unit is left out while a less urgent one is visited (a red unit 141 days overdue once was)
    lowest_kept = min(stop["priority"] for r in plan["routes"] for stop in r["stops"])
    assert all(d["priority"] <= lowest_kept for d in plan["dropped"]), [
        (d["name"], d["colour"], d["priority"]) for d in plan["dropped"] if d["priority"] > lowest_kept]
    assert all("增派巡查组或增加出勤日" in d["dropped_reason"] for d in plan["dropped"]
               if "工时" in d["dropped_reason"] or "优先级" in d["dropped_reason"])
    json.dumps(plan)  # plain data, as the API returns it
