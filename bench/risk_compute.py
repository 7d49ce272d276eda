"""Benchmark: full risk recompute of a scale county, and the ratio to the same spatial queries run bare.

    .venv/bin/python -m bench.risk_compute --scale 1 [--runs 3] [--database NAME] [--generate]
    .venv/bin/python -m bench.risk_compute --scale 1 --both [--stock-url URL] [--stock-database NAME]

Each run empties the risk tables (history, rules versions, segments) and recomputes the whole county in one
transaction, recording every SQL statement it sends (its twin connection's too: geo.snapshot). The "bare" pass
then replays, in the same run and one after another on one connection, only the spatial statements (scope,
segmentation, every distance/area/window query, the roll-up joins) with the same parameters, without the rules in
Python or the history writes, and rolls back. Ratio = compute / bare.
Medians over the runs are printed (seconds, wall clock), with the CPU seconds (user + system) of the server
backends that ran them (Linux, server on this machine): steadier than wall time on a shared machine; and the CPU
seconds of this process during the compute (the rules in Python, JSON, the staging COPY: client CPU).
`--both` runs the embedded cluster and a stock PostgreSQL (`--stock-url`, default settings: work_mem 4 MB, jit
on) in turn within each run, so both columns share the machine's load, and prints stock / embedded.
Targets (issue 12): ×1 ≤ 5 s embedded, stock ≤ 1.5 × embedded, ratio to bare ≤ 1.5.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, text

# Statements that belong to storing results, or to sharing the run's snapshot with its twin connection
# (geo.snapshot), not to the spatial work.
STORE_PREFIXES = ("COPY RISK_STAGE", "CREATE TEMP TABLE RISK_STAGE", "ANALYZE RISK_STAGE", "DROP TABLE RISK_STAGE",
                  "DROP TABLE IF EXISTS RISK_STAGE", "UPDATE RISK_ASSESSMENT", "INSERT INTO RISK_ASSESSMENT",
                  "INSERT INTO RISK_RULES_VERSION", "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ; SET TRANSACTION SNAPSHOT")


def is_store_statement(statement: str) -> bool:
    """True for the history/staging and snapshot-sharing statements (excluded from the bare spatial pass)."""
    head = " ".join(statement.split()).upper()
    return head.startswith(STORE_PREFIXES) or "PG_EXPORT_SNAPSHOT()" in head


def backend_cpu_s(pid: int | None) -> float:
    """CPU seconds (user + system) the server process `pid` has used so far; NaN when it is not on this machine."""
    if pid is None:
        return float("nan")
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def backend_pid(conn: Any) -> int | None:
    """The server process id of a SQLAlchemy connection (psycopg2 knows it: no statement sent)."""
    try:
        return int(conn.connection.dbapi_connection.get_backend_pid())
    except AttributeError:
        return None


def empty_risk_tables(engine: Engine) -> None:
    """Empty the risk tables and analyse them empty (outside the timed run).

    Without the ANALYZE, autovacuum analysed them at random moments, once in the middle of a run (pages written,
    no row committed yet: density 0), and the next run planned its joins over "empty" tables that held 10,000
    rows — nested loops over pipeline_segment for 2 s. Analysed here, the change counter starts at zero, so
    autovacuum does not strike during the run, and the planner sizes the tables by their pages.
    """
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE risk_assessment, risk_rules_version, pipeline_segment RESTART IDENTITY"))
    with engine.begin() as conn:
        conn.execute(text("ANALYZE risk_assessment, risk_rules_version, pipeline_segment"))


def timed_compute(engine: Engine
                  ) -> tuple[float, float, float, list[tuple[str, Any]], dict[str, int]]:
    """One full recompute (committed); returns seconds, backend CPU seconds (every backend the run used: the run's
    own and its twin's), client (this process's) CPU seconds, the statements sent, and objects assessed per kind."""
    from geo.risk import compute

    sent: list[tuple[str, Any]] = []
    cpu_at_start: dict[int | None, float] = {}

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        pid = backend_pid(conn)
        if pid not in cpu_at_start:  # a backend's first statement of the run: its CPU so far is not the run's
            cpu_at_start[pid] = backend_cpu_s(pid)
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        t0, client0 = time.perf_counter(), time.process_time()
        with engine.begin() as conn:
            report = compute(conn)
        seconds, client = time.perf_counter() - t0, time.process_time() - client0
        cpu = sum(backend_cpu_s(pid) - cpu0 for pid, cpu0 in cpu_at_start.items())
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seconds, cpu, client, sent, report.assessed


def timed_bare(engine: Engine, statements: list[tuple[str, Any]]) -> tuple[float, float]:
    """Replay the spatial statements alone, fetching every row, then roll back; returns seconds and backend CPU s."""
    spatial = [(s, p) for s, p in statements if not is_store_statement(s)]
    raw = engine.raw_connection()
    try:
        pid = raw.dbapi_connection.get_backend_pid()  # type: ignore[union-attr]
        cur = raw.cursor()
        cpu0 = backend_cpu_s(pid)
        t0 = time.perf_counter()
        for statement, params in spatial:
            cur.execute(statement, params)
            if cur.description is not None:
                cur.fetchall()
        seconds = time.perf_counter() - t0
        cpu = backend_cpu_s(pid) - cpu0
        raw.rollback()
    finally:
        raw.close()
    return seconds, cpu


def run(engines: dict[str, Engine], *, runs: int) -> dict[str, dict[str, Any]]:
    """`runs` × (for each server in turn: empty, compute, bare replay); medians per server and the assessed counts."""
    got: dict[str, dict[str, list[float]]] = {
        label: {"compute": [], "bare": [], "compute_cpu": [], "client_cpu": [], "bare_cpu": []} for label in engines}
    assessed: dict[str, dict[str, int]] = {}
    for i in range(runs):
        for label, engine in engines.items():
            empty_risk_tables(engine)
            seconds, cpu, client, sent, assessed[label] = timed_compute(engine)
            bare, bare_cpu = timed_bare(engine, sent)
            for key, value in (("compute", seconds), ("bare", bare), ("compute_cpu", cpu),
                               ("client_cpu", client), ("bare_cpu", bare_cpu)):
                got[label][key].append(value)
            print(f"  第 {i + 1} 次{label}：全量计算 {seconds:.2f} 秒（服务端 CPU {cpu:.2f} 秒，客户端 CPU {client:.2f} 秒），"
                  f"同样的空间查询单独运行 {bare:.2f} 秒（CPU {bare_cpu:.2f} 秒），比值 {seconds / bare:.2f}；"
                  f"负载 {load_average()}", flush=True)
    out = {}
    for label, g in got.items():
        med = {k: statistics.median(v) for k, v in g.items()}
        med["ratio"] = med["compute"] / med["bare"]
        med["run_ratio"] = statistics.median(c / b for c, b in zip(g["compute"], g["bare"]))
        med["runs"] = g  # type: ignore[assignment]
        med["assessed"] = assessed[label]  # type: ignore[assignment]
        out[label] = med
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.risk_compute", description="风险全量计算基准")
    p.add_argument("--scale", type=float, default=1.0, help="合成县规模倍数（默认 1）")
    p.add_argument("--database", help="数据库名（默认 riskmap_x<N>，与 bench.generate 相同）")
    p.add_argument("--generate", action="store_true", help="先用 bench.generate 写入合成县（会清空该库）")
    p.add_argument("--runs", type=int, default=3, help="重复次数，取中位数（默认 3）")
    p.add_argument("--both", action="store_true", help="内置集群与标准 PostgreSQL（--stock-url）在同一次运行中轮流对比")
    p.add_argument("--stock-url", default="postgresql://postgres@127.0.0.1:5432/postgres",
                   help="--both 时的标准 PostgreSQL 服务器（默认本机 5432 端口，缺省设置）")
    p.add_argument("--stock-database", help="--both 时标准服务器上的数据库名（默认与 --database 相同）")
    args = p.parse_args(argv)
    from bench.generate import default_database_name, generate_county

    name = args.database or default_database_name(args.scale)
    engines = bench_engines(name, both=args.both, stock_url=args.stock_url,
                            stock_database=args.stock_database or name)
    for label, engine in engines.items():
        if args.generate:
            generate_county(engine, scale=args.scale, seed=1)
        if not use_county(engine):
            print(f"{label}数据库 {engine.url.database} 中没有县界；请加 --generate 或先运行 "
                  f"python -m bench.generate --scale {args.scale:g}", file=sys.stderr)
            return 2
    print(f"风险全量计算基准：合成县 ×{args.scale:g}（" +
          "，".join(f"{label}数据库 {e.url.database}" for label, e in engines.items()) +
          f"），{args.runs} 次取中位数；负载 {load_average()}", flush=True)
    results = run(engines, runs=args.runs)
    for label, r in results.items():
        counts = "，".join(f"{k} {v}" for k, v in r["assessed"].items())
        print(f"{label}评估对象：{counts}")
        print(f"{label}中位数：全量计算 {r['compute']:.2f} 秒（服务端 CPU {r['compute_cpu']:.2f} 秒，"
              f"客户端 CPU {r['client_cpu']:.2f} 秒）；"
              f"空间查询单独运行 {r['bare']:.2f} 秒（CPU {r['bare_cpu']:.2f} 秒）；"
              f"比值 {r['ratio']:.2f}（CPU 比值 {r['compute_cpu'] / r['bare_cpu']:.2f}，各次比值的中位数 "
              f"{r['run_ratio']:.2f}；目标 ×1 ≤ 5 秒、比值 ≤ 1.5）")
    if len(results) == 2:
        emb, stock = results.values()
        print(f"标准 / 内置：全量计算 {stock['compute'] / emb['compute']:.2f} 倍（CPU "
              f"{stock['compute_cpu'] / emb['compute_cpu']:.2f} 倍；目标 ≤ 1.5）")
    print(f"结束时负载 {load_average()}")
    return 0


EMBEDDED, STOCK, IN_FORCE = "内置集群", "标准 PostgreSQL", ""


def bench_engines(name: str, *, both: bool, stock_url: str, stock_database: str) -> dict[str, Engine]:
    """Label → engine on the benchmark database: the server in force, or (`both`) the embedded cluster and the
    stock server."""
    from bench.generate import ensure_database, target_url

    if not both:
        return {IN_FORCE: ensure_database(target_url(name))}
    from geo import cluster
    from geo.config import get_settings

    settings = get_settings()
    cluster.start(settings)
    return {EMBEDDED: ensure_database(target_url(name, server=cluster.admin_url(settings, settings.db_name))),
            STOCK: ensure_database(target_url(stock_database, server=stock_url))}


def use_county(engine: Engine) -> bool:
    """Point the settings at the county of the benchmark database (False when it has none)."""
    from geo.config import get_settings

    with engine.connect() as conn:
        code = conn.execute(text("SELECT code FROM county ORDER BY code LIMIT 1")).scalar()
    if code is None:
        return False
    os.environ["RISKMAP_COUNTY_CODE"] = str(code)
    get_settings.cache_clear()
    return True


def load_average() -> str:
    """The 1/5/15-minute load averages, for quoting with every figure."""
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
