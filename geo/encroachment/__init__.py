"""Pipeline encroachment checks (石油天然气管道保护法 zones), the encroachment register and its reports.

Names are imported on first use (geo/lazy.py), so `riskmap encroach --help` does not load the checks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from geo.lazy import lazy_exports

if TYPE_CHECKING:
    from geo.encroachment.check import (
        Candidate,
        Candidates,
        check_encroachments,
        find_encroachments,
        list_candidates,
        refresh_candidates,
    )

__all__ = ["Candidate", "Candidates", "check_encroachments", "find_encroachments", "list_candidates",
           "refresh_candidates"]
__getattr__ = lazy_exports(__name__, dict.fromkeys(__all__, "geo.encroachment.check"))
