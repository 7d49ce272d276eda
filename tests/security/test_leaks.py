"""Finding 11 (data part): no code lookups across townships, risk rows follow their object, a private backup from
its first byte, hazards from findings in the register, and derived-table writes and plans in the audit log."""

from __future__ import annotations

import subprocess
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text

from geo.uscc import make_uscc
from tests import test_access
from tests.test_access import EAST, WEST

app, towns = test_access.app, test_access.towns  # fixtures of the two-township county


def _grid(code: str, lon: float, lat: float) -> dict:
    d = 0.01
    return {"type": "Feature", "properties": {"code": code, "name": "测试网格"},
            "geometry": {"type": "Polygon", "coordinates": [[[lon, lat], [lon + d, lat], [lon + d, lat + d],
                                                             [lon, lat + d], [lon, lat]]]}}


def _scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def test_a_code_held_by_another_township_is_not_revealed(app, towns, make_user):
    east = TestClient(app, headers=make_user("township_editor", townships=[EAST]))
    assert east.post("/layers/grid_cell/features", json=_grid("G-EAST-1", 111.45, 39.10)).status_code == 201
    west = TestClient(app, headers=make_user("township_editor", townships=[WEST]))
    assert west.post("/layers/grid_cell/features", json=_grid("G-WEST-1", 111.21, 39.22)).status_code == 201
    foreign = west.post("/layers/grid_cell/features", json=_grid("G-EAST-1", 111.21, 39.24))
    own = west.post("/layers/grid_cell/features", json=_grid("G-WEST-1", 111.21, 39.26))
    # the same answer whether the holder is visible or not: the caller learns nothing about other townships
    assert foreign.status_code == own.status_code == 409, foreign.text
    assert foreign.json()["code"] == own.json()["code"] == "duplicate"
    assert foreign.json()["message"].replace("G-EAST-1", "X") == own.json()["message"].replace("G-WEST-1", "X")
    assert "code" in foreign.json()["message"] and "楼子营" not in foreign.text and EAST not in foreign.text
    assert _scalar(towns, "SELECT count(*) FROM grid_cell") == 2
    with towns.connect() as conn:  # and the lookup function that answered across townships is gone
        assert conn.execute(text("SELECT to_regproc('riskmap_code_taken')")).scalar() is None


def test_risk_rows_follow_their_object_to_its_new_township(app, towns, make_user):
    west_id = _scalar(towns, "SELECT id FROM enterprise WHERE name LIKE '%西%'")
    from geo.risk import compute

    with towns.begin() as conn:
        compute(conn)
    west = TestClient(app, headers=make_user("township_editor", townships=[WEST]))
    assert west.get(f"/risk/enterprise/{west_id}").status_code == 200
    county = TestClient(app, headers=make_user("county_editor"))
    moved = county.patch(f"/layers/enterprise/features/{west_id}",
                         json={"version": 1, "geometry": {"type": "Point", "coordinates": [111.46, 39.11]}})
    assert moved.status_code == 200, moved.text
    assert west.get(f"/risk/enterprise/{west_id}").status_code == 404
    assert west_id not in [r.get("object_id") for r in west.get("/risk/enterprise").json()["items"]]
    east = TestClient(app, headers=make_user("township_editor", townships=[EAST]))
    assert east.get(f"/risk/enterprise/{west_id}").status_code == 200


def test_backup_partial_file_is_private_from_the_start(db, tmp_path, monkeypatch):
    import os

    from geo import backup

    modes: list[int] = []
    real_run = subprocess.run

    def spying_run(args, *a, **kw):
        result = real_run(args, *a, **kw)
        modes.extend(p.stat().st_mode & 0o777 for p in Path(tmp_path).glob("*.partial"))
        return result

    monkeypatch.setattr(backup.subprocess, "run", spying_run)
    old = os.umask(0o022)
    try:
        result = backup.backup_database(tmp_path / "private.dump")
    finally:
        os.umask(old)
    assert modes and all(m == 0o600 for m in modes), [oct(m) for m in modes]
    assert result.path.stat().st_mode & 0o777 == 0o600


def test_hazards_from_inspection_findings_enter_the_register(app, towns, make_user):
    c = TestClient(app, headers=make_user("county_editor"))
    r = c.post("/inspections", json={"enterprise": make_uscc("9114093000000000X"), "inspected_on": "2026-11-24",
                                     "team": "一组", "findings": [{"level": "major", "description": "储罐区无防火堤"}]})
    assert r.status_code == 201, r.text
    hazard = r.json()["hazard_ids"][0]
    code = _scalar(towns, "SELECT code FROM hazard WHERE id = :h", h=hazard)
    assert code and code.startswith("YH-2026-")
    history = c.get(f"/register/hazard/{code}/history").json()
    assert [e["to_status"] for e in history] == ["found"]


def test_plans_risk_runs_and_encroachment_checks_are_audited(app, towns, make_user):
    with towns.begin() as conn:
        conn.execute(text(
            "INSERT INTO pipeline (code, name, medium, geom) VALUES ('GD-1', '河曲输气支线', 'gas', "
            "ST_Multi(ST_GeomFromText('LINESTRING(111.22 39.20, 111.46 39.12)', 4490)))"))
        conn.execute(text(
            "INSERT INTO building (name, use_class, floors, township_id, geom) VALUES ('管上房', 'residential', 1, "
            "(SELECT id FROM township WHERE code = :w), ST_Multi(ST_Buffer(ST_SetSRID(ST_MakePoint(111.2600, "
            "39.1867), 4490), 0.00002)))"), {"w": WEST})
    c = TestClient(app, headers=make_user("county_editor", username="县局审计员"))
    assert c.post("/plans", json={"week": "2026-W48", "teams": 1, "time_limit_s": 1}).status_code == 201
    assert c.post("/risk/compute").status_code == 200
    checked = c.post("/encroachments/check")
    assert checked.status_code == 200 and checked.json(), checked.text
    with towns.connect() as conn:
        counted = dict(conn.execute(text(
            "SELECT table_name, (after ->> 'rows')::int FROM audit_log "
            "WHERE actor = '县局审计员' AND record_id IS NULL AND action = 'insert'")).all())
    assert counted.get("plan_route", 0) >= 1 and counted.get("risk_assessment", 0) >= 2, counted
    assert counted.get("encroachment_candidate", 0) >= 1, counted
    log = c.get("/audit", params={"table": "risk_assessment"}).json()
    assert len(log) == 1 and log[0]["rows"] == counted["risk_assessment"] and log[0]["record_id"] is None
