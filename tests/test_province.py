"""Issue #16: a 4-county synthetic province on two PostgreSQL servers (shards), computed on a Dask LocalCluster of
2 worker processes — the same results as each county computed alone, plus what only the halo can see across a
county border; a worker killed mid-county leaves that county whole and the run completes."""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from geo.province.config import Province, load_province

STOCK = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


def own_prefix(base: str) -> str:
    """Database-name prefix of this checkout's synthetic counties: the stock server is shared by every checkout on
    the machine, and two runs creating and migrating the same database at once collide."""
    here = re.sub(r"[^a-z0-9]+", "_", Path(__file__).resolve().parent.parent.name.lower()).strip("_")[:16]
    return f"{base}_{here}"


PREFIX = own_prefix("province_t")
SCALE = 0.01


def _reachable(url: str) -> bool:
    try:
        eng = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": 3})
        with eng.connect() as conn:
            ok = conn.execute(text("SELECT count(*) FROM pg_available_extensions WHERE name = 'postgis'")).scalar()
        eng.dispose()
        return bool(ok)
    except Exception:  # noqa: BLE001
        return False


def _drop(url: str) -> None:
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    admin.dispose()


def _copy(url: str, suffix: str) -> str:
    """A copy of the county database (CREATE DATABASE … TEMPLATE) for computing it alone."""
    target = make_url(url)
    name = f"{target.database}{suffix}"
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{target.database}"'))
    admin.dispose()
    return target.set(database=name).render_as_string(hide_password=False)


# A gas pipeline 2 m inside county 1 along its eastern border (county 2 lies east), 1 km long, and in county 2 a
# house whose wall is 1 m past the border: 3 m from the pipeline, inside the law's 5 m band, across the border.
PLANT_PIPELINE = """
INSERT INTO pipeline (id, code, name, operator, medium, design_pressure_mpa, outside_diameter_mm, burial_depth_m,
                      commissioning_year, geom, source)
SELECT (SELECT max(id) FROM pipeline) + 1, 'TEST-BORDER-1', '沿县界测试管道', '测试管网公司', 'gas', 4.0, 323.9, 1.2,
       2015, ST_Multi(ST_Transform(ST_SetSRID(ST_MakeLine(ST_MakePoint(x - 2, y - 500), ST_MakePoint(x - 2, y + 500)), 4546), 4490)),
       'tests/test_province.py'
FROM (SELECT ST_SetSRID(ST_MakePoint(:x, :y), 4546) AS p, :x AS x, :y AS y) g
"""
PLANT_BUILDING = """
INSERT INTO building (id, use_class, floors, township_id, geom, source)
SELECT (SELECT max(id) FROM building) + 1, 'residential', 2, (SELECT min(id) FROM township),
       ST_Multi(ST_Transform(ST_MakeEnvelope(:x + 1, :y - 5, :x + 11, :y + 5, 4546), 4490)), 'tests/test_province.py'
RETURNING id
"""


def _border(url: str) -> tuple[float, float]:
    """County 1's eastern border x, and a y away from the cross-border pipelines (EPSG:4546, metres)."""
    eng = create_engine(url, poolclass=NullPool)
    with eng.connect() as conn:
        x, y = conn.execute(text("SELECT ST_XMax(g), ST_YMin(g) + 0.8 * (ST_YMax(g) - ST_YMin(g)) FROM "
                                 "(SELECT ST_Transform(geom, 4546) AS g FROM county) c")).one()
    eng.dispose()
    return float(x), float(y)


@contextmanager
def rolled_up_province(db_url: str, tmp_path_factory: pytest.TempPathFactory, prefix: str, *, seed: int,
                       scale: float = 0.01) -> Iterator[dict]:
    """Two synthetic counties side by side (one on each server when the stock one answers) and a province.toml
    naming them, with the roll-up in the test database; on leaving, the roll-up is emptied and the counties
    dropped. Yields the counties, the planted crossings, the file and the shards."""
    from bench.generate.province import generate_province, province_file_text

    shards = [make_url(db_url).set(database="postgres").render_as_string(hide_password=False)]
    if _reachable(STOCK):
        shards.append(STOCK)
    counties, _, crossing = generate_province(2, scale=scale, seed=seed, shards=shards, prefix=prefix)
    path = tmp_path_factory.mktemp(prefix) / "province.toml"
    path.write_text(province_file_text(counties, rollup=db_url), encoding="utf-8")
    try:
        yield {"counties": counties, "crossing": crossing, "file": path, "shards": shards}
    finally:
        eng = create_engine(db_url, poolclass=NullPool)
        with eng.begin() as conn:
            conn.execute(text("TRUNCATE province_township_level"))
        eng.dispose()
        for c in counties:
            _drop(c.database)


