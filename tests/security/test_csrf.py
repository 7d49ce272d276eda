"""Finding 9: writes authenticated by the login cookie need a same-origin Origin/Referer and the CSRF token;
logout is a POST; cookies are Secure over TLS. Bearer clients are unaffected.

Before: a form on any site could POST /risk/compute and /encroachments/check with the victim's cookie, and a
GET /logout (an <img> on any page) logged people out.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import LineString, Point, box
from sqlalchemy import text

from tests.conftest import TEST_PASSWORD
from tests.encroach_fixtures import X0, Y0, add_building, add_enterprise, add_pipeline, add_township

SELF = "http://testserver"
EVIL = "http://evil.example"


@pytest.fixture
def app(county):
    """A township with an enterprise, a pipeline and a house 3 m from it: compute and check write rows."""
    from api.app import create_app
    from geo.uscc import make_uscc

    with county.begin() as conn:
        town = add_township(conn, "140930100000", "西口镇", box(X0 - 3000, Y0 - 3000, X0 + 3000, Y0 + 3000))
        add_pipeline(conn, "GD-7", LineString([(X0 - 1000, Y0), (X0 + 1000, Y0)]))
        add_building(conn, box(X0, Y0 + 3, X0 + 10, Y0 + 13))
        add_enterprise(conn, make_uscc("9114093000000777X"), "河曲县丁化工有限公司", Point(X0 + 500, Y0 + 500), town)
    return create_app()


def _rows(engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return (conn.execute(text("SELECT count(*) FROM risk_assessment")).scalar_one(),
                conn.execute(text("SELECT count(*) FROM encroachment_candidate")).scalar_one())


def _browser(app, make_user, username: str = "浏览器甲", base: str = SELF) -> TestClient:
    """A browser signed in through the login form: it holds the session cookie and the CSRF cookie."""
    make_user("county_editor", username=username)
    c = TestClient(app, base_url=base)
    page = c.get("/login")
    assert page.status_code == 200
    token = c.cookies.get("riskmap_csrf")
    assert token and f'name="csrf_token" value="{token}"' in page.text
    r = c.post("/login", data={"username": username, "password": TEST_PASSWORD, "csrf_token": token},
               headers={"Origin": base}, follow_redirects=False)
    assert r.status_code == 303, r.text
    assert c.cookies.get("riskmap_token")
    return c


@pytest.mark.parametrize("path", ["/risk/compute", "/encroachments/check"])
def test_cross_site_cookie_posts_are_refused_and_change_nothing(app, make_user, county, path):
    c = _browser(app, make_user)
    token = c.cookies.get("riskmap_csrf")
    before = _rows(county)
    for headers in ({"Origin": EVIL, "X-CSRF-Token": token},  # a foreign page, even one knowing the token
                    {"Origin": EVIL},  # the classic cross-site form
                    {"Referer": f"{EVIL}/attack.html"},
                    {},  # neither Origin nor Referer
                    {"Origin": SELF},  # same origin, no token
                    {"Origin": SELF, "X-CSRF-Token": token + "x"}):  # a wrong token
        r = c.post(path, headers=headers)
        assert r.status_code == 403, (headers, r.text)
        assert r.json()["code"] == "csrf" and "跨站请求被拒绝" in r.json()["message"]
    assert _rows(county) == before

    ok = c.post(path, headers={"Origin": SELF, "X-CSRF-Token": token})
    assert ok.status_code == 200, ok.text
    assert _rows(county) != before


def test_the_token_may_come_in_a_form_field_and_referer_stands_in_for_origin(app, make_user, county):
    c = _browser(app, make_user)
    r = c.post("/risk/compute", data={"csrf_token": c.cookies.get("riskmap_csrf")},
               headers={"Referer": f"{SELF}/maps"})
    assert r.status_code == 200, r.text


def test_bearer_clients_need_no_token(app, make_user, county):
    c = TestClient(app, headers=make_user("county_editor"))
    assert c.post("/risk/compute", headers={"Origin": EVIL}).status_code == 200
    assert c.post("/encroachments/check").status_code == 200


def test_logout_needs_a_post_with_the_token(app, make_user):
    c = _browser(app, make_user)
    page = c.get("/logout")
    assert page.status_code == 200 and 'method="post"' in page.text and "退出" in page.text
    assert c.get("/auth/me").status_code == 200, "GET /logout logged the user out"
    assert c.post("/logout", headers={"Origin": EVIL}).status_code == 403
    assert c.get("/auth/me").status_code == 200
    session = c.cookies.get("riskmap_token")
    r = c.post("/logout", data={"csrf_token": c.cookies.get("riskmap_csrf")}, headers={"Origin": SELF},
               follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert not c.cookies.get("riskmap_token")
    assert c.get("/auth/me", headers={"Authorization": f"Bearer {session}"}).status_code == 401


def test_the_login_form_itself_is_protected(app, make_user):
    make_user("county_viewer", username="登录乙")
    c = TestClient(app)
    c.get("/login")
    token = c.cookies.get("riskmap_csrf")
    form = {"username": "登录乙", "password": TEST_PASSWORD}
    assert c.post("/login", data=form, headers={"Origin": SELF}).status_code == 403
    assert c.post("/login", data={**form, "csrf_token": token}, headers={"Origin": EVIL}).status_code == 403
    c.cookies.delete("riskmap_csrf")
    assert c.post("/login", data={**form, "csrf_token": token}, headers={"Origin": SELF}).status_code == 403
    assert not c.cookies.get("riskmap_token")


def test_cookies_are_secure_over_tls_only(app, make_user):
    def cookie_headers(c: TestClient, headers: dict[str, str], origin: str | None = None) -> list[str]:
        c.get("/login", headers=headers)
        token = c.cookies.get("riskmap_csrf")  # sent by hand: a Secure cookie is not sent back over plain http
        origin = origin or str(c.base_url).rstrip("/")
        r = c.post("/login", data={"username": "安全丙", "password": TEST_PASSWORD, "csrf_token": token},
                   headers={"Origin": origin, "Cookie": f"riskmap_csrf={token}", **headers},
                   follow_redirects=False)
        assert r.status_code == 303, r.text
        return r.headers.get_list("set-cookie")

    make_user("county_viewer", username="安全丙")
    tls = cookie_headers(TestClient(app, base_url="https://testserver"), {})
    assert {c.split("=")[0] for c in tls} >= {"riskmap_token", "riskmap_csrf"}
    assert all("secure" in c.lower() for c in tls)
    csrf = next(c for c in tls if c.startswith("riskmap_csrf=")).lower()
    assert "samesite=strict" in csrf and "httponly" not in csrf
    assert all("secure" not in c.lower() for c in cookie_headers(TestClient(app), {}))
    proxied = TestClient(app, client=("127.0.0.1", 5000))  # a trusted proxy (settings.trusted_proxies)
    assert all("secure" in c.lower() for c in cookie_headers(proxied, {"X-Forwarded-Proto": "https"},
                                                              "https://testserver"))
    stranger = TestClient(app, client=("10.9.9.9", 5000))
    assert all("secure" not in c.lower() for c in cookie_headers(stranger, {"X-Forwarded-Proto": "https"}))
