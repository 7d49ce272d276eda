"""Benchmark: one edit, then `riskmap risk compute --changed`, on a scale county (issue 12: ≤ 100 ms on ×1).

    .venv/bin/python -m bench.risk_changed --scale 1 [--runs 5] [--database NAME] [--profile FILE]
    .venv/bin/python -m bench.risk_changed --scale 1 --both [--stock-url URL] [--stock-database NAME]

For each edit kind — one enterprise (its name), one building near a hazardous-chemicals enterprise (its floors),
one inventory line (its quantity), and, as the heavier case, a house within 200 m of a pipeline (every segment
whose 2 km class-location windows can hold it is reassessed) —
each run commits the edit, then times what `riskmap risk compute --changed` does after loading the rules: find
the changed scope (geo/risk/changes.py) and recompute it (geo.risk.compute), in one committed transaction.
Compared in the same run with
  - bare: the statements that run sent, replayed alone through the driver (no Python rules, no history writes;
    rolled back), i.e. the SQL the work needs;
  - naive: recomputing the edited object's whole township (`riskmap risk compute --township`), what a bureau
    would do without `--changed`.
Medians over the runs are printed (milliseconds, wall clock, and the CPU milliseconds, user + system, of the
server backend of the --changed run), with compute / bare and naive / compute. `--both` runs each edit kind on
the embedded cluster and then on a stock PostgreSQL (`--stock-url`, default settings) and prints both.
`--profile FILE` writes a cProfile of the last --changed run of each kind (FILE.<kind>.prof).
"""

from __future__ import annotations

import argparse
import cProfile
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, event, text

from bench.risk_compute import (
    STOCK,
    backend_cpu_s,
    backend_pid,
    bench_engines,
    is_store_statement,
    load_average,
    use_county,
)

# One edit per kind: (label, SQL picking the row, SQL changing it). The change flips back and forth so that
# every run really changes something (and the trigger moves updated_at).
EDITS: dict[str, tuple[str, str, str]] = {
    "enterprise": ("一家企业（改名称）",
                   "SELECT id FROM enterprise WHERE category = 'hazchem' ORDER BY id LIMIT 1 OFFSET 7",
                   "UPDATE enterprise SET name = CASE WHEN name LIKE '%（改）' THEN left(name, -3) "
                   "ELSE name || '（改）' END WHERE id = :id"),
    "building": ("一栋建筑（危化企业 500 m 内、离管道 1 km 以上，改层数）",
                 "SELECT b.id FROM building b JOIN enterprise e ON ST_DWithin(e.geom, b.geom, 0.004) "
                 "WHERE e.category = 'hazchem' AND b.use_class = 'residential' AND NOT EXISTS "
                 "(SELECT 1 FROM pipeline p WHERE ST_DWithin(p.geom, b.geom, 0.012)) ORDER BY b.id LIMIT 1",
                 "UPDATE building SET floors = CASE WHEN floors > 1 THEN floors - 1 ELSE floors + 1 END WHERE id = :id"),
    "building_by_line": ("一栋住宅（管道中心线 200 m 内，改层数：2 km 地区等级窗口内的管段都要重算）",
                         "SELECT b.id FROM building b JOIN pipeline p ON ST_DWithin(p.geom, b.geom, 0.0015) "
                         "WHERE b.use_class = 'residential' ORDER BY b.id LIMIT 1",
                         "UPDATE building SET floors = CASE WHEN floors > 1 THEN floors - 1 ELSE floors + 1 END "
                         "WHERE id = :id"),
    "inventory": ("一条危化品储量（改数量）",
                  "SELECT id FROM chemical_inventory ORDER BY id LIMIT 1 OFFSET 11",
                  "UPDATE chemical_inventory SET max_quantity_t = CASE WHEN max_quantity_t = :orig THEN :orig * 0.5 "
                  "ELSE :orig END WHERE id = :id"),
}

# The value an edit toggles from and back to (so that an even number of edits leaves the county as generated).
ORIGINAL_OF = {"inventory": "SELECT max_quantity_t FROM chemical_inventory WHERE id = :id"}