@pytest.fixture(scope="module")
def province(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The synthetic province: counties 1 and 3 on the embedded cluster, 2 and 4 on the stock server (when it
    answers; else all four on the embedded one), the planted cross-border case, and copies for computing alone."""
    from bench.generate.province import generate_province, province_file_text

    shards = [make_url(db_url).set(database="postgres").render_as_string(hide_password=False)]
    if _reachable(STOCK):
        shards.append(STOCK)
    counties, _, crossing = generate_province(4, scale=SCALE, seed=7, shards=shards, prefix=PREFIX)
    x, y = _border(counties[0].database)
    for url, sql in ((counties[0].database, PLANT_PIPELINE), (counties[1].database, PLANT_BUILDING)):
        eng = create_engine(url, poolclass=NullPool)
        with eng.begin() as conn:
            found = conn.execute(text(sql), {"x": x, "y": y})
            if sql is PLANT_BUILDING:
                house = int(found.scalar_one())
        eng.dispose()
    alone = {c.code: _copy(c.database, "_alone") for c in counties}
    path = tmp_path_factory.mktemp("province") / "province.toml"
    path.write_text(province_file_text(counties), encoding="utf-8")
    yield {"file": path, "province": load_province(path), "alone": alone, "house": house, "crossing": crossing,
           "shards": shards}
    for c in counties:
        _drop(c.database)
        _drop(alone[c.code])


@pytest.fixture(scope="module")
def dask_client() -> Iterator[object]:
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, memory_limit="1GiB",
                           dashboard_address=None)
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


def snapshot(url: str) -> dict[str, dict]:
    """Current levels (kind, id → colour) and open encroachment candidates (pipeline, type, id, zone → m)."""
    eng = create_engine(url, poolclass=NullPool)
    with eng.connect() as conn:
        levels = {(k, i): lv for k, i, lv in conn.execute(text(
            "SELECT kind, object_id, level FROM risk_assessment WHERE valid_to IS NULL"))}
        cands = {(p, t, f, z): round(float(d), 3) for p, t, f, z, d in conn.execute(text(
            "SELECT pipeline_id, feature_type, feature_id, zone, distance_m FROM encroachment_candidate "
            "WHERE status = 'open'"))}
        rollup = conn.execute(text("SELECT count(*) FROM province_township_level")).scalar_one()
    eng.dispose()
    return {"levels": levels, "candidates": cands, "rollup": rollup}


def compute_alone(province: Province, alone: dict[str, str]) -> dict[str, dict]:
    """Each county by the single-county code path (risk compute + encroach check) in its own copy, no halo."""
    from geo.encroachment import check_encroachments
    from geo.province.task import county_settings, engine_for
    from geo.risk import compute

    out = {}
    for c in province.counties:
        copy = type(c)(**{**c.__dict__, "database": alone[c.code]})
        with county_settings(copy):
            eng = engine_for(copy.database)
            with eng.begin() as conn:
                compute(conn)
                check_encroachments(conn)
            eng.dispose()
        out[c.code] = snapshot(copy.database)
    return out


def near_border(url: str, kind: str, object_id: int, metres: float) -> bool:
    table = {"pipeline_segment": "pipeline_segment", "enterprise": "enterprise", "grid_cell": "grid_cell",
             "township": "township", "mine": "mine"}[kind]
    geom = "licence_boundary" if kind == "mine" else "geom"
    eng = create_engine(url, poolclass=NullPool)
    with eng.connect() as conn:
        ok = conn.execute(text(
            f"SELECT ST_DWithin(o.{geom}::geography, ST_Boundary(c.geom)::geography, :m) "
            f"FROM {table} o, county c WHERE o.id = :id"), {"id": object_id, "m": metres}).scalar()
    eng.dispose()
    return bool(ok)


def test_province_on_dask_matches_each_county_alone_plus_the_border(province: dict, dask_client: object) -> None:
    from geo.province.halo import ID_RANGE, halo_distance_m
    from geo.province.run import compute_province

    p: Province = province["province"]
    assert len(p.shards()) == len(province["shards"])  # the counties really are spread over the servers
    assert province["crossing"] == 4  # 2×2 counties: two east–west and two north–south shared borders

    alone = compute_alone(p, province["alone"])
    seen: list[str] = []
    run = compute_province(p, scheduler=dask_client, on_result=lambda r: seen.append(r.code))
    assert not run.failed, run.failed
    assert sorted(seen) == [c.code for c in p.counties]
    assert len({r.worker_pid for r in run.results}) == 2  # both workers took counties
    on_dask = {c.code: snapshot(c.database) for c in p.counties}

    # The same province in-process, one county after another: identical, ID for ID and colour for colour.
    local = compute_province(p)
    assert not local.failed
    assert {c.code: snapshot(c.database) for c in p.counties} == on_dask

    # The planted house in county 2, 3 m across the border from county 1's pipeline: found only with the halo.
    c1, c2 = p.counties[0], p.counties[1]
    house = -(c2.ordinal * ID_RANGE + province["house"])
    found = {k: d for k, d in on_dask[c1.code]["candidates"].items() if k[1] == "building" and k[2] == house}
    assert found and min(found.values()) == pytest.approx(3.0, abs=0.05)
    assert not any(k[2] < 0 for k in alone[c1.code]["candidates"])

    # Every county's own candidates are exactly those it finds alone; the rest are neighbours' features near it.
    reach = halo_distance_m()
    span = reach + 2000 + 200  # a halo dwelling moves a class-location window (2 km) and its boundary (200 m)
    differing = 0
    for c in p.counties:
        mine = {k: d for k, d in on_dask[c.code]["candidates"].items() if k[2] >= 0}
        assert mine == alone[c.code]["candidates"], c.code
        for key, colour in on_dask[c.code]["levels"].items():
            assert key in alone[c.code]["levels"], key
            if alone[c.code]["levels"][key] != colour:
                differing += 1
                assert near_border(c.database, key[0], key[1], span), (c.code, key)
        assert on_dask[c.code]["levels"].keys() == alone[c.code]["levels"].keys()

    # The roll-up (in the first county's database) holds every county's townships.
    townships = sum(1 for c in p.counties for k in on_dask[c.code]["levels"] if k[0] == "township")
    assert townships >= 4 and on_dask[c1.code]["rollup"] == townships
    print(f"与单县计算不同的风险等级（均在县界 {span:.0f} m 内）：{differing} 个")


def wait_for(path: Path, why: str, seconds: float = 180) -> None:
    """Until a paused task's marker file appears (a province run in a thread writes it)."""
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, why
        time.sleep(0.1)


@contextmanager
def held_run(tmp_path: Path, *args: Any, **kw: Any) -> Iterator[dict]:
    """compute_province in a thread, entered once the paused county's task holds its transaction ("held"); on
    leaving, the task is released and the run joined — its result is then in the yielded dict's "run"."""
    from geo.province.run import compute_province

    outcome: dict = {}
    runner = threading.Thread(target=lambda: outcome.update(run=compute_province(*args, **kw)))
    runner.start()
    try:
        wait_for(tmp_path / "held", "the victim's task never reached its pause point")
        yield outcome
    finally:
        (tmp_path / "release").write_text("go")
        runner.join(timeout=300)


def test_killed_worker_leaves_no_county_half_written(province: dict, dask_client: object,
                                                     tmp_path: Path) -> None:
    p: Province = province["province"]
    victim = p.counties[2]
    expected = snapshot(victim.database)
    assert expected["levels"], "the first test computed the province"
    eng = create_engine(victim.database, poolclass=NullPool)
    with eng.begin() as conn:  # start the victim from nothing, so any half-write would show
        conn.execute(text("TRUNCATE risk_assessment, encroachment_candidate"))
    reng = create_engine(p.rollup_database, poolclass=NullPool)
    with reng.begin() as conn:
        conn.execute(text("DELETE FROM province_township_level WHERE county_code = :c"), {"c": victim.code})

    with held_run(tmp_path, p, scheduler=dask_client, pause={victim.code: str(tmp_path)}) as outcome:
        time.sleep(0.3)
        os.kill(int((tmp_path / "held").read_text()), signal.SIGKILL)  # the worker dies inside the transaction
        wait_for(tmp_path / "retry", "the task was not run again on another worker")
        assert int((tmp_path / "retry").read_text()) != int((tmp_path / "held").read_text())
        # the killed attempt had computed everything but not committed: nothing of it is there
        with eng.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM risk_assessment")).scalar_one() == 0
            assert conn.execute(text("SELECT count(*) FROM encroachment_candidate")).scalar_one() == 0
        with reng.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM province_township_level WHERE county_code = :c"),
                                {"c": victim.code}).scalar_one() == 0
    eng.dispose()
    reng.dispose()
    run = outcome["run"]
    assert not run.failed, run.failed
    assert [r.code for r in run.results] == [c.code for c in p.counties]
    after = snapshot(victim.database)
    assert after["levels"] == expected["levels"] and after["candidates"] == expected["candidates"]


