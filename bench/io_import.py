"""Benchmark: `riskmap import` of N building footprints (GeoPackage) and N enterprises (CSV ledger).

    .venv/bin/python -m bench.io_import [--rows 20000] [--runs 3] [--database riskmap_bench_io]
    .venv/bin/python -m bench.io_import --both [--stock-url postgresql://postgres@127.0.0.1:5432/postgres]
        (bench/servers.py: embedded cluster and stock server in one run, one column each)

Prints seconds (median of the runs) of geo.io.importer.import_file — read, map, validate (geometry
validity, county outline, duplicates, references, township by location) and write in one transaction —
and, from the same run, its ratio to the bare load a user would write without any checks
(geopandas.read_file + to_postgis into a scratch table). The database is created for the run and dropped.
The audit is on (an import is one bulk audit entry per table, migration 0017). `--both` measures the embedded
cluster and a stock PostgreSQL server (`--stock-url`) in the same run and prints them side by side.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from bench import servers
from geo import migrate
from geo.config import PROJECT_ROOT
from geo.county import upsert_county
from geo.db import database_url
from geo.io.importer import import_file
from geo.uscc import make_uscc

OUTLINE = PROJECT_ROOT / "data" / "boundaries" / "hequ_county_tianditu_cgcs2000.geojson"


def fresh_database(name: str, server: str | None = None) -> Engine:
    """Drop and create `name` on `server` (default: the one in force), migrated to head, with the 河曲县 outline."""
    base = make_url(server or database_url())
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = create_engine(base.set(database=name))
    migrate.upgrade(engine)
    outline = gpd.read_file(OUTLINE).geometry.iloc[0]
    with engine.begin() as conn:
        upsert_county(conn, code="140930", name="河曲县", wkb_hex=outline.wkb_hex, source="天地图县界")
    return engine


def drop_database(name: str, server: str | None = None) -> None:
    admin = create_engine(make_url(server or database_url()).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def write_files(folder: Path, rows: int, *, seed: int = 1) -> tuple[Path, Path, Path]:
    """Townships (a 4×4 grid clipped to the county), N small square buildings, an N-row enterprise CSV."""
    rng = np.random.default_rng(seed)
    outline = gpd.read_file(OUTLINE).geometry.iloc[0]
    cells = [shapely.box(111.11 + i * 0.125, 38.90 + j * 0.1375, 111.235 + i * 0.125, 39.0375 + j * 0.1375)
             .intersection(outline) for i in range(4) for j in range(4)]
    cells = [c for c in cells if c.area > 1e-6]
    towns = folder / "townships.gpkg"
    gpd.GeoDataFrame({"代码": [f"1409301{k:02d}" for k in range(len(cells))],
                      "名称": [f"示例镇{k}" for k in range(len(cells))]}, geometry=cells, crs=4490).to_file(towns)
    x, y = rng.uniform(111.25, 111.45, rows), rng.uniform(39.05, 39.30, rows)
    buildings = folder / "buildings.gpkg"
    gpd.GeoDataFrame({"建筑编号": [f"B{i}" for i in range(rows)], "用途": rng.choice(["住宅", "学校", "工业"], rows),
                      "层数": rng.integers(1, 20, rows)},
                     geometry=shapely.box(x, y, x + 0.0002, y + 0.0002), crs=4490).to_file(buildings)
    enterprises = folder / "enterprises.csv"
    with enterprises.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["统一社会信用代码", "企业名称", "行业类别", "经度", "纬度"])
        out.writerows([make_uscc(f"91140930MA{i:07d}"), f"示例企业{i}", "工贸", x[i], y[i]] for i in range(rows))
    return towns, buildings, enterprises


def interleaved_medians(ours: Callable[[], object], bare: Callable[[], object], *, runs: int,
                        before: Callable[[], object]) -> tuple[float, float]:
    """Median seconds of `ours` and of `bare`, run in turn (ours, bare, ours, …) so that both share the load."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for fn, out in ((ours, times[0]), (bare, times[1])):
            before()
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def measure(server: str, *, rows: int, runs: int, database: str) -> dict[str, tuple[float, float]]:
    """Per layer: median seconds of riskmap import and of the bare load, on `server`."""
    engine = fresh_database(database, server)
    out: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        towns, buildings, enterprises = write_files(Path(tmp), rows)
        import_file(engine, "township", towns)
        for layer, path in (("building", buildings), ("enterprise", enterprises)):
            def clear(layer: str = layer) -> None:
                # emptied and vacuumed, so every run imports into the table a first import meets (the bare side
                # replaces its table each run; without VACUUM ours would also carry the earlier runs' dead rows)
                with engine.begin() as conn:
                    conn.execute(text(f"DELETE FROM {layer}"))
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.execute(text(f"VACUUM {layer}"))

            def ours(layer: str = layer, path: Path = path) -> None:
                import_file(engine, layer, path)

            def bare(path: Path = path) -> None:
                frame = gpd.read_file(path)
                if "经度" in frame:
                    frame = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["经度"].astype(float),
                                                                                frame["纬度"].astype(float)), crs=4490)
                with engine.begin() as conn:
                    frame.to_postgis("bench_bare", conn, if_exists="replace")

            out[layer] = interleaved_medians(ours, bare, runs=runs, before=clear)
    engine.dispose()
    drop_database(database, server)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database", default="riskmap_bench_io")
    servers.add_arguments(parser)
    args = parser.parse_args(argv)
    report = servers.Report(f"riskmap import 与无校验 to_postgis 写入，{args.rows:,} 行，{args.runs} 次中位数")
    for label in servers.each(args):
        found = measure(database_url(), rows=args.rows, runs=args.runs, database=args.database)
        for layer in ("building", "enterprise"):
            t_ours, t_bare = found[layer]
            print(f"{layer}: {args.rows} 行 — riskmap import {t_ours:.2f} s（{args.rows / t_ours:,.0f} 行/秒），"
                  f"无校验直接写入 {t_bare:.2f} s，比值 {t_ours / t_bare:.2f}", flush=True)
            report.add(label, f"{layer} riskmap import / to_postgis（秒）",
                       f"{t_ours:.2f} / {t_bare:.2f}（{t_ours / t_bare:.2f}×）")
    report.print()


if __name__ == "__main__":
    main()
