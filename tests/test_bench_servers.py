"""bench/servers.py: `--both` makes each server the one in force for the bench's own code, then restores."""

from __future__ import annotations

import argparse
import os

from bench import servers
from geo.config import get_settings
from geo.db import database_url

STOCK = "postgresql://postgres@127.0.0.1:5432/postgres"


def test_in_force_points_the_settings_at_the_stock_server_and_restores_them() -> None:
    before_env, before_url = os.environ.get("DATABASE_URL"), get_settings().database_url
    with servers.in_force(servers._psycopg2(STOCK)):
        assert get_settings().database_url == "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
        assert database_url(start=False).startswith("postgresql+psycopg2://postgres@127.0.0.1:5432/")
        assert servers.url_of("stockbench_x1").endswith("/stockbench_x1")
    assert os.environ.get("DATABASE_URL") == before_env
    assert get_settings().database_url == before_url


def test_both_lists_the_embedded_cluster_then_the_stock_server_and_one_pass_without_it() -> None:
    parser = argparse.ArgumentParser()
    servers.add_arguments(parser)
    both = parser.parse_args(["--both", "--stock-url", STOCK])
    assert list(servers.server_urls(both)) == [servers.EMBEDDED, servers.STOCK]
    assert servers.server_urls(both)[servers.STOCK] == "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
    assert list(servers.each(parser.parse_args([]))) == [servers.CURRENT]


def test_report_prints_one_column_per_server(capsys) -> None:
    report = servers.Report("示例")
    report.add(servers.EMBEDDED, "检索（秒）", "0.30")
    report.add(servers.STOCK, "检索（秒）", "0.32")
    report.add(servers.STOCK, "只在标准库", "1")
    report.print()
    out = capsys.readouterr().out
    assert f"| 项目 | {servers.EMBEDDED} | {servers.STOCK} |" in out
    assert "| 检索（秒） | 0.30 | 0.32 |" in out
    assert "| 只在标准库 | — | 1 |" in out
