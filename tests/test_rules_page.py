"""The rules in force, in the product itself (issue 12 §1): a bureau officer opens 风险规则 and reads every rule of
the three rules files with its value, the document and clause it follows, whether it is national or 本地规定,
and which values the bureau's own rules file changed; a program asking the same URL gets JSON."""

from __future__ import annotations

import re
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.devserver import CHROMIUM, CHROMIUM_ARGS, running_server
from geo.encroachment.zones import ZONES_FILE
from geo.inspection.due import FREQUENCIES_FILE
from geo.risk.catalogue import build_catalogue
from geo.risk.rules import DEFAULT_RULES, load_rules

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}

OVERRIDE = """
[meta]
version = "2026.12-本局"

[enterprise.key_sector]
points = 7

[rollup.density_threshold_per_km2]
township = 0.5
"""


def clauses(node, out: set[str]) -> set[str]:
    """Every `clause` / `*_clause` string anywhere in a parsed rules file."""
    if isinstance(node, dict):
        for key, value in node.items():
            if str(key).endswith("clause") and isinstance(value, str):
                out.add(value)
            clauses(value, out)
    elif isinstance(node, list):
        for item in node:
            clauses(item, out)
    return out


def file_clauses() -> set[str]:
    out: set[str] = set()
    for path in (DEFAULT_RULES, ZONES_FILE, FREQUENCIES_FILE):
        with path.open("rb") as fh:
            clauses(tomllib.load(fh), out)
    return out


RAW = re.compile(r"[A-Za-z0-9_.\[\]]+")
"""A label that is only a key of the rules file (`enterprise.site`, `annual_cap`), not a Chinese name."""


class DocTables(HTMLParser):
    """The document tables of the page (tr.rm-rule-doc, id table-<rule id>) as rows of cell texts; a cell spanning
    rows is kept as (text, rowspan) in the row where it starts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[tuple[str, int]]]] = {}
        self.current: str | None = None
        self.cell: list[str] | None = None
        self.span = 1
        self.in_body = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and (a.get("id") or "").startswith("table-"):
            self.current = a["id"].removeprefix("table-")
            self.tables[self.current] = []
        elif self.current and tag == "tbody":
            self.in_body = True
        elif self.current and self.in_body and tag == "tr":
            self.tables[self.current].append([])
        elif self.current and self.in_body and tag == "td":
            self.cell, self.span = [], int(a.get("rowspan") or 1)

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)

    def handle_endtag(self, tag):
        if tag == "td" and self.cell is not None:
            self.tables[self.current][-1].append(("".join(self.cell).strip(), self.span))
            self.cell = None
        elif tag == "tbody":
            self.in_body = False
        elif tag == "td" and self.current and not self.in_body:
            self.current = None


def doc_tables(page: str) -> dict[str, list[list[tuple[str, int]]]]:
    parser = DocTables()
    parser.feed(page)
    return parser.tables


def rules_file(path: Path) -> dict:
    with path.open("rb") as fh:
        return tomllib.load(fh)


@pytest.fixture
def override_file(tmp_path) -> Path:
    path = tmp_path / "本局规则.toml"
    path.write_text(OVERRIDE, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def client(demo_county_db):
    import os

    from api.app import create_app
    from geo.config import get_settings
    from tests.conftest import auth_headers

    old = os.environ["DATABASE_URL"]
    os.environ["DATABASE_URL"] = demo_county_db
    get_settings.cache_clear()
    with TestClient(create_app(), headers=auth_headers(None, "county_viewer")) as c:
        yield c
    os.environ["DATABASE_URL"] = old
    get_settings.cache_clear()


def test_programs_get_json_and_people_get_the_page(client):
    """Same URL: JSON by default (and with ?f=json), the page for a browser's Accept or ?f=html."""
    body = client.get("/risk/rules").json()
    assert body["version"] and len(body["hash"]) == 64 and body["rules"]["meta"]["version"] == body["version"]
    assert body["sections"] and body["override_file"] is None
    assert client.get("/risk/rules", params={"f": "json"}, headers=HTML).json()["hash"] == body["hash"]
    page = client.get("/risk/rules", headers=HTML)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert body["hash"] in page.text and "规则版本" in page.text and 'aria-current="page">风险规则' in page.text
    assert client.get("/risk/rules", params={"f": "html"}).headers["content-type"].startswith("text/html")
    assert client.get("/risk/rules", params={"f": "xml"}).status_code == 422


