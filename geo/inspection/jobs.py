"""Plans made in the background: the solver runs for seconds to minutes, so the workbench starts it in a thread
and the page asks how far it got (stage text, seconds spent) until the plan is stored.

Jobs live in this process only (a restart forgets running ones, and each server worker knows its own); the
plan itself is stored in the database by geo.inspection.plan.make_plan in one transaction, as the caller.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from geo.access import bind
from geo.access.principal import Principal
from geo.errors import NotFound, RiskmapError, TooManyRequests
from geo.inspection.planform import PlanRequest

log = logging.getLogger("riskmap.plans")

MAX_RUNNING = 2
"""Solver runs at once in this process (each takes a CPU core for its time limit)."""
KEEP = 200
"""Finished jobs remembered (oldest forgotten first)."""


@dataclass
class PlanJob:
    """One plan being made: who asked, what it is doing, and its plan id or Chinese error when finished."""

    id: str
    username: str
    time_limit_s: float
    stage: str = "排队中"
    state: str = "running"  # running / done / failed
    plan_id: int | None = None
    error: str | None = None
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None

    @property
    def elapsed_s(self) -> int:
        return int((self.finished or time.monotonic()) - self.started)


_JOBS: dict[str, PlanJob] = {}
_LOCK = threading.Lock()


def start_plan_job(principal: Principal, request: PlanRequest, *, config: dict[str, Any] | None = None) -> PlanJob:
    """Start making the plan in a background thread as `principal`; refuses when too many run already."""
    from geo.inspection.network import load_plan_config

    cfg = request.config(config or load_plan_config())
    with _LOCK:
        running = [j for j in _JOBS.values() if j.state == "running"]
        if len(running) >= MAX_RUNNING or any(j.username == principal.username for j in running):
            raise TooManyRequests("正在生成其他巡查计划，请稍后再试", retry_after=10)
        job = PlanJob(uuid.uuid4().hex, principal.username, request.time_limit_s)
        _JOBS[job.id] = job
        for old in list(_JOBS)[:-KEEP]:
            if _JOBS[old].state != "running":
                del _JOBS[old]
    threading.Thread(target=_run, args=(job, principal, request, cfg), name=f"plan-{job.id[:8]}",
                     daemon=True).start()
    return job


def _run(job: PlanJob, principal: Principal, request: PlanRequest, cfg: dict[str, Any]) -> None:
    """The thread: one write transaction as the principal; the outcome is kept on the job."""
    from geo.db import get_engine
    from geo.inspection.plan import make_plan

    def stage(text: str) -> None:
        job.stage = text

    try:
        with get_engine().begin() as conn:
            bind(conn, principal)
            plan_id = make_plan(conn, request.start, request.end, township=request.township, teams=request.teams,
                                time_limit_s=request.time_limit_s, config=cfg, progress=stage)
        job.plan_id, job.state, job.stage = plan_id, "done", "已完成"
    except RiskmapError as exc:
        job.error, job.state = exc.message, "failed"
    except Exception as exc:  # the page must say it failed rather than poll for ever
        log.exception("plan job %s failed", job.id)
        job.error, job.state = f"生成巡查计划时出错：{type(exc).__name__}", "failed"
    finally:
        job.finished = time.monotonic()


def get_job(job_id: str, username: str) -> PlanJob:
    """A job of this user (another user's job is not found, like an unknown one)."""
    job = _JOBS.get(job_id)
    if job is None or job.username != username:
        raise NotFound("没有这个计划生成任务（可能服务已重启），请到巡查计划列表查看")
    return job


def wait(job: PlanJob, timeout_s: float) -> PlanJob:
    """Block until the job finishes or `timeout_s` passes (tests and the CLI)."""
    end = time.monotonic() + timeout_s
    while job.state == "running" and time.monotonic() < end:
        time.sleep(0.05)
    return job