TOWNSHIP_OF = {
    "enterprise": "SELECT t.code FROM enterprise e JOIN township t ON ST_Intersects(t.geom, e.geom) WHERE e.id = :id",
    "building": "SELECT t.code FROM building b JOIN township t ON ST_Intersects(t.geom, ST_Centroid(b.geom)) "
                "WHERE b.id = :id",
    "building_by_line": "SELECT t.code FROM building b JOIN township t ON ST_Intersects(t.geom, ST_Centroid(b.geom)) "
                        "WHERE b.id = :id",
    "inventory": "SELECT t.code FROM chemical_inventory c JOIN enterprise e ON e.id = c.enterprise_id "
                 "JOIN township t ON ST_Intersects(t.geom, e.geom) WHERE c.id = :id",
}


def ensure_assessed(engine: Engine) -> None:
    """A first full compute when the county has no current levels yet (--changed needs a previous run)."""
    from geo.risk import compute

    with engine.begin() as conn:
        if conn.execute(text("SELECT count(*) FROM risk_assessment WHERE valid_to IS NULL")).scalar():
            return
        print("  尚无风险等级：先全量计算一次 …")
        compute(conn)


def changed_run(engine: Engine, rules: Any, *, profile: cProfile.Profile | None = None
                ) -> tuple[float, float, float, list[tuple[str, Any]], dict[str, int]]:
    """What `risk compute --changed` does after loading rules; returns (scope s, total s, backend CPU s,
    statements, assessed)."""
    from geo.county import metric_srid
    from geo.risk import compute
    from geo.risk.changes import changed_scope, last_computed_at

    sent: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        if profile:
            profile.enable()
        t0 = time.perf_counter()
        with engine.begin() as conn:
            pid = backend_pid(conn)
            cpu0 = backend_cpu_s(pid)
            since = last_computed_at(conn)
            scope = changed_scope(conn, rules, since=since, srid=metric_srid(conn))
            t1 = time.perf_counter()
            report = compute(conn, scope=scope, rules=rules)
        t2 = time.perf_counter()
        cpu = backend_cpu_s(pid) - cpu0
        if profile:
            profile.disable()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return t1 - t0, t2 - t0, cpu, sent, report.assessed


def bare(engine: Engine, statements: list[tuple[str, Any]]) -> float:
    """Replay the statements of a run (less the history writes) through the driver, then roll back."""
    work = [(s, p) for s, p in statements if not is_store_statement(s)]
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        t0 = time.perf_counter()
        for statement, params in work:
            cur.execute(statement, params)
            if cur.description is not None:
                cur.fetchall()
        seconds = time.perf_counter() - t0
        raw.rollback()
    finally:
        raw.close()
    return seconds


def township_run(engine: Engine, rules: Any, code: str) -> float:
    """The naive alternative: recompute the edited object's township."""
    from geo.risk import Scope, compute
    from geo.risk.scope import township_id_for

    t0 = time.perf_counter()
    with engine.begin() as conn:
        compute(conn, scope=Scope(township_id=township_id_for(conn, code)), rules=rules)
    return time.perf_counter() - t0


