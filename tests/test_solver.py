"""The route solver core, as the planner uses it: teams leave their offices, work 8 h, visit every due unit.

Plain cost matrices (travel seconds), no database: the optimum of each small case is known by hand.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random

import pytest

from geo.errors import InvalidInput
from geo.inspection import RouteLimits, RoutePlan, StopWindow, Team, solve_routes

QUICK_S = 0.6


def line_matrix(xs: list[float], *, speed_m_s: float = 1.0) -> list[list[int]]:
    """Travel seconds between points on a straight road at positions xs (metres)."""
    return [[round(abs(a - b) / speed_m_s) for b in xs] for a in xs]


def circle_matrix(n: int, *, radius_m: float = 10_000, speed_m_s: float = 10.0) -> list[list[int]]:
    """Travel seconds between n points evenly spaced on a circle (the optimum tour walks round it)."""
    pts = [(radius_m * math.cos(2 * math.pi * k / n), radius_m * math.sin(2 * math.pi * k / n)) for k in range(n)]
    return [[round(math.dist(p, q) / speed_m_s) for q in pts] for p in pts]


def assert_times_consistent(plan: RoutePlan, matrix: list[list[int]], service: list[int]) -> None:
    """Each arrival = previous departure + travel; departure = start + service; nobody over their hours."""
    for route in plan.routes:
        clock, here = 0, route.team.depot
        for v in route.visits:
            assert v.arrival_s == clock + matrix[here][v.node]
            assert v.start_s >= v.arrival_s
            assert v.departure_s == v.start_s + service[v.node]
            clock, here = v.departure_s, v.node
        assert route.return_s == clock + (matrix[here][route.team.depot] if route.visits else 0)
        if route.team.max_work_s is not None:
            assert route.return_s <= route.team.max_work_s


def test_one_team_walks_round_the_circle_the_short_way() -> None:
    """12 units on a ring road: the best tour follows the ring, its length is the perimeter of the 12-gon."""
    m = circle_matrix(12)
    plan = solve_routes(m, [0] * 12, [Team("一队", 0)], None, QUICK_S)
    nodes = plan.routes[0].nodes
    assert nodes in (list(range(1, 12)), list(range(11, 0, -1)))
    assert plan.objective == sum(m[k][(k + 1) % 12] for k in range(12))
    assert plan.travel_s == plan.objective
    assert not plan.dropped


def test_stops_on_a_line_are_visited_out_and_back() -> None:
    """Units along one road from the office: drive to the far end and back, 2 × 5000 s, service counted."""
    xs = [0, 3000, 1000, 5000, 2000, 4000]
    m = line_matrix(xs)
    service = [0] + [600] * 5
    plan = solve_routes(m, service, [Team("一队", 0)], None, QUICK_S)
    route = plan.routes[0]
    assert route.travel_s == 10_000
    assert route.service_s == 3000
    assert route.return_s == 13_000
    assert route.total_h == pytest.approx(13_000 / 3600)
    assert_times_consistent(plan, m, service)


def test_no_team_works_over_its_hours_so_work_is_shared() -> None:
    """Six units each 2 h of service: one team alone would need 12 h, so both teams get work within 8 h."""
    xs = [0, 0, 600, 1200, 1800, 2400, 3000, 3600]  # nodes 0, 1 are the two offices
    m = line_matrix(xs)
    service = [0, 0] + [7200] * 6
    teams = [Team("一队", 0), Team("二队", 1)]
    plan = solve_routes(m, service, teams, None, QUICK_S)
    assert not plan.dropped
    assert all(r.visits for r in plan.routes)
    assert all(r.return_s <= 28_800 for r in plan.routes)
    assert sorted(n for r in plan.routes for n in r.nodes) == [2, 3, 4, 5, 6, 7]
    assert_times_consistent(plan, m, service)


def test_each_team_leaves_from_its_own_office() -> None:
    """Two offices at the two ends of a road: each team takes the units on its own side."""
    xs = [0, 10_000, 500, 1000, 9000, 9500]
    m = line_matrix(xs)
    teams = [Team("城关队", 0), Team("沙泉队", 1)]
    plan = solve_routes(m, [0, 0, 600, 600, 600, 600], teams, None, QUICK_S)
    by_team = {r.team.name: sorted(r.nodes) for r in plan.routes}
    assert by_team == {"城关队": [2, 3], "沙泉队": [4, 5]}
    assert plan.objective == 2 * 1000 + 2 * 1000


def test_time_windows_set_the_order_and_the_team_waits_for_a_late_opening() -> None:
    """Units at 2 and 3 km close after 1 h; the unit at 1 km opens only after 3 h: visit 2, 3, then wait at 1."""
    xs = [0, 1000, 2000, 3000]
    m = line_matrix(xs)
    service = [0, 600, 600, 600]
    windows = [
        StopWindow(1, earliest_s=3 * 3600, latest_s=4 * 3600),
        StopWindow(2, earliest_s=0, latest_s=3600),
        StopWindow(3, earliest_s=0, latest_s=3600),
    ]
    plan = solve_routes(m, service, [Team("一队", 0)], RouteLimits(windows=windows), QUICK_S)
    route = plan.routes[0]
    assert route.nodes == [2, 3, 1]
    visits = {v.node: v for v in route.visits}
    assert visits[3].start_s <= 3600
    assert visits[1].start_s == 3 * 3600 and visits[1].wait_s == 3 * 3600 - 6200
    assert route.wait_s == visits[1].wait_s
    assert route.return_s == 3 * 3600 + 600 + 1000
    assert_times_consistent(plan, m, service)


def test_a_closed_window_before_the_team_can_arrive_is_reported_in_chinese() -> None:
    """A unit open only in the first 10 minutes but 1 h away is dropped with the window as the reason."""
    m = line_matrix([0, 3600, 100])
    windows = [StopWindow(1, earliest_s=0, latest_s=600)]
    plan = solve_routes(m, [0, 300, 300], [Team("一队", 0)], RouteLimits(windows=windows), QUICK_S)
    assert [d.node for d in plan.dropped] == [1]
    assert "时间窗" in plan.dropped[0].reason
    assert plan.routes[0].nodes == [2]


def test_infeasible_day_drops_the_lowest_priority_stop_and_says_why() -> None:
    """Three 3-hour inspections do not fit one 8-h day: the blue (priority 1) unit is the one left out."""
    m = line_matrix([0, 100, 200, 300])
    service = [0, 3 * 3600, 3 * 3600, 3 * 3600]
    priorities = [1, 4, 1, 3]  # node 2 is blue, nodes 1 and 3 red/orange
    plan = solve_routes(m, service, [Team("一队", 0)], RouteLimits(priorities=priorities), QUICK_S)
    assert [(d.node, d.priority) for d in plan.dropped] == [(2, 1)]
    assert "工时已排满" in plan.dropped[0].reason and "优先级" in plan.dropped[0].reason
    assert sorted(plan.routes[0].nodes) == [1, 3]
    assert plan.routes[0].return_s <= 28_800


def test_one_high_priority_stop_outweighs_several_low_ones() -> None:
    """Either one red unit (6 h) or two blue ones (3 h each) fit the day: the red one is kept."""
    m = line_matrix([0, 100, 200, 300])
    service = [0, 6 * 3600, 3 * 3600, 3 * 3600]
    plan = solve_routes(m, service, [Team("一队", 0)], RouteLimits(priorities=[1, 4, 1, 1]), QUICK_S)
    assert plan.routes[0].nodes == [1]
    assert sorted(d.node for d in plan.dropped) == [2, 3]


def test_a_stop_too_far_for_any_day_is_reported_as_such() -> None:
    """A unit 5 h away one way cannot be visited and returned from within 8 h."""
    m = line_matrix([0, 5 * 3600, 600])
    plan = solve_routes(m, [0, 600, 600], [Team("一队", 0)], None, QUICK_S)
    assert [d.node for d in plan.dropped] == [1]
    assert "往返" in plan.dropped[0].reason


def test_an_unreachable_stop_is_reported_not_silently_dropped() -> None:
    """No road leads to unit 2 (None in the matrix): it is dropped with the reason 路网不通."""
    m: list[list[int | None]] = [[0, 600, None], [600, 0, None], [None, None, 0]]
    plan = solve_routes(m, [0, 300, 300], [Team("一队", 0)], None, QUICK_S)
    assert plan.routes[0].nodes == [1]
    assert [d.node for d in plan.dropped] == [2]
    assert "路网不通" in plan.dropped[0].reason


def test_one_way_roads_are_never_driven_the_wrong_way() -> None:
    """Arc 1→2 is blocked (None); the team must go 0→2→1→0 even though 0→1→2→0 looks shorter."""
    m: list[list[int | None]] = [[0, 100, 500], [100, 0, None], [500, 100, 0]]
    plan = solve_routes(m, [0, 0, 0], [Team("一队", 0, max_work_s=None)], None, QUICK_S)
    assert plan.routes[0].nodes == [2, 1]
    assert plan.objective == 700


def test_a_team_with_nothing_to_do_stays_home() -> None:
    """Two teams, one unit next to the first office: the second team has an empty route and 0 h."""
    m = line_matrix([0, 20_000, 100])
    plan = solve_routes(m, [0, 0, 300], [Team("一队", 0), Team("二队", 1)], None, QUICK_S)
    assert plan.routes[0].nodes == [2]
    assert plan.routes[1].nodes == [] and plan.routes[1].total_h == 0


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (([[0, 1], [1]], [0, 0], [Team("一队", 0)]), "方阵"),
        (([[0, -5], [5, 0]], [0, 0], [Team("一队", 0)]), "不能为负"),
        (([[0, "远"], [5, 0]], [0, 0], [Team("一队", 0)]), "整数秒"),
        (([[0, 1.5], [5, 0]], [0, 0], [Team("一队", 0)]), "整数秒"),
        (([[0, 1], [1, 0]], [0], [Team("一队", 0)]), "服务时间个数"),
        (([[0, 1], [1, 0]], [0, -1], [Team("一队", 0)]), "服务时间不能为负"),
        (([[0, 1], [1, 0]], [0, 0], [Team("一队", 2)]), "驻地节点"),
        (([[0, 1], [1, 0]], [0, 0], []), "至少需要一个巡查队伍"),
        (([[0, 1], [1, 0]], [0, 0], [Team("一队", 0), Team("一队", 1)]), "队伍名称重复"),
        (([[0, 1], [1, 0]], [0, 0], [Team("一队", 0, max_work_s=0)]), "工作时长"),
        (([], [], [Team("一队", 0)]), "矩阵为空"),
    ],
)
def test_bad_input_is_refused_with_a_chinese_message(args: tuple, fragment: str) -> None:
    with pytest.raises(InvalidInput) as err:
        solve_routes(*args, None, QUICK_S)
    assert fragment in err.value.message
    assert err.value.code == "invalid_input"


@pytest.mark.parametrize(
    ("limits", "fragment"),
    [
        (RouteLimits(priorities=[1, 1]), "优先级个数"),
        (RouteLimits(priorities=[1, 0, 1]), "优先级必须"),
        (RouteLimits(windows=[StopWindow(1, 500, 100)]), "时间窗无效"),
        (RouteLimits(windows=[StopWindow(0, 0, 100)]), "驻地"),
        (RouteLimits(windows=[StopWindow(1, 0, 100), StopWindow(1, 0, 200)]), "多个时间窗"),
    ],
)
def test_bad_limits_are_refused_with_a_chinese_message(limits: RouteLimits, fragment: str) -> None:
    m = line_matrix([0, 100, 200])
    with pytest.raises(InvalidInput) as err:
        solve_routes(m, [0, 0, 0], [Team("一队", 0)], limits, QUICK_S)
    assert fragment in err.value.message


def test_no_route_ever_uses_a_missing_road() -> None:
    """A patchy network (a quarter of the links missing, one-way streets): every arc driven exists."""
    rng = random.Random(11)
    n = 14
    m: list[list[int | None]] = [
        [0 if a == b else (None if rng.random() < 0.25 else rng.randint(120, 1800)) for b in range(n)]
        for a in range(n)
    ]
    plan = solve_routes(m, [0] * 2 + [300] * (n - 2), [Team("一队", 0), Team("二队", 1)], None, 1.0)
    for route in plan.routes:
        path = [route.team.depot, *route.nodes, route.team.depot]
        assert all(m[a][b] is not None for a, b in itertools.pairwise(path) if a != b)
    assert plan.travel_s == sum(
        sum(m[a][b] for a, b in itertools.pairwise(p))  # type: ignore[misc]
        for p in ([r.team.depot, *r.nodes, r.team.depot] for r in plan.routes)
    )


def test_due_list_priorities_keep_the_most_urgent_units_when_the_day_is_full() -> None:
    """Six 2-h inspections, one 8-h day: the three units the due list ranks highest are the ones visited."""
    from geo.inspection.due import EnterpriseStatus, list_due

    week = (dt.date(2026, 11, 23), dt.date(2026, 11, 29))
    units = [
        EnterpriseStatus(1, "蓝色企业", "blue", None),
        EnterpriseStatus(2, "红色企业（逾期隐患）", "red", dt.date(2026, 11, 1), overdue_hazards=True),
        EnterpriseStatus(3, "黄色企业", "yellow", dt.date(2026, 11, 1)),
        EnterpriseStatus(4, "橙色企业", "orange", dt.date(2026, 11, 1)),
        EnterpriseStatus(5, "蓝色企业（新占压）", "blue", dt.date(2026, 11, 20), new_encroachment=True),
        EnterpriseStatus(6, "红色企业", "red", dt.date(2026, 11, 16)),
    ]
    due = {item.enterprise_id: item.priority for item in list_due(units, *week)}
    assert len(due) == 6
    m = line_matrix([0] + [600 * k for k in range(1, 7)], speed_m_s=10)
    priorities = [1] + [due[k] for k in range(1, 7)]
    plan = solve_routes(m, [0] + [7200] * 6, [Team("一队", 0)], RouteLimits(priorities=priorities), QUICK_S)
    assert sorted(plan.routes[0].nodes) == [2, 4, 6]
    assert sorted(d.node for d in plan.dropped) == [1, 3, 5]


def test_no_stop_is_dropped_while_a_lower_priority_stop_is_kept() -> None:
    """A full week with many priority levels (the due list's colours plus overdue and hazard bonuses).

    Sixty units on a 30 km square, two teams of 8 h, service 30–150 min: far from all fit. With sixteen and more
    distinct priorities the lexicographic drop penalties no longer fit in 64 bits, so the search alone traded one
    red unit for several cheap blue ones (seen on the demo week: a red unit 141 days overdue dropped, blue kept).
    Whatever is dropped, nothing of lower priority may be kept, and those held back for it say so in Chinese.
    """
    rng = random.Random(7)
    pts = [(15_000.0, 15_000.0)] + [(rng.uniform(0, 30_000), rng.uniform(0, 30_000)) for _ in range(60)]
    m = [[round(math.dist(p, q) / 11.0) for q in pts] for p in pts]
    service = [0] + [rng.choice((1800, 2700, 3600, 5400, 9000)) for _ in range(60)]
    priorities = [1] + [rng.choice((10, 11, 12, 20, 21, 22, 24, 25, 30, 31, 33, 40, 41, 42, 44, 46, 49))
                        for _ in range(60)]
    teams = [Team("一队", 0), Team("二队", 0)]
    plan = solve_routes(m, service, teams, RouteLimits(priorities=priorities), 3.0)
    kept = [v.node for r in plan.routes for v in r.visits]
    assert plan.dropped and kept
    lowest_kept = min(priorities[n] for n in kept)
    assert all(d.priority <= lowest_kept for d in plan.dropped), (
        lowest_kept, sorted(d.priority for d in plan.dropped if d.priority > lowest_kept))
    assert all("增派巡查组或增加出勤日" in d.reason for d in plan.dropped)
    assert_times_consistent(plan, m, service)
