"""Finding 8: input a column or PostGIS cannot hold is a 422 in Chinese naming the field, and nothing is written
(each case was a 500, or was stored, before)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from geo.uscc import make_uscc
from tests import test_access
from tests.test_access import WEST

app, towns = test_access.app, test_access.towns  # fixtures of the two-township county

TABLES = ("enterprise", "building", "encroachment", "hazard", "inspection", "inspection_plan", "register_event")


def _counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


@pytest.fixture
def setup(towns):
    with towns.begin() as conn:
        conn.execute(text(
            "INSERT INTO pipeline (code, name, medium, geom) VALUES ('GD-1', '河曲输气支线', 'gas', "
            "ST_Multi(ST_GeomFromText('LINESTRING(111.22 39.20, 111.46 39.12)', 4490)))"))
    return towns


def _enterprise(n: int, coordinates: list[float], **props) -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": coordinates},
            "properties": {"uscc": make_uscc(f"9114093000002{n:03d}X"), "name": f"河曲县测试{n}有限公司",
                           "category": "industry_trade", **props}}


def _square(x: float, y: float, d: float = 0.001, z: float | None = None) -> list[list[list[float]]]:
    ring = [[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]
    return [[[*p, z] if z is not None else p for p in ring]]


def _building(ring, **props) -> dict:
    return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": ring},
            "properties": {"name": "测试楼", **props}}


def _hazard_code(client: TestClient) -> str:
    made = client.post("/hazards", json={"enterprise_uscc": make_uscc("9114093000000000X"), "level": "general",
                                         "description": "消防通道堵塞"})
    assert made.status_code == 201, made.text
    return made.json()["code"]


CASES = [
    ("employees", "post", "/layers/enterprise/features", _enterprise(1, [111.22, 39.24], employees=2147483648)),
    ("floors", "post", "/layers/building/features", _building(_square(111.22, 39.24), floors=2147483648)),
    ("geometry", "post", "/layers/enterprise/features", _enterprise(2, [111.22, 39.24, 850.0])),
    ("geometry", "post", "/layers/enterprise/features", _enterprise(3, [111.22, 39.24, 850.0, 1.0])),
    ("geometry", "post", "/layers/building/features", _building(_square(111.22, 39.24, z=850.0))),
    ("wkt", "post", "/encroachments", {"wkt": "POINT M (111.24 39.195 1)", "pipeline": "GD-1"}),
    ("wkt", "post", "/encroachments", {"wkt": "POLYGON Z ((111.24 39.19 1, 111.25 39.19 1, 111.25 39.2 1, "
                                              "111.24 39.19 1))", "pipeline": "GD-1"}),
    ("wkt", "post", "/encroachments", {"wkt": "POINT(1e300 1e300)", "pipeline": "GD-1"}),
    ("wkt", "post", "/encroachments", {"wkt": "POINT(nan nan)", "pipeline": "GD-1"}),
    ("wkt", "post", "/encroachments", {"wkt": "POINT(1000 1000)", "pipeline": "GD-1"}),
    ("lon", "post", "/encroachments", {"lon": 180, "lat": 90, "pipeline": "GD-1"}),
    ("team", "post", "/inspections", {"enterprise": make_uscc("9114093000000000X"), "inspected_on": "2026-11-24",
                                      "team": "组" * 51}),
    ("inspected_on", "post", "/inspections", {"enterprise": make_uscc("9114093000000000X"),
                                              "inspected_on": "9999-12-31"}),
    ("week", "post", "/plans", {"week": "9999-W52", "township": WEST, "teams": 1, "time_limit_s": 1}),
    ("start", "post", "/plans", {"start": "9999-12-31", "end": "9999-12-31", "township": WEST, "teams": 1}),
    ("deadline", "post", "/hazards", {"enterprise_uscc": make_uscc("9114093000000000X"), "level": "general",
                                      "deadline": "9999-12-31"}),
]


@pytest.mark.parametrize(("field", "method", "path", "body"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_township_editor_bad_input_is_422_naming_the_field(app, setup, make_user, field, method, path, body):
    c = TestClient(app, headers=make_user("township_editor", townships=[WEST]))
    before = _counts(setup)
    r = getattr(c, method)(path, json=body)
    assert r.status_code == 422, r.text
    message = r.json()["message"]
    assert field in message and any("\u4e00" <= ch <= "\u9fff" for ch in message), message
    assert _counts(setup) == before


def test_over_long_verifier_is_422(app, setup, make_user):
    c = TestClient(app, headers=make_user("township_editor", townships=[WEST]))
    code = _hazard_code(c)
    for status in ("rectifying", "rectified"):
        assert c.post(f"/register/hazard/{code}/status", json={"status": status}).status_code == 200
    before = _counts(setup)
    r = c.post(f"/register/hazard/{code}/status", json={"status": "closed", "verified_by": "核" * 51})
    assert r.status_code == 422 and "verified_by" in r.json()["message"], r.text
    assert _counts(setup) == before


def test_feature_writes_outside_the_county_are_refused(app, setup, make_user):
    """A county editor has no township to keep it in: the county outline does (116.4°E is Beijing)."""
    c = TestClient(app, headers=make_user("county_editor"))
    before = _counts(setup)
    r = c.post("/layers/enterprise/features", json=_enterprise(4, [116.4, 39.9]))
    assert r.status_code == 422 and "geometry" in r.json()["message"] and "本县" in r.json()["message"], r.text
    r = c.post("/encroachments", json={"lon": 180, "lat": 90, "pipeline": "GD-1"})
    assert r.status_code == 422 and "lon" in r.json()["message"], r.text
    assert _counts(setup) == before
