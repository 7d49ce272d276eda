"""A small county for the workbench tests: two townships, enterprises with colours and a history, hazards and
encroachment points in known statuses, and a current plan with a route of 第1组 — the numbers are counted by hand
in the docstrings of the tests that read them."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import Connection, Engine, text

from geo.uscc import make_uscc

TOWNSHIP_A, TOWNSHIP_B = "140930100000", "140930101000"


def township(conn: Connection, code: str, name: str, x0: float, x1: float) -> int:
    return conn.execute(text(
        "INSERT INTO township (code, name, county_code, geom, is_illustrative) VALUES (:c, :n, '140930', "
        "ST_Multi(ST_MakeEnvelope(:x0, 39.3, :x1, 39.5, 4490)), true) RETURNING id"),
        {"c": code, "n": name, "x0": x0, "x1": x1}).scalar_one()


def enterprise(conn: Connection, n: int, name: str, lon: float, tid: int) -> int:
    return conn.execute(text(
        "INSERT INTO enterprise (uscc, name, category, address, township_id, geom) VALUES (:u, :n, 'industry_trade', "
        "'河曲县', :t, ST_SetSRID(ST_MakePoint(:x, 39.4), 4490)) RETURNING id"),
        {"u": make_uscc(f"91140930{n:09d}"), "n": name, "t": tid, "x": lon}).scalar_one()


def level(conn: Connection, kind: str, oid: int, lv: str, tid: int | None, since_days: int,
          until_days: int | None = None) -> None:
    conn.execute(text(
        "INSERT INTO risk_assessment (kind, object_id, level, township_id, rules_version, rules_hash, valid_from, "
        "valid_to) VALUES (:k, :o, :l, :t, 'test', 'test', now() - make_interval(days => :a), "
        "CASE WHEN CAST(:b AS integer) IS NULL THEN NULL ELSE now() - make_interval(days => :b) END)"),
        {"k": kind, "o": oid, "l": lv, "t": tid, "a": since_days, "b": until_days})


def build(engine: Engine, today: dt.date) -> dict[str, int]:
    """The county; returns the ids the tests need."""
    ago = lambda d: today - dt.timedelta(days=d)  # noqa: E731
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO risk_rules_version (rules_hash, version, content) "
                          "VALUES ('test', 'test', '{}') ON CONFLICT DO NOTHING"))
        a = township(conn, TOWNSHIP_A, "西口镇", 111.0, 111.2)
        b = township(conn, TOWNSHIP_B, "楼子营镇", 111.2, 111.4)
        e1 = enterprise(conn, 1, "河曲县甲化工有限公司", 111.05, a)
        e2 = enterprise(conn, 2, "河曲县乙建材有限公司", 111.10, a)
        e3 = enterprise(conn, 3, "河曲县丙冶炼有限公司", 111.15, a)
        e4 = enterprise(conn, 4, "河曲县丁燃气有限公司", 111.25, b)
        e5 = enterprise(conn, 5, "河曲县戊建筑有限公司", 111.30, b)
        # e1 was orange until 70 days ago, red since; the others unchanged for 400 days
        level(conn, "enterprise", e1, "orange", a, 400, 70)
        level(conn, "enterprise", e1, "red", a, 70)
        for eid, lv, tid in ((e2, "orange", a), (e3, "yellow", a), (e4, "blue", b), (e5, "red", b)):
            level(conn, "enterprise", eid, lv, tid, 400)
        level(conn, "township", a, "red", a, 400)
        level(conn, "township", b, "orange", b, 400)
        hazards = [("YH-T-0001", e1, "rectified", None), ("YH-T-0002", e2, "found", ago(10)),
                   ("YH-T-0003", e3, "closed", None), ("YH-T-0004", e4, "rectifying", today + dt.timedelta(days=20))]
        for code, eid, status, deadline in hazards:
            conn.execute(text(
                "INSERT INTO hazard (code, enterprise_id, level, description, found_on, deadline, status) "
                "VALUES (:c, :e, 'general', '消防通道堵塞', :f, :d, :s)"),
                {"c": code, "e": eid, "f": ago(40), "d": deadline, "s": status})
        for code, tid, x, status, deadline in (("ZY-T-0001", a, 111.12, "rectifying", ago(5)),
                                               ("ZY-T-0002", b, 111.32, "closed", ago(5))):
            conn.execute(text(
                "INSERT INTO encroachment (code, geom, township_id, status, found_on, deadline, description) "
                "VALUES (:c, ST_SetSRID(ST_MakePoint(:x, 39.41), 4490), :t, :s, :f, :d, '违章建房')"),
                {"c": code, "x": x, "t": tid, "s": status, "f": ago(40), "d": deadline})
        plan = conn.execute(text(
            "INSERT INTO inspection_plan (start_on, end_on, teams, status, solve_s, summary) "
            "VALUES (:s, :e, 2, '找到可行解', 0.1, CAST(:sum AS jsonb)) RETURNING id"),
            {"s": today, "e": today + dt.timedelta(days=6),
             "sum": json.dumps({"due": 3, "visited": 3, "dropped": 0})}).scalar_one()
        routes = {}
        for team in ("第1组", "第2组"):
            routes[team] = conn.execute(text(
                "INSERT INTO plan_route (plan_id, team, day_on, depot_name, depot_geom, travel_s, service_s, "
                "return_s, distance_m) VALUES (:p, :t, :d, '河曲县应急管理局', ST_SetSRID(ST_MakePoint(111.15, 39.38), "
                "4490), 3600, 3600, 7200, 30000) RETURNING id"), {"p": plan, "t": team, "d": today}).scalar_one()
        for seq, (team, eid) in enumerate((("第1组", e1), ("第1组", e2), ("第2组", e4)), start=1):
            conn.execute(text(
                "INSERT INTO plan_stop (plan_id, route_id, seq, enterprise_id, colour, priority, reasons, arrival_s, "
                "service_s, snapped) VALUES (:p, :r, :q, :e, 'red', 10, '[\"从未检查\"]', :a, 1800, true)"),
                {"p": plan, "r": routes[team], "q": seq, "e": eid, "a": 1800 * seq})
    return {"a": a, "b": b, "e1": e1, "e2": e2, "e4": e4, "plan": plan}
