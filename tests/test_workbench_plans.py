"""巡查计划 in the browser's forms: a county editor asks for a weekly plan (checked field by field, in Chinese),
waits while it is solved in the background, opens it by team, prints its sheets, and an inspector records the
results of its own team's stops — a hazard found goes to the hazard ledger."""

from __future__ import annotations

import re
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.test_plan import NEAR_ROADS, add_enterprise, add_roads, planner  # noqa: F401  (fixture)


def _client(headers):
    from api.app import create_app

    return TestClient(create_app(), headers=headers, follow_redirects=False)


FORM = {"week": "2026-W48", "township": "", "teams": "2", "depot_1": "office", "depot_2": "township-140930101000",
        "work_hours": "8", "day_start": "08:00", "time_limit_s": "2"}


def test_plan_form_says_what_is_wrong_next_to_each_field(planner, make_user):  # noqa: F811
    with _client(make_user("county_editor")) as client:
        page = client.get("/inspection-plans/new")
        assert page.status_code == 200 and "生成巡查计划" in page.text and 'name="csrf_token"' in page.text
        assert "楼子营镇（乡镇内一点）" in page.text  # a township as a team's depot
        bad = {**FORM, "week": "2026-W60", "teams": "0", "work_hours": "30", "day_start": "25:00",
               "time_limit_s": "abc", "township": "999999999999"}
        r = client.post("/inspection-plans/new", data=bad)
    assert r.status_code == 422
    errors = dict(re.findall(r'<p class="rm-error" id="err-([a-z_0-9]+)">([^<]+)</p>', r.text))
    assert set(errors) == {"week", "teams", "work_hours", "day_start", "time_limit_s", "township"}
    assert "不存在的周次" in errors["week"]
    assert "巡查组数应在 1–12 之间" in errors["teams"]
    assert "每日工作时长（小时）应在 1–12 之间，收到 30" in errors["work_hours"]
    assert "出发时间" in errors["day_start"] and "求解时限（秒）应为数字" in errors["time_limit_s"]
    assert "请改正下面标出的 6 处" in r.text
    # what the user typed stays in the form
    assert 'value="2026-W60"' in r.text and 'aria-invalid="true"' in r.text
    with planner.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM inspection_plan")).scalar() == 0


def test_a_township_editor_plans_for_its_own_township_only(planner, make_user):  # noqa: F811
    with _client(make_user("township_editor", ["140930101000"])) as client:
        form = client.get("/inspection-plans/new").text
        assert "楼子营镇" in form and "西口镇" not in form and '>全县</option>' not in form
        r = client.post("/inspection-plans/new", data=FORM)
    assert r.status_code == 422 and "不能制定全县计划" in r.text


def test_viewers_and_inspectors_may_not_make_plans(planner, make_user):  # noqa: F811
    for role in ("county_viewer", "inspector"):
        with _client(make_user(role)) as client:
            r = client.get("/inspection-plans/new")
            assert r.status_code == 403 and "制定计划需要县级或乡镇编辑权限" in r.text
            assert client.post("/inspection-plans/new", data=FORM).status_code == 403
            assert "新建巡查计划" not in client.get("/inspection-plans").text


def _wait_for_plan(client, job_url: str) -> int:
    """Poll the job page as htmx does until it answers with the plan's address."""
    for _ in range(600):
        r = client.get(job_url, headers={"HX-Request": "true"})
        if r.status_code == 204:
            return int(r.headers["HX-Redirect"].rsplit("/", 1)[1])
        assert r.status_code == 200 and "rm-error" not in r.text, r.text
        time.sleep(0.1)
    raise AssertionError("plan not made in 60 s")


