"""A copy of the demo county (河曲县, risk computed) per test module, so the workbench stories may write freely,
and a riskmap server on loopback serving it with attachments kept in a temporary folder."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from api.devserver import running_server

XIKOU = "140930100000"
"""西口镇: the township of the township editor in the stories."""


def copy_demo(demo_county_db: str, demo_county_engine: Engine, suffix: str) -> str:
    """A new database made from the demo county's as template (fast, whole), named <demo>_<suffix>."""
    demo_county_engine.dispose()
    name = f"{make_url(demo_county_db).database}_{suffix}"
    admin = create_engine(make_url(demo_county_db).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        # other tests' pooled connections (e.g. geo.db's engine cache) may still sit on the template
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = :d AND pid <> pg_backend_pid()"), {"d": make_url(demo_county_db).database})
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{make_url(demo_county_db).database}"'))
    admin.dispose()
    return make_url(demo_county_db).set(database=name).render_as_string(hide_password=False)


@contextmanager
def workbench_server(url: str, home: Path, log: Path, **env: str) -> Iterator[str]:
    """`riskmap serve` on the copy; attachments under `home`."""
    home.mkdir(parents=True, exist_ok=True)
    with running_server(url, log=log, env={"RISKMAP_HOME": str(home), **env}) as base:
        yield base


def codes(html: str, segment: str) -> list[str]:
    """Codes linked from a ledger page's rows, in page order (e.g. segment 'hazards' → YH-…)."""
    body = html.split('id="wb-rows"', 1)[-1]
    return re.findall(rf'href="/dossiers/{segment}/([^"?#]+)"', body)


def total_of(html: str) -> int:
    """The '共 N 条' of a ledger page."""
    found = re.search(r"共 (\d+) 条", html)
    assert found, "ledger page shows no total"
    return int(found.group(1))
