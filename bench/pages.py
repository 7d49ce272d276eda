"""Workbench page benchmark: weight and time to `load` of ledger and dossier pages in headless Chromium.

    python -m bench.pages [--scale 1] [--database NAME | --demo] [--runs 5]

It serves the county with `riskmap serve` on loopback (api.devserver.running_server), signs in as a county viewer
(bench.load.login_headers) and opens, in a fresh tab each run: the hazard ledger at 1,000 rows a page (the
largest page a ledger serves), the same at the default 50 rows, the encroachment ledger, an encroachment's and a
hazard's dossier (small Leaflet map) and an enterprise's (map and ECharts chart). For each it prints the median
seconds to the `load` event (Navigation Timing loadEventEnd), the HTML bytes and the bytes of everything the
page loaded (HTML + scripts + styles, from Resource Timing; scripts come from the browser's cache after the first
run, as a user's would). Only 127.0.0.1 is ever reached; the loops are bounded by --runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys

from sqlalchemy import create_engine, text

from api.devserver import CHROMIUM, CHROMIUM_ARGS, running_server
from bench import servers

TARGET_S = 1.0
"""Target time to `load` on loopback for a ledger or dossier page."""


def targets(url: str) -> dict[str, str]:
    """The pages to open, with objects picked from the database (the riskiest enterprise with GB 18218 units)."""
    eng = create_engine(url)
    with eng.connect() as conn:
        ez = conn.execute(text("SELECT code FROM encroachment ORDER BY code LIMIT 1")).scalar()
        hz = conn.execute(text("SELECT code FROM hazard ORDER BY code LIMIT 1")).scalar()
        en = conn.execute(text("SELECT object_id FROM risk_assessment WHERE kind = 'enterprise' AND valid_to IS NULL "
                               "ORDER BY (details ? 'units') DESC, score DESC LIMIT 1")).scalar()
        hazards = conn.execute(text("SELECT count(*) FROM hazard")).scalar_one()
    eng.dispose()
    print(f"隐患 {hazards} 条", flush=True)
    return {
        "隐患台账 1000 行/页": "/ledgers/hazards?size=1000&sort=-found_on",
        "隐患台账 50 行/页（默认）": "/ledgers/hazards",
        "占压点台账": "/ledgers/encroachments",
        "占压点档案（一点一档）": f"/dossiers/encroachments/{ez}",
        "隐患档案": f"/dossiers/hazards/{hz}",
        "企业档案（一企一档）": f"/dossiers/enterprises/{en}",
    }


def measure(base: str, headers: dict[str, str], pages: dict[str, str], *, runs: int) -> list[tuple[str, float, int, int]]:
    """(name, median seconds to load, HTML bytes, bytes of all the page loaded on its first run) per page."""
    from playwright.sync_api import sync_playwright

    from api.auth import COOKIE

    out = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        context.add_cookies([{"name": COOKIE, "value": headers["Authorization"].removeprefix("Bearer "),
                              "url": base}])
        for name, path in pages.items():
            times: list[float] = []
            html = total = 0
            for i in range(runs):
                page = context.new_page()
                page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base)
                           else route.abort())
                page.goto(base + path, wait_until="load", timeout=120_000)
                nav = page.evaluate("(() => { const n = performance.getEntriesByType('navigation')[0]; "
                                    "return [n.loadEventEnd, n.decodedBodySize]; })()")
                times.append(nav[0] / 1000)
                if i == 0:
                    html = int(nav[1])
                    total = html + int(page.evaluate("performance.getEntriesByType('resource')"
                                                     ".reduce((s, r) => s + r.decodedBodySize, 0)"))
                page.close()
            out.append((name, statistics.median(times), html, total))
        browser.close()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="台账与档案页面基准（页面大小、load 时间）")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--database", help="用已有的数据库，默认 riskmap_x<N>")
    ap.add_argument("--demo", action="store_true", help="用示范县（当前数据库，须已载入 demo 并计算风险）")
    ap.add_argument("--runs", type=int, default=5)
    servers.add_arguments(ap)
    args = ap.parse_args(argv)
    report = servers.Report(f"台账与档案页面 load（秒，中位数 {args.runs} 次）")
    for server in servers.each(args):
        if args.demo:
            from geo.db import database_url

            url, label = database_url(), "示范县"
        else:
            from bench.maps import scale_db

            url, label = scale_db(args.scale, args.database), f"×{args.scale:g}"
        pages = targets(url)
        with running_server(url) as base:
            from bench.load import login_headers

            results = measure(base, login_headers(base, url), pages, runs=args.runs)
        for name, seconds, html, total in results:
            flag = "达标" if seconds < TARGET_S else "超标"
            print(f"{label} {name}：load {seconds:.3f} s（中位数，{args.runs} 次；目标 < {TARGET_S:g} s，{flag}），"
                  f"HTML {html / 1000:.0f} KB，页面共 {total / 1000:.0f} KB", flush=True)
            report.add(server, f"{label} {name}", f"{seconds:.3f}")
    report.print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
