"""A fixture county whose every user-writable text carries a script payload, and a Chromium that opens its pages.

Shared by the XSS and header tests: the county in real PostGIS (townships, grid cells, villages, enterprises,
hazards, pipelines, encroachments, mines, mine zones, buildings, an inspection plan), a served app, and a
browser signed in as an admin with helpers to open a page, hover/open every tooltip and popup, and read
what ran.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from geo.uscc import make_uscc

PAYLOADS = (
    '<img src=x onerror="window.__pwned=1">',
    "</title><script>window.__pwned=1</script>",
    "${window.__pwned=1}",
    "'onmouseover='window.__pwned=1",
    "javascript:window.__pwned=1",
    "</script><script>window.__pwned=1</script>",
)
WEST = "140930100000"
EAST = "140930101000"

# Pipeline codes, mine licences and grid codes go into page URLs and popup links (URL-ish places).
PIPELINE_CODE = "javascript:window.__pwned=1"
MINE_LICENCE = "C1'onmouseover='window.__pwned=1"
GRID_CODE = "G1'onmouseover='window.__pwned=1"


def _p(k: int, n: int | None = None) -> str:
    """Payload k (cycled), cut to a column's length n."""
    s = PAYLOADS[k % len(PAYLOADS)]
    return s[:n] if n else s


def _box(x: float, y: float, d: float = 0.004) -> str:
    return f"ST_Multi(ST_MakeEnvelope({x}, {y}, {x + d}, {y + d}, 4490))"


def load_payload_county(conn: Connection) -> int:
    """Every text a user can write, set to a payload; returns the id of the inspection plan."""
    import geopandas as gpd

    from geo.county import upsert_county
    from tests.conftest import HEQU_OUTLINE

    outline = gpd.read_file(HEQU_OUTLINE)
    upsert_county(conn, code="140930", name="河曲县", wkb_hex=outline.geometry.iloc[0].wkb_hex, source="test")
    conn.execute(text("""
        INSERT INTO township (code, name, county_code, geom, is_illustrative)
        SELECT :w, :wn, '140930', ST_Multi(ST_Intersection(c.geom, ST_MakeEnvelope(111.0, 38.8, 111.35, 39.6, 4490))),
               true FROM county c
        UNION ALL
        SELECT :e, :en, '140930', ST_Multi(ST_Intersection(c.geom, ST_MakeEnvelope(111.35, 38.8, 111.7, 39.6, 4490))),
               true FROM county c"""), {"w": WEST, "e": EAST, "wn": _p(1), "en": _p(0)})
    tw = f"(SELECT id FROM township WHERE code = '{WEST}')"
    for k in range(len(PAYLOADS)):
        x, y = 111.15 + 0.01 * k, 39.38
        conn.execute(text(f"INSERT INTO grid_cell (code, name, township_id, officer_name, officer_phone, geom) "
                          f"VALUES (:c, :n, {tw}, :o, :t, {_box(x, y - 0.02, 0.009)})"),
                     {"c": GRID_CODE if k == 0 else f"G{k}-{_p(k, 20)}", "n": _p(k + 1), "o": _p(k + 2, 50),
                      "t": _p(k + 2, 20)})
        conn.execute(text(f"INSERT INTO village (code, name, township_id, geom) "
                          f"VALUES (:c, :n, {tw}, ST_SetSRID(ST_MakePoint(:x, :y), 4490))"),
                     {"c": f"1409301002{k:02d}", "n": _p(k), "x": x, "y": y - 0.01})
        eid = conn.execute(text(
            f"INSERT INTO enterprise (uscc, name, category, address, township_id, geom, major_hazard_source, source) "
            f"VALUES (:u, :n, 'hazchem', :a, {tw}, ST_SetSRID(ST_MakePoint(:x, :y), 4490), true, :s) RETURNING id"),
            {"u": make_uscc(f"9114093000009{k:03d}X"), "n": _p(k), "a": _p(k + 3), "s": _p(k + 4), "x": x + 0.002,
             "y": y - 0.015}).scalar_one()
        conn.execute(text("INSERT INTO hazard (enterprise_id, level, description, found_on, supervising_department) "
                          "VALUES (:e, 'major', :d, '2026-11-01', :s)"), {"e": eid, "d": _p(k + 1), "s": _p(k, 100)})
        conn.execute(text(f"INSERT INTO building (code, name, use_class, floors, township_id, geom) "
                          f"VALUES (:c, :n, 'school', 3, {tw}, {_box(x + 0.004, y - 0.019, 0.0008)})"),
                     {"c": f"B{k}", "n": _p(k + 2)})
        conn.execute(text(f"INSERT INTO mine_zone (code, name, kind, source_document, geom) "
                          f"VALUES (:c, :n, 'restricted_zone', :s, {_box(x, y + 0.03, 0.008)})"),
                     {"c": f"Z{k}", "n": _p(k), "s": _p(k + 1)})
    conn.execute(text(
        "INSERT INTO pipeline (code, name, operator, medium, design_pressure_mpa, outside_diameter_mm, source, geom) "
        "VALUES (:c, :n, :o, 'gas', 6.3, 610, :s, "
        "ST_Multi(ST_GeomFromText('LINESTRING(111.14 39.37, 111.22 39.37)', 4490)))"),
        {"c": PIPELINE_CODE, "n": _p(2), "o": _p(0), "s": _p(5)})
    for k in range(len(PAYLOADS)):
        conn.execute(text(
            f"INSERT INTO encroachment (code, pipeline_id, geom, kind, description, measure, township_id, status) "
            f"VALUES (:c, (SELECT id FROM pipeline LIMIT 1), ST_SetSRID(ST_MakePoint(:x, 39.3701), 4490), "
            f"'encroachment', :d, :m, {tw}, 'found')"),
            {"c": f"E{k}{_p(k, 36)}", "x": 111.145 + 0.01 * k, "d": _p(k + 1), "m": _p(k + 2)})
        conn.execute(text(
            f"INSERT INTO mine (licence_no, name, mineral, mine_type, method, township_id, licence_boundary) "
            f"VALUES (:l, :n, :m, 'non_coal', 'open_pit', {tw}, {_box(111.15 + 0.01 * k, 39.43, 0.006)})"),
            {"l": MINE_LICENCE if k == 0 else f"C{k}{_p(k, 36)}", "n": _p(k + 4), "m": _p(k + 5, 50)})
    from geo.risk import compute

    compute(conn)
    plan = conn.execute(text(
        "INSERT INTO inspection_plan (start_on, end_on, teams, status, solve_s) "
        "VALUES ('2026-11-23', '2026-11-29', 2, 'ok', 0) RETURNING id")).scalar_one()
    for k, team in enumerate((_p(2, 50), _p(3, 50))):
        route = conn.execute(text(
            "INSERT INTO plan_route (plan_id, team, day_on, depot_name, depot_geom, travel_s, service_s, return_s, geom) "
            "VALUES (:p, :t, '2026-11-24', :d, ST_SetSRID(ST_MakePoint(111.16, 39.35), 4490), 600, 1800, 600, "
            "ST_Multi(ST_GeomFromText('LINESTRING(111.16 39.35, 111.15 39.365, 111.19 39.365)', 4490))) RETURNING id"),
            {"p": plan, "t": team, "d": _p(k + 4, 100)}).scalar_one()
        conn.execute(text(
            "INSERT INTO plan_stop (plan_id, route_id, seq, enterprise_id, colour, priority, reasons, arrival_s, "
            "service_s, snapped, snap_note) SELECT :p, :r, row_number() OVER (ORDER BY id), id, 'red', 1, "
            "CAST(:why AS jsonb), 32400, 1800, false, :note FROM enterprise WHERE id % 2 = :k"),
            {"p": plan, "r": route, "k": k, "why": json.dumps(list(PAYLOADS)), "note": _p(k + 1)})
    conn.execute(text(
        "INSERT INTO plan_stop (plan_id, route_id, seq, enterprise_id, colour, priority, service_s, snapped, "
        "dropped_reason) SELECT :p, NULL, NULL, id, 'orange', 2, 1800, false, :why FROM enterprise "
        "ORDER BY id LIMIT 2"), {"p": plan, "why": _p(5)})
    return int(plan)


