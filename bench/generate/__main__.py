"""`python -m bench.generate --scale N [--database NAME] [--seed S]`: write a synthetic county ×N and summarise it."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence

from bench.generate import (
    TABLE_LABELS,
    check_scale,
    database_size_mb,
    default_database_name,
    ensure_database,
    generate_county,
    load_profile,
    pipeline_km,
    target_url,
)
from geo.errors import RiskmapError


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.generate",
                                description="基准测试用合成县：按规模倍数 N 生成 ×N 县的全部数据（清空目标库后写入）")
    p.add_argument("--scale", type=float, default=1.0,
                   help="规模倍数 N：1 ≈ 1 万家企业、20 万栋建筑、1000 km 管道；可为小数，如 0.01（默认 1）")
    p.add_argument("--database", help="目标数据库名，默认 riskmap_x<N>（如 riskmap_x1、riskmap_x0_01），不存在则创建；"
                   "--counties 时为各县数据库名的前缀（默认 riskmap_p<N>，库名为 前缀_县区代码）")
    p.add_argument("--seed", type=int, default=1, help="随机种子，相同种子生成相同数据（默认 1）")
    p.add_argument("--steps", action="store_true", help="逐步打印各部分用时")
    p.add_argument("--force", action="store_true", help="允许写入 riskmap 当前使用的数据库（会清空其全部数据）")
    p.add_argument("--both", action="store_true",
                   help="在同一次运行中先后写入内置集群与标准 PostgreSQL（--stock-url），分别汇总")
    p.add_argument("--stock-url", default="postgresql://postgres@127.0.0.1:5432/postgres",
                   help="--both 时的标准 PostgreSQL 服务器（默认本机 5432 端口）")
    p.add_argument("--counties", type=int, metavar="N",
                   help="合成省：N 个相邻的合成县（各有县区代码、乡镇与数据库），管道跨县界；写出 province.toml")
    p.add_argument("--shards", metavar="URL", nargs="+",
                   help="--counties 时各县数据库所在的 PostgreSQL 服务器（轮流分配；缺省为当前服务器）")
    p.add_argument("--province-file", default="province.toml", help="--counties 时写出的省级配置（默认 province.toml）")
    return p


def province_main(args: argparse.Namespace) -> int:
    """--counties N: the synthetic province across the shards, then its province.toml."""
    from pathlib import Path

    from bench.generate.province import generate_province, province_file_text
    from geo.db import database_url

    shards = args.shards or [database_url()]
    prefix = args.database or default_database_name(args.scale).replace("riskmap_x", "riskmap_p")
    started = time.perf_counter()
    counties, counts, crossing = generate_province(args.counties, scale=args.scale, seed=args.seed,
                                                   shards=shards, prefix=prefix)
    Path(args.province_file).write_text(province_file_text(counties), encoding="utf-8")
    print(f"合成省：{len(counties)} 个县 ×{args.scale:g}，跨县界管道 {crossing} 条，用时 "
          f"{time.perf_counter() - started:.1f} 秒；省级配置已写入 {args.province_file}")
    for c in counties:
        n = counts[c.code]
        print(f"  {c.code} {c.name}（{c.city_name}）：企业 {n.get('enterprise', 0):,d}、建筑 {n.get('building', 0):,d}"
              f"、管道 {n.get('pipeline', 0):,d} 条 → {c.database.rsplit('@', 1)[-1]}")
    return 0


def servers(args: argparse.Namespace) -> dict[str, str | None]:
    """Label → server URL to write to (None: the server in force)."""
    if not args.both:
        return {"": None}
    from geo import cluster
    from geo.config import get_settings

    settings = get_settings()
    cluster.start(settings)
    return {"内置集群：": cluster.admin_url(settings, settings.db_name), "标准 PostgreSQL：": args.stock_url}


def summary_lines(counts: dict[str, int], *, km: float, seconds: float, size_mb: float, database: str,
                  scale: float, seed: int) -> list[str]:
    """The Chinese summary printed after a run."""
    lines = [f"合成县 ×{scale:g}（种子 {seed}）已写入数据库 {database}，用时 {seconds:.1f} 秒，数据库大小 {size_mb:.0f} MB"]
    width = max(len(v) for v in TABLE_LABELS.values())
    for table, n in counts.items():
        label = TABLE_LABELS.get(table, table)
        lines.append(f"  {label}{'　' * (width - len(label))}  {n:>10,d}")
    srid = load_profile()["frame"]["metric_srid"]
    lines.append(f"  管道总长（EPSG:{srid}，米制）  {km:,.1f} km")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.steps:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("  %(message)s"))
        logging.getLogger("bench.generate").addHandler(handler)
        logging.getLogger("bench.generate").setLevel(logging.INFO)
    try:
        check_scale(args.scale)
        if args.counties:
            return province_main(args)
        database = args.database or default_database_name(args.scale)
        for label, server in servers(args).items():
            engine = ensure_database(target_url(database, force=args.force, server=server))
            started = time.perf_counter()
            counts = generate_county(engine, scale=args.scale, seed=args.seed)
            seconds = time.perf_counter() - started
            with engine.connect() as conn:
                km = pipeline_km(conn, srid=load_profile()["frame"]["metric_srid"])
            size_mb = database_size_mb(engine)
            engine.dispose()
            lines = summary_lines(counts, km=km, seconds=seconds, size_mb=size_mb, database=database,
                                  scale=args.scale, seed=args.seed)
            print(label + "\n".join(lines))
    except RiskmapError as exc:
        print(f"错误 [{exc.code}]：{exc.message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
