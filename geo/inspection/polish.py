"""Shorten one team's route without changing its stops: iterated local search (2-opt, Or-opt, kicks).

OR-Tools' guided local search settles within a few per cent of the best tour; this polish re-orders each
route's own stops (same stops, same service time, so working hours only fall) and handles asymmetric
travel times (one-way roads) exactly. Costs are travel seconds; `None`-free matrices only.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence

NEIGHBOURS = 10
"""Candidate arcs per node: the 10 nearest by travel time (classic neighbour-list restriction)."""


def improve_route(
    cost: Sequence[Sequence[int]],
    depot: int,
    stops: Sequence[int],
    *,
    time_limit_s: float,
    seed: int = 0,
) -> list[int]:
    """Stops of a closed route depot → stops → depot re-ordered to no greater total travel seconds."""
    if len(stops) < 3:
        return list(stops)
    tour = _Tour(cost, [depot, *stops])
    tour.descend(list(tour.order))
    best_order, best_len = list(tour.order), tour.length()
    rng = random.Random(seed)
    deadline = time.perf_counter() + time_limit_s
    while time.perf_counter() < deadline:
        touched = tour.double_bridge(rng)
        tour.descend(touched)
        length = tour.length()
        if length <= best_len:
            best_order, best_len = list(tour.order), length
        else:
            tour.reset(best_order)
    return best_order[1:]


class _Tour:
    """A closed tour with position index and prefix sums of forward/backward arc costs (asymmetric 2-opt)."""

    def __init__(self, cost: Sequence[Sequence[int]], order: list[int]) -> None:
        self.c = cost
        nodes = list(order)
        self.near = {a: sorted((b for b in nodes if b != a), key=lambda b: cost[a][b])[:NEIGHBOURS] for a in nodes}
        self.reset(order)

    def reset(self, order: list[int]) -> None:
        self.order = list(order)
        self._index()

    def _index(self) -> None:
        o, c, m = self.order, self.c, len(self.order)
        self.pos = {node: i for i, node in enumerate(o)}
        fwd = [0] * (m + 1)
        bwd = [0] * (m + 1)
        for k in range(m - 1):
            fwd[k + 1] = fwd[k] + c[o[k]][o[k + 1]]
            bwd[k + 1] = bwd[k] + c[o[k + 1]][o[k]]
        self.fwd, self.bwd = fwd, bwd

    def length(self) -> int:
        o = self.order
        return self.fwd[len(o) - 1] + self.c[o[-1]][o[0]]

    def _succ(self, i: int) -> int:
        return self.order[(i + 1) % len(self.order)]

    def descend(self, queue: list[int]) -> None:
        """Apply improving 2-opt and Or-opt moves around the queued nodes until none is left."""
        pending = set(queue)
        while queue:
            a = queue.pop()
            pending.discard(a)
            changed = self._two_opt(a) or self._or_opt(a)
            for node in changed or ():
                if node not in pending:
                    pending.add(node)
                    queue.append(node)

    def _reverse_delta(self, i: int, j: int) -> int:
        """Cost change of reversing order[i+1..j] (0 ≤ i < j ≤ m-1; the depot at 0 never moves)."""
        o, c = self.order, self.c
        nxt = self._succ(j)
        inner = (self.bwd[j] - self.bwd[i + 1]) - (self.fwd[j] - self.fwd[i + 1])
        return c[o[i]][o[j]] + c[o[i + 1]][nxt] - c[o[i]][o[i + 1]] - c[o[j]][nxt] + inner

    def _two_opt(self, a: int) -> list[int] | None:
        """Best-first 2-opt that makes a → b (or b → a) an arc for a near neighbour b."""
        pa = self.pos[a]
        for b in self.near[a]:
            pb = self.pos[b]
            if pb > pa + 1:
                i, j = pa, pb  # new arc a → b
            elif 1 <= pb < pa - 1:
                i, j = pb - 1, pa - 1  # new arc b → a
            else:
                continue
            if self._reverse_delta(i, j) < 0:
                o = self.order
                ends = [o[i], o[i + 1], o[j], self._succ(j)]
                o[i + 1:j + 1] = o[i + 1:j + 1][::-1]
                self._index()
                return ends
        return None

    def _or_opt(self, s0: int) -> list[int] | None:
        """Move the segment of 1–3 stops starting at s0 next to a near neighbour, either way round."""
        o, c, m = self.order, self.c, len(self.order)
        i = self.pos[s0]
        if i == 0:
            return None
        for length in (1, 2, 3):
            k = i + length - 1
            if k >= m:
                break
            seg = o[i:k + 1]
            prev, nxt = o[i - 1], self._succ(k)
            removed = c[prev][s0] + c[seg[-1]][nxt] - c[prev][nxt]
            inner_fwd = self.fwd[k] - self.fwd[i]
            inner_bwd = self.bwd[k] - self.bwd[i]
            for b in self.near[s0]:
                pb = self.pos[b]
                if i <= pb <= k:
                    continue
                for a_pos in (pb - 1, pb):  # insert before b, or after b
                    a, a_next = o[a_pos % m], o[(a_pos + 1) % m]
                    if a in seg or a_next in seg:
                        continue
                    gain_fwd = c[a][seg[0]] + c[seg[-1]][a_next] - c[a][a_next]
                    gain_rev = c[a][seg[-1]] + c[seg[0]][a_next] - c[a][a_next] + inner_bwd - inner_fwd
                    best = min(gain_fwd, gain_rev)
                    if best - removed < 0:
                        moved = seg if gain_fwd <= gain_rev else seg[::-1]
                        rest = o[:i] + o[k + 1:]
                        at = rest.index(a) + 1
                        self.order = rest[:at] + moved + rest[at:]
                        self._index()
                        return [prev, nxt, a, a_next, *seg]
        return None

    def double_bridge(self, rng: random.Random) -> list[int]:
        """Swap two neighbouring segments A B C D → A C B D (no reversal, safe on one-way roads)."""
        o, m = self.order, len(self.order)
        span = max(2, min(30, (m - 1) // 3))
        i = rng.randrange(0, m - 2)
        j = min(m - 2, i + rng.randint(1, span))
        k = min(m - 1, j + rng.randint(1, span))
        if not i < j < k:
            return []
        self.order = o[:i + 1] + o[j + 1:k + 1] + o[i + 1:j + 1] + o[k + 1:]
        self._index()
        return [o[i], o[i + 1], o[j], o[j + 1], o[k], o[(k + 1) % m]]
