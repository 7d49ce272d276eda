"""Benchmark: `riskmap backup` / `riskmap restore` against bare pg_dump / pg_restore on the same database.

    .venv/bin/python -m bench.backup [--database NAME] [--runs 3]

Source: NAME on the server in force (DATABASE_URL's or the embedded cluster's), default the database in force;
it is only read. Each run times, on the same file system and server:
  bare pg_dump -Fc | riskmap backup (adds the row counts in pg_dump's snapshot and the atomic rename);
  bare CREATE DATABASE + pg_restore --single-transaction into it | riskmap restore into a new database;
  riskmap restore over that existing database (empty it and refill it in one transaction).
Prints medians of the runs and riskmap's ratio to the bare programs; the restored row counts are checked
against the backup's. Databases it makes (<name>_bench_bare, <name>_bench_riskmap) are dropped at the end.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from psycopg2 import sql

from bench import servers
from geo.backup import (
    Target,
    _major,
    _server_version,
    backup_database,
    client_bindir,
    restore_database,
    target_in_force,
)


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _admin(target: Target, statement: sql.Composable) -> None:
    conn = target.connect()
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
    finally:
        conn.close()


def _drop(server: Target, name: str) -> None:
    _admin(server, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _run(cmd: list[str], target: Target) -> None:
    res = subprocess.run(cmd, env=target.env(), capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise SystemExit(f"{cmd[0]} 失败：{res.stderr.strip()}")


def _measure(args: argparse.Namespace, report: servers.Report, server: str) -> None:
    """One server's backup and restore figures (the server in force), printed and added to the report."""
    in_force = target_in_force()
    source = in_force.with_database(args.database) if args.database else in_force
    conn = source.connect()
    version = _server_version(conn)
    conn.close()
    bindir = client_bindir(_major(version))
    bare_db, riskmap_db = f"{source.database}_bench_bare", f"{source.database}_bench_riskmap"
    times: dict[str, list[float]] = {k: [] for k in (
        "bare_dump", "riskmap_backup", "bare_restore_new", "riskmap_restore_new", "riskmap_restore_replace")}
    size_mb = 0.0
    rows = 0
    with tempfile.TemporaryDirectory(prefix="riskmap-bench-backup-") as tmp:
        bare_file, riskmap_file = Path(tmp) / "bare.dump", Path(tmp) / "riskmap.dump"
        try:
            for i in range(args.runs):
                for name in (bare_db, riskmap_db):
                    _drop(source, name)
                times["bare_dump"].append(_timed(lambda: _run(
                    [str(bindir / "pg_dump"), "--format=custom", "--file", str(bare_file)], source)))
                result = None

                def backup() -> None:
                    nonlocal result
                    result = backup_database(riskmap_file, target=source)

                times["riskmap_backup"].append(_timed(backup))
                assert result is not None
                size_mb, rows = result.size_bytes / 2**20, sum(result.row_counts.values())

                def bare_restore() -> None:
                    _admin(source, sql.SQL("CREATE DATABASE {}").format(sql.Identifier(bare_db)))
                    _run([str(bindir / "pg_restore"), "--no-owner", "--single-transaction", "--exit-on-error",
                          "--dbname", bare_db, str(bare_file)], source.with_database(bare_db))

                times["bare_restore_new"].append(_timed(bare_restore))
                for key in ("riskmap_restore_new", "riskmap_restore_replace"):
                    restored = None

                    def restore() -> None:
                        nonlocal restored
                        restored = restore_database(riskmap_file, database=riskmap_db, target=source)

                    times[key].append(_timed(restore))
                    assert restored is not None, "恢复失败"
                    # the restore adds its own bulk audit entries (one per table), so audit_log has more rows
                    same = {k: v for k, v in restored.row_counts.items() if k != "audit_log"}
                    assert same == {k: v for k, v in result.row_counts.items() if k != "audit_log"}, "行数不一致"
                    assert restored.row_counts.get("audit_log", 0) >= result.row_counts.get("audit_log", 0)
                done = "，".join(f"{k} {v[-1]:.2f} s" for k, v in times.items())
                print(f"第 {i + 1} 轮：{done}", flush=True)
        finally:
            for name in (bare_db, riskmap_db):
                _drop(source, name)

    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"\n数据库 {source.database}：{rows:,} 行，备份文件 {size_mb:.1f} MB，PostgreSQL {version}，"
          f"{args.runs} 轮中位数")
    print(f"  备份  bare pg_dump -Fc        {med['bare_dump']:7.2f} s")
    print(f"        riskmap backup          {med['riskmap_backup']:7.2f} s  "
          f"({med['riskmap_backup'] / med['bare_dump']:.2f}× bare)")
    print(f"  恢复  bare pg_restore（新库）  {med['bare_restore_new']:7.2f} s")
    print(f"        riskmap restore（新库）  {med['riskmap_restore_new']:7.2f} s  "
          f"({med['riskmap_restore_new'] / med['bare_restore_new']:.2f}× bare)")
    print(f"        riskmap restore（覆盖）  {med['riskmap_restore_replace']:7.2f} s  "
          f"({med['riskmap_restore_replace'] / med['bare_restore_new']:.2f}× bare)")
    report.add(server, "bare pg_dump -Fc", f"{med['bare_dump']:.2f}")
    report.add(server, "riskmap backup", f"{med['riskmap_backup']:.2f}（{med['riskmap_backup'] / med['bare_dump']:.2f}×）")
    report.add(server, "bare pg_restore（新库）", f"{med['bare_restore_new']:.2f}")
    for key, name in (("riskmap_restore_new", "riskmap restore（新库）"),
                      ("riskmap_restore_replace", "riskmap restore（覆盖）")):
        report.add(server, name, f"{med[key]:.2f}（{med[key] / med['bare_restore_new']:.2f}×）")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="riskmap backup / restore 与裸 pg_dump / pg_restore 的耗时比")
    ap.add_argument("--database", help="被备份的数据库（缺省为当前数据库），只读")
    ap.add_argument("--runs", type=int, default=3)
    servers.add_arguments(ap)
    args = ap.parse_args(argv)
    report = servers.Report(f"备份与恢复（{args.runs} 轮中位数，秒；括号内为与裸 pg_dump/pg_restore 之比）")

    for server in servers.each(args):
        _measure(args, report, server)
    report.print()


if __name__ == "__main__":
    main()
