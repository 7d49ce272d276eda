"""Polishing a team's route: same stops, never longer, one-way roads respected (no database)."""

from __future__ import annotations

import itertools
import math
import random

from geo.inspection.polish import improve_route


def tour_s(cost: list[list[int]], depot: int, stops: list[int]) -> int:
    path = [depot, *stops, depot]
    return sum(cost[a][b] for a, b in itertools.pairwise(path))


def test_scrambled_ring_is_put_back_in_ring_order() -> None:
    """20 units on a ring road visited in a random order: the polish finds the ring (the optimum)."""
    n = 20
    pts = [(math.cos(2 * math.pi * k / n) * 5000, math.sin(2 * math.pi * k / n) * 5000) for k in range(n)]
    cost = [[round(math.dist(p, q)) for q in pts] for p in pts]
    stops = list(range(1, n))
    random.Random(3).shuffle(stops)
    better = improve_route(cost, 0, stops, time_limit_s=0.5)
    assert sorted(better) == list(range(1, n))
    assert better in (list(range(1, n)), list(range(n - 1, 0, -1)))


def test_one_way_costs_are_counted_in_the_direction_driven() -> None:
    """Clockwise is cheap (100 s per hop), anticlockwise dear (1000 s): the route goes clockwise."""
    n = 8
    cost = [[0 if a == b else (100 * ((b - a) % n) if (b - a) % n <= n // 2 else 1000) for b in range(n)]
            for a in range(n)]
    stops = [5, 2, 7, 1, 4, 6, 3]
    better = improve_route(cost, 0, stops, time_limit_s=0.3)
    assert better == list(range(1, n))
    assert tour_s(cost, 0, better) == n * 100


def test_polish_never_makes_a_route_longer() -> None:
    rng = random.Random(7)
    n = 30
    cost = [[0 if a == b else rng.randint(60, 3600) for b in range(n)] for a in range(n)]  # asymmetric
    stops = list(range(1, n))
    better = improve_route(cost, 0, stops, time_limit_s=0.3)
    assert sorted(better) == stops
    assert tour_s(cost, 0, better) <= tour_s(cost, 0, stops)


def test_short_routes_are_returned_as_they_are() -> None:
    cost = [[0, 5, 9], [5, 0, 4], [9, 4, 0]]
    assert improve_route(cost, 0, [2, 1], time_limit_s=0.1) == [2, 1]
