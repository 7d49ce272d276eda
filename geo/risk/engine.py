"""One compute run: scope → segmentation → mines → enterprises → segments → grid cells and townships → history."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import Connection

from geo.db import tune_for_heavy_work
from geo.risk.enterprise import EnterpriseData, evaluate_enterprises, gather_enterprises
from geo.risk.findings import Assessment, Finding, county_srid
from geo.risk.mine import assess_mines
from geo.risk.pipeline import SegmentFacts, evaluate_segments, gather_segments, segment_pipelines
from geo.risk.rollup import assess_areas
from geo.risk.rules import Rules, load_rules
from geo.risk.scope import (
    Scope,
    create_area_scope,
    create_object_scope,
    create_segment_scope,
    remember_rollup_inputs,
    remember_segments,
)
from geo.risk.store import close_vanished, register_rules, save_by_kind, stage_lines
from geo.timefmt import TZ


@dataclass
class ComputeReport:
    """What a run assessed and wrote, per kind: assessed objects and new/changed/unchanged history rows."""

    rules_version: str
    rules_hash: str
    assessed: dict[str, int] = field(default_factory=dict)
    written: dict[str, dict[str, int]] = field(default_factory=dict)
    levels: dict[str, dict[str, int]] = field(default_factory=dict)
    closed: int = 0


def compute(conn: Connection, *, scope: Scope | None = None, rules: Rules | None = None,
            today: dt.date | None = None, now: dt.datetime | None = None) -> ComputeReport:
    """Recompute levels for the objects in `scope` (default: whole county) inside the caller's transaction.

    Unchanged results keep their history row; changed ones close it (valid_to) and open a new one.
    """
    scope = scope or Scope()
    rules = rules or load_rules()
    now = now or dt.datetime.now(dt.UTC)
    today = today or now.astimezone(TZ).date()  # the bureau's day (北京时间), not the server clock's
    tune_for_heavy_work(conn)
    srid = county_srid(conn)
    report = ComputeReport(rules_version=rules.version, rules_hash=rules.rules_hash)
    create_object_scope(conn, scope)
    if scope.by_ids:
        remember_segments(conn)
    if not scope.by_ids or scope.pipeline_ids:  # a run by ids re-segments only the pipelines it names
        segment_pipelines(conn, rules, srid=srid)
    n_segments = create_segment_scope(conn, scope)
    mines, for_enterprises = assess_mines(conn, rules, srid=srid)
    gathered = gather_enterprises(conn, rules, srid=srid, today=today)
    if scope.by_ids:  # a small run (--changed): rules in line, one staging pass (fewest round trips)
        enterprises = evaluate_enterprises(gathered, rules, today=today, mine_findings=for_enterprises)
        segments = evaluate_segments(gather_segments(conn, rules, srid=srid, small=True), rules) if n_segments else []
        remember_rollup_inputs(conn, scope)  # a --changed run rolls up only the areas whose objects' inputs moved
        report.closed = close_vanished(conn, now=now, scope=scope)
        register_rules(conn, rules, now=now)
        written = save_by_kind(conn, rules, [*enterprises, *mines, *segments], now=now, register=False)
    else:
        enterprises, segments, written = overlapped(conn, rules, scope, report, gathered=gathered, mines=mines,
                                                    mine_findings=for_enterprises, n_segments=n_segments,
                                                    srid=srid, today=today, now=now)
    for kind, batch in (("enterprise", enterprises), ("mine", mines), ("pipeline_segment", segments)):
        record(report, kind, batch, written)
    create_area_scope(conn, scope)
    areas = assess_areas(conn, rules, srid=srid, scoped=not scope.is_full)
    written = save_by_kind(conn, rules, areas, now=now, register=False)
    for kind in ("grid_cell", "township"):
        record(report, kind, [a for a in areas if a.kind == kind], written)
    return report


def overlapped(conn: Connection, rules: Rules, scope: Scope, report: ComputeReport, *, gathered: EnterpriseData,
               mines: list[Assessment], mine_findings: dict[int, list[Finding]], n_segments: int, srid: int,
               today: dt.date, now: dt.datetime) -> tuple[list[Assessment], list[Assessment], dict[str, dict[str, int]]]:
    """Segments and history of a county or township run, the rules in Python beside PostgreSQL's work.

    The enterprise rules and their COPY text are pure Python: a second thread runs them while PostgreSQL works on
    the segment queries (psycopg2 lets go of the GIL while it waits), so the two overlap instead of adding up;
    likewise the segment rules run while the enterprises' and mines' results are written (two staging passes).
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="risk-rules") as pool:
        evaluated = pool.submit(evaluate_and_encode, gathered, mines, rules, today, mine_findings)
        seg_facts = gather_segments(conn, rules, srid=srid) if n_segments else {}
        seg_evaluated = pool.submit(evaluate_segments_and_encode, seg_facts, rules)
        enterprises, lines = evaluated.result()
        report.closed = close_vanished(conn, now=now, scope=scope)
        register_rules(conn, rules, now=now)
        written = save_by_kind(conn, rules, [*enterprises, *mines], now=now, register=False, lines=lines)
        segments, seg_lines = seg_evaluated.result()
        written.update(save_by_kind(conn, rules, segments, now=now, register=False, lines=seg_lines))
    return enterprises, segments, written


def evaluate_and_encode(gathered: EnterpriseData, mines: list[Assessment], rules: Rules, today: dt.date,
                        mine_findings: dict[int, list[Finding]]) -> tuple[list[Assessment], list[str]]:
    """The enterprise rules over gathered facts, and the stage lines of the enterprises and then the mines."""
    enterprises = evaluate_enterprises(gathered, rules, today=today, mine_findings=mine_findings)
    return enterprises, stage_lines([*enterprises, *mines])


def evaluate_segments_and_encode(facts: dict[int, SegmentFacts], rules: Rules) -> tuple[list[Assessment], list[str]]:
    """The segment rules over gathered facts, and their stage lines."""
    segments = evaluate_segments(facts, rules)
    return segments, stage_lines(segments)


def record(report: ComputeReport, kind: str, batch: list, written: dict[str, dict[str, int]]) -> None:
    """Counts of one kind in the report: assessed, history rows written, objects per level."""
    report.assessed[kind] = len(batch)
    report.written[kind] = written.get(kind, {"changed": 0, "new": 0, "unchanged": 0})
    counts: dict[str, int] = {}
    for a in batch:
        counts[a.level] = counts.get(a.level, 0) + 1
    report.levels[kind] = counts
