"""Requests the schema fuzz run (tests/test_schema_fuzz.py) once answered with a 500: each is now refused as 4xx.

A bureau's integration or a mistyped URL must get a Chinese 4xx naming the problem, never 数据库处理请求时出错.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def admin_headers(request: pytest.FixtureRequest) -> dict[str, str]:
    """An admin's bearer header (fixture `make_user` of the auth work); none before auth exists."""
    try:
        make_user = request.getfixturevalue("make_user")
    except pytest.FixtureLookupError:
        return {}
    return dict(make_user("admin"))


@pytest.fixture
def client(county, admin_headers: dict[str, str]) -> Iterator[TestClient]:
    from api.app import create_app

    with TestClient(create_app(), headers=admin_headers, raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize("url", [
    "/maps/township/%00",
    "/maps/mine/C14%0000",
    "/encroachments/candidates?pipeline=%00",
    "/encroachments/zones?pipeline=GD%00",
    "/layers/enterprise/features?q=%00",
    "/layers/enterprise/features?bbox=%00",
    "/register/hazard/YH%00/history",
])
def test_nul_character_in_path_or_query_is_refused(client: TestClient, url: str) -> None:
    """PostgreSQL text cannot hold U+0000; psycopg2 raised ValueError → 500 before the Text type refused it."""
    r = client.get(url)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_request"


@pytest.mark.parametrize(("path", "body"), [
    ("/hazards/YH-1/supervision", {"department": "县应急局\x00", "by": "张三"}),
    ("/register/encroachment/ZY-1/status", {"status": "closed", "by": "李\x00四"}),
    ("/encroachments", {"lon": 111.2, "lat": 39.2, "by": "王五", "description": "\x00"}),
    ("/inspections", {"enterprise": "1\x00", "inspected_on": "2026-11-23"}),
])
def test_nul_character_in_body_is_refused(client: TestClient, path: str, body: dict[str, object]) -> None:
    r = client.post(path, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_request"


@pytest.mark.parametrize("wkt", ["0.1.0", "POLYGON((111 39, 111.1 39", "riskmap 县区安全风险四色图", "-"])
def test_encroachment_with_unparseable_wkt_is_422(client: TestClient, wkt: str) -> None:
    """ST_GeomFromText raised on text that is not WKT, which surfaced as a database error (500)."""
    r = client.post("/encroachments", json={"wkt": wkt, "by": "王五"})
    assert r.status_code == 422, r.text
    assert r.json()["message"] == "字段 wkt：占压点几何无效（应为经纬度点或闭合多边形）"


def test_encroachment_after_a_refused_wkt_still_records(client: TestClient, county) -> None:
    """The parse runs in a savepoint: the refused text does not poison the transaction of a later check."""
    from sqlalchemy import text

    with county.begin() as conn:
        conn.execute(text(
            "INSERT INTO pipeline (code, name, medium, geom) VALUES ('GD-1', '河曲输气支线', 'gas', "
            "ST_Multi(ST_GeomFromText('LINESTRING(111.22 39.20, 111.40 39.15)', 4490)))"))
    assert client.post("/encroachments", json={"wkt": "POINT(", "by": "王五"}).status_code == 422
    r = client.post("/encroachments", json={"wkt": "POINT(111.30 39.18)", "by": "王五"})
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("bbox", ["1,2,3,nan", "nan,nan,nan,nan", "-inf,30,inf,40"])
def test_non_finite_bbox_is_refused(client: TestClient, bbox: str) -> None:
    """float() reads 'nan' and 'inf'; a NaN box compared false everywhere and silently matched nothing."""
    for path in ("/layers/enterprise/features", "/risk/enterprise"):
        r = client.get(path, params={"bbox": bbox})
        assert r.status_code == 422, (path, r.text)
        assert "bbox" in r.json()["message"]


@pytest.mark.parametrize(("start", "end", "words"), [
    ("2026-11-30", "2026-11-23", "早于"),
    ("0001-01-01", "9999-12-31", "最长 31 天"),
])
def test_plan_date_range_is_checked(client: TestClient, start: str, end: str, words: str) -> None:
    """A range of millennia built one solver vehicle per team and day (millions) before anything was refused."""
    r = client.post("/plans", json={"start": start, "end": end, "teams": 1, "time_limit_s": 1})
    assert r.status_code == 422, r.text
    assert words in r.json()["message"]


def test_binary_downloads_document_their_content_type() -> None:
    """The schema named application/json for Excel, MVT and basemap tiles; clients and the fuzz run trusted it."""
    from api.app import create_app

    paths = create_app().openapi()["paths"]
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    expected = {
        "/stats/townships.xlsx": xlsx,
        "/register/{kind}/ledger.xlsx": xlsx,
        "/tiles/{layer}/{z}/{x}/{y}.pbf": "application/vnd.mapbox-vector-tile",
        "/basemap/{z}/{x}/{y}": "image/png",
    }
    for path, media_type in expected.items():
        content = paths[path]["get"]["responses"]["200"]["content"]
        assert media_type in content and "application/json" not in content, (path, content)
    assert "204" in paths["/tiles/{layer}/{z}/{x}/{y}.pbf"]["get"]["responses"]


@pytest.mark.parametrize("at", ["0527-06-04T15:27:50-21:09", "2026-11-23T08:00:00+16:00"])
def test_history_instant_with_impossible_zone_offset_is_refused(client: TestClient, at: str) -> None:
    """Python accepts offsets up to ±23:59, PostgreSQL only ±15:59: the query failed (500) instead of a 422."""
    r = client.get("/risk/enterprise", params={"at": at})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["field"] == "at"


def test_history_instant_within_real_offsets_is_accepted(client: TestClient) -> None:
    for at in ("2026-11-23T08:00:00+14:00", "2026-11-23T08:00:00-12:00", "2026-11-23T08:00:00"):
        assert client.get("/risk/enterprise", params={"at": at}).status_code == 200, at


def test_offset_beyond_bigint_is_refused(client: TestClient) -> None:
    """OFFSET is a bigint in PostgreSQL: a larger offset failed in the query (500) instead of being refused."""
    r = client.get("/layers/enterprise/features", params={"offset": str(2**63)})
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["field"] == "offset"
    assert client.get("/layers/enterprise/features", params={"offset": str(2**63 - 1)}).status_code == 200


def test_login_with_nul_in_username_is_401(client: TestClient) -> None:
    """Bad credentials are 401 whatever they contain; a NUL in the name reached the query and gave a 500."""
    for username in ("admin\x00", "\x00"):
        r = client.post("/auth/token", data={"username": username, "password": "correct-horse-42"})
        assert r.status_code == 401, r.text
        assert r.json()["message"] == "用户名或密码错误"


@pytest.mark.parametrize(("method", "path", "kwargs"), [
    ("post", "/users", {"json": {"username": "u\x00", "password": "long-enough-pw-1", "role": "county_viewer"}}),
    ("post", "/users", {"json": {"username": "u1", "password": "long-enough-pw-1", "role": "township_editor",
                                 "townships": ["14093010\x000000"]}}),
    ("patch", "/users/u%00", {"json": {"disabled": True}}),
    ("post", "/auth/api-tokens", {"json": {"name": "市局\x00平台"}}),
    ("get", "/audit?actor=%00", {}),
    ("get", "/audit?since=2026-01-01T00:00:00%2B20:00", {}),
])
def test_admin_inputs_postgresql_cannot_hold_are_422(client: TestClient, method: str, path: str,
                                                     kwargs: dict[str, object]) -> None:
    r = getattr(client, method)(path, **kwargs)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_request"


def test_an_unhandled_error_is_a_chinese_500_with_the_security_headers():
    """A bug anywhere behind the routes still answers in Chinese, with nosniff / DENY like every other answer
    (the server's own fallback 500 bypassed the security-headers middleware)."""
    from api.app import create_app

    app = create_app()

    @app.get("/boom-for-test", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/boom-for-test")
    assert r.status_code == 500
    assert r.json()["message"] == "服务器内部错误，请稍后重试或联系管理员"
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"
