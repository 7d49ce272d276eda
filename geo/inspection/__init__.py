"""Inspection planning: who is due by risk colour, and optimised routes for the bureau's teams."""

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