# Runs in the page before any of its scripts: records CSP violations and, once Leaflet is there, nothing else.
WATCH_JS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  function (e) { window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + (e.sample || '')); });
"""

@dataclass
class Visit:
    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)


def open_page(context, url: str, shot: Path | None = None, *, wait: str = "load"):
    """Open `url` watching for errors, CSP violations and requests leaving loopback; returns (page, visit)."""
    page = context.new_page()
    visit = Visit()
    page.add_init_script(WATCH_JS)
    page.on("pageerror", lambda e: visit.errors.append(f"pageerror: {e}"))
    page.on("console", lambda m: visit.errors.append(f"console: {m.text}") if m.type == "error" else None)

    def guard(route):
        if route.request.url.startswith(("http://127.0.0.1", "data:", "blob:")):
            route.continue_()
        else:
            visit.outside.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    page.goto(url, wait_until=wait, timeout=60_000)
    page.wait_for_timeout(400)
    if shot:
        page.screenshot(path=str(shot), full_page=False)
    return page, visit


def verdict(page, visit: Visit) -> dict:
    """What ran: the payload marker, CSP violations, script errors."""
    page.wait_for_timeout(300)
    return {"pwned": page.evaluate("typeof window.__pwned === 'undefined' ? null : window.__pwned"),
            "csp": page.evaluate("window.__csp || []"), "errors": visit.errors, "outside": visit.outside}


def clean() -> dict:
    return {"pwned": None, "csp": [], "errors": [], "outside": []}


def admin_cookie(engine: Engine) -> str:
    from tests.conftest import auth_headers

    return auth_headers(engine, "admin")["Authorization"].removeprefix("Bearer ")


def chromium_context(base: str, token: str | None, width: int = 1400, height: int = 900) -> Iterator:
    """A Chromium context (signed in with `token` when given)."""
    from playwright.sync_api import sync_playwright

    from api.auth import COOKIE
    from api.devserver import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = b.new_context(viewport={"width": width, "height": height})
        if token:
            context.add_cookies([{"name": COOKIE, "value": token, "url": base}])
        yield context
        b.close()
