"""Everything a bureau user reads cites the real documents (issue 12 §1): no page, explanation, JSON answer or
Excel export of the demo county names one of our own files (standards.md) or says 待核 / 缺省值."""

from __future__ import annotations

import io
import json
import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import text

BANNED = ("standards.md", "待核", "缺省值")
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def banned_in(body: str) -> list[str]:
    return [word for word in BANNED if word in body]


def all_pages(client, url: str, key: str) -> list[str]:
    """Every page of a paged JSON answer (5,000 at a time), as text."""
    bodies, offset = [], 0
    while True:
        r = client.get(url, params={"limit": 5000, "offset": offset})
        assert r.status_code == 200, (url, r.text[:200])
        bodies.append(r.text)
        n = len(r.json()[key])
        if n < 5000:
            return bodies
        offset += 5000


@pytest.fixture(scope="module")
def app_client(demo_county_db):
    import os

    from api.app import create_app
    from geo.config import get_settings
    from tests.conftest import auth_headers

    old = os.environ["DATABASE_URL"]
    os.environ["DATABASE_URL"] = demo_county_db
    get_settings.cache_clear()
    app = create_app()
    with TestClient(app, headers=auth_headers(None, "admin")) as c:
        yield app, c
    os.environ["DATABASE_URL"] = old
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def plan_id(app_client, demo_county_engine):
    """One small inspection plan (one township, one team) so that its map and sheet pages exist; removed after."""
    _, client = app_client
    with demo_county_engine.connect() as conn:
        code = conn.execute(text(
            "SELECT t.code FROM township t JOIN enterprise e ON ST_Intersects(t.geom, e.geom) "
            "GROUP BY t.code ORDER BY count(*) LIMIT 1")).scalar_one()
    r = client.post("/plans", json={"week": "2026-W48", "teams": 1, "time_limit_s": 1, "township": code})
    assert r.status_code == 201, r.text
    yield r.json()["id"]
    with demo_county_engine.begin() as conn:
        conn.execute(text("DELETE FROM inspection_plan WHERE id = :i"), {"i": r.json()["id"]})


def get_routes(app) -> list[APIRoute]:
    """Every GET route of the app, routers included."""
    out: list[APIRoute] = []
    stack = list(app.routes)
    while stack:
        r = stack.pop()
        inner = getattr(r, "original_router", None) or getattr(r, "router", None)
        if inner is not None and not isinstance(r, APIRoute):
            stack.extend(inner.routes)
        elif isinstance(r, APIRoute) and "GET" in r.methods:
            out.append(r)
    return out


def path_values(engine, plan: int) -> dict[str, dict[str, str]]:
    """Values for the path parameters of the pages: a real township, grid cell, pipeline, mine and plan."""
    with engine.connect() as conn:
        one = lambda sql: str(conn.execute(text(sql)).scalar_one())  # noqa: E731
        return {
            "/maps/township/{code}": {"code": one("SELECT code FROM township ORDER BY code LIMIT 1")},
            "/maps/grid/{code}": {"code": one("SELECT code FROM grid_cell ORDER BY code LIMIT 1")},
            "/maps/pipeline/{code}": {"code": one("SELECT code FROM pipeline ORDER BY code LIMIT 1")},
            "/maps/mine/{licence_no}": {"licence_no": one("SELECT licence_no FROM mine ORDER BY id LIMIT 1")},
            "/plans/{plan_id}": {"plan_id": str(plan)},
            "/plans/{plan_id}/map": {"plan_id": str(plan)},
            "/plans/{plan_id}/sheet": {"plan_id": str(plan)},
            "/register/{kind}/report": {"kind": "hazard"},
        }


