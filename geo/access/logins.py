"""Sign-in attempts: throttling per account and per address, and the login journal (login_event, audited).

The failures counted are rows of login_event, so every worker and every restart sees the same state. An
account is refused after `login_max_failures_per_account` failures within the window since its last
successful login; an address after `login_max_failures_per_address` failures within the window. Refused
attempts are journalled as 'throttled' but not counted, so the wait ends when the window passes.
"""

from __future__ import annotations

import math

from sqlalchemy import Connection, text

from geo.config import get_settings
from geo.errors import TooManyRequests

MAX_NAME = 100
"""Longest username or address kept in the journal (longer ones are cut: they cannot be accounts anyway)."""


class TooManyAttempts(TooManyRequests):
    """Too many failed logins for this account or from this address."""

    code = "too_many_attempts"


def clean(value: str | None) -> str | None:
    """A value PostgreSQL text can hold (no NUL), cut to MAX_NAME characters."""
    return None if value is None else value.replace("\x00", "\ufffd")[:MAX_NAME]


def lock_account(conn: Connection, username: str) -> None:
    """Serialise attempts on one account for this transaction, so concurrent guesses are all counted."""
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('riskmap_login:' || :u))"), {"u": clean(username)})


def wait_seconds(conn: Connection, username: str, address: str | None) -> int:
    """Seconds until this account and address may try again (0: now). The oldest failure that keeps the count
    at its limit ages out of the window at that moment."""
    s = get_settings()
    row = conn.execute(text("""
        SELECT greatest(
            (SELECT extract(epoch FROM f.at + make_interval(secs => :w) - clock_timestamp()) FROM login_event f
             WHERE f.username = :u AND f.outcome = 'failure' AND f.at > clock_timestamp() - make_interval(secs => :w)
               AND f.at > coalesce((SELECT max(ok.at) FROM login_event ok
                                    WHERE ok.username = :u AND ok.outcome = 'success'), '-infinity')
             ORDER BY f.at DESC OFFSET :na - 1 LIMIT 1),
            (SELECT extract(epoch FROM f.at + make_interval(secs => :w) - clock_timestamp()) FROM login_event f
             WHERE f.address = :a AND f.outcome = 'failure' AND f.at > clock_timestamp() - make_interval(secs => :w)
             ORDER BY f.at DESC OFFSET :nd - 1 LIMIT 1)) AS wait"""),
        {"u": clean(username), "a": clean(address), "w": s.login_failure_window_s,
         "na": s.login_max_failures_per_account, "nd": s.login_max_failures_per_address}).one()
    return math.ceil(row.wait) if row.wait is not None and row.wait > 0 else 0


def record(conn: Connection, outcome: str, username: str, address: str | None, *, via: str,
           user_id: int | None = None) -> None:
    """Journal an attempt or a logout; the audit trigger copies it to audit_log with the username as actor."""
    name = clean(username) or ""
    as_actor(conn, name)
    conn.execute(text(
        "INSERT INTO login_event (username, user_id, address, outcome, via) VALUES (:u, :i, :a, :o, :v)"),
        {"u": name, "i": user_id, "a": clean(address), "o": outcome, "v": via})


def as_actor(conn: Connection, username: str, role: str | None = None) -> None:
    """Name the person behind this transaction's audited writes (sign-in, logout, own API tokens), which run as the
    service's login rather than under geo.access.bind."""
    conn.execute(text("SELECT set_config('riskmap.user', :u, true), set_config('riskmap.role', :r, true)"),
                 {"u": username, "r": role or ""})


def refusal(wait: int) -> TooManyAttempts:
    return TooManyAttempts(f"登录失败次数过多，请稍后再试：还需等待 {wait} 秒", wait)