def test_page_lists_every_rule_with_its_clause_and_mark(client):
    """Every clause written in rules.toml, zones.toml and frequencies.toml is on the page; every rule of the
    catalogue has its row; 本地规定 and 国家规定 rules are both marked; GB 18218 表1 lists every substance."""
    import html

    page = html.unescape(client.get("/risk/rules", headers=HTML).text)
    missing = [c for c in file_clauses() if c not in page]
    assert not missing, missing
    cat = build_catalogue(load_rules())
    ids = [r.id for s in cat.sections for r in s.rules]
    assert len(ids) == len(set(ids)) > 40
    for rid in ids:
        assert f'data-rule="{rid}"' in page, rid
    for section in ("accident_grades", "enterprise", "gb18218", "diagnostic", "pipeline", "mine", "rollup",
                    "line_zone", "facility_zone", "interval_days", "priority"):
        assert f'id="{section}"' in page, section
    assert "本地规定（可在规则文件中修改）" in page and "国家规定" in page
    with DEFAULT_RULES.open("rb") as fh:
        substances = tomllib.load(fh)["gb18218"]["substances"]
    assert all(f"<td>{s['name']}</td>" in page for s in substances)


def test_values_from_the_bureau_file_are_marked(override_file):
    """Provenance: the keys the override file set — and only those — come out as 本局已修改."""
    rules = load_rules(override_file)
    assert rules.override_file == str(override_file) and rules.version == "2026.12-本局"
    cat = build_catalogue(rules)
    values = {(r.id, v.key): v for s in cat.sections for r in s.rules for v in r.values}
    assert values[("enterprise.key_sector", "points")].overridden
    assert values[("enterprise.key_sector", "points")].value == 7
    assert not values[("enterprise.key_sector", "level")].overridden
    assert values[("rollup", "density_threshold_per_km2")].overridden
    assert [k for k, v in values.items() if v.overridden] == [("enterprise.key_sector", "points"),
                                                              ("rollup", "density_threshold_per_km2")]
    default = build_catalogue(load_rules())
    assert not any(v.overridden for s in default.sections for r in s.rules for v in r.values)


def test_local_marks_follow_the_rules_file_conventions(tmp_path):
    """`local = [...]` marks single values 本地规定 in a national rule; `local_note` is shown as the reason."""
    path = tmp_path / "local.toml"
    path.write_text('[pipeline.class_location]\nlocal = ["class4_min_share"]\n'
                    'local_note = "“普遍”无量化定义，取一半"\n', encoding="utf-8")
    cat = build_catalogue(load_rules(path))
    rule = next(r for s in cat.sections for r in s.rules if r.id == "pipeline.class_location")
    assert rule.mark == "mixed" and rule.note == "“普遍”无量化定义，取一半"
    assert [v.key for v in rule.values if v.local] == ["class4_min_share"]


