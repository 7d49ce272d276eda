"""Fixtures for the risk engine tests (helpers in riskfix.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from riskfix import Site


@pytest.fixture(autouse=True)
def _clean_risk_tables(engine: Engine) -> Iterator[None]:
    """The shared `db` fixture truncates the models' tables; the risk engine's own tables are emptied here."""
    yield
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE risk_assessment, risk_rules_version, pipeline_segment RESTART IDENTITY"))


@pytest.fixture
def site(county: Engine) -> Iterator[Site]:
    """Constructed rows written with autocommit into the test database (county outline loaded)."""
    with county.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        yield Site(conn)


