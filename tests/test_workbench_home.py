"""首页: the bureau opens the workbench and sees its county's numbers — colour counts and their history, the hazard
rectification rate, what is overdue — and its own to-do list, each user within its townships."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient

from geo.timefmt import today as local_today
from tests.workbench_county import TOWNSHIP_A, TOWNSHIP_B, build


@pytest.fixture
def county_data(db):
    return build(db, local_today())


def _client(headers):
    from api.app import create_app

    return TestClient(create_app(), headers=headers)


def _number(html: str, id_: str) -> str:
    m = re.search(rf'id="{id_}">([^<]*)<', html)
    assert m, id_
    return m.group(1)


def _colour_cell(html: str, kind: str, lv: str) -> int:
    m = re.search(rf'data-kind="{kind}" data-level="{lv}" href="[^"]*">(\d+)<', html)
    assert m, (kind, lv)
    return int(m.group(1))


def test_county_dashboard_counts_colours_rate_and_overdue(county_data, make_user):
    """Enterprises now: red e1, e5; orange e2; yellow e3; blue e4. Hazards found in the last months: 4, of which
    rectified + closed = 2 → 50.0%. Overdue: YH-T-0002 (deadline 10 days ago, still 发现) and ZY-T-0001."""
    with _client(make_user("county_viewer")) as client:
        r = client.get("/")
    assert r.status_code == 200, r.text
    html = r.text
    assert [_colour_cell(html, "enterprise", lv) for lv in ("red", "orange", "yellow", "blue")] == [2, 1, 1, 1]
    assert _colour_cell(html, "township", "red") == 1 and _colour_cell(html, "township", "orange") == 1
    assert 'href="/ledgers/enterprises?colour=red"' in html
    assert (_number(html, "hazard-found"), _number(html, "hazard-rectified"), _number(html, "hazard-rate")) == \
        ("4", "2", "50.0%")
    assert (_number(html, "enc-found"), _number(html, "enc-rectified")) == ("2", "1")
    assert (_number(html, "enc-total"), _number(html, "enc-total-done")) == ("2", "1")
    assert 'href="/ledgers/encroachments?status=rectifying"' in html
    assert _number(html, "todo-hazards") == "1" and _number(html, "todo-encroachments") == "1"
    assert "YH-T-0002" in html and "/dossiers/hazards/YH-T-0002" in html and "10 天" in html
    assert "ZY-T-0001" in html and "YH-T-0001" not in html.split('id="overdue-hazards"')[1]
    # a viewer plans nothing: no due list, no team stops
    assert "/home/due-this-week" not in html and 'id="todo-stops"' not in html
    assert "echarts.common.min.js" in html and "/static/dashboard.js" in html


def test_trend_reads_the_history(county_data, db):
    """e1 was orange until 70 days ago: at the end of the month 105 days back it counts orange, now red."""
    from geo.dashboard import colour_trend

    today = local_today()
    with db.connect() as conn:
        trend = colour_trend(conn, today=today)
    back = (today - dt.timedelta(days=105)).strftime("%Y-%m")
    k = trend["months"].index(back)
    ent = trend["series"]["enterprise"]
    assert (ent["red"][k], ent["orange"][k]) == (1, 2)
    assert (ent["red"][-1], ent["orange"][-1]) == (2, 1)


def test_dashboard_numbers_stay_in_a_township_editors_scope(county_data, make_user):
    """西口镇's editor: e1 red, e2 orange, e3 yellow; hazards 1–3 (2 rectified of 3 = 66.7%), YH-T-0002 overdue;
    楼子营镇's editor: e4 blue, e5 red; one hazard, not overdue; nothing of 西口镇."""
    with _client(make_user("township_editor", [TOWNSHIP_A])) as client:
        html = client.get("/").text
    assert [_colour_cell(html, "enterprise", lv) for lv in ("red", "orange", "yellow", "blue")] == [1, 1, 1, 0]
    assert _number(html, "hazard-rate") == "66.7%"
    assert _number(html, "todo-hazards") == "1" and "西口镇" in html
    with _client(make_user("township_editor", [TOWNSHIP_B])) as client:
        html = client.get("/").text
    assert [_colour_cell(html, "enterprise", lv) for lv in ("red", "orange", "yellow", "blue")] == [1, 0, 0, 1]
    assert _number(html, "todo-hazards") == "0" and _number(html, "todo-encroachments") == "0"
    assert "YH-T-0002" not in html and "甲化工" not in html
    # an editor plans: the week's due list follows the page (楼子营镇's two enterprises, never inspected)
    assert 'hx-get="/home/due-this-week"' in html
    with _client(make_user("township_editor", [TOWNSHIP_B])) as client:
        due = client.get("/home/due-this-week", headers={"HX-Request": "true"}).text
        page = client.get("/home/due-this-week").text
    assert _number(due, "todo-due") == "2" and "丁燃气" in due and "甲化工" not in due
    assert "<nav" in page and _number(page, "todo-due") == "2"


def test_an_inspectors_todo_lists_its_teams_stops(county_data, make_user):
    """第1组 visits e1 and e2 in the current plan; 第2组 visits e4. An inspector of 第1组 sees two stops."""
    with _client(make_user("inspector", teams=["第1组"])) as client:
        html = client.get("/").text
    assert _number(html, "todo-stops") == "2"
    table = html.split('id="team-stops-table"')[1].split("</table>")[0]
    assert "甲化工" in table and "乙建材" in table and "丁燃气" not in table
    assert f'/inspection-plans/{county_data["plan"]}?team=' in table
    with _client(make_user("inspector", teams=["第3组"])) as client:
        html = client.get("/").text
    assert _number(html, "todo-stops") == "0" and "没有待检查的站点" in html


def test_front_page_needs_a_login():
    from api.app import create_app

    with TestClient(create_app(), follow_redirects=False) as client:
        r = client.get("/", headers={"Accept": "text/html"})
    assert r.status_code in (302, 303, 307, 401)


def test_the_same_numbers_as_json(county_data, make_user):
    """GET /dashboard and /me/todo give the page's numbers to other programs, in the caller's scope."""
    with _client(make_user("township_editor", [TOWNSHIP_A])) as client:
        data = client.get("/dashboard").json()
        todo = client.get("/me/todo").json()
    assert data["counts"]["enterprise"] == {"red": 1, "orange": 1, "yellow": 1, "blue": 0}
    assert sum(data["hazards"]["found"]) == 3 and sum(data["hazards"]["rectified"]) == 2
    assert todo["totals"] == {"hazard": 1, "encroachment": 1}
    assert [h["code"] for h in todo["overdue_hazards"]] == ["YH-T-0002"]
    assert len(todo["due_this_week"]) == 3 and todo["stops"] is None
