"""The pipeline desk over HTTP: check, confirm a candidate, follow it to 销号, report; the hazard ledger too."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import LineString, box
from sqlalchemy import text

from geo.uscc import make_uscc
from tests.encroach_fixtures import X0, Y0, add_building, add_pipeline, add_road, add_township


@pytest.fixture
def client(county, make_user):
    """One township, a 2 km gas pipeline, a house 3 m from it and a road 30 m from it, one enterprise."""
    with county.begin() as conn:
        add_township(conn, "140930100000", "西口镇", box(X0 - 3000, Y0 - 3000, X0 + 3000, Y0 + 3000))
        add_pipeline(conn, "GD-7", LineString([(X0 - 1000, Y0), (X0 + 1000, Y0)]))
        add_building(conn, box(X0, Y0 + 3, X0 + 10, Y0 + 13))
        add_road(conn, LineString([(X0 + 200, Y0 + 30), (X0 + 400, Y0 + 30)]))
        conn.execute(text("INSERT INTO enterprise (uscc, name, category, geom) VALUES (:u, '河曲县丁化工有限公司', "
                          "'hazchem', ST_SetSRID(ST_MakePoint(111.30, 39.20), 4490))"),
                     {"u": make_uscc("9114093000000777X")})
    from api.app import create_app

    with TestClient(create_app(), headers=make_user("admin")) as c:
        yield c


def test_check_confirm_and_close_an_encroachment(client):
    found = client.post("/encroachments/check").json()
    by_zone = {(c["feature_type"], round(c["distance_m"])): c for c in found}
    assert any(ft == "building" and d == 3 for ft, d in by_zone) and any(d == 30 for _, d in by_zone)
    near = next(c for c in found if c["feature_type"] == "building" and round(c["distance_m"]) == 3)
    assert near["township_code"] == "140930100000" and near["pipeline_code"] == "GD-7"
    r = client.post(f"/encroachments/candidates/{near['candidate_id']}/confirm",
                    json={"by": "张三", "nature": "违法建设", "measure": "拆除", "deadline": "2026-12-31"})
    assert r.status_code == 201
    code = r.json()["code"]
    for status in ("rectifying", "rectified"):
        assert client.post(f"/register/encroachment/{code}/status", json={"status": status, "by": "张三"}).status_code == 200
    refused = client.post(f"/register/encroachment/{code}/status", json={"status": "closed", "by": "张三"})
    assert refused.status_code == 422 and "核查" in refused.json()["message"]
    back = client.post(f"/register/encroachment/{code}/status", json={"status": "found", "by": "张三"})
    assert back.status_code == 409 and back.json()["code"]
    ok = client.post(f"/register/encroachment/{code}/status",
                     json={"status": "销号", "by": "张三", "verified_by": "李四"})
    assert ok.status_code == 200 and ok.json()["to_status"] == "closed"
    steps = [e["to_status"] for e in client.get(f"/register/encroachment/{code}/history").json()]
    assert steps[-3:] == ["rectifying", "rectified", "closed"]
    rows = client.get("/register/encroachment/report").json()
    assert all(isinstance(r, dict) for r in rows), rows
    west = next(r for r in rows if r["group_code"] == "140930100000")
    assert west["found"] >= 1 and west["rectified"] >= 1
    xlsx = client.get("/register/encroachment/ledger.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    bands = client.get("/encroachments/zones").json()["features"]
    assert sorted(f["properties"]["zone"] for f in bands) == ["zone_200m", "zone_50m", "zone_5m"]


def test_field_record_and_hazard_ledger(client):
    r = client.post("/encroachments", json={"lon": 111.30, "lat": 39.2001, "by": "王五", "kind": "crossing"})
    assert r.status_code == 201 and r.json()["code"]
    r = client.post("/encroachments", json={"by": "王五"})
    assert r.status_code == 422 and "经纬度" in r.json()["message"]
    uscc = make_uscc("9114093000000777X")
    h = client.post("/hazards", json={"enterprise_uscc": uscc, "level": "major", "by": "王五",
                                      "description": "储罐区可燃气体报警器失效"})
    assert h.status_code == 201
    code = h.json()["code"]
    assert client.post(f"/hazards/{code}/supervision", json={"department": "县应急管理局", "by": "王五"}).status_code == 200
    assert any(x["code"] == code for x in client.get("/hazards/supervised").json())
    report = client.get("/register/hazard/report", params={"split": True}).json()
    assert any(r["category"] == "major" and r["found"] == 1 for r in report)
    assert client.post("/register/hazard/NOPE/status", json={"status": "rectifying", "by": "x"}).status_code == 404
