"""Domain exceptions with stable codes and Chinese messages; api/ maps them to HTTP statuses once."""

from __future__ import annotations


class RiskmapError(Exception):
    """Base of every error a user may see; `code` is stable, the message is Chinese."""

    code = "riskmap_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(RiskmapError):
    code = "not_found"


class InvalidInput(RiskmapError):
    code = "invalid_input"


class Conflict(RiskmapError):
    """The record changed since the caller read it (stale version)."""

    code = "conflict"


class Duplicate(Conflict):
    """A code that must be unique county-wide is already used (the holder is not named: it may lie outside scope)."""

    code = "duplicate"


class TooManyRequests(RiskmapError):
    """Refused for now (throttled); `retry_after` says in how many seconds to try again."""

    code = "too_many_requests"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))
