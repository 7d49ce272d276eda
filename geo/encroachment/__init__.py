"""Pipeline encroachment checks (石油天然气管道保护法 zones), the encroachment register and its reports."""

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