def test_every_page_of_the_workbench(app_client, demo_county_engine, plan_id, demo_county_db):
    """Signed in as an administrator, every GET page that answers HTML (parameters filled from the demo
    county: a township, a grid cell, a pipeline, a mine, a plan) — and the login page — is clean."""
    app, client = app_client
    values = path_values(demo_county_engine, plan_id)
    pages: dict[str, str] = {}
    for route in get_routes(app):
        if route.path.startswith(("/tiles", "/basemap", "/vendor", "/static", "/openapi")) or \
                route.path.endswith(".xlsx"):
            continue
        params = re.findall(r"{(\w+)}", route.path)
        if params and route.path not in values:
            continue
        url = route.path.format(**values.get(route.path, {}))
        r = client.get(url, headers=HTML)
        if r.status_code == 200 and r.headers.get("content-type", "").startswith("text/html"):
            pages[url] = r.text
    with TestClient(client.app) as anonymous:
        login = anonymous.get("/login", headers=HTML)
        assert login.status_code == 200
        pages["/login"] = login.text
    must = ["/maps", "/stats", "/risk/rules", "/login", f"/plans/{plan_id}/sheet", f"/plans/{plan_id}/map",
            *(u for u in pages if u.startswith("/maps/township/")), *(u for u in pages if u.startswith("/maps/grid/"))]
    assert set(must) <= set(pages) and any(u.startswith("/maps/township/") for u in pages) \
        and any(u.startswith("/maps/grid/") for u in pages), sorted(pages)
    found = {url: banned_in(body) for url, body in pages.items() if banned_in(body)}
    assert not found, found


def test_every_explanation_and_listing(app_client, demo_county_engine):
    """`riskmap risk explain` of every assessed object of the demo county (what the CLI prints, and its JSON),
    the /risk/{kind} listings and one /risk/{kind}/{id} answer per kind, and the map popups of every layer."""
    from geo.risk import explain, format_explanation

    _, client = app_client
    with demo_county_engine.connect() as conn:
        objects = conn.execute(text("SELECT kind, object_id FROM risk_assessment WHERE valid_to IS NULL "
                                    "ORDER BY kind, object_id")).all()
        assert len({k for k, _ in objects}) == 5
        found: dict[str, list[str]] = {}
        for kind, oid in objects:
            result = explain(conn, kind, oid)
            body = format_explanation(result) + json.dumps(result, ensure_ascii=False, default=str)
            if banned_in(body):
                found[f"{kind} {oid}"] = banned_in(body)
    assert not found, found
    for kind in ("enterprise", "mine", "pipeline_segment", "grid_cell", "township"):
        listing = all_pages(client, f"/risk/{kind}", "items")
        assert not any(banned_in(body) for body in listing), kind
        first = json.loads(listing[0])["items"][0]["object_id"]
        one = client.get(f"/risk/{kind}/{first}")
        assert one.status_code == 200 and "reasons" in one.json() and not banned_in(one.text), kind
    assert not banned_in(client.get("/risk/rules").text)
    for layer in client.get("/layers").json():
        name = layer["name"] if isinstance(layer, dict) else layer
        assert not any(banned_in(body) for body in all_pages(client, f"/layers/{name}/features", "features")), name


def test_every_excel_export(app_client):
    """Ledgers (占压点、隐患) and the township statistics of every kind, every cell of every sheet."""
    from openpyxl import load_workbook

    from geo.features import COUNTED_KINDS

    _, client = app_client
    urls = [f"/register/{k}/ledger.xlsx" for k in ("encroachment", "hazard")]
    urls += [f"/stats/townships.xlsx?kind={k}" for k in COUNTED_KINDS]
    for url in urls:
        r = client.get(url)
        assert r.status_code == 200, url
        book = load_workbook(io.BytesIO(r.content), read_only=True)
        cells = 0
        for sheet in book.worksheets:
            assert not banned_in(sheet.title)
            for row in sheet.iter_rows(values_only=True):
                for value in row:
                    cells += 1
                    if value is not None:
                        assert not banned_in(str(value)), (url, sheet.title, value)
        assert cells > 0, url
