"""Annotated dependencies that keep route signatures short.

Every data connection runs as the logged-in principal (geo.access.bind): its database role, its townships
and its name for the audit log, so scope is enforced by PostgreSQL for every route alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy import Connection

from api.auth import PrincipalDep, bearer, known_principal, resolve_on
from geo.access import bind
from geo.db import get_engine

BearerDep = Annotated[str | None, Depends(bearer)]
"""The bearer token of the request, if any (the login cookie is read by api.auth.request_token)."""


@contextmanager
def read_connection(request: Request, token: str | None) -> Iterator[Connection]:
    """A read connection bound to the request's principal, rolled back at the end. The principal is resolved on this
    same connection and transaction unless a login dependency of the router has resolved it already (vector tiles:
    a few milliseconds of work each, where a second pooled connection and its round trips were a third of the
    time). Blocking: call it from a worker thread."""
    principal = known_principal(request, token)
    with get_engine().connect() as conn:
        bind(conn, principal or resolve_on(conn, request, token))
        yield conn


def _connection(request: Request, token: BearerDep) -> Iterator[Connection]:
    with read_connection(request, token) as conn:
        yield conn


def _write_connection(principal: PrincipalDep) -> Iterator[Connection]:
    with get_engine().begin() as conn:
        bind(conn, principal)
        yield conn


# scope="function": a connection is rolled back (read) or committed (write) before the response is sent, so a 2xx
# means the write is stored, and a database lost at that moment gives a 503 rather than a cut-off answer.
ConnDep = Annotated[Connection, Depends(_connection, scope="function")]
"""A read connection in the principal's scope (rolled back at the end)."""
TxDep = Annotated[Connection, Depends(_write_connection, scope="function")]
"""A connection in the principal's scope inside one transaction, committed when the route returns."""

MAX_PAGE = 5000
LimitQ = Annotated[int, Query(ge=1, le=MAX_PAGE, description="每页条数（最多 5000）")]
OffsetQ = Annotated[int, Query(ge=0, le=2**63 - 1, description="跳过的条数（PostgreSQL OFFSET 为 bigint）")]
