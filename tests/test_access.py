"""Who sees and changes what: county staff see everything, a township editor only its township, inspectors
only their stops, strangers only the login page; every change is in the audit log with who and when."""

from __future__ import annotations

import datetime as dt
import json

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from geo.tiles import tile_of
from geo.uscc import make_uscc
from tests.conftest import TEST_PASSWORD
from tests.workbench import EAST, WEST, add_towns



@pytest.fixture
def towns(county):
    """Two townships of 河曲县, one enterprise in each, and an empty plan with one stop per team."""
    add_towns(county)
    with county.begin() as conn:
        plan = conn.execute(text(
            "INSERT INTO inspection_plan (start_on, end_on, teams, status, solve_s) "
            "VALUES ('2026-11-23', '2026-11-29', 2, 'ok', 0) RETURNING id")).scalar_one()
        for team in ("一组", "二组"):
            route = conn.execute(text(
                "INSERT INTO plan_route (plan_id, team, day_on, depot_name, depot_geom, travel_s, service_s, return_s) "
                "VALUES (:p, :t, '2026-11-24', '应急管理局', ST_SetSRID(ST_MakePoint(111.2, 39.3), 4490), 0, 0, 0) "
                "RETURNING id"), {"p": plan, "t": team}).scalar_one()
            conn.execute(text(
                "INSERT INTO plan_stop (plan_id, route_id, seq, enterprise_id, colour, priority, service_s, snapped) "
                "SELECT :p, :r, 1, id, 'red', 1, 1800, true FROM enterprise WHERE name LIKE '%西%'"),
                {"p": plan, "r": route})
    return county


@pytest.fixture
def app(towns):
    from api.app import create_app

    return create_app()


def _client(app, headers: dict[str, str] | None = None) -> TestClient:
    return TestClient(app, headers=headers or {})


def _ids(engine, name_like: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT id FROM enterprise WHERE name LIKE :n"), {"n": name_like}).scalar_one()


def _count(engine, table: str = "enterprise") -> int:
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def _point(lon: float, lat: float, name: str, n: int) -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"uscc": make_uscc(f"9114093000001{n:03d}X"), "name": name, "category": "industry_trade"}}


