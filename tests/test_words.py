"""What an officer reads says what it means: no internal codes, scores only where they mean something, reasons as
data, times in 北京时间 to the minute, exports with the level and its reasons, and a command line in Chinese."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import pty
import re
import sys

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from geo.timefmt import local_minute

INTERNAL = re.compile(r"\b[a-z]+_[a-z_]+\b|\b[a-z]+\.[a-z_]+\b|GEM P\d|\bmine 规则")
"""Rule codes (enterprise.major_hazard_source), column names, GEM project ids in names (a pipeline's own code
such as P5033 or HQ-PL-001 is what officers call it, and stays)."""
TAGS = re.compile(r"<[^>]+>")


@pytest.fixture(scope="module")
def demo_client(demo_county_db, demo_county_engine):
    """The service over the demo county (risk computed), as an admin."""
    from api.app import create_app
    from geo.config import get_settings
    from tests.conftest import auth_headers

    old = os.environ["DATABASE_URL"]
    os.environ["DATABASE_URL"] = demo_county_db
    get_settings.cache_clear()
    try:
        with TestClient(create_app(), headers=auth_headers(demo_county_engine, "admin")) as c:
            yield c
    finally:
        from geo.db import get_engine

        get_engine().dispose()  # no pooled session may stay on the demo database (others copy it as a template)
        os.environ["DATABASE_URL"] = old
        get_settings.cache_clear()


def test_reasons_are_a_json_array_in_every_risk_layer(demo_client):
    for layer in ("enterprise", "mine", "pipeline_segment", "grid_cell", "township"):
        feats = demo_client.get(f"/layers/{layer}/features", params={"limit": 20}).json()["features"]
        assert feats, layer
        lists = [f["properties"]["reasons"] for f in feats]
        assert all(isinstance(r, list) for r in lists), (layer, lists[:2])
        assert any(lists) and all(isinstance(r, dict) and r["text"] for rs in lists for r in rs), layer


def test_reasons_and_clauses_a_person_reads_carry_no_internal_codes(demo_county_engine):
    with demo_county_engine.connect() as conn:
        texts = conn.execute(text(
            "SELECT DISTINCT x FROM risk_assessment a, jsonb_array_elements(a.reasons) r, "
            "LATERAL (VALUES (r->>'text'), (r->>'clause')) v(x) WHERE a.valid_to IS NULL AND x IS NOT NULL")).scalars()
        bad = [t for t in texts if INTERNAL.search(t.replace("Σq/Q", ""))]
        names = conn.execute(text("SELECT name FROM pipeline")).scalars().all()
    assert not bad, bad[:5]
    assert not [n for n in names if "GEM" in n]


def _popups(m) -> dict[str, list[str]]:
    """popup_html of every embedded feature of a built map, by the layer's name."""
    from layers.elements import FeatureLayer

    out: dict[str, list[str]] = {}

    def walk(el, group):
        for child in el._children.values():
            name = getattr(child, "layer_name", None) if child.__class__.__name__ == "FeatureGroup" else group
            if isinstance(child, FeatureLayer):
                import json

                data = json.loads(child.data_json)
                out.setdefault(name or "", []).extend(
                    f["properties"]["popup_html"] for f in data["features"] if f["properties"].get("popup_html"))
            walk(child, name)

    walk(m, None)
    return out


def test_popups_show_a_score_only_where_it_means_something_and_no_codes(demo_county_engine):
    from layers.pages import build_map

    with demo_county_engine.connect() as conn:
        town = conn.execute(text("SELECT code FROM township WHERE name = '西口镇'")).scalar_one()
        popups = {**_popups(build_map(conn)), **_popups(build_map(conn, township=town))}
    assert popups["乡镇（按风险着色）"] and popups["网格（按风险着色）"]
    for layer in ("乡镇（按风险着色）", "网格（按风险着色）"):
        assert not any("分值" in p for p in popups[layer]), layer
    enterprises = popups["企业（按风险着色）"]
    assert any("风险分值" in p for p in enterprises)
    for layer, htmls in popups.items():
        for h in htmls:
            words = TAGS.sub(" ", h)
            assert not INTERNAL.search(words), (layer, words)


