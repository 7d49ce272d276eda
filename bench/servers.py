"""Run a benchmark against the embedded cluster and a stock PostgreSQL in one run (`--both`, issue 17).

Every benchmark that talks to a database takes the same two options, and runs its measurement once per server
with that server in force (DATABASE_URL set for the stock one, unset for the embedded cluster, settings cache
cleared), so code that asks for "the server in force" (geo.db.database_url, bench.generate.target_url,
geo.backup.target_in_force) finds the right one without knowing about this module:

    from bench import servers

    servers.add_arguments(parser)                         # --both, --stock-url
    args = parser.parse_args(argv)
    report = servers.Report("占压排查")
    for label in servers.each(args):                      # the server is in force inside the loop body
        found = measure(...)                               # what the bench did before, unchanged
        report.add(label, "riskmap 检查（秒）", f"{found.seconds:.3f}")
    report.print()                                        # one column per server, rows in the order added

Without `--both` the loop runs once on the server in force (label "当前"). `--stock-url` (default the
environment's RISKMAP_BENCH_STOCK_URL, else postgresql://postgres@127.0.0.1:5432/postgres) names the stock
server; the database part of it is ignored — each bench names its own database (on a shared server, give
--database a name of your own). Benches without a database (solver_scale, tsp_quality) say so:
`servers.no_database(args)` prints that `--both` changes nothing for them.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import make_url

EMBEDDED = "内置集群"
STOCK = "标准 PostgreSQL"
CURRENT = "当前"
DEFAULT_STOCK_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--both and --stock-url, the same in every benchmark."""
    parser.add_argument("--both", action="store_true",
                        help="在同一次运行中先后测内置集群与标准 PostgreSQL（--stock-url），两列对比")
    parser.add_argument("--stock-url", default=os.environ.get("RISKMAP_BENCH_STOCK_URL", DEFAULT_STOCK_URL),
                        help="--both 时的标准 PostgreSQL 服务器（默认本机 5432 端口；库名由各基准自定）")


def _psycopg2(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg2")
    return parsed.render_as_string(hide_password=False)


def server_urls(args: argparse.Namespace) -> dict[str, str | None]:
    """Label → server URL (None: the embedded cluster; {"当前": …} without --both: the server in force)."""
    if not getattr(args, "both", False):
        return {CURRENT: os.environ.get("DATABASE_URL")}
    return {EMBEDDED: None, STOCK: _psycopg2(args.stock_url)}


@contextmanager
def in_force(url: str | None) -> Iterator[None]:
    """Make `url` the server in force (None: the embedded cluster, started here) for the body, then restore."""
    from geo.config import get_settings

    saved = os.environ.get("DATABASE_URL")
    if url is None:
        os.environ.pop("DATABASE_URL", None)
    else:
        os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    try:
        if url is None:
            from geo import cluster

            cluster.start(get_settings())
        yield
    finally:
        if saved is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = saved
        get_settings.cache_clear()


def each(args: argparse.Namespace) -> Iterator[str]:
    """Yield each server's label with that server in force (one pass without --both)."""
    urls = server_urls(args)
    for label, url in urls.items():
        if len(urls) > 1:
            print(f"\n===== {label} =====", flush=True)
        if label == CURRENT:
            yield label
            continue
        with in_force(url):
            yield label


def url_of(database: str) -> str:
    """URL of `database` on the server in force (what target_url gives, without the generator's refusal)."""
    from geo.db import database_url

    return make_url(database_url()).set(database=database).render_as_string(hide_password=False)


def no_database(args: argparse.Namespace) -> None:
    """For a bench that never opens a database: --both is accepted and changes nothing."""
    if getattr(args, "both", False):
        print("（本基准不使用数据库 / no database：--both 不改变结果，两列相同）")


class Report:
    """Named figures per server, printed as one table with a column per server (Markdown, for bench/README)."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.columns: list[str] = []
        self.rows: dict[str, dict[str, str]] = {}

    def add(self, label: str, name: str, value: str) -> None:
        if label not in self.columns:
            self.columns.append(label)
        self.rows.setdefault(name, {})[label] = value

    def print(self) -> None:
        if not self.rows:
            return
        load = os.getloadavg()
        print(f"\n{self.title}（负载 load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}）")
        print("| 项目 | " + " | ".join(self.columns) + " |")
        print("|---|" + "---|" * len(self.columns))
        for name, cells in self.rows.items():
            print(f"| {name} | " + " | ".join(cells.get(c, "—") for c in self.columns) + " |")
