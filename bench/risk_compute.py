"""Benchmark: full risk recompute of a scale county, and the ratio to the same spatial queries run bare.

    .venv/bin/python -m bench.risk_compute --scale 1 [--runs 3] [--database NAME] [--generate]

Each run empties the risk tables (history, rules versions, segments) and recomputes the whole county in one
transaction, recording every SQL statement it sends. The "bare" pass then replays, in the same run, only the
spatial statements (scope, segmentation, every distance/area/window query, the roll-up joins) with the same
parameters, without the rules in Python or the history writes, and rolls back. Ratio = compute / bare.
Medians over the runs are printed (seconds, wall clock). Targets (issue 3): ×1 < 10 s, ratio ≤ 1.5.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, event, text

# Statements that belong to storing results, not to the spatial work.
STORE_PREFIXES = ("COPY RISK_STAGE", "CREATE TEMP TABLE RISK_STAGE", "ANALYZE RISK_STAGE", "DROP TABLE RISK_STAGE",
                  "DROP TABLE IF EXISTS RISK_STAGE", "UPDATE RISK_ASSESSMENT", "INSERT INTO RISK_ASSESSMENT",
                  "INSERT INTO RISK_RULES_VERSION")


def is_store_statement(statement: str) -> bool:
    """True for the history/staging statements (excluded from the bare spatial pass)."""
    head = " ".join(statement.split()).upper()
    return head.startswith(STORE_PREFIXES)


def empty_risk_tables(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE risk_assessment, risk_rules_version, pipeline_segment RESTART IDENTITY"))


def timed_compute(engine: Engine) -> tuple[float, list[tuple[str, Any]], dict[str, int]]:
    """One full recompute (committed); returns seconds, the statements sent, and objects assessed per kind."""
    from geo.risk import compute

    sent: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        t0 = time.perf_counter()
        with engine.begin() as conn:
            report = compute(conn)
        seconds = time.perf_counter() - t0
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seconds, sent, report.assessed


def timed_bare(engine: Engine, statements: list[tuple[str, Any]]) -> float:
    """Replay the spatial statements alone, fetching every row, then roll back; returns seconds."""
    spatial = [(s, p) for s, p in statements if not is_store_statement(s)]
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        t0 = time.perf_counter()
        for statement, params in spatial:
            cur.execute(statement, params)
            if cur.description is not None:
                cur.fetchall()
        seconds = time.perf_counter() - t0
        raw.rollback()
    finally:
        raw.close()
    return seconds


def run(engine: Engine, *, runs: int) -> dict[str, Any]:
    """`runs` × (empty, compute, bare replay); medians and the assessed counts."""
    computes, bares = [], []
    assessed: dict[str, int] = {}
    for i in range(runs):
        empty_risk_tables(engine)
        seconds, sent, assessed = timed_compute(engine)
        bare = timed_bare(engine, sent)
        computes.append(seconds)
        bares.append(bare)
        print(f"  第 {i + 1} 次：全量计算 {seconds:.2f} 秒，同样的空间查询单独运行 {bare:.2f} 秒，比值 {seconds / bare:.2f}")
    med_c, med_b = statistics.median(computes), statistics.median(bares)
    ratios = [c / b for c, b in zip(computes, bares)]
    return {"compute_s": med_c, "bare_s": med_b, "ratio": med_c / med_b, "run_ratio": statistics.median(ratios),
            "assessed": assessed}


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.risk_compute", description="风险全量计算基准")
    p.add_argument("--scale", type=float, default=1.0, help="合成县规模倍数（默认 1）")
    p.add_argument("--database", help="数据库名（默认 riskmap_x<N>，与 bench.generate 相同）")
    p.add_argument("--generate", action="store_true", help="先用 bench.generate 写入合成县（会清空该库）")
    p.add_argument("--runs", type=int, default=3, help="重复次数，取中位数（默认 3）")
    args = p.parse_args(argv)

    from bench.generate import default_database_name, ensure_database, generate_county, target_url
    from geo.config import get_settings

    name = args.database or default_database_name(args.scale)
    engine = ensure_database(target_url(name))
    if args.generate:
        generate_county(engine, scale=args.scale, seed=1)
    with engine.connect() as conn:
        code = conn.execute(text("SELECT code FROM county ORDER BY code LIMIT 1")).scalar()
    if code is None:
        print(f"数据库 {name} 中没有县界；请加 --generate 或先运行 python -m bench.generate --scale {args.scale:g}",
              file=sys.stderr)
        return 2
    import os

    os.environ["RISKMAP_COUNTY_CODE"] = str(code)
    get_settings.cache_clear()
    print(f"风险全量计算基准：合成县 ×{args.scale:g}（数据库 {name}），{args.runs} 次取中位数")
    result = run(engine, runs=args.runs)
    counts = "，".join(f"{k} {v}" for k, v in result["assessed"].items())
    print(f"评估对象：{counts}")
    print(f"中位数：全量计算 {result['compute_s']:.2f} 秒；空间查询单独运行 {result['bare_s']:.2f} 秒；"
          f"比值 {result['ratio']:.2f}（各次比值的中位数 {result['run_ratio']:.2f}；目标 ×1 < 10 秒、比值 ≤ 1.5）")
    return 0


if __name__ == "__main__":
    sys.exit(main())