def test_strangers_see_only_the_login(app):
    c = _client(app)
    r = c.get("/layers/enterprise/features")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer" and "登录" in r.json()["message"]
    page = c.get("/maps", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login?next=/maps")
    assert c.get("/tiles/enterprise/10/830/388.pbf").status_code == 401
    assert c.get("/stats/townships").status_code == 401 and c.get("/audit").status_code == 401
    login = c.get("/login")
    assert login.status_code == 200 and "用户名" in login.text and "密码" in login.text
    assert c.get("/health").status_code == 200


def test_password_login_tokens_expired_forged_and_disabled(app, towns, make_user):
    from geo.access.tokens import issue
    from geo.access.users import get_user, set_disabled

    make_user("county_viewer", username="王科员")
    c = _client(app)
    bad = c.post("/auth/token", data={"username": "王科员", "password": "wrong-password"})
    assert bad.status_code == 401 and bad.json()["message"] == "用户名或密码错误"
    nobody = c.post("/auth/token", data={"username": "无此人", "password": "wrong-password"})
    assert nobody.status_code == 401 and nobody.json()["message"] == "用户名或密码错误"
    ok = c.post("/auth/token", data={"username": "王科员", "password": TEST_PASSWORD})
    assert ok.status_code == 200 and ok.json()["token_type"] == "bearer"
    token = ok.json()["access_token"]
    assert c.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).json()["role"] == "county_viewer"

    claims = jwt.decode(token, options={"verify_signature": False})
    forged = jwt.encode({**claims, "sub": "1"}, "a-forger-guessing-the-key-" * 3, algorithm="HS256")
    r = c.get("/layers/enterprise/features", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401 and "令牌无效" in r.json()["message"]
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert c.get("/auth/me", headers={"Authorization": f"Bearer {tampered}"}).status_code == 401
    with towns.begin() as conn:
        expired, _ = issue(conn, get_user(conn, "王科员"), ttl=dt.timedelta(seconds=-1))
    r = c.get("/auth/me", headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401 and "过期" in r.json()["message"]

    with towns.begin() as conn:
        set_disabled(conn, "王科员")
    r = c.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and "停用" in r.json()["message"]


def test_api_tokens_for_integrations_can_be_revoked(app, make_user):
    c = _client(app, make_user("county_viewer"))
    made = c.post("/auth/api-tokens", json={"name": "市局平台对接", "days": 30})
    assert made.status_code == 201 and made.json()["token"].startswith("rmk_")
    integration = _client(app, {"Authorization": f"Bearer {made.json()['token']}"})
    assert integration.get("/layers/enterprise/features").json()["numberMatched"] == 2
    listed = c.get("/auth/api-tokens").json()
    assert [t["name"] for t in listed] == ["市局平台对接"] and "token" not in listed[0]
    assert c.delete(f"/auth/api-tokens/{made.json()['id']}").status_code == 204
    assert integration.get("/layers/enterprise/features").status_code == 401


def test_county_viewer_sees_all_and_changes_nothing(app, towns, make_user):
    c = _client(app, make_user("county_viewer"))
    assert c.get("/layers/enterprise/features").json()["numberMatched"] == 2
    before = _count(towns)
    r = c.post("/layers/enterprise/features", json=_point(111.23, 39.26, "河曲县新建材有限公司", 1))
    assert r.status_code == 403 and "无权" in r.json()["message"]
    assert _count(towns) == before


def test_township_editor_sees_and_edits_only_its_township(app, towns, make_user):
    c = _client(app, make_user("township_editor", townships=[WEST]))
    names = [f["properties"]["name"] for f in c.get("/layers/enterprise/features").json()["features"]]
    assert names == ["河曲县西化工有限公司"]
    east = _ids(towns, "%东%")
    r = c.get(f"/layers/enterprise/features/{east}")
    assert r.status_code == 404 and "没有编号" in r.json()["message"]
    assert c.patch(f"/layers/enterprise/features/{east}", json={"version": 1, "properties": {"name": "改名"}}
                   ).status_code == 404
    assert c.delete(f"/layers/enterprise/features/{east}", params={"version": 1}).status_code == 404
    assert [t["properties"]["code"] for t in c.get("/layers/township/features").json()["features"]] == [WEST]

    before = _count(towns)
    inside = c.post("/layers/enterprise/features", json=_point(111.22, 39.24, "河曲县西口建材有限公司", 2))
    assert inside.status_code == 201, inside.text
    assert inside.json()["properties"]["version"] == 1
    outside = c.post("/layers/enterprise/features", json=_point(111.45, 39.11, "河曲县越界建材有限公司", 3))
    assert outside.status_code == 403 and "超出辖区" in outside.json()["message"]
    assert _count(towns) == before + 1  # the outside point was not written

    own = inside.json()["id"]
    moved = c.patch(f"/layers/enterprise/features/{own}", json={
        "version": 1, "geometry": {"type": "Point", "coordinates": [111.46, 39.10]}})
    assert moved.status_code == 403
    with towns.connect() as conn:
        x = conn.execute(text("SELECT ST_X(geom) FROM enterprise WHERE id = :i"), {"i": own}).scalar_one()
    assert x == pytest.approx(111.22)


def test_maps_tiles_statistics_and_exports_obey_the_scope(app, towns, make_user):
    c = _client(app, make_user("township_editor", townships=[WEST]))
    county_page = c.get("/maps").text
    seen = {name for name in ("西口镇", "楼子营镇")
            if name in county_page or json.dumps(name)[1:-1] in county_page}
    assert seen == {"西口镇"}
    assert c.get(f"/maps/township/{EAST}").status_code == 404
    assert [row["code"] for row in c.get("/stats/townships").json()] == [WEST]
    viewer = _client(app, make_user("county_viewer"))
    tiles = [(14, *tile_of(lon, lat, 14)) for lon, lat in ((111.22, 39.25), (111.45, 39.10))]
    assert _tile_names(viewer, tiles) == {"河曲县西化工有限公司", "河曲县东煤业有限公司"}
    assert _tile_names(c, tiles) == {"河曲县西化工有限公司"}


def _tile_names(client: TestClient, tiles: list[tuple[int, int, int]]) -> set[str]:
    import mapbox_vector_tile

    names: set[str] = set()
    for z, x, y in tiles:
        r = client.get(f"/tiles/enterprise/{z}/{x}/{y}.pbf")
        assert r.status_code in (200, 204)
        if r.status_code == 200:
            for layer in mapbox_vector_tile.decode(r.content).values():
                names |= {f["properties"].get("name") for f in layer["features"]}
    return names


def test_concurrent_edits_of_one_record_conflict(app, towns, make_user):
    first, second = _client(app, make_user("county_editor")), _client(app, make_user("county_editor"))
    west = _ids(towns, "%西%")
    read_a = first.get(f"/layers/enterprise/features/{west}").json()
    read_b = second.get(f"/layers/enterprise/features/{west}").json()
    assert read_a["properties"]["version"] == read_b["properties"]["version"] == 1
    ok = first.patch(f"/layers/enterprise/features/{west}", json={"version": 1, "properties": {"employees": 40}})
    assert ok.status_code == 200 and ok.json()["properties"]["version"] == 2
    stale = second.patch(f"/layers/enterprise/features/{west}", json={"version": 1, "properties": {"employees": 99}})
    assert stale.status_code == 409 and "已被他人修改" in stale.json()["message"]
    assert second.delete(f"/layers/enterprise/features/{west}", params={"version": 1}).status_code == 409
    with towns.connect() as conn:
        assert conn.execute(text("SELECT employees FROM enterprise WHERE id = :i"), {"i": west}).scalar_one() == 40


def test_inspector_records_results_only_on_its_own_stops(app, towns, make_user):
    with towns.connect() as conn:
        stops = dict(conn.execute(text(
            "SELECT r.team, s.id FROM plan_stop s JOIN plan_route r ON r.id = s.route_id")).all())
        plan = conn.execute(text("SELECT id FROM inspection_plan")).scalar_one()
    c = _client(app, make_user("inspector", teams=["一组"]))
    body = {"inspected_on": "2026-11-24", "team": "一组", "result": "现场检查", "findings": [{"level": "general", "description": "消防通道堵塞"}]}
    mine = c.post(f"/plans/{plan}/stops/{stops['一组']}/result", json=body)
    assert mine.status_code == 201, mine.text
    theirs = c.post(f"/plans/{plan}/stops/{stops['二组']}/result", json={**body, "team": "二组"})
    assert theirs.status_code in (403, 404) and theirs.json()["message"]
    assert _count(towns, "inspection") == 1 and _count(towns, "hazard") == 1  # the refused one left nothing
    assert c.post("/layers/enterprise/features", json=_point(111.23, 39.24, "河曲县巡查建材有限公司", 4)).status_code == 403


def test_every_change_is_audited_with_who_when_before_and_after(app, towns, make_user, capsys):
    from geo.cli import main

    editor = _client(app, make_user("township_editor", townships=[WEST], username="西口镇张编辑"))
    made = editor.post("/layers/enterprise/features", json=_point(111.23, 39.25, "河曲县审计建材有限公司", 5)).json()
    county = _client(app, make_user("county_editor", username="县局李编辑"))
    county.patch(f"/layers/enterprise/features/{made['id']}", json={"version": 1, "properties": {"employees": 12}})

    log = county.get("/audit", params={"table": "enterprise", "record_id": str(made["id"])}).json()
    assert [(e["action"], e["actor"]) for e in log] == [("update", "县局李编辑"), ("insert", "西口镇张编辑")]
    update = log[0]
    assert update["changed"] == ["employees"] and update["before"]["employees"] is None
    assert update["after"]["employees"] == 12 and update["at"] >= log[1]["at"]
    assert "geom_3857" not in update["after"]
    assert editor.get("/audit").status_code == 403

    assert main(["audit", "--table", "enterprise", "--id", str(made["id"]), "-v"]) == 0
    out = capsys.readouterr().out
    assert "县局李编辑" in out and "修改" in out and "employees: None → 12" in out
    with towns.connect() as conn:
        users = conn.execute(text("SELECT after ->> 'password_hash' FROM audit_log WHERE table_name = 'app_user'")).all()
    assert users and {u[0] for u in users} == {"***"}


def test_cli_user_add_grant_disable(towns, monkeypatch, capsys):
    import io

    from geo.cli import main
    from geo.db import get_engine

    monkeypatch.setenv("PGOPTIONS", "")  # restored after the test; the CLI adds its operator's name
    get_engine().dispose()  # new connections, as a fresh `riskmap` process would open
    monkeypatch.setattr("sys.stdin", io.StringIO("secret-password-1\n"))
    assert main(["user", "add", "刘镇长", "--role", "township_editor", "--township", WEST, "--password-stdin"]) == 0
    assert "乡镇编辑" in capsys.readouterr().out
    assert main(["user", "add", "缺乡镇", "--role", "township_editor", "--password-stdin"]) == 2
    assert "所辖乡镇" in capsys.readouterr().err
    assert main(["user", "grant", "刘镇长", "--township", f"{WEST},{EAST}"]) == 0
    assert f"{WEST}、{EAST}" in capsys.readouterr().out
    assert main(["user", "disable", "刘镇长"]) == 0
    with towns.connect() as conn:
        row = conn.execute(text("SELECT disabled, township_codes FROM app_user WHERE username = '刘镇长'")).one()
        actor = conn.execute(text("SELECT actor FROM audit_log WHERE table_name = 'app_user' ORDER BY id DESC LIMIT 1")
                             ).scalar_one()
    assert row.disabled and list(row.township_codes) == [WEST, EAST]
    assert actor.startswith("cli:")
    get_engine().dispose()


def test_admin_manages_users_over_http_others_cannot(app, make_user):
    admin = _client(app, make_user("admin"))
    r = admin.post("/users", json={"username": "赵巡查", "password": "long-enough-1", "role": "inspector",
                                   "teams": ["一组"]})
    assert r.status_code == 201 and r.json()["role_label"] == "巡查员"
    assert admin.patch("/users/赵巡查", json={"disabled": True}).json()["disabled"] is True
    viewer = _client(app, make_user("county_viewer"))
    assert viewer.post("/users", json={"username": "x", "password": "long-enough-1", "role": "admin"}).status_code == 403
    assert viewer.get("/users").status_code == 403


def test_oversized_bodies_and_pages_are_refused(app, make_user):
    c = _client(app, make_user("county_editor"))
    from geo.config import get_settings

    big = b"{" + b" " * (get_settings().max_body_bytes + 1) + b"}"
    r = c.post("/layers/enterprise/features", content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "请求体过大" in r.json()["message"]
    assert c.get("/layers/enterprise/features", params={"limit": 5001}).status_code == 422


def test_demo_accounts_log_in_with_their_roles(app, towns, monkeypatch):
    from geo.demo.accounts import ensure_demo_accounts

    monkeypatch.setenv("RISKMAP_DEMO_PASSWORD", "demo-password-1")
    password, made = ensure_demo_accounts(towns)
    assert password == "demo-password-1" and {m[0] for m in made} == {"admin", "county", "editor", "xikou", "inspector"}
    ensure_demo_accounts(towns)  # again: the same accounts, reset
    c = _client(app)
    token = c.post("/auth/token", data={"username": "xikou", "password": password}).json()["access_token"]
    me = c.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["role"] == "township_editor" and me["township_codes"] == [WEST]


def test_township_editor_keeps_its_own_registers_only(app, towns, make_user):
    """Field encroachments and hazards: inside the township they are recorded and moved on; elsewhere, no."""
    with towns.begin() as conn:
        conn.execute(text(
            "INSERT INTO pipeline (code, name, medium, geom) VALUES ('GD-1', '河曲输气支线', 'gas', "
            "ST_Multi(ST_GeomFromText('LINESTRING(111.22 39.20, 111.46 39.12)', 4490)))"))
    west = _client(app, make_user("township_editor", townships=[WEST]))
    east = _client(app, make_user("township_editor", townships=[EAST]))
    mine = west.post("/encroachments", json={"by": "张三", "lon": 111.24, "lat": 39.195, "pipeline": "GD-1",
                                            "nature": "违法建设", "deadline": "2026-12-31"})
    assert mine.status_code == 201, mine.text
    code = mine.json()["code"]
    across = west.post("/encroachments", json={"by": "张三", "lon": 111.45, "lat": 39.125, "pipeline": "GD-1"})
    assert across.status_code == 403 and "超出辖区" in across.json()["message"]
    theirs = east.post("/encroachments", json={"by": "李四", "lon": 111.45, "lat": 39.125, "pipeline": "GD-1"})
    assert theirs.status_code == 201 and theirs.json()["code"] != code  # numbered county-wide, no clash

    assert west.post(f"/register/encroachment/{code}/status", json={"status": "认定", "by": "张三"}).status_code == 200
    other = theirs.json()["code"]
    assert west.post(f"/register/encroachment/{other}/status", json={"status": "认定", "by": "张三"}).status_code == 404
    assert west.get(f"/register/encroachment/{other}/history").status_code == 404
    assert {r["group_code"] for r in west.get("/register/encroachment/report").json()} <= {WEST, None, ""}

    ours = west.post("/hazards", json={"enterprise_uscc": make_uscc("9114093000000000X"), "level": "general",
                                       "by": "张三", "description": "消防通道堵塞"})
    assert ours.status_code == 201, ours.text
    foreign = west.post("/hazards", json={"enterprise_uscc": make_uscc("9114093000000001X"), "level": "general",
                                          "by": "张三"})
    assert foreign.status_code == 404
    assert _count(towns, "encroachment") == 2 and _count(towns, "hazard") == 1


def test_township_editor_plans_its_own_township(app, towns, make_user):
    west = _client(app, make_user("township_editor", townships=[WEST]))
    ok = west.post("/plans", json={"week": "2026-W48", "township": WEST, "teams": 1, "time_limit_s": 1})
    assert ok.status_code == 201, ok.text
    assert west.get(f"/plans/{ok.json()['id']}").status_code == 200
    refused = west.post("/plans", json={"week": "2026-W48", "township": EAST, "teams": 1, "time_limit_s": 1})
    assert refused.status_code in (403, 404) and refused.json()["message"]
    county_wide = west.post("/plans", json={"week": "2026-W48", "teams": 1, "time_limit_s": 1})
    assert county_wide.status_code == 403


def test_the_signed_in_user_is_the_handling_person_unless_named(app, towns, make_user):
    with towns.begin() as conn:
        conn.execute(text(
            "INSERT INTO pipeline (code, name, medium, geom) VALUES ('GD-1', '河曲输气支线', 'gas', "
            "ST_Multi(ST_GeomFromText('LINESTRING(111.22 39.20, 111.46 39.12)', 4490)))"))
    c = _client(app, make_user("township_editor", townships=[WEST], username="西口镇王干事"))
    code = c.post("/encroachments", json={"lon": 111.24, "lat": 39.195, "pipeline": "GD-1"}).json()["code"]
    c.post(f"/register/encroachment/{code}/status", json={"status": "认定", "by": "村支书赵六"})
    assert [e["changed_by"] for e in c.get(f"/register/encroachment/{code}/history").json()] == [
        "西口镇王干事", "村支书赵六"]
