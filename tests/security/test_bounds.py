"""Finding 10 (data part): vertex caps on written geometries, no echo of huge shapes, compact audit rows and a
bounded /audit answer."""

from __future__ import annotations

import json
import math

from fastapi.testclient import TestClient
from sqlalchemy import text

from tests import test_access

app, towns = test_access.app, test_access.towns  # fixtures of the two-township county


def _ring(n: int, lon: float = 111.22, lat: float = 39.24, r: float = 0.002) -> list[list[float]]:
    pts = [[round(lon + r * math.cos(2 * math.pi * k / n), 7), round(lat + r * math.sin(2 * math.pi * k / n), 7)]
           for k in range(n)]
    return [*pts, pts[0]]


def _building(n: int, **kw) -> dict:
    return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [_ring(n, **kw)]},
            "properties": {"name": f"{n} 点建筑"}}


def _count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_vertex_cap_on_feature_api_and_register(app, towns, make_user):
    c = TestClient(app, headers=make_user("county_editor"))
    r = c.post("/layers/building/features", json=_building(60_000))
    assert r.status_code == 422, r.text[:300]
    message = r.json()["message"]
    assert "geometry" in message and "60001" in message and "顶点" in message
    with towns.begin() as conn:
        conn.execute(text(
            "INSERT INTO pipeline (code, name, medium, geom) VALUES ('GD-1', '河曲输气支线', 'gas', "
            "ST_Multi(ST_GeomFromText('LINESTRING(111.22 39.20, 111.46 39.12)', 4490)))"))
    wkt = "POLYGON((" + ", ".join(f"{x} {y}" for x, y in _ring(60_000, lon=111.24, lat=39.195)) + "))"
    r = c.post("/encroachments", json={"wkt": wkt, "pipeline": "GD-1"})
    assert r.status_code == 422 and "wkt" in r.json()["message"] and "60001" in r.json()["message"], r.text[:300]
    assert _count(towns, "building") == 0 and _count(towns, "encroachment") == 0


def test_large_geometry_is_not_echoed_and_audited_compactly(app, towns, make_user):
    c = TestClient(app, headers=make_user("county_editor"))
    r = c.post("/layers/building/features", json=_building(20_000))
    assert r.status_code == 201, r.text[:300]
    body = r.json()
    assert len(r.content) < 5_000 and body["geometry"] is None
    assert body["properties"]["geometry_points"] == 20_001 and len(body["bbox"]) == 4
    read = c.get(f"/layers/building/features/{body['id']}")  # asked for, it is read whole
    assert len(read.json()["geometry"]["coordinates"][0][0]) == 20_001
    small = c.post("/layers/building/features", json=_building(12, lon=111.23))
    assert small.status_code == 201 and small.json()["geometry"]["type"] == "MultiPolygon"

    log = c.get("/audit", params={"table": "building", "record_id": str(body["id"])})
    assert log.status_code == 200 and len(log.content) < 5_000
    geom = log.json()[0]["after"]["geom"]
    assert geom["type"] == "MultiPolygon" and geom["points"] == 20_001 and len(geom["sha256"]) == 64
    assert geom["bbox"][0] < 111.22 < geom["bbox"][2]


def test_audit_pages_are_capped(app, towns, make_user):
    c = TestClient(app, headers=make_user("county_editor"))
    r = c.get("/audit", params={"limit": 5000})
    assert r.status_code == 422 and "limit" in r.json()["message"]
    # rows written before compact geometry (the whole shape as GeoJSON) are summarised when read
    ring = _ring(20_000)
    with towns.begin() as conn:
        for k in range(30):
            conn.execute(text(
                "INSERT INTO audit_log (actor, action, table_name, record_id, after) "
                "VALUES ('旧记录', 'insert', 'building', :id, CAST(:after AS jsonb))"),
                {"id": str(1000 + k), "after": json.dumps({"id": 1000 + k, "name": "旧", "geom": {
                    "type": "MultiPolygon", "coordinates": [[ring]]}})})
    r = c.get("/audit", params={"actor": "旧记录", "limit": 500})
    assert r.status_code == 200 and len(r.json()) == 30 and len(r.content) < 100_000
    old = r.json()[0]["after"]["geom"]
    assert old["type"] == "MultiPolygon" and old["points"] == 20_001 and len(old["sha256"]) == 64


def test_audit_answer_is_cut_at_its_byte_budget_with_a_link_to_the_rest(app, towns, make_user, monkeypatch):
    from geo.config import get_settings

    with towns.begin() as conn:
        for k in range(30):
            conn.execute(text(
                "INSERT INTO audit_log (actor, action, table_name, record_id, after) "
                "VALUES ('长记录', 'insert', 'enterprise', :id, CAST(:after AS jsonb))"),
                {"id": str(k), "after": json.dumps({"id": k, "address": "地" * 2000})})
    monkeypatch.setenv("RISKMAP_AUDIT_MAX_RESPONSE_BYTES", "50000")
    get_settings.cache_clear()
    try:
        c = TestClient(app, headers=make_user("county_viewer"))
        first = c.get("/audit", params={"actor": "长记录", "limit": 500})
        assert first.status_code == 200 and 1 <= len(first.json()) < 30 and len(first.content) <= 50_000
        link = first.headers["link"]
        assert 'rel="next"' in link and "actor=" in link
        rest = c.get(link[1:link.index(">")].replace("http://testserver", ""))
        assert rest.status_code == 200
        assert rest.json()[0]["id"] == first.json()[-1]["id"] - 1
    finally:
        monkeypatch.delenv("RISKMAP_AUDIT_MAX_RESPONSE_BYTES")
        get_settings.cache_clear()
