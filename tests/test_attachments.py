"""Attachments (issue 15): a photo or document stored in PostgreSQL for a record, listed and read back through the
caller's database role — township editors and inspectors see and attach only inside their scope, a replayed upload
is stored once, oversize and foreign types are refused in Chinese, and a photo's EXIF time and GPS are kept."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import uuid
from fractions import Fraction

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import text

from geo.access.principal import Principal, bind
from geo.config import get_settings
from geo.errors import InvalidInput, NotFound
from geo.uscc import make_uscc
from tests import test_access
from tests.test_access import EAST, WEST
from tests.test_backup import new_database  # noqa: F401  (fixture: databases dropped after the test)

app, towns = test_access.app, test_access.towns  # the two-township county: one enterprise each, stops in the west

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _dms(deg: float) -> tuple[Fraction, Fraction, Fraction]:
    """Degrees as EXIF writes them: whole degrees, whole minutes, seconds to 1/10000."""
    d = int(deg)
    m = int((deg - d) * 60)
    s = (deg - d - m / 60) * 3600
    return Fraction(d), Fraction(m), Fraction(round(s * 10000), 10000)


def photo(*, lon: float | None = 111.2234, lat: float | None = 39.2511, taken: str | None = "2026:11:24 09:30:15",
          offset: str | None = None, size: tuple[int, int] = (1200, 900), colour: str = "orange") -> bytes:
    """A JPEG made with Pillow, with EXIF DateTimeOriginal and a GPS position as a phone writes them."""
    from PIL import ExifTags

    img = Image.new("RGB", size, colour)
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "riskmap-test"
    if taken:
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = taken
        if offset:
            exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.OffsetTimeOriginal] = offset
    if lon is not None and lat is not None:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        gps[ExifTags.GPS.GPSLatitudeRef] = "N" if lat >= 0 else "S"
        gps[ExifTags.GPS.GPSLatitude] = _dms(abs(lat))
        gps[ExifTags.GPS.GPSLongitudeRef] = "E" if lon >= 0 else "W"
        gps[ExifTags.GPS.GPSLongitude] = _dms(abs(lon))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85, exif=exif)
    return out.getvalue()


def _enterprise(engine, like: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT id FROM enterprise WHERE name LIKE :n"), {"n": like}).scalar_one()


def _count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM attachment")).scalar_one()


def _upload(c: TestClient, kind: str, owner: int, data: bytes, *, name: str = "现场照片.jpg",
            ctype: str = "image/jpeg", client_id: str | None = None):
    form = {"owner_kind": kind, "owner_id": str(owner)}
    if client_id:
        form["client_id"] = client_id
    return c.post("/api/attachments", data=form, files={"file": (name, data, ctype)})


def _chinese(message: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in message)


# --- the domain functions -----------------------------------------------------------------------------------

COUNTY = Principal(user_id=0, username="county", role="county_editor")


def test_store_list_read_keeps_bytes_hash_thumbnail_and_exif(towns):
    from geo.attachments import list_attachments, read_attachment, store_attachment

    west = _enterprise(towns, "%西%")
    data = photo(size=(1600, 1200))
    with towns.begin() as conn:
        bind(conn, COUNTY)
        meta = store_attachment(conn, owner_kind="enterprise", owner_id=west, filename="dir/现场 照片.jpg",
                                content_type="image/jpeg", data=data, by="county")
    assert meta.sha256 == hashlib.sha256(data).hexdigest() and meta.size_bytes == len(data)
    assert meta.filename == "现场 照片.jpg" and meta.content_type == "image/jpeg" and meta.has_thumbnail
    # EXIF: 北京时间 when the camera wrote no offset; GPS degrees-minutes-seconds → decimal degrees
    assert meta.taken_at == dt.datetime(2026, 11, 24, 9, 30, 15, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert meta.lon == pytest.approx(111.2234, abs=1e-6) and meta.lat == pytest.approx(39.2511, abs=1e-6)
    with towns.connect() as conn:
        bind(conn, COUNTY)
        assert [m.id for m in list_attachments(conn, "enterprise", west)] == [meta.id]
        got, body = read_attachment(conn, meta.id)
        assert body == data and got == meta
        _, thumb = read_attachment(conn, meta.id, thumbnail=True)
        exif = conn.execute(text("SELECT exif FROM attachment WHERE id = :i"), {"i": meta.id}).scalar_one()
    small = Image.open(io.BytesIO(thumb))
    assert small.format == "JPEG" and max(small.size) == 320 and small.size == (320, 240)
    assert exif["exif"]["DateTimeOriginal"] == "2026:11:24 09:30:15"
    assert exif["gps"]["GPSLatitudeRef"] == "N" and exif["image"]["Make"] == "riskmap-test"


def test_exif_offset_and_southern_western_positions(towns):
    from geo.attachments import read_photo

    got = read_photo(photo(lon=-70.5, lat=-33.25, offset="-04:00"))
    assert got.lon == pytest.approx(-70.5, abs=1e-6) and got.lat == pytest.approx(-33.25, abs=1e-6)
    assert got.taken_at == dt.datetime(2026, 11, 24, 13, 30, 15, tzinfo=dt.UTC)
    bare = read_photo(photo(lon=None, lat=None, taken=None))
    assert bare.taken_at is None and bare.lon is None and bare.thumbnail


def test_pdf_is_stored_without_thumbnail_and_types_are_read_from_the_bytes(towns):
    from geo.attachments import AttachmentTooLarge, read_attachment, store_attachment

    west = _enterprise(towns, "%西%")
    with towns.begin() as conn:
        bind(conn, COUNTY)
        doc = store_attachment(conn, owner_kind="enterprise", owner_id=west, filename="整改通知书.pdf",
                               content_type="application/pdf", data=PDF, by="county")
        assert not doc.has_thumbnail and doc.taken_at is None and doc.lon is None
        with pytest.raises(NotFound, match="缩略图"):
            read_attachment(conn, doc.id, thumbnail=True)
        with pytest.raises(InvalidInput, match="只接受 JPEG/PNG/WebP 图片或 PDF"):
            store_attachment(conn, owner_kind="enterprise", owner_id=west, filename="x.html",
                             content_type="text/html", data=b"<html><script>alert(1)</script>", by="county")
        with pytest.raises(InvalidInput, match="与声明的类型 image/png 不符"):
            store_attachment(conn, owner_kind="enterprise", owner_id=west, filename="x.png",
                             content_type="image/png", data=PDF, by="county")
        with pytest.raises(InvalidInput, match="owner_kind"):
            store_attachment(conn, owner_kind="township", owner_id=1, filename="x.pdf",
                             content_type="application/pdf", data=PDF, by="county")
        with pytest.raises(NotFound, match="没有编号为 999999 的企业"):
            store_attachment(conn, owner_kind="enterprise", owner_id=999999, filename="x.pdf",
                             content_type="application/pdf", data=PDF, by="county")
        with pytest.raises(AttachmentTooLarge, match="上限 10 MB（本地规定）"):
            store_attachment(conn, owner_kind="enterprise", owner_id=west, filename="big.pdf",
                             content_type="application/pdf", data=PDF + b"0" * (10 * 1024 * 1024), by="county")
        with pytest.raises(InvalidInput, match="无法解码"):
            store_attachment(conn, owner_kind="enterprise", owner_id=west, filename="broken.jpg",
                             content_type="image/jpeg", data=b"\xff\xd8\xff\xe0" + b"\x00" * 100, by="county")
    assert _count(towns) == 1


def test_same_client_id_is_stored_once(towns):
    from geo.attachments import store_attachment
    from geo.errors import Conflict

    west = _enterprise(towns, "%西%")
    cid = uuid.uuid4()
    data = photo()
    with towns.begin() as conn:
        bind(conn, COUNTY)
        first = store_attachment(conn, owner_kind="enterprise", owner_id=west, filename="a.jpg",
                                 content_type="image/jpeg", data=data, by="county", client_id=cid)
        again = store_attachment(conn, owner_kind="enterprise", owner_id=west, filename="a.jpg",
                                 content_type="image/jpeg", data=data, by="county", client_id=cid)
        assert again.id == first.id and again.replayed and not first.replayed
        with pytest.raises(Conflict, match="client_id"):
            store_attachment(conn, owner_kind="enterprise", owner_id=west, filename="b.jpg", content_type="image/jpeg",
                             data=photo(colour="blue"), by="county", client_id=cid)
    assert _count(towns) == 1


# --- over HTTP ------------------------------------------------------------------------------------------------

def test_http_upload_list_fetch_and_replay(app, towns, make_user):
    c = TestClient(app, headers=make_user("county_editor"))
    west = _enterprise(towns, "%西%")
    data, cid = photo(), str(uuid.uuid4())
    r = _upload(c, "enterprise", west, data, client_id=cid)
    assert r.status_code == 201, r.text
    meta = r.json()
    assert meta["sha256"] == hashlib.sha256(data).hexdigest() and meta["has_thumbnail"] is True
    assert meta["taken_at"] == "2026-11-24T09:30:15+08:00" and meta["lon"] == pytest.approx(111.2234, abs=1e-6)
    again = _upload(c, "enterprise", west, data, client_id=cid)
    assert again.status_code == 200 and again.json() == meta
    assert _count(towns) == 1
    listed = c.get("/api/attachments", params={"owner_kind": "enterprise", "owner_id": west})
    assert listed.status_code == 200 and listed.json() == [meta]
    got = c.get(f"/api/attachments/{meta['id']}")
    assert got.status_code == 200 and got.content == data
    assert got.headers["content-type"] == "image/jpeg" and got.headers["etag"] == f'"{meta["sha256"]}"'
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"] == (
        f"inline; filename=\"attachment-{meta['id']}.jpg\"; filename*=UTF-8''%E7%8E%B0%E5%9C%BA%E7%85%A7%E7%89%87.jpg")
    assert "sandbox" in got.headers["content-security-policy"]
    assert c.get(f"/api/attachments/{meta['id']}", headers={"If-None-Match": got.headers["etag"]}).status_code == 304
    thumb = c.get(f"/api/attachments/{meta['id']}/thumbnail")
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    assert max(Image.open(io.BytesIO(thumb.content)).size) <= 320
    assert thumb.headers["etag"] != got.headers["etag"]
    assert c.get(f"/api/attachments/{meta['id']}/thumbnail",
                 headers={"If-None-Match": thumb.headers["etag"]}).status_code == 304
    # a PDF is only ever a download
    doc = _upload(c, "enterprise", west, PDF, name="通知书.pdf", ctype="application/pdf").json()
    pdf = c.get(f"/api/attachments/{doc['id']}")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith("attachment;")
    assert c.get(f"/api/attachments/{doc['id']}/thumbnail").status_code == 404


def test_http_refuses_foreign_types_and_oversize_in_chinese(app, towns, make_user):
    c = TestClient(app, headers=make_user("county_editor"))
    west = _enterprise(towns, "%西%")
    html = _upload(c, "enterprise", west, b"<html><script>alert(1)</script></html>", name="x.html", ctype="text/html")
    assert html.status_code == 422 and "只接受 JPEG/PNG/WebP 图片或 PDF" in html.json()["message"]
    limit = get_settings().attachment_max_bytes
    # declared too large: refused from Content-Length before the body is read
    early = c.post("/api/attachments", content=b"x" * (limit + 128 * 1024),
                   headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert early.status_code == 413 and "上限 10 MB（本地规定）" in early.json()["message"]
    # just over the limit inside the form allowance: refused by the upload itself
    late = _upload(c, "enterprise", west, PDF + b"0" * (limit + 1 - len(PDF)), name="big.pdf", ctype="application/pdf")
    assert late.status_code == 413 and "上限 10 MB（本地规定）" in late.json()["message"], late.text
    assert _count(towns) == 0


def test_township_editor_cannot_see_or_attach_to_another_township(app, towns, make_user):
    county = TestClient(app, headers=make_user("county_editor"))
    west, east = _enterprise(towns, "%西%"), _enterprise(towns, "%东%")
    east_photo = _upload(county, "enterprise", east, photo()).json()
    w = TestClient(app, headers=make_user("township_editor", townships=[WEST]))
    refused = _upload(w, "enterprise", east, photo(colour="red"))
    assert refused.status_code == 404 and _chinese(refused.json()["message"])
    assert w.get(f"/api/attachments/{east_photo['id']}").status_code == 404
    # knowing the hash gets nothing either: scope is checked before the 304
    assert w.get(f"/api/attachments/{east_photo['id']}",
                 headers={"If-None-Match": f'"{east_photo["sha256"]}"'}).status_code == 404
    assert w.get(f"/api/attachments/{east_photo['id']}/thumbnail").status_code == 404
    assert w.get("/api/attachments", params={"owner_kind": "enterprise", "owner_id": east}).status_code == 404
    mine = _upload(w, "enterprise", west, photo(colour="green"))
    assert mine.status_code == 201, mine.text
    assert w.get(f"/api/attachments/{mine.json()['id']}").status_code == 200
    e = TestClient(app, headers=make_user("township_editor", townships=[EAST]))
    assert e.get(f"/api/attachments/{mine.json()['id']}").status_code == 404
    viewer = TestClient(app, headers=make_user("county_viewer"))
    assert viewer.get(f"/api/attachments/{mine.json()['id']}").status_code == 200
    assert _upload(viewer, "enterprise", west, photo()).status_code == 403
    assert _count(towns) == 2


def test_township_editor_scope_is_decided_by_the_database(towns):
    """Straight SQL as the township editor's role: the other township's rows are not there, inserts are refused."""
    from sqlalchemy.exc import DBAPIError

    west, east = _enterprise(towns, "%西%"), _enterprise(towns, "%东%")
    with towns.begin() as conn:
        for owner in (west, east):
            conn.execute(text("INSERT INTO attachment (owner_kind, owner_id, filename, content_type, size_bytes, "
                              "sha256, data, created_by) VALUES ('enterprise', :o, 'a.pdf', 'application/pdf', 3, "
                              "repeat('0', 64), 'abc', 'x')"), {"o": owner})
    with towns.connect() as conn:
        wid = conn.execute(text("SELECT id FROM township WHERE code = :c"), {"c": WEST}).scalar_one()
    editor = Principal(user_id=0, username="w", role="township_editor", township_codes=(WEST,), township_ids=(wid,))
    with towns.connect() as conn:
        bind(conn, editor)
        seen = conn.execute(text("SELECT owner_id FROM attachment")).scalars().all()
        assert seen == [west]
        with pytest.raises(DBAPIError, match="row-level security"):
            conn.execute(text("INSERT INTO attachment (owner_kind, owner_id, filename, content_type, size_bytes, "
                              "sha256, data, created_by) VALUES ('enterprise', :o, 'a.pdf', 'application/pdf', 3, "
                              "repeat('0', 64), 'abc', 'w')"), {"o": east})


def test_inspector_attaches_only_to_its_teams_enterprises(app, towns, make_user):
    west, east = _enterprise(towns, "%西%"), _enterprise(towns, "%东%")
    with towns.connect() as conn:
        stops = dict(conn.execute(text(
            "SELECT r.team, s.id FROM plan_stop s JOIN plan_route r ON r.id = s.route_id")).all())
    one = TestClient(app, headers=make_user("inspector", teams=["一组"]))
    assert _upload(one, "enterprise", west, photo()).status_code == 201
    assert _upload(one, "plan_stop", stops["一组"], photo(colour="red")).status_code == 201
    refused = _upload(one, "enterprise", east, photo(colour="blue"))  # seen (county-wide) but not its team's
    assert refused.status_code == 403 and "巡查员只能为本组巡查站点" in refused.json()["message"]
    assert _upload(one, "plan_stop", stops["二组"], photo(colour="blue")).status_code == 403
    # a hazard it records at its stop may carry photos; another inspector's hazard elsewhere may not
    hz = one.post("/hazards", json={"enterprise_uscc": make_uscc("9114093000000000X"),
                                    "level": "general", "description": "消防通道堵塞"})
    assert hz.status_code == 201, hz.text
    with towns.connect() as conn:
        hazard = conn.execute(text("SELECT id FROM hazard")).scalar_one()
    assert _upload(one, "hazard", hazard, photo(colour="yellow")).status_code == 201
    idle = TestClient(app, headers=make_user("inspector", teams=["三组"]))
    assert _upload(idle, "hazard", hazard, photo(colour="white")).status_code == 403
    assert _upload(idle, "enterprise", west, photo(colour="white")).status_code == 403
    assert _count(towns) == 3
    with towns.connect() as conn:
        audited = conn.execute(text("SELECT actor, after FROM audit_log WHERE table_name = 'attachment'")).all()
    assert len(audited) == 3
    assert all(isinstance(a.after["data"], int) and a.after["data"] > 0 for a in audited)  # length, not bytes


def test_cookie_upload_needs_csrf(app, towns, make_user):
    from tests.workbench import SELF, signed_in_client

    c = signed_in_client(app, make_user, "county_editor", "csrf_tester")
    west = _enterprise(towns, "%西%")
    form = {"owner_kind": "enterprise", "owner_id": str(west)}
    files = {"file": ("a.jpg", photo(), "image/jpeg")}
    forged = c.post("/api/attachments", data=form, files=files, headers={"Origin": "http://evil.example"})
    assert forged.status_code == 403 and forged.json()["code"] == "csrf"
    tokenless = c.post("/api/attachments", data=form, files=files, headers={"Origin": SELF})
    assert tokenless.status_code == 403
    ok = c.post("/api/attachments", data=form, files=files,
                headers={"Origin": SELF, "X-CSRF-Token": c.cookies.get("riskmap_csrf")})
    assert ok.status_code == 201, ok.text
    assert ok.json()["created_by"] == "csrf_tester"
    assert _count(towns) == 1


# --- backup and restore ---------------------------------------------------------------------------------------

def test_backup_and_restore_keep_attachments_byte_for_byte(towns, db_url, new_database, tmp_path):  # noqa: F811
    from geo.attachments import store_attachment
    from geo.backup import backup_database, restore_database, target_from_url

    west, east = _enterprise(towns, "%西%"), _enterprise(towns, "%东%")
    with towns.begin() as conn:
        bind(conn, COUNTY)
        store_attachment(conn, owner_kind="enterprise", owner_id=west, filename="现场.jpg", content_type="image/jpeg",
                         data=photo(), by="county", client_id=uuid.uuid4())
        store_attachment(conn, owner_kind="enterprise", owner_id=east, filename="通知书.pdf",
                         content_type="application/pdf", data=PDF, by="county")
    columns = ("SELECT id, owner_kind, owner_id, township_id, filename, content_type, size_bytes, sha256, "
               "encode(sha256(data), 'hex') AS data_sha256, data, thumbnail, taken_at, ST_AsEWKB(position) AS pos, "
               "exif, client_id, created_by, created_at FROM attachment ORDER BY id")
    with towns.connect() as conn:
        before = [tuple(r) for r in conn.execute(text(columns))]
    assert len(before) == 2 and all(r[7] == r[8] for r in before)  # stored hash = hash of the stored bytes

    dump = backup_database(tmp_path / "附件.dump")
    assert dump.row_counts["attachment"] == 2
    name = new_database("attachments")
    restored = restore_database(dump.path, database=name)
    assert restored.row_counts["attachment"] == 2
    from sqlalchemy import create_engine

    other = create_engine(target_from_url(db_url).with_database(name).sqlalchemy_url())
    try:
        with other.connect() as conn:
            after = [tuple(r) for r in conn.execute(text(columns))]
            audited = conn.execute(text("SELECT (after ->> 'rows')::int FROM audit_log WHERE table_name = 'attachment' "
                                        "AND after -> 'bulk' ->> 'kind' = 'restore'")).scalar_one()
    finally:
        other.dispose()
    assert after == before  # same rows: hashes, bytes, thumbnails, EXIF, positions, client ids
    assert [bytes(r[9]) for r in after] == [photo(), PDF] and audited == 2


def test_cli_adds_lists_and_gets(towns, tmp_path, capsys, monkeypatch):
    from geo.cli import main

    west = _enterprise(towns, "%西%")
    source = tmp_path / "现场照片.jpg"
    source.write_bytes(photo())
    cid = str(uuid.uuid4())
    assert main(["attachment", "add", "enterprise", str(west), str(source), "--by", "张三", "--client-id", cid]) == 0
    assert "已上传" in capsys.readouterr().out
    assert main(["attachment", "add", "enterprise", str(west), str(source), "--by", "张三", "--client-id", cid]) == 0
    assert "未重复保存" in capsys.readouterr().out
    assert _count(towns) == 1
    assert main(["attachment", "list", "enterprise", str(west), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [m["filename"] for m in listed] == ["现场照片.jpg"] and listed[0]["created_by"] == "张三"
    monkeypatch.chdir(tmp_path)
    assert main(["attachment", "get", str(listed[0]["id"]), "-o", "取回.jpg"]) == 0
    assert (tmp_path / "取回.jpg").read_bytes() == source.read_bytes()
    assert main(["attachment", "get", str(listed[0]["id"]), "-o", "取回.jpg"]) == 2  # no silent overwrite
    assert "文件已存在" in capsys.readouterr().err
    assert main(["attachment", "get", "999999"]) == 2
    assert "没有编号为 999999 的附件" in capsys.readouterr().err
    bad = tmp_path / "a.txt"
    bad.write_text("hello")
    assert main(["attachment", "add", "enterprise", str(west), str(bad), "--by", "张三"]) == 2
    assert "只接受 JPEG/PNG/WebP 图片或 PDF" in capsys.readouterr().err


def test_files_uploaded_before_the_table_are_adopted_once(towns, tmp_path):
    """Dossier uploads of the workbench's first version (register events, bytes on disk) move into the table."""
    from geo.attachments import adopt_legacy_files, list_attachments
    from geo.register.dossier import register_dossier

    west = _enterprise(towns, "%西%")
    data = photo(colour="purple")
    digest = hashlib.sha256(data).hexdigest()
    (tmp_path / digest[:2]).mkdir()
    (tmp_path / digest[:2] / digest).write_bytes(data)
    at = dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.UTC)
    with towns.begin() as conn:
        hazard = conn.execute(text("INSERT INTO hazard (code, enterprise_id, level, found_on, status) "
                                   "VALUES ('YH-L-1', :e, 'general', '2026-11-20', 'found') RETURNING id"),
                              {"e": west}).scalar_one()
        for name, sha in (("旧照片.jpg", digest), ("丢失的文件.pdf", "f" * 64)):
            conn.execute(text(
                "INSERT INTO register_event (object_kind, object_id, from_status, to_status, changed_by, changed_at, "
                "note, changes) VALUES ('hazard', :h, 'found', 'found', '李四', :at, :note, CAST(:c AS jsonb))"),
                {"h": hazard, "at": at, "note": f"上传附件：{name}",
                 "c": json.dumps({"attachment": {"name": name, "type": "image/jpeg", "size": 1, "sha256": sha}})})
        assert adopt_legacy_files(conn, tmp_path) == 1
        assert adopt_legacy_files(conn, tmp_path) == 0  # once only
    with towns.connect() as conn:
        bind(conn, COUNTY)
        (adopted,) = list_attachments(conn, "hazard", hazard)
        item = register_dossier(conn, "hazard", "YH-L-1")
    assert (adopted.filename, adopted.created_by, adopted.created_at, adopted.sha256) == ("旧照片.jpg", "李四", at, digest)
    assert adopted.has_thumbnail and adopted.lat == pytest.approx(39.2511, abs=1e-6)
    # the dossier lists it once; the file whose bytes are gone stays listed as before
    assert [a.id for a in item["attachments"]] == [adopted.id]
    assert [a.name for a in item["legacy_attachments"]] == ["丢失的文件.pdf"]