def test_editor_makes_a_plan_and_an_inspector_records_a_hazard(planner, make_user):  # noqa: F811
    with planner.begin() as conn:
        add_roads(conn)
        for name, x, y, c in NEAR_ROADS:
            add_enterprise(conn, name, x, y, category=c, colour="orange")
    with _client(make_user("county_editor")) as client:
        r = client.post("/inspection-plans/new", data=FORM)
        assert r.status_code == 303 and r.headers["location"].startswith("/inspection-plans/jobs/")
        job_url = r.headers["location"]
        first = client.get(job_url)
        assert first.status_code == 200 and ("正在生成巡查计划" in first.text or "已生成" in first.text)
        plan_id = _wait_for_plan(client, job_url)
        listing = client.get("/inspection-plans").text
        assert f'href="/inspection-plans/{plan_id}"' in listing and "未开始" in listing
        page = client.get(f"/inspection-plans/{plan_id}").text
        sheets = client.get(f"/inspection-plans/{plan_id}/sheets").text
    with planner.connect() as conn:
        routes = conn.execute(text("SELECT team, depot_name, count(*) FROM plan_route WHERE plan_id = :p "
                                   "GROUP BY 1, 2 ORDER BY 1"), {"p": plan_id}).all()
        stop = conn.execute(text(
            "SELECT s.id, r.team, e.name FROM plan_stop s JOIN plan_route r ON r.id = s.route_id "
            "JOIN enterprise e ON e.id = s.enterprise_id WHERE s.plan_id = :p ORDER BY r.team, r.day_on, s.seq "
            "LIMIT 1"), {"p": plan_id}).one()
        summary = conn.execute(text("SELECT summary FROM inspection_plan WHERE id = :p"), {"p": plan_id}).scalar()
    assert {t for t, _, _ in routes} <= {"第1组", "第2组"} and routes
    assert dict((t, d) for t, d, _ in routes).get("第2组", "楼子营镇（乡镇内一点）") == "楼子营镇（乡镇内一点）"
    assert summary["day_start"] == "08:00" and summary["work_hours"] == 8
    # the plan page: team key, one team's map, its stops with a result form
    assert 'class="rm-teamkey"' in page and "folium-map" in page and stop.name in page
    assert "记录检查结果" in page and "出发：河曲县应急管理局 08:00" in page
    # the sheets: one section per team-day, with columns for the result and signatures
    assert "检查结果" in sheets and "检查人签字" in sheets and "企业负责人签字" in sheets and stop.name in sheets

    other = "第2组" if stop.team == "第1组" else "第1组"
    with _client(make_user("inspector", teams=[other])) as client:
        refused = client.post(f"/inspection-plans/{plan_id}/stops/{stop.id}/result",
                              data={"inspected_on": "2026-11-24", "result": "检查完毕"})
        assert refused.status_code == 403 and "不能记录" in refused.text
    with _client(make_user("inspector", teams=[stop.team])) as client:
        page = client.get(f"/inspection-plans/{plan_id}?team={stop.team}").text
        assert f'id="stop-{stop.id}"' in page and "记录检查结果" in page
        empty = client.post(f"/inspection-plans/{plan_id}/stops/{stop.id}/result",
                            data={"inspected_on": "", "result": ""}, headers={"HX-Request": "true"})
        assert empty.status_code == 422 and "请填写检查日期" in empty.text and "请填写检查结果" in empty.text
        done = client.post(f"/inspection-plans/{plan_id}/stops/{stop.id}/result", headers={"HX-Request": "true"},
                           data={"inspected_on": "2026-11-24", "result": "发现隐患一处，已责令整改",
                                 "finding_level_1": "general", "finding_1": "灭火器过期",
                                 "finding_deadline_1": "2026-12-10"})
        assert done.status_code == 200, done.text
        assert "已检查 2026-11-24" in done.text and "灭火器过期" in done.text and "下次到期" in done.text
    with planner.connect() as conn:
        hazard = conn.execute(text(
            "SELECT h.code, h.status, h.deadline, h.source, s.inspection_id FROM hazard h "
            "JOIN plan_stop s ON s.enterprise_id = h.enterprise_id WHERE s.id = :s"), {"s": stop.id}).one()
    assert hazard.status == "found" and str(hazard.deadline) == "2026-12-10"
    assert hazard.source == f"执法检查 #{hazard.inspection_id}" and hazard.code in done.text
    # orange is inspected every 10 days (frequencies.toml, 每旬): next due 2026-12-04
    assert "2026-12-04" in done.text


def test_plan_pages_of_a_missing_plan_say_so(planner, make_user):  # noqa: F811
    with _client(make_user("county_viewer")) as client:
        r = client.get("/inspection-plans/999")
        assert r.status_code == 404 and "没有编号为 999 的巡查计划" in r.text
        assert client.get("/inspection-plans/jobs/nothing").status_code == 404


def test_any_worker_answers_the_poll_and_a_dead_job_says_so():
    """The job's state is on disk: a worker that did not start it finds it; one left running by a process that
    died reads as interrupted, in Chinese."""
    import os

    from geo.errors import NotFound
    from geo.inspection import jobs

    job = jobs.PlanJob("ab" * 16, "someone", 5.0, stage="求解路线")
    job.save()
    try:
        found = jobs.get_job(job.id, "someone")  # not in this process's table: read from the file
        assert found is not job and (found.state, found.stage) == ("running", "求解路线")
        with pytest.raises(NotFound):
            jobs.get_job(job.id, "someone-else")
        old = time.time() - jobs.STALE_S - 60
        os.utime(jobs._path(job.id), (old, old))
        dead = jobs.get_job(job.id, "someone")
        assert dead.state == "failed" and "中断" in dead.error
    finally:
        jobs._path(job.id).unlink()
    with pytest.raises(NotFound):
        jobs.get_job("../../etc/passwd", "someone")
