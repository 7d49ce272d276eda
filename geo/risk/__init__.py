"""Risk engine: four-colour levels (红 重大/橙 较大/黄 一般/蓝 低) with reasons and history.

Domain API: compute(conn, scope=…), levels(conn, kind, township=, colour=, bbox=), explain(conn, kind, id),
history(conn, kind, id), load_rules(). Rules live in geo/risk/rules.toml (overridable via RISKMAP_RULES_FILE).
Names are imported on first use (geo/lazy.py), so `riskmap risk --help` does not load the engine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from geo.lazy import lazy_exports

if TYPE_CHECKING:
    from geo.risk.engine import ComputeReport, compute
    from geo.risk.read import explain, format_explanation, history, levels
    from geo.risk.rules import LEVEL_LABELS, LEVELS, Rules, load_rules
    from geo.risk.scope import KINDS, Scope

__all__ = [
    "KINDS",
    "LEVELS",
    "LEVEL_LABELS",
    "ComputeReport",
    "Rules",
    "Scope",
    "compute",
    "explain",
    "format_explanation",
    "history",
    "levels",
    "load_rules",
]
__getattr__ = lazy_exports(__name__, {
    "compute": "geo.risk.engine", "ComputeReport": "geo.risk.engine",
    "levels": "geo.risk.read", "explain": "geo.risk.read", "history": "geo.risk.read",
    "format_explanation": "geo.risk.read",
    "load_rules": "geo.risk.rules", "Rules": "geo.risk.rules", "LEVELS": "geo.risk.rules",
    "LEVEL_LABELS": "geo.risk.rules",
    "Scope": "geo.risk.scope", "KINDS": "geo.risk.scope",
})