def run_kind(engine: Engine, rules: Any, kind: str, *, runs: int, profile_to: str | None) -> dict[str, Any]:
    """`runs` × (edit, --changed, bare replay) and one naive township run for one edit kind."""
    label, pick, change = EDITS[kind]
    with engine.connect() as conn:
        row_id = conn.execute(text(pick)).scalar_one()
        code = conn.execute(text(TOWNSHIP_OF[kind]), {"id": row_id}).scalar_one()
        orig = conn.execute(text(ORIGINAL_OF[kind]), {"id": row_id}).scalar_one() if kind in ORIGINAL_OF else None
    params = {"id": row_id, "orig": orig}
    scopes, totals, cpus, bares = [], [], [], []
    assessed: dict[str, int] = {}
    for i in range(runs):
        with engine.begin() as conn:
            conn.execute(text(change), params)
        prof = cProfile.Profile() if profile_to and i == runs - 1 else None
        scope_s, total_s, cpu_s, sent, assessed = changed_run(engine, rules, profile=prof)
        if prof:
            prof.dump_stats(f"{profile_to}.{kind}.prof")
        scopes.append(scope_s)
        totals.append(total_s)
        cpus.append(cpu_s)
        bares.append(bare(engine, sent))
    with engine.begin() as conn:
        conn.execute(text(change), params)
    naive = township_run(engine, rules, code)
    with engine.begin() as conn:  # leave nothing pending for the next kind
        from geo.county import metric_srid
        from geo.risk import compute
        from geo.risk.changes import changed_scope, last_computed_at
        compute(conn, scope=changed_scope(conn, rules, since=last_computed_at(conn), srid=metric_srid(conn)),
                rules=rules)
    total, b = statistics.median(totals), statistics.median(bares)
    return {"label": label, "id": row_id, "scope_ms": statistics.median(scopes) * 1000, "total_ms": total * 1000,
            "cpu_ms": statistics.median(cpus) * 1000, "runs_ms": [round(t * 1000) for t in totals],
            "bare_ms": b * 1000, "naive_ms": naive * 1000, "assessed": assessed}


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.risk_changed", description="改一条数据后 --changed 重算的基准")
    p.add_argument("--scale", type=float, default=1.0, help="合成县规模倍数（默认 1）")
    p.add_argument("--database", help="数据库名（默认 riskmap_x<N>，与 bench.generate 相同）")
    p.add_argument("--runs", type=int, default=5, help="每种修改重复次数，取中位数（默认 5）")
    p.add_argument("--kinds", nargs="+", choices=list(EDITS), default=list(EDITS))
    p.add_argument("--profile", metavar="FILE", help="把每种修改最后一次运行的 cProfile 写到 FILE.<kind>.prof")
    p.add_argument("--both", action="store_true", help="内置集群与标准 PostgreSQL（--stock-url）在同一次运行中对比")
    p.add_argument("--stock-url", default="postgresql://postgres@127.0.0.1:5432/postgres",
                   help="--both 时的标准 PostgreSQL 服务器（默认本机 5432 端口，缺省设置）")
    p.add_argument("--stock-database", help="--both 时标准服务器上的数据库名（默认与 --database 相同）")
    args = p.parse_args(argv)

    from bench.generate import default_database_name
    from geo.risk import load_rules

    name = args.database or default_database_name(args.scale)
    engines = bench_engines(name, both=args.both, stock_url=args.stock_url,
                            stock_database=args.stock_database or name)
    for label, engine in engines.items():
        if not use_county(engine):
            print(f"{label}数据库 {engine.url.database} 中没有县界；请先运行 python -m bench.generate "
                  f"--scale {args.scale:g}", file=sys.stderr)
            return 2
    rules = load_rules()
    print(f"--changed 重算基准：合成县 ×{args.scale:g}（" +
          "，".join(f"{label}数据库 {e.url.database}" for label, e in engines.items()) +
          f"），每种修改 {args.runs} 次取中位数；负载 {load_average()}", flush=True)
    for engine in engines.values():
        ensure_assessed(engine)
    for kind in args.kinds:
        for label, engine in engines.items():
            profile_to = f"{args.profile}{'.stock' if label == STOCK else ''}" if args.profile else None
            r = run_kind(engine, rules, kind, runs=args.runs, profile_to=profile_to)
            counts = "，".join(f"{k} {v}" for k, v in r["assessed"].items())
            print(f"{label}{r['label']}（id {r['id']}）：--changed 共 {r['total_ms']:.0f} ms（其中找变动范围 "
                  f"{r['scope_ms']:.0f} ms；服务端 CPU {r['cpu_ms']:.0f} ms；各次 {r['runs_ms']}）；"
                  f"同样的语句单独运行 {r['bare_ms']:.0f} ms，比值 {r['total_ms'] / r['bare_ms']:.2f}；"
                  f"重算所在乡镇 {r['naive_ms']:.0f} ms（慢 {r['naive_ms'] / r['total_ms']:.1f} 倍）", flush=True)
            print(f"    重算对象：{counts}")
    print(f"结束时负载 {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
