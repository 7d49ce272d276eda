"""Risk engine: four-colour levels (红 重大/橙 较大/黄 一般/蓝 低) with reasons and history.

Domain API: compute(conn, scope=…), levels(conn, kind, township=, colour=, bbox=), explain(conn, kind, id),
history(conn, kind, id), load_rules(). Rules live in geo/risk/rules.toml (overridable via RISKMAP_RULES_FILE).
"""

from __future__ import annotations

from geo.risk.engine import ComputeReport, compute
from geo.risk.read import explain, format_explanation, history, levels
from geo.risk.rules import LEVEL_LABELS, LEVELS, Rules, load_rules
from geo.risk.scope import KINDS, Scope

__all__ = ["compute", "ComputeReport", "levels", "explain", "history", "format_explanation", "load_rules",
           "Rules", "Scope", "KINDS", "LEVELS", "LEVEL_LABELS"]
