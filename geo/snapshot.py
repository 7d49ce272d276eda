"""A second connection that reads exactly what the caller's transaction reads: same snapshot, role and scope.

A county recompute has read-only work that none of its own writes feed (people around each plant, protected
targets): on a second connection, a second PostgreSQL backend does it beside the main statements, on the
machine's other core. The twin imports the caller's exported snapshot (SET TRANSACTION SNAPSHOT), so it sees the
same committed rows; it takes the caller's role and riskmap.* settings, so row-level security filters it alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from geo.access.principal import BOUND_SETTINGS

# A transaction that has written holds rows its twin could not see (they are not committed): no snapshot then.
EXPORT_SQL = """
SELECT CASE WHEN txid_current_if_assigned() IS NULL THEN pg_export_snapshot() END,
       CASE WHEN current_user <> session_user THEN current_user::text END,
       ARRAY[{settings}]
""".format(settings=", ".join(f"current_setting('{name}', true)" for name in BOUND_SETTINGS))

IMPORT_SQL = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ; SET TRANSACTION SNAPSHOT :snapshot"


@dataclass(frozen=True)
class SharedSnapshot:
    """What a twin connection needs to read as the caller does."""

    snapshot: str
    role: str | None
    """The caller's SET LOCAL ROLE, None when it runs as its login."""
    settings: tuple[str | None, ...]
    """The values of BOUND_SETTINGS in the caller's transaction."""


def share_snapshot(conn: Connection) -> SharedSnapshot | None:
    """Export the snapshot of `conn`'s transaction; None when a twin could not read what it reads (it has written,
    or it is inside a savepoint, where PostgreSQL exports no snapshot)."""
    if conn.in_nested_transaction():
        return None
    snapshot, role, settings = conn.execute(text(EXPORT_SQL)).one()
    if snapshot is None:
        return None
    return SharedSnapshot(snapshot=str(snapshot), role=role, settings=tuple(settings))


@contextmanager
def twin_connection(conn: Connection, shared: SharedSnapshot | None) -> Iterator[Connection | None]:
    """A second pooled connection of `conn`'s engine, in a transaction on `shared`'s snapshot, role and settings;
    rolled back at the end (a twin only reads; temp tables it makes go with it).

    None when there is no snapshot to share, or no second connection to be had (the pool exhausted, the server's
    max_connections reached): the caller then reads everything on its own connection.
    """
    if shared is None:
        yield None
        return
    try:
        twin = conn.engine.connect()
    except (OperationalError, PoolTimeout):
        yield None
        return
    with twin:
        twin.execute(text(IMPORT_SQL), {"snapshot": shared.snapshot})
        names = [*BOUND_SETTINGS, *(["role"] if shared.role else [])]
        values = [*shared.settings, *([shared.role] if shared.role else [])]
        twin.execute(text("SELECT set_config(name, value, true) "
                          "FROM unnest(CAST(:names AS text[]), CAST(:values AS text[])) AS s(name, value) "
                          "WHERE value IS NOT NULL"),
                     {"names": names, "values": values})
        try:
            yield twin
        finally:
            twin.rollback()
