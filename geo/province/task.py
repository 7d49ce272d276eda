"""One county's provincial computation — halo, risk levels, encroachment check — as ONE transaction in the county's
database, then its township roll-up. Runs the same in-process or as a Dask task on a worker.

A worker killed mid-task takes its connection with it: PostgreSQL rolls the transaction back, so the county keeps
its previous results whole, and the scheduler runs the task again elsewhere. A worker killed after the county's
commit but before the roll-up's leaves the roll-up one run behind only until the retry: the retried task finds the
county already committed for this run (its `risk_rules_version.last_run_at` is the run's time, written in the same
transaction) and only rewrites the county's roll-up rows from that committed state.
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.pool import NullPool

from geo.province.config import County, Province

_SETTINGS_LOCK = threading.Lock()


@dataclass
class CountyResult:
    """What one county's task did (sent back to the client)."""

    code: str
    name: str
    shard: str
    seconds: float
    levels: dict[str, dict[str, int]]
    candidates: int
    cross_border_candidates: int
    halo: dict[str, int]
    rollup_rows: int
    worker_pid: int
    max_rss_mb: float
    cpu_s: float
    """CPU seconds of the task's own process (the rest of its time is PostgreSQL's work, or waiting)."""
    steps: dict[str, float] = field(default_factory=dict)
    resumed: bool = False
    """The county was already committed for this run (a retry after a kill between the two commits): only its
    roll-up rows were rewritten."""


def engine_for(url: str) -> Engine:
    """An unpooled engine (a task's connection ends with the task) with the bureau's time zone."""
    from geo.db import _beijing_time

    eng = create_engine(url, poolclass=NullPool, future=True)
    event.listen(eng, "do_connect", _beijing_time)
    return eng


@contextmanager
def county_settings(county: County) -> Iterator[None]:
    """The county's database and code as the settings in force while its task runs (one task at a time per process:
    get_settings() is process-wide, so Dask workers run one thread each)."""
    from geo.config import get_settings

    with _SETTINGS_LOCK:
        saved = {k: os.environ.get(k) for k in ("DATABASE_URL", "RISKMAP_COUNTY_CODE")}
        os.environ["DATABASE_URL"] = county.database
        os.environ["RISKMAP_COUNTY_CODE"] = county.code
        get_settings.cache_clear()
        try:
            yield
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            get_settings.cache_clear()


STAGES = {"halo": "读取邻县边界附近地物", "risk": "计算风险等级", "encroach": "占压排查", "rollup": "写入市/省级汇总表"}
"""A county task's stages, in order, as the CLI names them while the task runs."""

PROGRESS_TOPIC = "riskmap-province-stage"
"""The Dask event topic a worker's task reports its stages on (the client subscribes while it waits)."""

ON_DASK = "dask"
"""`progress` value of a task sent to Dask: report stages as worker events (a callable cannot follow the task)."""

Progress = Callable[[str, str], None] | str | None
"""None: no stage reports; a callable (county code, stage): in-process; ON_DASK: events on PROGRESS_TOPIC."""


def report_stage(progress: Progress, county: County, stage: str) -> None:
    """Say that the county's task starts `stage` (one of STAGES): to the callback, or as a Dask worker event."""
    if progress is None:
        return
    if callable(progress):
        progress(county.code, stage)
        return
    from distributed import get_worker

    try:
        worker = get_worker()
    except ValueError:  # not on a worker after all: nobody listens
        return
    worker.log_event(PROGRESS_TOPIC, {"code": county.code, "stage": stage, "pid": os.getpid()})


def _pause_point(pause_dir: str | None, stage: str) -> None:
    """Fault-injection hook for the tests (never set in production): at the stage named in the directory's `stage`
    file ("transaction", the default: inside the county's transaction; "rollup": after the county's commit, before
    the roll-up's) the first attempt records its pid in `held` and waits to be killed; a later attempt records
    `retry` and waits for `release`."""
    if not pause_dir:
        return
    d = Path(pause_dir)
    wanted = (d / "stage").read_text().strip() if (d / "stage").exists() else "transaction"
    if stage != wanted:
        return
    held = d / "held"
    if not held.exists():
        held.write_text(str(os.getpid()))
        time.sleep(600)
        return
    (d / "retry").write_text(str(os.getpid()))
    deadline = time.monotonic() + 300
    while not (d / "release").exists() and time.monotonic() < deadline:
        time.sleep(0.1)