playwright_api = pytest.importorskip("playwright.sync_api")


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")
def test_rules_page_in_chromium_at_desk_and_phone_width(demo_county_db, demo_county_engine, out_dir, tmp_path):
    """Chromium, signed in, with a bureau override file in force: every rule row is there, the changed values
    say 本局已修改, nothing overflows a 390 px phone, no script error; screenshots at 1440 and 390 px."""
    from api.auth import COOKIE
    from tests.conftest import auth_headers

    override = tmp_path / "本局规则.toml"
    override.write_text(OVERRIDE, encoding="utf-8")
    expected = sum(len(s.rules) for s in build_catalogue(load_rules(override)).sections)
    token = auth_headers(demo_county_engine, "county_viewer")["Authorization"].removeprefix("Bearer ")
    with running_server(demo_county_db, log=out_dir / "rules-server.log",
                        env={"RISKMAP_RULES_FILE": str(override)}) as base, \
            playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        for width, height in ((1440, 900), (390, 844)):
            context = browser.new_context(viewport={"width": width, "height": height})
            context.add_cookies([{"name": COOKIE, "value": token, "url": base}])
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(f"{base}/risk/rules", wait_until="load")
            assert page.title().startswith("风险规则 · 版本 2026.12-本局")
            assert page.locator("tr[data-rule]").count() == expected
            over = page.locator("tr[data-rule='enterprise.key_sector'] .rm-value-over")
            assert over.count() == 1 and "7" in over.inner_text() and "本局已修改" in over.inner_text()
            assert page.locator(".rm-value-over").count() == 2
            assert "本局规则.toml（修改了 3 项）" in page.locator(".rm-rules-meta").inner_text()
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{width} px: {overflow} px wider than the window"
            page.screenshot(path=str(out_dir / f"rules-{width}.png"), full_page=False)
            page.locator("#pipeline").scroll_into_view_if_needed()
            page.screenshot(path=str(out_dir / f"rules-{width}-pipeline.png"), full_page=False)
            for section in ("gb18218", "diagnostic"):
                page.locator(f"#{section}").scroll_into_view_if_needed()
                page.evaluate(f"document.getElementById('{section}').scrollIntoView()")
                page.screenshot(path=str(out_dir / f"rules-{width}-section-{section}.png"), full_page=False)
            diag = page.locator("[id='table-diagnostic.items']")
            diag.scroll_into_view_if_needed()
            assert diag.locator("tbody tr").count() == 42 and diag.locator("details").get_attribute("open") is not None
            page.screenshot(path=str(out_dir / f"rules-{width}-diagnostic.png"), full_page=False)
            table1 = page.locator("[id='table-gb18218.substances'] details")
            assert table1.get_attribute("open") is None  # 85 rows start folded
            table1.locator("summary").click()
            assert table1.locator("tbody tr").count() == 85 and table1.locator("tbody tr").nth(84).is_visible()
            table1.scroll_into_view_if_needed()
            page.screenshot(path=str(out_dir / f"rules-{width}-table1.png"), full_page=False)
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{width} px with 表1 open: {overflow} px wider than the window"
            table1.locator("summary").click()
            page.emulate_media(media="print")
            page.screenshot(path=str(out_dir / f"rules-{width}-print.png"), full_page=False)
            assert not errors, errors
            context.close()
        browser.close()


def test_every_rule_has_a_chinese_name_and_a_clause(client):
    """A bureau reviewer never meets a key of the rules file where a name belongs (`enterprise.site`,
    `annual_cap`, a text template with …), nor a rule 规则文件未注明依据: every table of rules.toml, zones.toml and
    frequencies.toml has its Chinese label and its document and clause (or 本地规定)."""
    import html

    cat = build_catalogue(load_rules())
    page = html.unescape(client.get("/risk/rules", headers=HTML).text)
    assert "规则文件未注明依据" not in page
    for section in cat.sections:
        assert not RAW.fullmatch(section.title), section.id
        assert f">{section.title} <small>" in page, section.title
        for rule in section.rules:
            assert not RAW.fullmatch(rule.label) and "…" not in rule.label and "{" not in rule.label, rule.id
            assert rule.mark != "unstated" and rule.clause, rule.id
            assert f"<strong>{rule.label}</strong>" in page, rule.label
            raw_values = [v.key for v in rule.values if RAW.fullmatch(v.label)]
            assert not raw_values, (rule.id, raw_values)
            raw_columns = [c for v in rule.values for c in v.columns or [] if RAW.fullmatch(c)]
            assert not raw_columns, (rule.id, raw_columns)
    # and every table of the three files that holds values or a clause is shown as a rule or inside one
    shown = {r.id for s in cat.sections for r in s.rules}
    frequencies = rules_file(FREQUENCIES_FILE)
    for table in ("interval_days", "priority", "annual_cap", "annual_cap.non_coal_mine", "annual_cap.coal_mine"):
        assert table in shown, table
    rules = rules_file(DEFAULT_RULES)
    for group in ("enterprise", "pipeline", "mine"):
        for key, value in rules[group].items():
            if isinstance(value, dict) and "clause" in value:
                assert f"{group}.{key}" in shown, f"{group}.{key}"
    assert frequencies["annual_cap"]["clause"].startswith("国办发〔2024〕54号")


