"""Inspection planning: who is due by risk colour, and optimised routes for the bureau's teams.

Names are imported on first use (geo/lazy.py), so `riskmap plan --help` does not load OR-Tools.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from geo.lazy import lazy_exports

if TYPE_CHECKING:
    from geo.inspection.solver import (
        DEFAULT_MAX_WORK_S,
        DroppedStop,
        RouteLimits,
        RoutePlan,
        RouteSolveFailed,
        StopWindow,
        Team,
        TeamRoute,
        Visit,
        solve_routes,
    )

__all__ = [
    "DEFAULT_MAX_WORK_S",
    "DroppedStop",
    "RouteLimits",
    "RoutePlan",
    "RouteSolveFailed",
    "StopWindow",
    "Team",
    "TeamRoute",
    "Visit",
    "solve_routes",
]
__getattr__ = lazy_exports(__name__, dict.fromkeys(__all__, "geo.inspection.solver"))
