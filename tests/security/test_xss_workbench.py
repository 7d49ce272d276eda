"""The workbench's ledgers and dossiers on the payload county (tests/security/_pages.py): every user-written text is
shown as text, nothing runs, no CSP violation — lists, filters echoed back, dossiers, exports' filter words."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from api.devserver import CHROMIUM, running_server
from layers.web import url_path
from tests.conftest import truncate_all
from tests.security._pages import PAYLOADS, admin_cookie, chromium_context, clean, load_payload_county, open_page, \
    verdict

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")


@pytest.fixture(scope="module")
def served(engine, db_url, out_dir):
    truncate_all(engine)
    with engine.begin() as conn:
        load_payload_county(conn)
        conn.execute(text("UPDATE hazard SET code = 'YH-X-' || id"))
    with running_server(db_url, log=out_dir / "xss-workbench-server.log") as base:
        yield base
    truncate_all(engine)


@pytest.fixture(scope="module")
def admin(served, engine):
    yield from chromium_context(served, admin_cookie(engine))


def test_ledgers_and_dossiers_run_nothing(served, admin, engine, out_dir):
    with engine.connect() as conn:
        encroachment = conn.execute(text("SELECT code FROM encroachment WHERE code NOT LIKE '%/%' LIMIT 1")).scalar()
        hazard = conn.execute(text("SELECT code FROM hazard LIMIT 1")).scalar()
        enterprise = conn.execute(text("SELECT id FROM enterprise LIMIT 1")).scalar()
    paths = ["/ledgers/encroachments", "/ledgers/hazards", "/ledgers/enterprises", "/ledgers/major-hazards",
             "/ledgers/encroachments/candidates", "/ledgers/hazards?q=" + PAYLOADS[0],
             url_path("dossiers", "encroachments", encroachment) + "?action=confirmed",
             url_path("dossiers", "hazards", hazard) + "?action=supervise",
             url_path("dossiers", "enterprises", enterprise)]
    for path in paths:
        page, visit = open_page(admin, served + path)
        assert verdict(page, visit) == clean(), path
        if "candidates" not in path and "major" not in path:
            assert any(p in page.inner_text("body") for p in PAYLOADS), path  # shown as text
        page.close()
