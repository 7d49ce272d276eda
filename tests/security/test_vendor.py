"""Finding 11 of issue 11 (/vendor): only the files pages use are served, not the whole of node_modules."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def client(engine):
    from api.app import create_app

    with TestClient(create_app()) as c:  # public: no login
        yield c


def test_vendor_serves_the_pages_files_and_what_their_css_names(client):
    from layers.assets import ASSETS, served_files

    for rel in (p for p in ASSETS.values() if p):
        assert client.get(f"/vendor/{rel}").status_code == 200, rel
    for rel in ("leaflet/dist/images/layers.png", "leaflet/dist/images/marker-icon.png",
                "@fortawesome/fontawesome-free/webfonts/fa-solid-900.woff2", "leaflet-search/images/search-icon.png"):
        assert rel in served_files()
        assert client.get(f"/vendor/{rel}").status_code == 200, rel
    css = client.get("/vendor/leaflet/dist/leaflet.css")
    assert css.headers["content-type"].startswith("text/css")
    assert client.get("/static/riskmap.js").headers["content-type"].startswith(("text/javascript",
                                                                                 "application/javascript"))


@pytest.mark.parametrize("path", [
    "/vendor/jquery/package.json", "/vendor/leaflet/src/Leaflet.js", "/vendor/.package-lock.json",
    "/vendor/leaflet/dist/leaflet.js.map", "/vendor/leaflet-measure/dist/leaflet-measure.js",
    "/vendor/acorn/package.json", "/vendor/leaflet/dist/../package.json", "/vendor/%2e%2e/package.json",
    "/vendor/", "/static/../web.py", "/static/%2e%2e%2fweb.py", "/static/", "/vendor/leaflet/dist/leaflet.js/x",
])
def test_vendor_and_static_serve_nothing_else(client, path):
    resp = client.get(path)
    assert resp.status_code == 404, path
    assert not re.search(r'"(name|version)"\s*:', resp.text)


def test_offline_map_copies_only_the_served_files(tmp_path):
    """The map's own files, not the API documentation's (Swagger UI, Redoc), go beside an offline map."""
    from layers.assets import DOC_ASSETS, PAGE_ASSETS, STATIC_DIR, copy_assets, served_files

    copy_assets(tmp_path)
    copied = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert {f for f in copied if not f.startswith(f"{STATIC_DIR}/")} == set(served_files()) - set(DOC_ASSETS) - set(PAGE_ASSETS)
    assert f"{STATIC_DIR}/riskmap.js" in copied and f"{STATIC_DIR}/riskmap.css" in copied
