"""Route optimisation core of the inspection planner: teams, depots, working hours, priorities, windows.

A plain function over a travel-time matrix (integer seconds between nodes 0..n-1; depots are nodes too),
solved with OR-Tools' routing library, so it is tested and benchmarked apart from the database.
Every node that is not a team's depot is a stop to visit.
"""

from __future__ import annotations

import itertools
import math
import numbers
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from geo.errors import InvalidInput, RiskmapError
from geo.inspection.polish import improve_route

DEFAULT_MAX_WORK_S = 8 * 3600
"""A team's working day (8 h), service time included, from issue 6 (bureau practice)."""

UNREACHABLE = None
"""A matrix entry of None (or math.inf) means no road leads from one node to the other."""

DEFAULT_FIRST_SOLUTIONS = ("PATH_CHEAPEST_ARC", "CHRISTOFIDES", "SAVINGS")
"""Multi-start: one guided local search from each; measured better than one long run (bench/tsp_quality.py)."""

_FIRST_SOLUTION = routing_enums_pb2.FirstSolutionStrategy
_METAHEURISTIC = routing_enums_pb2.LocalSearchMetaheuristic

STATUS_LABELS: dict[str, str] = {
    "ROUTING_NOT_SOLVED": "未求解",
    "ROUTING_SUCCESS": "已求得可行方案（在时限内优化）",
    "ROUTING_PARTIAL_SUCCESS_LOCAL_OPTIMUM_NOT_REACHED": "已求得可行方案（时限到，未到局部最优）",
    "ROUTING_FAIL": "求解失败",
    "ROUTING_FAIL_TIMEOUT": "时限内未找到方案",
    "ROUTING_INVALID": "模型无效",
    "ROUTING_INFEASIBLE": "无可行方案",
    "ROUTING_OPTIMAL": "已证明最优",
}

# User-facing texts (Chinese), kept together for review.
MSG = {
    "no_teams": "至少需要一个巡查队伍",
    "matrix_empty": "行程时间矩阵为空",
    "matrix_square": "行程时间矩阵必须是方阵：共 {n} 行，第 {row} 行有 {cols} 列",
    "matrix_negative": "行程时间不能为负：第 {i} 行第 {j} 列为 {value}",
    "matrix_not_number": "行程时间必须是整数秒（不可达填 None）：第 {i} 行第 {j} 列为 {value!r}",
    "service_size": "服务时间个数（{got}）与节点数（{n}）不一致",
    "service_negative": "服务时间不能为负：节点 {node} 为 {value} 秒",
    "depot_range": "队伍“{team}”的驻地节点 {node} 不在 0…{last} 之内",
    "team_name_dup": "队伍名称重复：{team}",
    "max_work": "队伍“{team}”的工作时长必须为正数（秒），现为 {value}",
    "priority_size": "优先级个数（{got}）与节点数（{n}）不一致",
    "priority_value": "优先级必须是不小于 1 的整数：节点 {node} 为 {value!r}",
    "window_node": "时间窗的节点 {node} 不在 0…{last} 之内或是队伍驻地",
    "window_order": "节点 {node} 的时间窗无效：最早 {earliest} 秒晚于最晚 {latest} 秒",
    "window_dup": "节点 {node} 有多个时间窗",
    "time_limit": "求解时限必须为正数（秒），现为 {value}",
    "strategy": "未知的求解策略：{first} / {meta}",
    "polish_share": "路线精修时间占比必须在 0 与 1 之间：{value}",
    "solve_failed": "路线求解失败：{status}",
    "drop_unreachable": "路网不通：没有任何队伍能从驻地到达该点并返回",
    "drop_window": "时间窗内无法到达：任何队伍最早 {arrival} 到达，晚于时间窗截止 {latest}",
    "drop_too_far": "单独往返也超出工作时长：最快往返需 {need_h:.1f} 小时，队伍最长 {limit_h:.1f} 小时",
    "drop_capacity": "各队工时已排满（同级及更高优先级的点已占满本计划的工时），优先级 {priority}；"
                     "增派巡查组或增加出勤日可安排",
    "drop_priority": "更高优先级的点尚未全部排入（已排入的最低优先级为 {above}），按“先排优先级高的点”不排此点；"
                     "增派巡查组或增加出勤日可安排",
}