def run_county(county: County, province: Province, *, halo: bool = True, rollup: bool = True,
               now: dt.datetime | None = None, pause_dir: str | None = None,
               progress: Progress = None) -> CountyResult:
    """Halo, risk compute and encroachment check for one county in one transaction; then its roll-up rows.
    `progress`: where each stage's start is reported (report_stage)."""
    from geo.encroachment.check import refresh_candidates
    from geo.province.halo import hide_halo, refresh_halo, show_halo
    from geo.province.rollup import county_townships, replace_county
    from geo.risk import compute
    from geo.risk.changes import last_computed_at

    started = time.perf_counter()
    cpu0 = time.process_time()
    steps: dict[str, float] = {}
    halo_rows: dict[str, int] = {}
    with county_settings(county):
        eng = engine_for(county.database)
        try:
            with eng.begin() as conn:
                resumed = now is not None and last_computed_at(conn) == now
                t = time.perf_counter()
                if resumed:  # a retry: this run's results are committed already, only the roll-up is missing
                    levels = current_levels(conn)
                else:
                    if halo:
                        report_stage(progress, county, "halo")
                        halo_rows = refresh_halo(conn, county, province)
                        show_halo(conn)
                    steps["halo"] = time.perf_counter() - t
                    t = time.perf_counter()
                    report_stage(progress, county, "risk")
                    levels = compute(conn, now=now).levels
                    steps["risk"] = time.perf_counter() - t
                    t = time.perf_counter()
                    report_stage(progress, county, "encroach")
                    refresh_candidates(conn)
                    steps["encroach"] = time.perf_counter() - t
                    hide_halo(conn)
                candidates, foreign = conn.execute(text(
                    "SELECT count(*), count(*) FILTER (WHERE feature_id < 0) FROM encroachment_candidate "
                    "WHERE status = 'open'")).one()
                townships = county_townships(conn)
                _pause_point(pause_dir, "transaction")
        finally:
            eng.dispose()
    _pause_point(pause_dir, "rollup")
    rows = 0
    if rollup:
        t = time.perf_counter()
        report_stage(progress, county, "rollup")
        reng = engine_for(province.rollup_database)
        try:
            with reng.begin() as rconn:
                rows = replace_county(rconn, county, townships)
        finally:
            reng.dispose()
        steps["rollup"] = time.perf_counter() - t
    return CountyResult(
        code=county.code, name=county.name, shard=county.shard, seconds=time.perf_counter() - started,
        levels=levels, candidates=int(candidates), cross_border_candidates=int(foreign), halo=halo_rows,
        rollup_rows=rows, worker_pid=os.getpid(), cpu_s=time.process_time() - cpu0,
        max_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, steps=steps,
        resumed=resumed)


def current_levels(conn: Connection) -> dict[str, dict[str, int]]:
    """Kind → level → count of the county's current assessments (what a computation reports, read back)."""
    out: dict[str, dict[str, int]] = {}
    for kind, level, n in conn.execute(text(
            "SELECT kind, level, count(*) FROM risk_assessment WHERE valid_to IS NULL GROUP BY kind, level")):
        out.setdefault(kind, {})[level] = int(n)
    return out


@dataclass
class PlanResult:
    """One county's weekly inspection plan, made in its own database (sent back to the client)."""

    code: str
    name: str
    shard: str
    seconds: float
    plan_id: int
    due: int
    visited: int
    dropped: int
    worker_pid: int


def plan_county(county: County, province: Province, *, week: str, teams: int = 4,
                time_limit_s: float | None = None, rebuild_network: bool = False) -> PlanResult:
    """`riskmap plan --week W` for one county, one transaction in its database (geo/inspection/plan.py)."""
    from geo.inspection.network import build_network
    from geo.inspection.plan import get_plan, make_plan, plan_range

    started = time.perf_counter()
    start, end = plan_range(week=week)
    with county_settings(county):
        eng = engine_for(county.database)
        try:
            with eng.begin() as conn:
                if rebuild_network:
                    build_network(conn)
                plan_id = make_plan(conn, start, end, teams=teams, time_limit_s=time_limit_s)
                summary = get_plan(conn, plan_id)["summary"]
        finally:
            eng.dispose()
    return PlanResult(code=county.code, name=county.name, shard=county.shard, seconds=time.perf_counter() - started,
                      plan_id=plan_id, due=int(summary["due"]), visited=int(summary["visited"]),
                      dropped=int(summary["dropped"]), worker_pid=os.getpid())
