"""The `riskmap` command line itself: help without heavy imports, and argparse's messages in Chinese."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

import pytest

from geo.cli import build_parser, main

HEAVY = {"sqlalchemy", "geoalchemy2", "shapely", "geopandas", "pyproj", "argon2", "ortools", "folium", "fastapi"}


def _commands() -> list[str]:
    import geo.commands  # noqa: F401  (registers the sub-commands)

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(sub.choices)


def _imported_packages(*args: str) -> set[str]:
    """Top-level packages imported by `python -X importtime -m geo.cli <args>` (which must succeed)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (os.getcwd(), os.environ.get("PYTHONPATH")) if p)}
    res = subprocess.run([sys.executable, "-X", "importtime", "-m", "geo.cli", *args],
                         check=False, capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    names = {line.rsplit("|", 1)[1].strip() for line in res.stderr.splitlines() if line.startswith("import time:")}
    return {n.split(".")[0] for n in names}


@pytest.mark.parametrize("command", [None, *_commands()])
def test_help_imports_no_heavy_module(command: str | None) -> None:
    """`riskmap --help` and `riskmap <cmd> --help` load no ORM, geometry, password, solver or web library."""
    args = ["--help"] if command is None else [command, "--help"]
    imported = _imported_packages(*args)
    assert "geo" in imported  # the measurement sees our own modules
    assert imported & HEAVY == set()


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


@pytest.mark.parametrize("argv", [["--help"], ["risk", "--help"], ["risk", "explain", "--help"], ["import", "-h"]])
def test_help_is_chinese(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, _ = _run(capsys, *argv)
    assert code == 0
    assert out.startswith("用法：riskmap")
    assert "选项" in out and "显示本帮助并退出" in out
    for english in ("usage:", "options:", "positional arguments", "show this help message"):
        assert english not in out


@pytest.mark.parametrize(("argv", "expected"), [
    (["risk", "explain"], "缺少必需的参数：kind, id"),
    (["risk"], "缺少必需的参数：命令"),
    ([], "缺少必需的参数：命令"),
    (["risk", "explain", "factory", "1"], "参数 kind：无效的取值 'factory'（可选："),
    (["nosuch"], "无效的取值 'nosuch'"),
    (["risk", "explain", "mine", "x"], "参数 id：无效的取值 'x'"),
    (["risk", "levels", "mine", "--limit"], "参数 --limit：需要一个值"),
    (["risk", "levels", "mine", "--bogus"], "无法识别的参数：--bogus"),
    (["hazard", "record", "--by", "张三", "--level", "major", "--enterprise", "x", "--deadline", "2026-13-01"],
     "参数 --deadline：日期格式应为 YYYY-MM-DD"),
])
def test_usage_errors_are_chinese(capsys: pytest.CaptureFixture[str], argv: list[str], expected: str) -> None:
    code, out, err = _run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.startswith("用法：riskmap")
    assert "：错误：" in err and expected in err
    for english in ("usage:", "error:", "required", "invalid choice", "unrecognized", "expected"):
        assert english not in err


def test_other_parsers_stay_english(capsys: pytest.CaptureFixture[str]) -> None:
    """The translation is scoped to riskmap's parsers: a plain argparse parser in the same process is untouched."""
    _run(capsys, "risk", "--help")
    plain = argparse.ArgumentParser(prog="other")
    assert plain.format_help().startswith("usage: other")
    assert "show this help message and exit" in plain.format_help()


def test_a_database_that_does_not_exist_is_a_chinese_error_not_a_traceback():
    """A bureau points DATABASE_URL at a database it has not created yet: one Chinese line says so and how to fix it."""
    env = {**os.environ, "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/riskmap_no_such_database"}
    res = subprocess.run([sys.executable, "-m", "geo.cli", "demo", "summary"], capture_output=True, text=True,
                         env=env, timeout=120)
    assert res.returncode == 2
    assert "无法连接数据库" in res.stderr and "riskmap_no_such_database" in res.stderr
    assert "Traceback" not in res.stderr