class RouteSolveFailed(RiskmapError):
    code = "route_solve_failed"


@dataclass(frozen=True)
class Team:
    """One inspection team: leaves from and returns to its depot node; max_work_s None = no limit."""

    name: str
    depot: int
    max_work_s: int | None = DEFAULT_MAX_WORK_S


@dataclass(frozen=True)
class StopWindow:
    """A stop's time window: the visit must start between earliest_s and latest_s (s from day start)."""

    node: int
    earliest_s: int
    latest_s: int


@dataclass(frozen=True)
class RouteLimits:
    """Per-stop priorities (≥1, higher = more urgent; default 1) and optional time windows."""

    priorities: Sequence[int] | None = None
    windows: Sequence[StopWindow] = ()


@dataclass(frozen=True)
class Visit:
    """One stop on a route; times are seconds from the team's departure at the start of the day."""

    node: int
    arrival_s: int
    start_s: int
    departure_s: int
    service_s: int

    @property
    def wait_s(self) -> int:
        return self.start_s - self.arrival_s


@dataclass(frozen=True)
class TeamRoute:
    """A team's ordered stops, its return time to the depot and its travel/service/wait seconds."""

    team: Team
    visits: tuple[Visit, ...]
    travel_s: int
    service_s: int
    wait_s: int
    return_s: int

    @property
    def nodes(self) -> list[int]:
        return [v.node for v in self.visits]

    @property
    def total_h(self) -> float:
        return self.return_s / 3600


@dataclass(frozen=True)
class DroppedStop:
    """A stop no team visits, with the priority it had and the Chinese reason."""

    node: int
    priority: int
    reason: str


@dataclass(frozen=True)
class RoutePlan:
    """The solver's answer: one route per team (in the teams' order), dropped stops, objective, status."""

    routes: tuple[TeamRoute, ...]
    dropped: tuple[DroppedStop, ...]
    objective: int
    status: str
    solve_s: float
    improvements: tuple[tuple[float, int], ...] = field(default=(), repr=False)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def travel_s(self) -> int:
        return sum(r.travel_s for r in self.routes)


