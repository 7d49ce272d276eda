"""Run every county's task: in-process one after another (default), or on a Dask cluster, one task per county.

Dask (dask.distributed) schedules, streams results back as counties finish, and reruns the task of a worker that
died on another worker (the scheduler's allowed_failures, 3 by default); a task that raises is retried `retries`
times. Because a county's task is one transaction, a rerun starts from the county's last committed state.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from geo.province.config import County, Province
from geo.province.task import CountyResult, plan_county, run_county


@dataclass
class ProvinceRun:
    """The results of a provincial run, and the counties that failed (code → Chinese message)."""

    results: list[Any] = field(default_factory=list)
    """CountyResult (compute) or PlanResult (plan), sorted by county code."""
    failed: dict[str, str] = field(default_factory=dict)


def compute_province(province: Province, *, scheduler: Any = None, counties: Sequence[str] | None = None,
                     halo: bool = True, on_result: Callable[[CountyResult], None] | None = None,
                     on_failure: Callable[[County, str], None] | None = None, retries: int = 1,
                     now: dt.datetime | None = None, pause: dict[str, str] | None = None,
                     on_stage: Callable[[str, str], None] | None = None) -> ProvinceRun:
    """Compute the province's counties (`counties`: some codes only).

    `on_stage(code, stage)`: a county's task starts a stage (geo.province.task.STAGES), streamed back from the
    Dask workers as events (a retried task reports its stages again).
    `scheduler`: None → in-process; an address ("tcp://host:8786") or a distributed.Client → one Dask task per
    county. `pause`: county code → directory, the tests' fault-injection hook (geo.province.task._pause_point).
    All counties of one run share `now` (default: the run's start), so their history rows carry one time.
    """
    now = now or dt.datetime.now(dt.UTC)
    pause = pause or {}
    return dispatch(province, run_county, scheduler=scheduler, counties=counties, on_result=on_result,
                    on_failure=on_failure, retries=retries, on_stage=on_stage,
                    kwargs=lambda c: {"halo": halo, "now": now, "pause_dir": pause.get(c.code)})


def plan_province(province: Province, *, week: str, teams: int = 4, time_limit_s: float | None = None,
                  rebuild_network: bool = False, scheduler: Any = None, counties: Sequence[str] | None = None,
                  on_result: Callable[[Any], None] | None = None,
                  on_failure: Callable[[County, str], None] | None = None) -> ProvinceRun:
    """Every county's weekly inspection plan (`riskmap plan --week`), one task per county."""
    return dispatch(province, plan_county, scheduler=scheduler, counties=counties, on_result=on_result,
                    on_failure=on_failure, retries=1,
                    kwargs=lambda c: {"week": week, "teams": teams, "time_limit_s": time_limit_s,
                                      "rebuild_network": rebuild_network})


def dispatch(province: Province, fn: Callable[..., Any], *, scheduler: Any, counties: Sequence[str] | None,
             on_result: Callable[[Any], None] | None, on_failure: Callable[[County, str], None] | None,
             retries: int, kwargs: Callable[[County], dict[str, Any]],
             on_stage: Callable[[str, str], None] | None = None) -> ProvinceRun:
    """fn(county, province, **kwargs(county)) for each county: in-process in turn, or one Dask task each.
    With `on_stage`, fn also gets `progress` (geo.province.task.report_stage) and its stages come back here."""
    chosen = [province.county(c) for c in counties] if counties else list(province.counties)
    run = ProvinceRun()

    def done(result: Any) -> None:
        run.results.append(result)
        if on_result:
            on_result(result)

    def failed(county: County, exc: BaseException) -> None:
        from geo.errors import RiskmapError

        message = exc.message if isinstance(exc, RiskmapError) else f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
        run.failed[county.code] = message
        if on_failure:
            on_failure(county, message)

    if scheduler is None:
        staged = {"progress": on_stage} if on_stage else {}
        for county in chosen:
            try:
                done(fn(county, province, **kwargs(county), **staged))
            except Exception as exc:  # noqa: BLE001  (one county's failure is reported; the others go on)
                failed(county, exc)
    else:
        from distributed import Client, as_completed

        from geo.province.task import ON_DASK, PROGRESS_TOPIC

        client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
        staged = {}
        if on_stage:
            staged = {"progress": ON_DASK}
            client.subscribe_topic(PROGRESS_TOPIC, lambda event: on_stage(event[1]["code"], event[1]["stage"]))
        try:
            futures = {client.submit(fn, county, province, **kwargs(county), **staged,
                                     key=f"{fn.__name__}-{county.code}", pure=False, retries=retries): county
                       for county in chosen}
            for future in as_completed(futures):
                county = futures[future]
                try:
                    done(future.result())
                except Exception as exc:  # noqa: BLE001
                    failed(county, exc)
        finally:
            if on_stage:
                client.unsubscribe_topic(PROGRESS_TOPIC)
            if client is not scheduler:
                client.close()
    run.results.sort(key=lambda r: r.code)
    return run