def rollup_of(p: Province, code: str) -> list[tuple[str, str, float]]:
    eng = create_engine(p.rollup_database, poolclass=NullPool)
    with eng.connect() as conn:
        rows = [tuple(r) for r in conn.execute(text(
            "SELECT township_code, level, score FROM province_township_level WHERE county_code = :c "
            "ORDER BY township_code"), {"c": code})]
    eng.dispose()
    return rows


def test_killed_between_county_and_rollup_commits_the_retry_rewrites_the_rollup(
        province: dict, dask_client: object, tmp_path: Path) -> None:
    """The county's transaction has committed, the roll-up's not yet, and the worker dies: the retried task finds
    the county committed for this run, does not compute it again, and rewrites the county's roll-up rows."""
    from geo.province.rollup import county_townships
    from geo.province.run import compute_province

    p: Province = province["province"]
    victim = p.counties[1]  # on the second server when there is one; the roll-up is in the first county's database
    if not rollup_of(p, victim.code):  # run alone: compute it once, in-process
        assert not compute_province(p, counties=[victim.code]).failed
    eng = create_engine(victim.database, poolclass=NullPool)
    with eng.begin() as conn:
        conn.execute(text("TRUNCATE risk_assessment"))
    reng = create_engine(p.rollup_database, poolclass=NullPool)
    with reng.begin() as conn:  # a roll-up from an older run, recognisable by its score
        conn.execute(text("UPDATE province_township_level SET score = -1 WHERE county_code = :c"), {"c": victim.code})
    stale = rollup_of(p, victim.code)
    assert stale and all(s == -1 for _, _, s in stale)
    (tmp_path / "stage").write_text("rollup")

    with held_run(tmp_path, p, scheduler=dask_client, counties=[victim.code],
                  pause={victim.code: str(tmp_path)}) as outcome:
        with eng.connect() as conn:  # the county has committed this run ...
            assert conn.execute(text("SELECT count(*) FROM risk_assessment")).scalar_one() > 0
        assert rollup_of(p, victim.code) == stale  # ... the roll-up not yet
        os.kill(int((tmp_path / "held").read_text()), signal.SIGKILL)
        wait_for(tmp_path / "retry", "the task was not run again on another worker")
        assert int((tmp_path / "retry").read_text()) != int((tmp_path / "held").read_text())
    run = outcome["run"]
    assert not run.failed, run.failed
    assert [r.resumed for r in run.results] == [True]
    with eng.connect() as conn:
        committed = [(t["township_code"], t["level"], t["score"]) for t in county_townships(conn)]
        assert conn.execute(text("SELECT count(DISTINCT valid_from) FROM risk_assessment")).scalar_one() == 1
    eng.dispose()
    reng.dispose()
    assert rollup_of(p, victim.code) == committed and committed