def solve_routes(
    matrix: Sequence[Sequence[int | float | None]],
    service_times: Sequence[int],
    teams: Sequence[Team],
    limits: RouteLimits | None = None,
    time_limit_s: float = 10.0,
    *,
    first_solutions: Sequence[str] = DEFAULT_FIRST_SOLUTIONS,
    metaheuristic: str = "GUIDED_LOCAL_SEARCH",
    gls_lambda: float = 0.5,
    polish_share: float = 0.3,
) -> RoutePlan:
    """Plan one day's routes minimising total travel seconds; stops drop only when no plan holds them all.

    Dropping a stop costs more than any possible route cost, and dropping one stop of a higher priority
    costs more than dropping every lower-priority stop, so low-priority stops are dropped first. The time
    limit is shared by one guided-local-search run per first-solution strategy (the best plan wins) and,
    when no stop has a time window, a final polish of each route's order (geo.inspection.polish).
    """
    limits = limits or RouteLimits()
    travel, unreachable = _validate(matrix, service_times, teams, limits, time_limit_s)
    if not first_solutions:
        raise InvalidInput(MSG["strategy"].format(first="（空）", meta=metaheuristic))
    if not 0 <= polish_share < 1:
        raise InvalidInput(MSG["polish_share"].format(value=polish_share))
    if limits.windows:
        polish_share = 0.0  # re-ordering could break a window
    n = len(travel)
    depots = {t.depot for t in teams}
    stops = [i for i in range(n) if i not in depots]
    priorities = _priorities(limits, n)
    windows = {w.node: w for w in limits.windows}
    penalties = _drop_penalties(travel, stops, priorities, len(teams))

    started = time.perf_counter()
    best: tuple[int, list[list[int]], str] | None = None
    improvements: list[tuple[float, int]] = []
    statuses: list[str] = []
    share_s = time_limit_s * (1 - polish_share) / len(first_solutions)
    for k, strategy in enumerate(first_solutions):
        params = _search_parameters(strategy, metaheuristic, gls_lambda, share_s)
        found = _solve_once(travel, service_times, teams, windows, unreachable, penalties, params,
                            improvements=improvements, started=started)
        statuses.append(found[2])
        if found[0] is not None and (best is None or found[0] < best[0]):
            best = (found[0], found[1], found[2])
    if best is None:
        status = statuses[-1]
        raise RouteSolveFailed(MSG["solve_failed"].format(status=STATUS_LABELS.get(status, status)))
    objective, nodes, status = best
    held_back: frozenset[int] = frozenset()
    if _priority_breach(stops, nodes, priorities) is not None:
        # the search kept a stop while dropping a more important one: repair, in time taken from the polish
        repair_until = started + time_limit_s * (1 - polish_share * 0.3)
        nodes, held_back = _keep_priority_order(
            travel, service_times, teams, windows, unreachable, stops, priorities, nodes,
            route_bound=_route_bound(travel, len(teams)), deadline=repair_until,
            params=lambda seconds: _search_parameters("PATH_CHEAPEST_ARC", metaheuristic, gls_lambda, seconds),
            improvements=improvements, started=started)
        status = "ROUTING_SUCCESS"
    if polish_share > 0:
        deadline = started + time_limit_s
        nodes, saved_s = _polish_routes(travel, unreachable, teams, nodes, deadline=deadline)
        objective -= saved_s
        if saved_s and improvements:
            improvements.append((time.perf_counter() - started, objective))
    solve_s = time.perf_counter() - started

    routes = tuple(
        _schedule_route(team, nodes[v], travel, service_times, windows) for v, team in enumerate(teams)
    )
    visited = {node for r in routes for node in r.nodes}
    above = min((priorities[s] for s in stops if s in visited), default=None)
    dropped = tuple(
        DroppedStop(s, priorities[s], MSG["drop_priority"].format(above=above) if s in held_back else
                    _drop_reason(s, travel, unreachable, service_times, teams, windows, priorities[s]))
        for s in stops
        if s not in visited
    )
    if held_back:
        objective = sum(r.travel_s for r in routes) + sum(penalties[d.node] for d in dropped)
    return RoutePlan(routes, dropped, objective, status, solve_s, tuple(improvements))


def _priority_breach(stops: Sequence[int], nodes: list[list[int]], priorities: Sequence[int]) -> int | None:
    """The highest priority among dropped stops when a stop of lower priority is kept; None if the order holds."""
    visited = {n for route in nodes for n in route}
    dropped = [priorities[s] for s in stops if s not in visited]
    if not dropped:
        return None
    top = max(dropped)
    return top if any(priorities[s] < top for s in visited) else None


