"""One compute run: scope → segmentation → mines → enterprises → segments → grid cells and townships → history.

A county or township run spreads over the machine's cores: a twin connection (geo.snapshot) reads what none of the
run's own writes feed — the plants' surroundings, the mines' zones and blasting — while the main connection
segments the pipelines and gathers the segments' facts, and a thread applies the rules in Python meanwhile.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from sqlalchemy import Connection

from geo.db import tune_for_heavy_work
from geo.risk.enterprise import (
    EnterpriseData,
    Surroundings,
    evaluate_enterprises,
    gather_enterprises,
    gather_surroundings,
)
from geo.risk.findings import Assessment, Finding, county_srid
from geo.risk.mine import MineSites, assess_mines, evaluate_mines, mine_pipeline_findings, mine_sites
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
from geo.snapshot import share_snapshot, twin_connection
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
    # A run by ids is too small to gain from a second connection; a caller's transaction that has written cannot
    # share its snapshot, and a server may have no second connection to give: all read everything on this one.
    shared = None if scope.by_ids else share_snapshot(conn)
    with twin_connection(conn, shared) as twin_conn, \
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="risk-twin") as twin_pool:
        twin = twin_pool.submit(read_on_twin, twin_conn, scope, rules, srid) if twin_conn is not None else None
        create_object_scope(conn, scope)
        if scope.by_ids:
            remember_segments(conn)
        if not scope.by_ids or scope.pipeline_ids:  # a run by ids re-segments only the pipelines it names
            segment_pipelines(conn, rules, srid=srid)
        n_segments = create_segment_scope(conn, scope)
        if twin is None:
            mines, mine_findings = assess_mines(conn, rules, srid=srid)
            gathered = gather_enterprises(conn, rules, srid=srid, today=today)
        if scope.by_ids:  # a small run (--changed): rules in line, one staging pass (fewest round trips)
            enterprises = evaluate_enterprises(gathered, rules, today=today, mine_findings=mine_findings)
            segments = evaluate_segments(gather_segments(conn, rules, srid=srid, small=True),
                                         rules) if n_segments else []
            remember_rollup_inputs(conn, scope)  # a --changed run rolls up only the areas whose objects' inputs moved
            report.closed = close_vanished(conn, now=now, scope=scope)
            register_rules(conn, rules, now=now)
            written = save_by_kind(conn, rules, [*enterprises, *mines, *segments], now=now, register=False)
        else:
            if twin is None:
                first = Future[PlantsAndMines]()
                first.set_result(PlantsAndMines(gathered, mines, mine_findings))
            else:  # the twin's part, completed on this connection with what reads the run's new segments
                first = twin_pool.submit(complete_on_main, twin, mine_pipeline_findings(conn, rules, srid=srid),
                                         gather_enterprises(conn, rules, srid=srid, today=today,
                                                            read_surroundings=False), rules)
            enterprises, mines, segments, written = overlapped(conn, rules, scope, report, first=first,
                                                               n_segments=n_segments, srid=srid, today=today,
                                                               now=now)
    for kind, batch in (("enterprise", enterprises), ("mine", mines), ("pipeline_segment", segments)):
        record(report, kind, batch, written)
    create_area_scope(conn, scope)
    areas = assess_areas(conn, rules, srid=srid, scoped=not scope.is_full)
    written = save_by_kind(conn, rules, areas, now=now, register=False)
    for kind in ("grid_cell", "township"):
        record(report, kind, [a for a in areas if a.kind == kind], written)
    return report


@dataclass
class TwinReads:
    """What the twin connection reads: the plants' surroundings and the mines with their site findings."""

    surroundings: Surroundings
    mines: MineSites


@dataclass
class PlantsAndMines:
    """The enterprises' facts and the assessed mines, with the mine findings that raise their owners' levels."""

    enterprises: EnterpriseData
    mines: list[Assessment]
    mine_findings: dict[int, list[Finding]]


def read_on_twin(twin: Connection, scope: Scope, rules: Rules, srid: int) -> TwinReads:
    """gather_surroundings and mine_sites on the run's twin connection (same snapshot, role and settings), with its
    own scope tables."""
    tune_for_heavy_work(twin)
    create_object_scope(twin, scope)
    return TwinReads(surroundings=gather_surroundings(twin, rules, srid=srid), mines=mine_sites(twin, rules, srid=srid))


def complete_on_main(twin: Future[TwinReads], mine_pipelines: dict[int, list[Finding]], gathered: EnterpriseData,
                     rules: Rules) -> PlantsAndMines:
    """The twin's reads joined with the main connection's (mines near the run's segments, the enterprises' own
    facts): the mines assessed, the enterprises' facts complete."""
    reads = twin.result()
    gathered.persons, gathered.targets = reads.surroundings
    mines, mine_findings = evaluate_mines(reads.mines, mine_pipelines, rules)
    return PlantsAndMines(gathered, mines, mine_findings)


def overlapped(conn: Connection, rules: Rules, scope: Scope, report: ComputeReport, *, first: Future[PlantsAndMines],
               n_segments: int, srid: int, today: dt.date, now: dt.datetime
               ) -> tuple[list[Assessment], list[Assessment], list[Assessment], dict[str, dict[str, int]]]:
    """Segments and history of a county or township run, the rules in Python beside PostgreSQL's work.

    The enterprise and mine rules and their COPY text are pure Python: a second thread runs them (once `first` is
    ready) while PostgreSQL works on the segment queries (psycopg2 lets go of the GIL while it waits), so the two
    overlap instead of adding up; likewise the segment rules run while the enterprises' and mines' results are
    written (two staging passes).
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="risk-rules") as pool:
        evaluated = pool.submit(evaluate_and_encode, first, rules, today)
        seg_facts = gather_segments(conn, rules, srid=srid) if n_segments else {}
        seg_evaluated = pool.submit(evaluate_segments_and_encode, seg_facts, rules)
        enterprises, mines, lines = evaluated.result()
        report.closed = close_vanished(conn, now=now, scope=scope)
        register_rules(conn, rules, now=now)
        written = save_by_kind(conn, rules, [*enterprises, *mines], now=now, register=False, lines=lines)
        segments, seg_lines = seg_evaluated.result()
        written.update(save_by_kind(conn, rules, segments, now=now, register=False, lines=seg_lines))
    return enterprises, mines, segments, written


def evaluate_and_encode(first: Future[PlantsAndMines], rules: Rules, today: dt.date
                        ) -> tuple[list[Assessment], list[Assessment], list[str]]:
    """The enterprise rules over gathered facts, and the stage lines of the enterprises and then the mines."""
    got = first.result()
    enterprises = evaluate_enterprises(got.enterprises, rules, today=today, mine_findings=got.mine_findings)
    return enterprises, got.mines, stage_lines([*enterprises, *got.mines])


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
