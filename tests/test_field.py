"""The field app's API (issue #15) on a copy of the demo county, over HTTP on a real server: an inspector's tasks,
records that go through the register and inspection functions, one answer per client id, and scope refusals that
write nothing but their answer."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import Engine, text

from geo.timefmt import today as local_today
from tests.conftest import auth_headers
from tests.field_fixtures import FieldPlan, field_county, make_field_plan
from tests.workbench_fixtures import XIKOU, workbench_server

TODAY = local_today()  # the Beijing date the app plans and shows by


@pytest.fixture(scope="module")
def county_db(demo_county_db: str, demo_county_engine: Engine) -> Iterator[Engine]:
    with field_county(demo_county_db, demo_county_engine, "fieldapi") as eng:
        yield eng


@pytest.fixture(scope="module")
def plan(county_db: Engine) -> FieldPlan:
    return make_field_plan(county_db, TODAY)


@pytest.fixture(scope="module")
def server(county_db: Engine, plan: FieldPlan, out_dir, tmp_path_factory) -> Iterator[str]:
    with workbench_server(county_db.url_string, tmp_path_factory.mktemp("home"),  # type: ignore[attr-defined]
                          out_dir / "field-api-server.log") as base:
        yield base


@pytest.fixture(scope="module")
def inspector(county_db: Engine, server: str) -> Iterator[httpx.Client]:
    headers = auth_headers(county_db, "inspector", [XIKOU], teams=["第1组"], username="fd-api-inspector")
    with httpx.Client(base_url=server, headers=headers, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def xikou(county_db: Engine, server: str) -> Iterator[httpx.Client]:
    headers = auth_headers(county_db, "township_editor", [XIKOU], username="fd-api-xikou")
    with httpx.Client(base_url=server, headers=headers, timeout=60) as client:
        yield client


def scalar(engine: Engine, sql: str, **params: object) -> object:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def test_inspector_tasks_are_its_teams_stops_of_today_in_route_order(inspector, plan) -> None:
    r = inspector.get("/api/field/tasks")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["plan"]["id"] == plan.plan_id
    assert [s["stop_id"] for s in body["stops_today"]] == list(plan.own_stops)  # 第2组's stop is not its task
    first = body["stops_today"][0]
    assert first["seq"] == 1 and first["team"] == "第1组" and first["due"] == "today" and first["due_label"] == "今日"
    assert first["reasons"] == ["红色企业每周巡查一次，已到期"] and first["address"] is not None and first["lon"] is not None


def test_township_editor_sees_every_team_of_its_township(xikou, plan) -> None:
    stops = {s["stop_id"] for s in xikou.get("/api/field/tasks").json()["stops_week"]}
    assert stops == {*plan.own_stops, plan.other_stop}


def test_a_result_sent_twice_is_stored_once_and_the_second_answer_repeats_the_first(inspector, plan,
                                                                                      county_db) -> None:
    cid = str(uuid.uuid4())
    body = {"client_id": cid, "plan_id": plan.plan_id, "stop_id": plan.own_stops[0],
            "inspected_on": TODAY.isoformat(), "result": "现场检查，发现一处隐患",
            "findings": [{"level": "general", "description": "消防通道堵塞"}],
            "position": {"lon": 111.2, "lat": 39.3, "accuracy_m": 12.5}}
    first = inspector.post("/api/field/inspections", json=body)
    assert first.status_code == 201, first.text
    again = inspector.post("/api/field/inspections", json=body)
    assert again.status_code == 200, again.text
    a, b = first.json(), again.json()
    assert b["replayed"] is True and a["replayed"] is False
    assert {k: v for k, v in a.items() if k != "replayed"} == {k: v for k, v in b.items() if k != "replayed"}
    assert a["object_kind"] == "inspection" and len(a["hazard_codes"]) == 1
    assert scalar(county_db, "SELECT count(*) FROM inspection WHERE id = :i", i=a["object_id"]) == 1
    assert scalar(county_db, "SELECT inspection_id FROM plan_stop WHERE id = :s", s=plan.own_stops[0]) == a["object_id"]
    assert scalar(county_db, "SELECT count(*) FROM hazard WHERE source = :s", s=f"执法检查 #{a['object_id']}") == 1
    assert scalar(county_db, "SELECT count(*) FROM field_submission WHERE client_id = CAST(:c AS uuid)", c=cid) == 1
    # the audit log names the inspector for the visit and the hazard
    assert scalar(county_db, "SELECT count(*) FROM audit_log WHERE table_name IN ('inspection', 'hazard') "
                             "AND actor = 'fd-api-inspector' AND action = 'insert'") >= 2
    done = inspector.get("/api/field/tasks").json()["stops_today"][0]
    assert done["due"] == "done" and done["due_label"] == "已检查"


def test_a_stop_of_another_team_is_refused_with_its_reason_and_nothing_is_written(inspector, plan,
                                                                                   county_db) -> None:
    before = scalar(county_db, "SELECT count(*) FROM inspection")
    cid = str(uuid.uuid4())
    body = {"client_id": cid, "plan_id": plan.plan_id, "stop_id": plan.other_stop, "inspected_on": TODAY.isoformat(),
            "result": "越组记录"}
    r = inspector.post("/api/field/inspections", json=body)
    assert r.status_code == 403, r.text
    assert r.json()["code"] == "forbidden" and "本组" in r.json()["message"]
    assert scalar(county_db, "SELECT count(*) FROM inspection") == before
    again = inspector.post("/api/field/inspections", json=body)
    assert again.status_code == 403 and again.json()["message"] == r.json()["message"] and again.json()["replayed"]


def test_a_new_encroachment_inside_the_township_and_one_outside_it(inspector, plan, county_db) -> None:
    lon, lat = plan.inside
    near = inspector.get("/api/field/pipelines/nearby", params={"lon": lon, "lat": lat})
    assert near.status_code == 200, near.text
    pipes = near.json()
    assert pipes and pipes[0]["distance_m"] <= 40  # 30 m from it by construction, measured in the metric CRS
    r = inspector.post("/api/field/encroachments", json={
        "client_id": str(uuid.uuid4()), "position": {"lon": lon, "lat": lat, "accuracy_m": 8},
        "pipeline": pipes[0]["code"], "kind": "encroachment", "nature": "违法建设", "description": "新建彩钢房"})
    assert r.status_code == 201, r.text
    code = r.json()["object_code"]
    assert scalar(county_db, "SELECT status FROM encroachment WHERE code = :c", c=code) == "found"
    assert scalar(county_db, "SELECT changed_by FROM register_event e JOIN encroachment z ON z.id = e.object_id "
                             "AND e.object_kind = 'encroachment' WHERE z.code = :c", c=code) is not None
    before = scalar(county_db, "SELECT count(*) FROM encroachment")
    x, y = plan.outside
    out = inspector.post("/api/field/encroachments", json={
        "client_id": str(uuid.uuid4()), "position": {"lon": x, "lat": y, "accuracy_m": 8}, "description": "越界"})
    assert out.status_code in (403, 404), out.text
    assert "辖区" in out.json()["message"] or "不在" in out.json()["message"]
    assert scalar(county_db, "SELECT count(*) FROM encroachment") == before


def test_township_editor_records_progress_and_marks_a_stop(xikou, plan, county_db) -> None:
    open_hazards = xikou.get("/api/field/tasks").json()["open"]["hazard"]
    target = next(h for h in open_hazards if h["status"] == "found")
    r = xikou.post("/api/field/progress", json={"client_id": str(uuid.uuid4()), "kind": "hazard",
                                                "code": target["code"], "status": "整改中", "note": "已停用破损设备"})
    assert r.status_code == 201, r.text
    assert scalar(county_db, "SELECT status FROM hazard WHERE code = :c", c=target["code"]) == "rectifying"
    m = xikou.post(f"/api/field/stops/{plan.other_stop}/mark",
                   json={"client_id": str(uuid.uuid4()), "plan_id": plan.plan_id, "mark": "arrived"})
    assert m.status_code == 201, m.text
    assert scalar(county_db, "SELECT arrived_at IS NOT NULL FROM plan_stop WHERE id = :s", s=plan.other_stop)


def test_a_bad_client_id_is_a_chinese_422(inspector, plan) -> None:
    r = inspector.post("/api/field/stops/1/mark", json={"client_id": "x" * 36, "plan_id": plan.plan_id,
                                                        "mark": "arrived"})
    assert r.status_code == 422 and "client_id" in r.json()["message"]


def test_the_app_shell_manifest_and_service_worker(inspector, server) -> None:
    """/field is a page behind the login with nonce'd scripts; the manifest installs it; the service worker may
    control /field and is never cached by HTTP; its scripts are not served as plain static files."""
    import httpx as plain

    page = inspector.get("/field")
    assert page.status_code == 200 and "现场端" in page.text
    csp = page.headers["content-security-policy"]
    nonce = csp.split("'nonce-", 1)[1].split("'", 1)[0]
    assert page.text.count(f'nonce="{nonce}"') >= 5 and 'rel="manifest"' in page.text
    assert plain.get(f"{server}/field", follow_redirects=False).status_code in (303, 307, 401)
    manifest = inspector.get("/field/manifest.webmanifest")
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    assert manifest.json()["start_url"] == "/field" and manifest.json()["lang"] == "zh-CN"
    sw = inspector.get("/field/sw.js")
    assert sw.status_code == 200 and sw.headers["service-worker-allowed"] == "/field"
    assert sw.headers["cache-control"] == "no-cache" and "text/javascript" in sw.headers["content-type"]
    assert plain.get(f"{server}/static/field/sw.js").status_code == 404
    assert plain.get(f"{server}/static/field/app.js").status_code == 200


def test_a_township_editor_cannot_record_outside_its_township(xikou, plan, county_db) -> None:
    """Another township's enterprise is simply not there for it (404, nothing written); a 占压点 outside is refused."""
    other = scalar(county_db, "SELECT e.id FROM enterprise e JOIN township t ON t.id = e.township_id "
                              "WHERE t.code <> :c ORDER BY e.id LIMIT 1", c=XIKOU)
    before = scalar(county_db, "SELECT count(*) FROM hazard")
    r = xikou.post("/api/field/hazards", json={"client_id": str(uuid.uuid4()), "enterprise_id": other,
                                               "level": "general", "description": "越界", "found_on": TODAY.isoformat()})
    assert r.status_code == 404 and "辖区" in r.json()["message"], r.text
    x, y = plan.outside
    e = xikou.post("/api/field/encroachments", json={"client_id": str(uuid.uuid4()),
                                                     "position": {"lon": x, "lat": y}, "description": "越界"})
    assert e.status_code == 403 and "辖区" in e.json()["message"], e.text
    assert scalar(county_db, "SELECT count(*) FROM hazard") == before
    assert scalar(county_db, "SELECT count(*) FROM encroachment WHERE description = '越界'") == 0