def test_province_file_errors_name_the_county_and_field(tmp_path: Path) -> None:
    from geo.errors import InvalidInput, NotFound
    from geo.province.config import parse_province

    good = {"code": "149901", "name": "甲县", "city_code": "149900", "city_name": "甲市",
            "database": "postgresql://u@h1/a"}
    p = parse_province({"county": [good, {**good, "code": "149902", "database": "postgresql://u@h2/b"}]})
    assert p.rollup_database == good["database"] and p.shards() == {"h1:5432": ["149901"], "h2:5432": ["149902"]}
    with pytest.raises(InvalidInput, match="第 2 个县区：缺少字段 city_name"):
        parse_province({"county": [good, {k: v for k, v in good.items() if k != "city_name"}]})
    with pytest.raises(InvalidInput, match="第 2 个县区：县区代码 149901 重复"):
        parse_province({"county": [good, {**good, "database": "postgresql://u@h2/b"}]})
    with pytest.raises(InvalidInput, match="一个数据库只存一个县区"):
        parse_province({"county": [good, {**good, "code": "149902"}]})
    with pytest.raises(InvalidInput, match="6 位行政区划代码"):
        parse_province({"county": [{**good, "code": "1499"}]})
    with pytest.raises(NotFound, match="找不到省级配置文件"):
        load_province(tmp_path / "missing.toml")


def test_weekly_plans_run_as_one_dask_task_per_county(province: dict, dask_client: object) -> None:
    from geo.province.run import plan_province

    p: Province = province["province"]
    chosen = [p.counties[0].code, p.counties[1].code]  # one county on each server
    run = plan_province(p, week="2026-W50", teams=2, time_limit_s=2, rebuild_network=True,
                        scheduler=dask_client, counties=chosen)
    assert not run.failed, run.failed
    assert [r.code for r in run.results] == sorted(chosen)
    for r in run.results:
        eng = create_engine(p.county(r.code).database, poolclass=NullPool)
        with eng.connect() as conn:
            stored = conn.execute(text("SELECT count(*) FROM inspection_plan WHERE id = :i"), {"i": r.plan_id}).scalar()
        eng.dispose()
        assert stored == 1 and r.due >= r.visited > 0