def _keep_priority_order(
    travel: list[list[int]],
    service_times: Sequence[int],
    teams: Sequence[Team],
    windows: dict[int, StopWindow],
    unreachable: set[tuple[int, int]],
    stops: Sequence[int],
    priorities: Sequence[int],
    nodes: list[list[int]],
    *,
    route_bound: int,
    deadline: float,
    params: Callable[[float], object],
    improvements: list[tuple[float, int]],
    started: float,
) -> tuple[list[list[int]], frozenset[int]]:
    """Routes in which no stop is dropped while a lower-priority stop is kept, and the stops held back for it.

    Stops below the highest dropped priority are taken out, the routes re-searched from what is left (every
    stop above that priority mandatory, those at it optional), then lower levels are brought back one at a
    time while every stop of the level fits and time remains. Each search starts from the previous routes,
    which stay feasible when stops are removed, so the result is never worse than the order allows.
    """
    held_back: frozenset[int] = frozenset()
    while time.perf_counter() < deadline - 0.05:
        visited = {n for route in nodes for n in route}
        breach = _priority_breach([s for s in stops if s not in held_back], nodes, priorities)
        if breach is not None:
            held_back = frozenset(s for s in stops if priorities[s] < breach)
            nodes = [[n for n in route if n not in held_back] for route in nodes]
            optional = [s for s in stops if priorities[s] == breach and s not in visited]
        elif held_back and all(s in visited for s in stops if s not in held_back):
            level = max(priorities[s] for s in held_back)
            optional = [s for s in held_back if priorities[s] == level]
            held_back = frozenset(s for s in held_back if priorities[s] < level)
        else:
            break
        penalties = {s: route_bound for s in optional}
        seconds = max(0.05, (deadline - time.perf_counter()) / 2)
        found = _solve_once(travel, service_times, teams, windows, unreachable, penalties, params(seconds),
                            improvements=improvements, started=started, excluded=held_back, initial=nodes)
        if found[0] is None:
            break
        nodes = found[1]
        if not any(s in {n for route in nodes for n in route} for s in optional):
            break  # nothing of this level fits: the order is kept, stop here
    return nodes, held_back


def _polish_routes(
    travel: list[list[int]],
    unreachable: set[tuple[int, int]],
    teams: Sequence[Team],
    nodes: list[list[int]],
    *,
    deadline: float,
) -> tuple[list[list[int]], int]:
    """Re-order each route's stops until the deadline (time shared by stop count); return routes, s saved."""
    cost = travel
    if unreachable:
        blocked = sum(max(row) for row in travel) + 1
        cost = [[blocked if (i, j) in unreachable else v for j, v in enumerate(row)] for i, row in enumerate(travel)]
    polished: list[list[int]] = []
    saved = 0
    for v, team in enumerate(teams):
        route = nodes[v]
        left = [len(r) for r in nodes[v:] if len(r) >= 3]
        if len(route) < 3:
            polished.append(route)
            continue
        budget = max(0.0, deadline - time.perf_counter()) * len(route) / sum(left)
        better = improve_route(cost, team.depot, route, time_limit_s=budget, seed=v)
        before, after = _route_travel(cost, team.depot, route), _route_travel(cost, team.depot, better)
        if after < before:
            polished.append(better)
            saved += before - after
        else:
            polished.append(route)
    return polished, saved


def _route_travel(cost: Sequence[Sequence[int]], depot: int, route: list[int]) -> int:
    """Travel seconds of depot → route → depot."""
    path = [depot, *route, depot]
    return sum(cost[a][b] for a, b in itertools.pairwise(path))


def _solve_once(
    travel: list[list[int]],
    service_times: Sequence[int],
    teams: Sequence[Team],
    windows: dict[int, StopWindow],
    unreachable: set[tuple[int, int]],
    penalties: dict[int, int],
    params: object,
    *,
    improvements: list[tuple[float, int]],
    started: float,
    excluded: frozenset[int] = frozenset(),
    initial: list[list[int]] | None = None,
) -> tuple[int | None, list[list[int]], str]:
    """Build the routing model and run one search; return objective, stop nodes per team, status name.

    Stops without a penalty are mandatory; `excluded` stops are never visited; `initial` routes (feasible
    ones) start the search instead of a first-solution strategy.
    """
    n = len(travel)
    depots = [t.depot for t in teams]
    manager = pywrapcp.RoutingIndexManager(n, len(teams), depots, depots)
    routing = pywrapcp.RoutingModel(manager)
    arc = routing.RegisterTransitMatrix(travel)
    routing.SetArcCostEvaluatorOfAllVehicles(arc)
    _forbid_arcs(routing, manager, teams, unreachable)
    if windows or any(t.max_work_s is not None for t in teams):
        _add_time_dimension(routing, manager, travel, service_times, teams, windows)
    for node, penalty in penalties.items():
        routing.AddDisjunction([manager.NodeToIndex(node)], penalty)
    for node in excluded:
        routing.AddDisjunction([manager.NodeToIndex(node)], 0)
        routing.ActiveVar(manager.NodeToIndex(node)).SetValue(0)

    def record_improvement() -> None:
        cost = routing.CostVar().Max()
        if not improvements or cost < improvements[-1][1]:
            improvements.append((time.perf_counter() - started, cost))

    routing.AddAtSolutionCallback(record_improvement)
    start = None
    if initial is not None:
        routing.CloseModelWithParameters(params)
        start = routing.ReadAssignmentFromRoutes(initial, True)
    solution = (routing.SolveFromAssignmentWithParameters(start, params) if start is not None
                else routing.SolveWithParameters(params))
    status = routing_enums_pb2.RoutingSearchStatus.Value.Name(routing.status())
    if solution is None:
        return None, [], status
    nodes = [_route_nodes(routing, manager, solution, v) for v in range(len(teams))]
    return solution.ObjectiveValue(), nodes, status