def test_times_a_person_reads_are_beijing_time_to_the_minute(demo_county_engine):
    assert local_minute(dt.datetime(2026, 12, 4, 16, 30, 59, tzinfo=dt.UTC)) == "2026-12-05 00:30"
    assert local_minute("2026-12-04T16:30:59+00:00") == "2026-12-05 00:30"
    assert local_minute(dt.date(2026, 12, 5)) == "2026-12-05"
    from geo.db import get_engine

    with get_engine().connect() as conn:
        assert conn.execute(text("SHOW TimeZone")).scalar_one() == "Asia/Shanghai"
        stamp = conn.execute(text("SELECT TIMESTAMPTZ '2026-12-04 16:30:00+00'")).scalar_one()
    assert stamp.utcoffset() == dt.timedelta(hours=8) and stamp.hour == 0
    from geo.io.exporter import _present
    from geo.io.layers import Field

    assert _present(Field("at", ("时间",), "str"), dt.datetime(2026, 12, 4, 16, 30, 5, tzinfo=dt.UTC)) == \
        "2026-12-05 00:30"


def test_enterprise_export_has_level_and_main_reasons(demo_county_engine, tmp_path):
    from openpyxl import load_workbook

    from geo.io.exporter import export_layer

    export_layer(demo_county_engine, "enterprise", tmp_path / "e.xlsx", fmt="xlsx")
    rows = list(load_workbook(tmp_path / "e.xlsx").active.iter_rows(values_only=True))
    header = list(rows[1])
    level, reasons = header.index("风险等级"), header.index("主要原因")
    red = [r for r in rows[2:] if r[level] == "红（重大风险）"]
    assert red and all(r[reasons] for r in red)
    assert not any(INTERNAL.search(r[reasons] or "") for r in rows[2:])


def test_encroachment_candidates_name_features_by_code_and_name(demo_county_engine):
    from geo.encroachment import check_encroachments

    with demo_county_engine.begin() as conn:
        found = check_encroachments(conn)
    assert found
    for c in found:
        assert c.pipeline_name and c.feature_label and not c.feature_label.isdigit()
    roads = [c for c in found if c.feature_type == "road"]
    assert not roads or all(c.feature_label.startswith("HQ-R") for c in roads)


# ------------------------------------------------------------------------------------------------ command line

def _parsers():
    import geo.commands  # noqa: F401
    from geo.cli import build_parser

    def walk(p, path):
        yield path, p
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                for name, sp in a.choices.items():
                    yield from walk(sp, [*path, name])

    return list(walk(build_parser(), ["riskmap"]))


CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_command_and_option_explains_itself_in_chinese():
    missing = []
    for path, p in _parsers():
        h = p.format_help()
        for english in ("usage:", "positional arguments", "options:", "show this help", "error:"):
            if english in h:
                missing.append((" ".join(path), english))
        if len(path) > 1 and not CJK.search(p.description or ""):
            missing.append((" ".join(path), "description"))
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction) or a.help is argparse.SUPPRESS:
                continue
            if not CJK.search(a.help or ""):
                missing.append((" ".join(path), a.dest))
    assert not missing, missing


def test_long_commands_show_progress_only_on_a_terminal(capsys):
    from geo.progress import progress

    with progress("正在计算风险等级") as step:
        step("企业")
    assert capsys.readouterr().err == ""  # not a terminal: silent

    master, slave = pty.openpty()
    saved = sys.stderr
    sys.stderr = os.fdopen(slave, "w", buffering=1)
    try:
        with progress("正在计算风险等级") as step:
            step("企业")
        sys.stderr.flush()
    finally:
        sys.stderr.close()
        sys.stderr = saved
    shown = os.read(master, 100_000).decode("utf-8", "replace")
    os.close(master)
    assert "正在计算风险等级" in shown
