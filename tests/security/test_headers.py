"""Finding 2 of issue 11 (headers): a Content-Security-Policy with a fresh nonce on every HTML page, the nonce on
every inline script the page has, and nosniff / DENY / same-origin on every response; no-store on tokens."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.conftest import TEST_PASSWORD
from tests.security._pages import WEST, load_payload_county

SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)


@pytest.fixture
def client(db, make_user):
    from api.app import create_app

    with db.begin() as conn:
        plan = load_payload_county(conn)
    with TestClient(create_app(), headers=make_user("admin")) as c:
        c.plan = plan  # type: ignore[attr-defined]
        yield c


def _policy(resp) -> dict[str, str]:
    header = resp.headers.get("content-security-policy")
    assert header, f"{resp.request.url} has no CSP"
    return {d.split(" ", 1)[0]: d.split(" ", 1)[1] if " " in d else "" for d in (x.strip() for x in header.split(";"))}


def test_every_html_page_has_a_csp_with_a_fresh_nonce_on_its_inline_scripts(client):
    pages = ["/maps", f"/maps?plan={client.plan}", f"/maps/township/{WEST}", f"/plans/{client.plan}/map",
             f"/plans/{client.plan}/sheet", "/stats", "/login"]
    nonces = set()
    for path in pages:
        resp = client.get(path)
        assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html"), path
        policy = _policy(resp)
        script_src = policy["script-src"].split()
        assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
        nonce = next(s for s in script_src if s.startswith("'nonce-"))[len("'nonce-"):-1]
        assert len(nonce) >= 16 and nonce not in nonces
        nonces.add(nonce)
        for attrs in SCRIPT_TAG.findall(resp.text):
            if "src=" not in attrs:  # an inline script runs only with the response's nonce
                assert f'nonce="{nonce}"' in attrs, (path, attrs)
        for directive, value in (("default-src", "'self'"), ("object-src", "'none'"), ("base-uri", "'none'"),
                                 ("frame-ancestors", "'none'"), ("form-action", "'self'"), ("connect-src", "'self'")):
            assert policy[directive] == value, (path, directive)
        assert resp.headers["x-content-type-options"] == "nosniff"
        assert resp.headers["x-frame-options"] == "DENY"
        assert resp.headers["referrer-policy"] == "same-origin"


def test_pages_have_no_inline_event_handlers(client):
    for path in ("/maps", f"/plans/{client.plan}/sheet", "/stats", "/login"):
        html = client.get(path).text
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), path


def test_every_response_is_nosniff_unframed_and_tokens_are_not_stored(client, make_user):
    for path in ("/health", "/layers/enterprise/features", "/vendor/leaflet/dist/leaflet.js", "/static/riskmap.js",
                 "/no-such-thing"):
        resp = client.get(path)
        assert resp.headers["x-content-type-options"] == "nosniff", path
        assert resp.headers["x-frame-options"] == "DENY", path
        assert resp.headers["referrer-policy"] == "same-origin", path
        assert "content-security-policy" not in resp.headers or resp.headers["content-type"].startswith("text/html")
    make_user("county_viewer", username="header-check")
    token = client.post("/auth/token", data={"username": "header-check", "password": TEST_PASSWORD})
    assert token.status_code == 200 and token.headers["cache-control"] == "no-store"
    login = client.post("/login", data={"username": "header-check", "password": TEST_PASSWORD},
                        follow_redirects=False)
    assert login.headers["cache-control"] == "no-store"
    assert client.get("/login").headers["cache-control"] == "no-store"


def test_configured_basemap_hosts_are_allowed_images(client, monkeypatch):
    from api.security import csp
    from geo.config import get_settings
    from layers.basemap import tile_origins

    for basemap, host in (("osm", "https://tile.openstreetmap.org"), ("amap", "https://webrd01.is.autonavi.com")):
        monkeypatch.setenv("RISKMAP_BASEMAP", basemap)
        get_settings.cache_clear()
        assert host in tile_origins(get_settings())
        assert host in csp("n", tile_origins(get_settings())).split("img-src")[1].split(";")[0]
    monkeypatch.setenv("RISKMAP_BASEMAP", "tianditu")
    monkeypatch.setenv("RISKMAP_TIANDITU_KEY", "k")
    get_settings.cache_clear()
    assert "https://t7.tianditu.gov.cn" in tile_origins(get_settings())
    monkeypatch.setenv("RISKMAP_BASEMAP", "none")
    get_settings.cache_clear()
    assert tile_origins(get_settings()) == []
    get_settings.cache_clear()


def test_api_docs_are_served_from_this_site_under_the_same_policy(client):
    """/docs and /redoc take Swagger UI and Redoc from /vendor (npm) and start them from /static: no CDN, no
    inline script, the pages' own strict policy (issue 13: blank on an intranet before)."""
    for path in ("/docs", "/redoc"):
        resp = client.get(path)
        assert resp.status_code == 200, path
        policy = _policy(resp)
        assert "unsafe-inline" not in policy["script-src"] and "http" not in policy["script-src"], path
        assert not re.search(r"(src|href)=\"(https?:)?//", resp.text), path
        for src in re.findall(r'<script[^>]*src="([^"]+)"', resp.text):
            assert client.get(src).status_code == 200, src
