"""The field app's stories on a copy of the demo county: a plan of this week with today's route of 第1组 (two stops
in 西口镇) and of 第2组 (one stop), an inspector of 第1组 in 西口镇 and a township editor of 西口镇."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine, create_engine, text

from tests.workbench_fixtures import XIKOU, copy_demo


@dataclass(frozen=True)
class FieldPlan:
    plan_id: int
    own_stops: tuple[int, int]
    other_stop: int
    enterprises: tuple[int, int, int]
    inside: tuple[float, float]
    """lon/lat inside 西口镇, 30 m from a pipeline when the county has one there."""
    outside: tuple[float, float]
    """lon/lat in the county but outside 西口镇."""


def make_field_plan(engine: Engine, today: dt.date) -> FieldPlan:
    """This week's plan: 第1组 visits two 西口镇 enterprises today, 第2组 a third one."""
    with engine.begin() as conn:
        firms = conn.execute(text(
            "SELECT e.id FROM enterprise e JOIN township t ON t.id = e.township_id WHERE t.code = :c "
            "ORDER BY e.id LIMIT 3"), {"c": XIKOU}).scalars().all()
        assert len(firms) == 3, "the demo county has three enterprises in 西口镇"
        plan = conn.execute(text(
            "INSERT INTO inspection_plan (start_on, end_on, teams, status, solve_s, summary, township_code) "
            "VALUES (:s, :e, 2, '找到可行解', 0.1, CAST(:sum AS jsonb), :t) RETURNING id"),
            {"s": today, "e": today + dt.timedelta(days=6), "t": XIKOU,
             "sum": json.dumps({"due": 3, "visited": 3, "dropped": 0})}).scalar_one()
        stops = []
        for team, eids in (("第1组", firms[:2]), ("第2组", firms[2:])):
            route = conn.execute(text(
                "INSERT INTO plan_route (plan_id, team, day_on, depot_name, depot_geom, travel_s, service_s, "
                "return_s, distance_m) VALUES (:p, :t, :d, '河曲县应急管理局', "
                "ST_SetSRID(ST_MakePoint(111.15, 39.38), 4490), 3600, 3600, 7200, 30000) RETURNING id"),
                {"p": plan, "t": team, "d": today}).scalar_one()
            for seq, eid in enumerate(eids, start=1):
                stops.append(conn.execute(text(
                    "INSERT INTO plan_stop (plan_id, route_id, seq, enterprise_id, colour, priority, reasons, "
                    "arrival_s, service_s, snapped) VALUES (:p, :r, :q, :e, 'red', 10, '[\"红色企业每周巡查一次，已到期\"]', "
                    ":a, 1800, true) RETURNING id"), {"p": plan, "r": route, "q": seq, "e": eid, "a": 1800 * seq})
                    .scalar_one())
        inside = conn.execute(text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(ST_Project(ST_Transform(ST_PointOnSurface("
            "ST_Intersection(pl.geom, t.geom)), 4326)::geography, 30, radians(45))::geometry, 4490) AS p "
            "FROM township t JOIN pipeline pl ON ST_Intersects(pl.geom, t.geom) WHERE t.code = :c "
            "ORDER BY pl.id LIMIT 1) x"), {"c": XIKOU}).first()
        if inside is None:
            inside = conn.execute(text("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM township "
                                       "WHERE code = :c) x"), {"c": XIKOU}).one()
        outside = conn.execute(text(
            "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) AS p FROM township WHERE code <> :c "
            "ORDER BY code LIMIT 1) x"), {"c": XIKOU}).one()
    return FieldPlan(plan, (stops[0], stops[1]), stops[2], tuple(firms), (inside[0], inside[1]),
                     (outside[0], outside[1]))


@contextmanager
def field_county(demo_county_db: str, demo_county_engine: Engine, name: str) -> Iterator[Engine]:
    """A copy of the demo county for one test module; the engine carries its URL as `url_string`."""
    url = copy_demo(demo_county_db, demo_county_engine, name)
    eng = create_engine(url)
    eng.url_string = url  # type: ignore[attr-defined]
    try:
        yield eng
    finally:
        eng.dispose()