def test_diagnostic_table_follows_the_guideline_item_by_item(client):
    """应急〔2018〕19号 评估诊断分级表 on the page as the guideline prints it: all 12 items, each with its category,
    its cap (扣完为止) and its clause, and under it every line with its content and points (−扣分 / +加分)."""
    import html

    items = rules_file(DEFAULT_RULES)["diagnostic"]["items"]
    assert len(items) == 12
    table = doc_tables(client.get("/risk/rules", headers=HTML).text)["diagnostic.items"]
    lines = [line for item in items.values() for line in item["lines"].values()]
    assert len(table) == len(lines)
    row = 0
    for code, item in items.items():
        first = [html.unescape(text) for text, _ in table[row]]
        cap = f"{item['cap']} 分" if item["cap"] else "加分项"
        assert item["label"] in first and cap in first and item["clause"] in first, (code, first)
        assert dict(table[row])[item["label"]] == len(item["lines"]), code  # the item spans its lines
        for line in item["lines"].values():
            cells = [html.unescape(text) for text, _ in table[row]]
            points = line["points"]
            shown = f"+{points:g} 加分" if points > 0 else f"−{-points:g}"
            assert line["text"] in cells and shown in cells, (code, line["text"], cells)
            row += 1
    assert ("重大危险源", 4) in table[0] and ("10 分", 4) in table[0] and ("固有危险性", 11) in table[0]
    red = doc_tables(client.get("/risk/rules", headers=HTML).text)["diagnostic.direct_red"]
    assert len(red) == 4


def test_gb18218_tables_list_every_substance_and_class(client):
    """GB 18218-2018 表1 with all 85 substances in the standard's order (序号, 名称, CAS, Q, β, concentration), and
    表2/表4 with each class's symbol, Chinese name, Q and β — no raw `gb18218.classes.J1` keys."""
    import html

    gb = rules_file(DEFAULT_RULES)["gb18218"]
    page = client.get("/risk/rules", headers=HTML).text
    tables = doc_tables(page)
    t1 = [[html.unescape(text) for text, _ in row] for row in tables["gb18218.substances"]]
    assert len(t1) == len(gb["substances"]) == 85
    assert [row[0] for row in t1] == [str(n) for n in range(1, 86)]
    for row, s in zip(t1, gb["substances"]):
        assert row[1] == s["name"] and all(cas in row[3] for cas in s.get("cas", [])), row
    formaldehyde = next(row for row in t1 if row[1] == "甲醛（含量>90%）")
    assert formaldehyde[4:6] == ["5", "2"] and formaldehyde[7] == "含量 > 90%"
    classes = {row[0][0]: [html.unescape(t) for t, _ in row] for row in tables["gb18218.classes"]}
    assert list(classes) == list(gb["classes"]) and len(classes) == 24
    assert classes["J1"] == ["J1", "急性毒性：类别1，所有暴露途径，气体", "5", "4"]
    assert classes["W5.4"][2:] == ["5000", "1"]
    assert "gb18218.classes.J1" not in page and 'data-rule="gb18218.classes"' in page


def test_the_bureau_file_also_changes_zones_and_frequencies(tmp_path, monkeypatch):
    """Values marked 本地规定（可在规则文件中修改） in the zones and frequencies are changed by the same bureau file:
    the orange interval becomes 14 days and the oil-line building distance 20 m; the page marks both 本局已修改;
    an entry without a code is refused in Chinese."""
    from geo.config import get_settings
    from geo.encroachment.zones import load_zones
    from geo.errors import InvalidInput
    from geo.inspection.due import load_frequencies

    override = tmp_path / "bureau.toml"
    override.write_text('[frequencies.interval_days]\norange = 14\n\n'
                        '[[zones.line_zone]]\ncode = "oil_building"\nmax_distance_m = 20.0\n', encoding="utf-8")
    monkeypatch.setenv("RISKMAP_RULES_FILE", str(override))
    get_settings.cache_clear()
    try:
        assert load_frequencies().interval_days["orange"] == 14
        assert load_frequencies().interval_days["red"] == 7
        oil = next(z for z in load_zones().line if z.code == "oil_building")
        assert oil.max_distance_m == 20.0 and oil.feature_types == ("building",)
        cat = build_catalogue()
        marked = {(s.source, r.label, v.value) for s in cat.sections for r in s.rules for v in r.values if v.overridden}
        assert any(src == "巡查频次与路线优先级" and value == 14 for src, _, value in marked), marked
        assert any(src == "管道保护范围（占压排查）" and value == 20.0 for src, _, value in marked), marked
        assert cat.overridden == 2
        assert not any(".toml" in s.source for s in cat.sections)
        override.write_text('[[zones.line_zone]]\nmax_distance_m = 20.0\n', encoding="utf-8")
        with pytest.raises(InvalidInput, match="缺少 code"):
            load_zones()
    finally:
        monkeypatch.delenv("RISKMAP_RULES_FILE")
        get_settings.cache_clear()
    assert next(z for z in load_zones().line if z.code == "oil_building").max_distance_m == 15.0
