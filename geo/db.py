"""Engine and sessions: DATABASE_URL when set, otherwise the embedded cluster, started on demand."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from geo import cluster
from geo.config import Settings, get_settings


def database_url(settings: Settings | None = None, *, start: bool = True) -> str:
    """The SQLAlchemy URL in force; starts the embedded cluster first when it is the one used."""
    s = settings or get_settings()
    if s.database_url:
        url = make_url(s.database_url)
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg2")
        return url.render_as_string(hide_password=False)
    if start:
        cluster.start(s)
    return cluster.admin_url(s, s.db_name)


CONNECT_TIMEOUT_S = 10
"""Longest wait for a new connection (libpq connect_timeout): a server that never answers is an error, not a hang."""


@lru_cache(maxsize=8)
def _engine_for(url: str) -> Engine:
    # pool_pre_ping: a connection broken by a server restart is replaced at checkout (recovery without restart)
    args = {} if "connect_timeout" in make_url(url).query else {"connect_timeout": CONNECT_TIMEOUT_S}
    engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, future=True, connect_args=args)
    event.listen(engine, "do_connect", _beijing_time)
    return engine


def _beijing_time(dialect: object, record: object, cargs: object, cparams: dict[str, object]) -> None:
    """Every timestamp comes back in 北京时间 (Asia/Shanghai), whatever the server's own time zone. libpq's
    `options` replaces PGOPTIONS, so what the environment holds at connect time (the CLI's audit user) is kept."""
    given = f"{os.environ.get('PGOPTIONS', '')} {cparams.get('options') or ''}"
    cparams["options"] = f"{given} -c TimeZone=Asia/Shanghai".strip()


def get_engine(settings: Settings | None = None) -> Engine:
    """A pooled engine for the database in force (one per URL)."""
    return _engine_for(database_url(settings))


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """One transaction: committed on success, rolled back on any error."""
    maker = sessionmaker(bind=engine or get_engine(), expire_on_commit=False)
    with maker() as session, session.begin():
        yield session


HEAVY_WORK_MEM = "64MB"
"""Memory a heavy statement may use per sort or hash: what the embedded cluster is configured with."""


def tune_for_heavy_work(conn: Connection) -> None:
    """Set, for this transaction only, what the county-wide statements need on a server with default settings.

    A bureau's own PostgreSQL keeps work_mem at 4 MB and jit on: hashed anti-joins then fall back to
    rescanning subplans, and JIT compiles every spatial join for more time than it saves.
    """
    conn.execute(text(f"SET LOCAL work_mem = '{HEAVY_WORK_MEM}'; SET LOCAL jit = off"))


def server_versions(engine: Engine) -> dict[str, str]:
    """PostgreSQL, PostGIS and pgRouting versions, for `riskmap db status` and the health check."""
    with engine.connect() as conn:
        out = {"postgresql": conn.execute(text("SHOW server_version")).scalar_one()}
        rows = conn.execute(text("SELECT extname, extversion FROM pg_extension")).all()
    out.update({name: ver for name, ver in rows})
    return out
