"""Finding 5: an inspector writes inspections, hazards and register events only for the enterprises its own
teams visit (and, when it has townships, only inside them) — decided by the database, not by Python."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from geo.uscc import make_uscc
from tests import test_access
from tests.test_access import WEST

app, towns = test_access.app, test_access.towns  # fixtures of the two-township county

WEST_USCC, EAST_USCC = make_uscc("9114093000000000X"), make_uscc("9114093000000001X")


def _count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def _written(engine) -> tuple[int, int, int]:
    return _count(engine, "inspection"), _count(engine, "hazard"), _count(engine, "register_event")


def _refused(r) -> None:
    assert r.status_code == 403, r.text
    message = r.json()["message"]
    assert message and any("\u4e00" <= ch <= "\u9fff" for ch in message)


def test_inspector_cannot_write_on_enterprises_outside_its_stops(app, towns, make_user):
    c = TestClient(app, headers=make_user("inspector", teams=["一组"]))
    _refused(c.post("/hazards", json={"enterprise_uscc": EAST_USCC, "level": "major", "description": "越界隐患"}))
    _refused(c.post("/inspections", json={"enterprise": EAST_USCC, "inspected_on": "2026-11-24", "team": "一组",
                                          "findings": [{"level": "major", "description": "越界"}]}))
    assert _written(towns) == (0, 0, 0)
    # its own team's stop: allowed, with the register event that goes with a new hazard
    ok = c.post("/hazards", json={"enterprise_uscc": WEST_USCC, "level": "general", "description": "消防通道堵塞"})
    assert ok.status_code == 201, ok.text
    assert _written(towns) == (0, 1, 1)


def test_inspector_of_a_team_without_stops_writes_nothing(app, towns, make_user):
    c = TestClient(app, headers=make_user("inspector", teams=["三组"]))
    _refused(c.post("/hazards", json={"enterprise_uscc": WEST_USCC, "level": "general"}))
    _refused(c.post("/inspections", json={"enterprise": WEST_USCC, "inspected_on": "2026-11-24"}))
    # an inspector with townships: inside them, but still only on its teams' stops
    t = TestClient(app, headers=make_user("inspector", townships=[WEST], teams=["三组"]))
    _refused(t.post("/hazards", json={"enterprise_uscc": WEST_USCC, "level": "general"}))
    assert _written(towns) == (0, 0, 0)


def test_the_database_refuses_an_inspectors_direct_inserts(towns):
    """No Python check in the way: the inspector's own database role cannot insert outside its stops."""
    from geo.access.principal import Principal, bind

    with towns.connect() as conn:
        ids = dict(conn.execute(text("SELECT uscc, id FROM enterprise")).all())
        east = ids[EAST_USCC]
        conn.execute(text("INSERT INTO hazard (code, enterprise_id, level, found_on, status) "
                          "VALUES ('YH-X-1', :e, 'major', '2026-11-24', 'found')"), {"e": east})
        hazard = conn.execute(text("SELECT id FROM hazard WHERE code = 'YH-X-1'")).scalar_one()
        conn.commit()
    inspector = Principal(user_id=0, username="巡查员甲", role="inspector", teams=("一组",))
    statements = [
        ("INSERT INTO inspection (enterprise_id, inspected_on, team) VALUES (:e, '2026-11-24', '一组')", {"e": east}),
        ("INSERT INTO hazard (enterprise_id, level, found_on, status) VALUES (:e, 'major', '2026-11-24', 'found')",
         {"e": east}),
        ("INSERT INTO register_event (object_kind, object_id, to_status, changed_by) VALUES ('hazard', :h, 'found', 'x')",
         {"h": hazard}),
    ]
    for sql, params in statements:
        with towns.connect() as conn:
            bind(conn, inspector)
            with pytest.raises(DBAPIError) as caught:
                conn.execute(text(sql), params)
            assert "row-level security" in str(caught.value)
    with towns.connect() as conn:  # the same inserts on its own stop's enterprise go through
        bind(conn, inspector)
        conn.execute(text(statements[0][0]), {"e": ids[WEST_USCC]})
        conn.rollback()