def _validate(
    matrix: Sequence[Sequence[int | float | None]],
    service_times: Sequence[int],
    teams: Sequence[Team],
    limits: RouteLimits,
    time_limit_s: float,
) -> tuple[list[list[int]], set[tuple[int, int]]]:
    """Check the input once at the boundary; return the integer matrix (None/inf → a huge cost)."""
    n = len(matrix)
    if n == 0:
        raise InvalidInput(MSG["matrix_empty"])
    if not teams:
        raise InvalidInput(MSG["no_teams"])
    if not time_limit_s or time_limit_s <= 0:
        raise InvalidInput(MSG["time_limit"].format(value=time_limit_s))
    cells: list[list[int | None]] = []
    for i, row in enumerate(matrix):
        if len(row) != n:
            raise InvalidInput(MSG["matrix_square"].format(n=n, row=i, cols=len(row)))
        cells.append([_seconds(value, i, j) for j, value in enumerate(row)])
    if len(service_times) != n:
        raise InvalidInput(MSG["service_size"].format(got=len(service_times), n=n))
    for node, s in enumerate(service_times):
        if s < 0:
            raise InvalidInput(MSG["service_negative"].format(node=node, value=s))
    names: set[str] = set()
    for t in teams:
        if not 0 <= t.depot < n:
            raise InvalidInput(MSG["depot_range"].format(team=t.name, node=t.depot, last=n - 1))
        if t.name in names:
            raise InvalidInput(MSG["team_name_dup"].format(team=t.name))
        names.add(t.name)
        if t.max_work_s is not None and t.max_work_s <= 0:
            raise InvalidInput(MSG["max_work"].format(team=t.name, value=t.max_work_s))
    if limits.priorities is not None:
        if len(limits.priorities) != n:
            raise InvalidInput(MSG["priority_size"].format(got=len(limits.priorities), n=n))
        for node, p in enumerate(limits.priorities):
            if isinstance(p, bool) or not isinstance(p, numbers.Integral) or p < 1:
                raise InvalidInput(MSG["priority_value"].format(node=node, value=p))
    depots = {t.depot for t in teams}
    seen: set[int] = set()
    for w in limits.windows:
        if not 0 <= w.node < n or w.node in depots:
            raise InvalidInput(MSG["window_node"].format(node=w.node, last=n - 1))
        if w.earliest_s > w.latest_s or w.latest_s < 0:
            raise InvalidInput(MSG["window_order"].format(node=w.node, earliest=w.earliest_s, latest=w.latest_s))
        if w.node in seen:
            raise InvalidInput(MSG["window_dup"].format(node=w.node))
        seen.add(w.node)
    unreachable = {(i, j) for i, row in enumerate(cells) for j, v in enumerate(row) if v is None}
    # Unreachable arcs are removed from the model; the placeholder 0 only keeps the matrix rectangular
    # (and would make any arc that slipped through the cheapest, so tests would catch it).
    travel = [[0 if v is None else v for v in row] for row in cells]
    return travel, unreachable


