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
from geo.province.task import CountyResult, run_county


@dataclass
class ProvinceRun:
    """The results of a provincial run, and the counties that failed (code → Chinese message)."""

    results: list[CountyResult] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def compute_province(province: Province, *, scheduler: Any = None, counties: Sequence[str] | None = None,
                     halo: bool = True, on_result: Callable[[CountyResult], None] | None = None,
                     on_failure: Callable[[County, str], None] | None = None, retries: int = 1,
                     now: dt.datetime | None = None, pause: dict[str, str] | None = None) -> ProvinceRun:
    """Compute the province's counties (`counties`: some codes only).

    `scheduler`: None → in-process; an address ("tcp://host:8786") or a distributed.Client → one Dask task per
    county. `pause`: county code → directory, the tests' fault-injection hook (geo.province.task._pause_point).
    All counties of one run share `now` (default: the run's start), so their history rows carry one time.
    """
    chosen = [province.county(c) for c in counties] if counties else list(province.counties)
    now = now or dt.datetime.now(dt.UTC)
    pause = pause or {}
    run = ProvinceRun()

    def done(result: CountyResult) -> None:
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
        for county in chosen:
            try:
                done(run_county(county, province, halo=halo, now=now, pause_dir=pause.get(county.code)))
            except Exception as exc:  # noqa: BLE001  (one county's failure is reported; the others go on)
                failed(county, exc)
    else:
        from distributed import Client, as_completed

        client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
        try:
            futures = {client.submit(run_county, county, province, halo=halo, now=now,
                                     pause_dir=pause.get(county.code), key=f"county-{county.code}", pure=False,
                                     retries=retries): county for county in chosen}
            for future in as_completed(futures):
                county = futures[future]
                try:
                    done(future.result())
                except Exception as exc:  # noqa: BLE001
                    failed(county, exc)
        finally:
            if client is not scheduler:
                client.close()
    run.results.sort(key=lambda r: r.code)
    return run
