"""The database a bureau gets: embedded PostGIS, migrations, triggers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from geo import cluster, migrate
from geo.config import Settings


def test_schema_has_postgis_pgrouting_and_every_table(engine):
    with engine.connect() as conn:
        exts = set(conn.execute(text("SELECT extname FROM pg_extension")).scalars())
        srids = dict(conn.execute(text(
            "SELECT f_table_name || '.' || f_geometry_column, srid FROM geometry_columns")).all())
        gist = set(conn.execute(text(
            "SELECT indexname FROM pg_indexes WHERE indexdef ILIKE '%USING gist%'")).scalars())
    assert {"postgis", "pgrouting"} <= exts
    for table in ("township", "grid_cell", "enterprise", "pipeline", "encroachment", "building", "road",
                  "mine", "mine_zone"):
        assert table in inspect(engine).get_table_names()
    stored = {k: v for k, v in srids.items() if k.split(".")[1] in ("geom", "licence_boundary", "workings")}
    assert set(stored.values()) == {4490}, stored
    assert {v for k, v in srids.items() if k.endswith(".geom_3857")} == {3857}
    assert srids.keys() >= {"township.geom", "enterprise.geom", "pipeline.geom", "mine.licence_boundary"}
    assert {"ix_building_geom_gist", "ix_pipeline_geom_gist", "ix_mine_workings_gist"} <= gist


def test_updated_at_follows_every_write(db):
    with db.begin() as conn:
        conn.execute(text("INSERT INTO mine_zone (kind, geom) VALUES ('no_mining_zone', "
                          "ST_Multi(ST_GeomFromText('POLYGON((111 39,111.1 39,111.1 39.1,111 39))', 4490)))"))
        created = conn.execute(text("SELECT updated_at FROM mine_zone")).scalar_one()
    with db.begin() as conn:
        conn.execute(text("UPDATE mine_zone SET name = '禁采区一'"))
        updated = conn.execute(text("SELECT updated_at FROM mine_zone")).scalar_one()
    assert updated > created


def test_migrations_upgrade_and_downgrade_on_an_empty_database(db_url):
    url = make_url(db_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = f"{url.database}_migrations"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    eng = create_engine(url.set(database=name))
    try:
        migrate.upgrade(eng)
        assert "enterprise" in inspect(eng).get_table_names()
        migrate.downgrade(eng, "base")
        left = set(inspect(eng).get_table_names()) - {"spatial_ref_sys", "alembic_version"}
        assert left == set()
        migrate.upgrade(eng)
        assert migrate.current(eng) is not None
    finally:
        eng.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.skipif(not Path("/usr/lib/postgresql").exists(), reason="PostgreSQL server binaries missing")
def test_embedded_cluster_starts_serves_and_stops(tmp_path_factory):
    home = Path("/tmp") / f"riskmap-cluster-test-{os.getpid()}"  # reachable by the postgres user
    settings = Settings(home=home, pg_port=55499, database_url=None)
    try:
        st = cluster.start(settings)
        assert st.running and st.pid
        again = cluster.start(settings)  # second start is harmless
        assert again.pid == st.pid
        eng = create_engine(cluster.admin_url(settings, settings.db_name))
        with eng.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
            assert conn.execute(text("SELECT ST_SRID(ST_SetSRID(ST_MakePoint(111, 39), 4490))")).scalar_one() == 4490
        eng.dispose()
        assert not cluster.stop(settings).running
        assert not cluster.stop(settings).running  # stopping twice is harmless
        # a stale pid file (left by a crash) does not block the next start
        (settings.pg_dir / "data" / "postmaster.pid").write_text("999999\n")
        assert cluster.start(settings).running
        # a port setting given after the cluster was made (RISKMAP_PG_PORT changed): the cluster keeps the port it
        # listens on, and the project finds it there, running or stopped
        elsewhere = Settings(home=home, pg_port=55488, database_url=None)
        for _ in ("running", "stopped"):
            assert cluster.start(elsewhere).port == 55499
            eng = create_engine(cluster.admin_url(elsewhere, elsewhere.db_name))
            with eng.connect() as conn:
                assert conn.execute(text("SELECT 1")).scalar_one() == 1
            eng.dispose()
            cluster.stop(elsewhere)
        # another program holding the port: the cluster moves to a free one and remembers it
        import socket

        with socket.socket() as squatter:
            squatter.bind(("127.0.0.1", 55499))
            squatter.listen()
            moved = cluster.start(settings)
        assert moved.running and moved.port != 55499
        eng = create_engine(cluster.admin_url(settings, settings.db_name))
        with eng.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
        eng.dispose()
    finally:
        cluster.stop(settings)
        subprocess.run(["rm", "-rf", str(home)], check=False)


def test_cli_reports_status(db_url):
    env = {**os.environ, "DATABASE_URL": db_url}
    res = subprocess.run([sys.executable, "-m", "geo.cli", "db", "status"], env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "postgis" in res.stdout and "数据库结构版本" in res.stdout
