"""The dossier pages (一点一档: encroachment, hazard, enterprise) show a record's attachments as thumbnails linking to
the file, and whoever may write uploads one through the page's form (multipart with the CSRF field); screenshots at
1440 and 390 px in tests/out/workbench/attachments-*.png."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from sqlalchemy import text

from tests import test_workbench_browser as wb
from tests.conftest import auth_headers
from tests.test_attachments import PDF, photo
from tests.test_workbench_browser import WIDTHS, Watch, login

# module fixtures of the workbench browser tests: a copy of the demo county, its server, the browser, the shots folder
chromium, county_db, server, shots = wb.chromium, wb.county_db, wb.server, wb.shots

pytest.importorskip("playwright")


def _owners(engine) -> dict[str, tuple[str, int, str]]:
    """name → (owner_kind, owner_id, dossier path) of one encroachment, one major hazard, one enterprise."""
    with engine.connect() as conn:
        ez = conn.execute(text("SELECT id, code FROM encroachment ORDER BY code LIMIT 1")).one()
        hz = conn.execute(text("SELECT id, code FROM hazard WHERE level = 'major' ORDER BY code LIMIT 1")).one()
        en = conn.execute(text("SELECT id FROM enterprise ORDER BY id LIMIT 1")).scalar_one()
    return {"encroachment": ("encroachment", ez.id, f"/dossiers/encroachments/{ez.code}"),
            "hazard": ("hazard", hz.id, f"/dossiers/hazards/{hz.code}"),
            "enterprise": ("enterprise", en, f"/dossiers/enterprises/{en}")}


def _thumbnails_loaded(page) -> int:
    """How many thumbnails of the attachments list the browser has decoded (natural width > 0)."""
    for _ in range(100):  # wait_for_function evaluates a string: the page's CSP (no eval) refuses it
        if page.evaluate("Array.from(document.querySelectorAll('#wb-attachments img')).every(i => i.complete)"):
            break
        page.wait_for_timeout(100)
    return page.evaluate("Array.from(document.querySelectorAll('#wb-attachments img'))"
                         ".filter(i => i.naturalWidth > 0).length")


def test_dossiers_show_attachments_as_thumbnails_and_take_uploads(chromium, server, county_db, shots) -> None:
    _, engine = county_db
    headers = auth_headers(engine, "county_editor", username="wb-attachments")
    owners = _owners(engine)
    with httpx.Client(base_url=server, headers=headers, timeout=30) as api:
        for name, (kind, owner, _) in owners.items():
            for i, colour in enumerate(("orange", "steelblue")):
                r = api.post("/api/attachments", data={"owner_kind": kind, "owner_id": str(owner)},
                             files={"file": (f"{name}现场照片{i + 1}.jpg", photo(colour=colour), "image/jpeg")})
                assert r.status_code == 201, r.text
            r = api.post("/api/attachments", data={"owner_kind": kind, "owner_id": str(owner)},
                         files={"file": ("整改通知书（河应急〔2026〕12号）.pdf", PDF, "application/pdf")})
            assert r.status_code == 201, r.text

    for width in WIDTHS:
        watch = Watch()
        context, page = login(chromium, server, "wb-attachments", watch, width)
        for name, (_, _, path) in owners.items():
            page.goto(server + path, wait_until="load")
            assert page.locator("#wb-attachments li").count() >= 3
            page.locator("#wb-attachments-card").scroll_into_view_if_needed()  # thumbnails load lazily
            assert _thumbnails_loaded(page) >= 2
            assert "整改通知书（河应急〔2026〕12号）.pdf" in page.inner_text("#wb-attachments")
            assert "位置 111.22340, 39.25110" in page.inner_text("#wb-attachments")
            pdf_link = page.locator("#wb-attachments a[download]").first
            assert pdf_link.get_attribute("href").startswith("/api/attachments/")
            page.screenshot(path=str(shots / f"attachments-{name}-{width}.png"), full_page=True)
        watch.clean()
        context.close()

    # an upload through the enterprise dossier's form: the photo comes back under its thumbnail, byte for byte
    watch = Watch()
    context, page = login(chromium, server, "wb-attachments", watch, 390)
    page.goto(server + owners["enterprise"][2], wait_until="load")
    before = page.locator("#wb-attachments li").count()
    upload = photo(colour="seagreen", lon=111.3001, lat=39.3002)
    page.set_input_files("#wb-attachments-card input[name=file]",
                         files=[{"name": "手机拍摄.jpg", "mimeType": "image/jpeg", "buffer": upload}])
    page.click("#wb-attachments-card button:text-is('上传附件')")
    page.wait_for_selector("#wb-notice")
    assert "附件已上传" in page.inner_text("#wb-notice")
    assert page.locator("#wb-attachments li").count() == before + 1
    page.locator("#wb-attachments li").nth(before).scroll_into_view_if_needed()
    assert _thumbnails_loaded(page) == before  # every image (not the PDF) has its thumbnail
    newest = page.locator("#wb-attachments li").nth(before)
    assert "手机拍摄.jpg" in newest.inner_text() and "位置 111.30010, 39.30020" in newest.inner_text()
    got = page.request.get(server + newest.locator("a").get_attribute("href"))
    assert got.status == 200 and hashlib.sha256(got.body()).hexdigest() == hashlib.sha256(upload).hexdigest()
    newest.scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "attachments-uploaded-390.png"), full_page=False)
    watch.clean()
    context.close()