def _seconds(value: object, i: int, j: int) -> int | None:
    """One matrix cell as whole seconds; None for no road (None or +inf)."""
    if value is None or (isinstance(value, float) and value == math.inf):
        return None
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, numbers.Real)):
        raise InvalidInput(MSG["matrix_not_number"].format(i=i, j=j, value=value))
    if isinstance(value, numbers.Integral):
        seconds = int(value)
    elif math.isfinite(float(value)) and float(value).is_integer():
        seconds = int(float(value))
    else:
        raise InvalidInput(MSG["matrix_not_number"].format(i=i, j=j, value=value))
    if seconds < 0:
        raise InvalidInput(MSG["matrix_negative"].format(i=i, j=j, value=value))
    return seconds


def _priorities(limits: RouteLimits, n: int) -> list[int]:
    """Priority of every node (1 when none given)."""
    return [int(p) for p in limits.priorities] if limits.priorities is not None else [1] * n


def _drop_penalties(
    travel: list[list[int]], stops: list[int], priorities: list[int], n_teams: int
) -> dict[int, int]:
    """Disjunction penalty per stop: above any route cost, and lexicographic across priority levels.

    Level weights grow so one stop of a level outweighs every stop of all lower levels together; when that
    would overflow OR-Tools' int64 costs (many distinct levels), weights fall back to the level's rank + 1,
    which keeps the order but not the strictness.
    """
    if not stops:
        return {}
    route_bound = _route_bound(travel, n_teams)
    counts = Counter(priorities[s] for s in stops)
    weights: dict[int, int] = {}
    total = 0
    for level in sorted(counts):
        weights[level] = total + 1
        total += weights[level] * counts[level]
    if route_bound * total > 2**62:
        weights = {level: rank + 1 for rank, level in enumerate(sorted(counts))}
    return {s: route_bound * weights[priorities[s]] for s in stops}


def _route_bound(travel: list[list[int]], n_teams: int) -> int:
    """More than any set of routes can cost: dropping a stop must always cost more than driving to it."""
    return (len(travel) + 2 * n_teams) * max(max(max(row) for row in travel), 1) + 1


def _forbid_arcs(
    routing: pywrapcp.RoutingModel,
    manager: pywrapcp.RoutingIndexManager,
    teams: Sequence[Team],
    unreachable: set[tuple[int, int]],
) -> None:
    """Remove every arc without a road, so no route can take it (a stop with no road in or out drops)."""
    starts: dict[int, list[int]] = {}
    ends: dict[int, list[int]] = {}
    for v, t in enumerate(teams):
        starts.setdefault(t.depot, []).append(routing.Start(v))
        ends.setdefault(t.depot, []).append(routing.End(v))
    for i, j in unreachable:
        if i == j:
            continue
        for a in starts.get(i) or [manager.NodeToIndex(i)]:
            for b in ends.get(j) or [manager.NodeToIndex(j)]:
                routing.NextVar(a).RemoveValue(b)


def _add_time_dimension(
    routing: pywrapcp.RoutingModel,
    manager: pywrapcp.RoutingIndexManager,
    travel: list[list[int]],
    service_times: Sequence[int],
    teams: Sequence[Team],
    windows: dict[int, StopWindow],
) -> None:
    """Working time = travel + service at each stop + waiting; capped per team, windows on stop starts."""
    depots = {t.depot for t in teams}
    work = [
        [travel[i][j] + (0 if i in depots else int(service_times[i])) for j in range(len(travel))]
        for i in range(len(travel))
    ]
    transit = routing.RegisterTransitMatrix(work)
    horizon = max(
        [t.max_work_s for t in teams if t.max_work_s is not None]
        + [w.latest_s + int(service_times[w.node]) + max(travel[w.node]) for w in windows.values()]
        + [1]
    )
    if any(t.max_work_s is None for t in teams):
        horizon = max(horizon, sum(max(row) for row in work) + 1)
    slack = horizon if windows else 0
    caps = [t.max_work_s if t.max_work_s is not None else horizon for t in teams]
    routing.AddDimensionWithVehicleCapacity(transit, slack, caps, True, "work")
    dim = routing.GetDimensionOrDie("work")
    for node, w in windows.items():
        dim.CumulVar(manager.NodeToIndex(node)).SetRange(w.earliest_s, w.latest_s)


