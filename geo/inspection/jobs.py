"""Plans made in the background: the solver runs for seconds to minutes, so the workbench starts it in a thread
and the page asks how far it got (stage text, seconds spent) until the plan is stored.

Each job's state is also written to a small JSON file under the settings' home (plan-jobs/), so any worker
process of `riskmap serve --workers N` on this machine answers the poll; a job whose process died is reported as
interrupted. The plan itself is stored in the database by geo.inspection.plan.make_plan in one transaction, as
the caller.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
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
STALE_S = 900
"""A job file not touched for this long past its solver limit belongs to a process that died."""


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
    started: float = field(default_factory=time.time)
    finished: float | None = None

    @property
    def elapsed_s(self) -> int:
        return int((self.finished or time.time()) - self.started)

    def save(self) -> None:
        """Write the state for the other worker processes (atomically: a reader sees the old or the new)."""
        path = _path(self.id)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(asdict(self), ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)

    def set_stage(self, text: str) -> None:
        self.stage = text
        self.save()


def _path(job_id: str) -> Path:
    from geo.config import get_settings

    return get_settings().home / "plan-jobs" / f"{job_id}.json"


def _load(job_id: str) -> PlanJob | None:
    """A job written by any worker of this machine; a running one whose file went stale is marked interrupted."""
    if not re.fullmatch(r"[0-9a-f]{32}", job_id):
        return None
    path = _path(job_id)
    try:
        job = PlanJob(**json.loads(path.read_text(encoding="utf-8")))
        age = time.time() - path.stat().st_mtime
    except (OSError, ValueError, TypeError):
        return None
    if job.state == "running" and age > job.time_limit_s + STALE_S:
        job.state, job.error = "failed", "生成任务已中断（服务可能已重启），请重新生成"
    return job


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
        job.save()
        for old in list(_JOBS)[:-KEEP]:
            if _JOBS[old].state != "running":
                del _JOBS[old]
        _forget_old_files()
    threading.Thread(target=_run, args=(job, principal, request, cfg), name=f"plan-{job.id[:8]}",
                     daemon=True).start()
    return job


def _run(job: PlanJob, principal: Principal, request: PlanRequest, cfg: dict[str, Any]) -> None:
    """The thread: one write transaction as the principal; the outcome is kept on the job."""
    from geo.db import get_engine
    from geo.inspection.plan import make_plan

    try:
        with get_engine().begin() as conn:
            bind(conn, principal)
            plan_id = make_plan(conn, request.start, request.end, township=request.township, teams=request.teams,
                                time_limit_s=request.time_limit_s, config=cfg, progress=job.set_stage)
        job.plan_id, job.state, job.stage = plan_id, "done", "已完成"
    except RiskmapError as exc:
        job.error, job.state = exc.message, "failed"
    except Exception as exc:  # the page must say it failed rather than poll for ever
        log.exception("plan job %s failed", job.id)
        job.error, job.state = f"生成巡查计划时出错：{type(exc).__name__}", "failed"
    finally:
        job.finished = time.time()
        try:
            job.save()
        except OSError:  # the state stays in this process; other workers will call it interrupted
            log.exception("plan job %s: state not written", job.id)


def _forget_old_files(days: float = 2) -> None:
    """Remove job files older than `days` (their plans are in the list of plans)."""
    folder = _path("0" * 32).parent
    cutoff = time.time() - days * 86400
    for f in folder.glob("*.json") if folder.exists() else ():
        try:
            if f.stat().st_mtime < cutoff:
                f.unlink()
        except OSError:
            pass


def get_job(job_id: str, username: str) -> PlanJob:
    """A job of this user (another user's job is not found, like an unknown one)."""
    job = _JOBS.get(job_id) or _load(job_id)
    if job is None or job.username != username:
        raise NotFound("没有这个计划生成任务（可能服务已重启），请到巡查计划列表查看")
    return job


def wait(job: PlanJob, timeout_s: float) -> PlanJob:
    """Block until the job finishes or `timeout_s` passes (tests and the CLI)."""
    end = time.time() + timeout_s
    while job.state == "running" and time.time() < end:
        time.sleep(0.05)
    return job