def _search_parameters(first_solution: str, metaheuristic: str, gls_lambda: float, time_limit_s: float) -> object:
    """One search: a first-solution strategy, then the metaheuristic (guided local search) until the limit."""
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.guided_local_search_lambda_coefficient = gls_lambda
    try:
        params.first_solution_strategy = _FIRST_SOLUTION.Value.Value(first_solution)
        params.local_search_metaheuristic = _METAHEURISTIC.Value.Value(metaheuristic)
    except ValueError as exc:
        raise InvalidInput(MSG["strategy"].format(first=first_solution, meta=metaheuristic)) from exc
    params.time_limit.FromMilliseconds(max(1, int(time_limit_s * 1000)))
    return params


def _route_nodes(
    routing: pywrapcp.RoutingModel, manager: pywrapcp.RoutingIndexManager, solution: object, vehicle: int
) -> list[int]:
    """The stops of one vehicle's route in order, depots excluded."""
    nodes: list[int] = []
    index = solution.Value(routing.NextVar(routing.Start(vehicle)))  # type: ignore[attr-defined]
    while not routing.IsEnd(index):
        nodes.append(manager.IndexToNode(index))
        index = solution.Value(routing.NextVar(index))  # type: ignore[attr-defined]
    return nodes


def _schedule_route(
    team: Team,
    nodes: list[int],
    travel: list[list[int]],
    service_times: Sequence[int],
    windows: dict[int, StopWindow],
) -> TeamRoute:
    """Earliest-start times along a route: arrive, wait for the window to open, serve, drive on."""
    clock = 0
    here = team.depot
    visits: list[Visit] = []
    travel_s = 0
    for node in nodes:
        travel_s += travel[here][node]
        arrival = clock + travel[here][node]
        start = max(arrival, windows[node].earliest_s) if node in windows else arrival
        departure = start + int(service_times[node])
        visits.append(Visit(node, arrival, start, departure, int(service_times[node])))
        clock, here = departure, node
    travel_s += travel[here][team.depot] if nodes else 0
    return_s = clock + (travel[here][team.depot] if nodes else 0)
    service_s = sum(v.service_s for v in visits)
    return TeamRoute(team, tuple(visits), travel_s, service_s, sum(v.wait_s for v in visits), return_s)


def _drop_reason(
    stop: int,
    travel: list[list[int]],
    unreachable: set[tuple[int, int]],
    service_times: Sequence[int],
    teams: Sequence[Team],
    windows: dict[int, StopWindow],
    priority: int,
) -> str:
    """Why a stop was dropped: no road, its window, too far for a day, or the teams' hours are full."""
    reachable = [t for t in teams if (t.depot, stop) not in unreachable and (stop, t.depot) not in unreachable]
    if not reachable:
        return MSG["drop_unreachable"]
    w = windows.get(stop)
    if w is not None:
        first = min(travel[t.depot][stop] for t in reachable)
        if first > w.latest_s:
            return MSG["drop_window"].format(arrival=_hms(first), latest=_hms(w.latest_s))
    need = [
        (max(travel[t.depot][stop], w.earliest_s if w else 0) + int(service_times[stop]) + travel[stop][t.depot], t)
        for t in reachable
    ]
    if all(t.max_work_s is not None and s > t.max_work_s for s, t in need):
        fastest = min(s for s, _ in need)
        longest = max(t.max_work_s or 0 for t in reachable)
        return MSG["drop_too_far"].format(need_h=fastest / 3600, limit_h=longest / 3600)
    return MSG["drop_capacity"].format(priority=priority)


def _hms(seconds: int) -> str:
    """Seconds from day start as 时:分 (e.g. 2:05) for messages."""
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}"
