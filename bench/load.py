"""Bounded load test: concurrent map users over map pages, vector tiles and GeoJSON, driven by locust.

    python -m bench.load [--database NAME | --demo] [--users 50] [--duration 60] [--workers N]

It serves the database with `riskmap serve` on loopback (api.devserver.running_server), logs in as a county
viewer (a fresh user made with `riskmap user add`, token from POST /auth/token; no header while the service
has no logins), and plans what each simulated user asks for from the database itself: the county page and
its first view's vector tiles, township pages with theirs, street views at z15 around enterprises, and
GeoJSON lists filtered by township, bbox and colour with a limit. The tiles of a view are the ones Leaflet
asks for in a 1280×720 window after fitBounds, layer by layer. Locust (PyPI, headless, in a subprocess so
gevent never patches this process) runs first a light baseline (5 users: four on maps, one on lists), then the
load; it prints per endpoint kind the requests, failures, p50, p95 and req/s, with the p50/p95 ratios of the
load to the baseline, measured in the same run.
Any non-2xx answer or connection error is a failure, and any failure makes the exit code 1.
The request loops are bounded in time (and stop by themselves) and only ever reach 127.0.0.1.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import secrets
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from api.devserver import running_server
from bench import servers

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
VIEWPORT_PX = (1280, 720)
"""The browser window the tile plan assumes (a laptop screen)."""
TILE_PX = 256
STREET_ZOOM = 15
BASELINE_USERS = 5
"""Users of the light baseline the load is compared with (locust's class weights give four map users, one list user)."""
KINDS = {"map": "地图页面 map", "tile": "矢量瓦片 tile", "geojson": "GeoJSON"}
COUNTY_TILE_LAYERS = ("mine", "pipeline_segment", "encroachment", "enterprise")
"""Vector tile layers shown when the county page opens (grid cells and buildings only on detail pages)."""
DETAIL_TILE_LAYERS = ("grid_cell", "mine", "pipeline_segment", "encroachment", "building", "enterprise")
"""Vector tile layers shown on township pages and when zoomed in."""


# --- what a user's browser asks for ------------------------------------------------------------------------

def _world_px(lon: float, lat: float, z: int) -> tuple[float, float]:
    """Web Mercator (EPSG:3857) pixel position at zoom z, 256 px tiles."""
    n = TILE_PX * 2 ** z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return (lon + 180) / 360 * n, y


def fit_zoom(bbox: tuple[float, float, float, float], *, viewport: tuple[int, int] = VIEWPORT_PX,
             max_zoom: int = 19) -> int:
    """The zoom Leaflet's fitBounds picks for a lon/lat bbox (EPSG:4490 ≈ 4326) in the viewport (whole zooms)."""
    x0, y0, x1, y1 = bbox
    ax, ay = _world_px(x0, y1, 0)
    bx, by = _world_px(x1, y0, 0)
    w, h = max(bx - ax, 1e-9), max(by - ay, 1e-9)
    return max(0, min(max_zoom, math.floor(math.log2(min(viewport[0] / w, viewport[1] / h)))))


def view_tiles(lon: float, lat: float, z: int, *, viewport: tuple[int, int] = VIEWPORT_PX
               ) -> list[tuple[int, int, int]]:
    """The tiles (z, x, y) a viewport centred on lon/lat covers at zoom z, as Leaflet's grid layers request."""
    cx, cy = _world_px(lon, lat, z)
    n = 2 ** z
    tx0, tx1 = math.floor((cx - viewport[0] / 2) / TILE_PX), math.ceil((cx + viewport[0] / 2) / TILE_PX) - 1
    ty0, ty1 = math.floor((cy - viewport[1] / 2) / TILE_PX), math.ceil((cy + viewport[1] / 2) / TILE_PX) - 1
    return [(z, x, y) for y in range(max(ty0, 0), min(ty1, n - 1) + 1)
            for x in range(max(tx0, 0), min(tx1, n - 1) + 1)]


def _tile_paths(layers: tuple[str, ...], tiles: list[tuple[int, int, int]]) -> list[str]:
    return [f"/tiles/{layer}/{z}/{x}/{y}.pbf" for layer in layers for z, x, y in tiles]


def _bbox_param(b: tuple[float, float, float, float]) -> str:
    return ",".join(f"{v:.6f}" for v in b)


def _centre(b: tuple[float, float, float, float]) -> tuple[float, float]:
    """The centre of a lon/lat bbox in Web Mercator, where fitBounds puts it."""
    x0, y0, x1, y1 = b
    ya, yb = (math.asinh(math.tan(math.radians(v))) for v in (y0, y1))
    return (x0 + x1) / 2, math.degrees(math.atan(math.sinh((ya + yb) / 2)))


def plan_requests(db_url: str, *, streets_per_township: int = 3) -> dict[str, object]:
    """What the simulated users request, read from the database: the county view, and per township its page,
    a few street views around its enterprises and its GeoJSON lists (paths relative to the service)."""
    eng = create_engine(db_url)
    try:
        with eng.connect() as conn:
            county = conn.execute(text(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                "(SELECT ST_Extent(geom)::geometry AS e FROM township) s")).one()
            towns = conn.execute(text(
                "SELECT id, code, ST_XMin(geom), ST_YMin(geom), ST_XMax(geom), ST_YMax(geom) FROM township "
                "ORDER BY code")).all()
            spots = conn.execute(text(
                "SELECT township_id, id, ST_X(geom), ST_Y(geom) FROM ("
                "  SELECT e.*, row_number() OVER (PARTITION BY township_id ORDER BY md5(id::text)) AS k "
                "  FROM enterprise e WHERE township_id IS NOT NULL) s WHERE k <= :n"),
                {"n": streets_per_township}).all()
    finally:
        eng.dispose()
    if county[0] is None or not towns:
        raise SystemExit("数据库中没有乡镇：请先载入县区数据（riskmap demo load 或 bench.generate）")
    cb = tuple(float(v) for v in county)
    county_paths = ["/maps", *_tile_paths(COUNTY_TILE_LAYERS, view_tiles(*_centre(cb), fit_zoom(cb)))]  # type: ignore[arg-type]
    by_town: dict[int, list[tuple[int, float, float]]] = {}
    for tid, eid, lon, lat in spots:
        by_town.setdefault(tid, []).append((eid, lon, lat))
    townships = []
    for tid, code, *b in towns:
        tb = tuple(float(v) for v in b)
        page = [f"/maps/township/{code}",
                *_tile_paths(DETAIL_TILE_LAYERS, view_tiles(*_centre(tb), fit_zoom(tb)))]  # type: ignore[arg-type]
        lists = [f"/layers/enterprise/features?township={code}&limit=200",
                 f"/layers/enterprise/features?township={code}&colour=red&limit=100",
                 f"/layers/encroachment/features?township={code}&limit=500",
                 f"/layers/grid_cell/features?township={code}&limit=100",
                 f"/layers/pipeline_segment/features?bbox={_bbox_param(tb)}&limit=500"]  # type: ignore[arg-type]
        zooms = []
        for eid, lon, lat in by_town.get(tid, []):
            zooms.append(_tile_paths(DETAIL_TILE_LAYERS, view_tiles(lon, lat, STREET_ZOOM)))
            d = 0.004  # about 350 m × 450 m around the enterprise
            lists.append(f"/layers/building/features?bbox={_bbox_param((lon - d, lat - d, lon + d, lat + d))}"
                         "&limit=1000")
            lists.append(f"/layers/enterprise/features/{eid}")  # a click on the enterprise
        townships.append({"code": code, "page": page, "zooms": zooms, "geojson": lists})
    return {"county": county_paths, "townships": townships}


# --- logging in ---------------------------------------------------------------------------------------------

def login_headers(base: str, db_url: str, *, role: str = "county_viewer") -> dict[str, str]:
    """A bearer header for a new user of `role` made with `riskmap user add` in db_url's database;
    {} when the service has no logins yet (POST /auth/token is not there)."""
    probe = httpx.post(f"{base}/auth/token", data={}, timeout=30)
    if probe.status_code == 404:
        return {}
    name = f"load_{role}_{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(18)
    made = subprocess.run([sys.executable, "-m", "geo.cli", "user", "add", name, "--role", role, "--password-stdin"],
                          input=password + "\n", text=True, capture_output=True, timeout=120, check=False,
                          env={**os.environ, "DATABASE_URL": db_url})
    if made.returncode != 0:
        raise RuntimeError(f"建立用户 {name} 失败：{made.stderr.strip() or made.stdout.strip()}")
    r = httpx.post(f"{base}/auth/token", data={"username": name, "password": password}, timeout=30)
    if r.status_code != 200:
        raise RuntimeError(f"登录失败（HTTP {r.status_code}）：{r.text[:200]}")
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


# --- running locust and reading its figures -----------------------------------------------------------------

@dataclass(frozen=True)
class KindStats:
    """One endpoint kind's figures from a locust run (times in ms, locust's rounding)."""

    kind: str
    requests: int
    failures: int
    p50_ms: float
    p95_ms: float
    rps: float


@dataclass
class LoadResult:
    users: int
    duration_s: float
    kinds: dict[str, KindStats] = field(default_factory=dict)
    failure_lines: list[str] = field(default_factory=list)
    exit_code: int = 0
    authenticated: bool = False
    exceptions: int = 0
    """Errors raised in the locust users themselves (counted as failures too)."""

    @property
    def requests(self) -> int:
        return sum(k.requests for k in self.kinds.values())

    @property
    def failures(self) -> int:
        return sum(k.failures for k in self.kinds.values()) + self.exceptions


def _read_stats(prefix: Path, users: int, duration_s: float, exit_code: int) -> LoadResult:
    res = LoadResult(users, duration_s, exit_code=exit_code)
    stats = Path(f"{prefix}_stats.csv")
    if stats.exists():
        with stats.open(encoding="utf-8") as f:
            for row in csv.DictReader(f):
                if row["Name"] in KINDS:
                    res.kinds[row["Name"]] = KindStats(
                        row["Name"], int(row["Request Count"]), int(row["Failure Count"]),
                        float(row["50%"] if row["50%"] != "N/A" else "nan"),
                        float(row["95%"] if row["95%"] != "N/A" else "nan"), float(row["Requests/s"]))
    failures = Path(f"{prefix}_failures.csv")
    if failures.exists():
        with failures.open(encoding="utf-8") as f:
            res.failure_lines = [f"{r['Name']} ×{r['Occurrences']}: {r['Error']}" for r in csv.DictReader(f)]
    exceptions = Path(f"{prefix}_exceptions.csv")
    if exceptions.exists():
        with exceptions.open(encoding="utf-8") as f:
            for r in csv.DictReader(f):
                res.exceptions += int(r["Count"])
                res.failure_lines.append(f"locust ×{r['Count']}: {r['Message']}")
    return res


def run_locust(base: str, plan: dict[str, object], *, users: int, duration_s: float,
               headers: dict[str, str] | None = None, think_s: tuple[float, float] = (1.0, 3.0),
               spawn_rate: float | None = None, out_dir: Path | None = None) -> LoadResult:
    """Locust headless in a subprocess against `base` for `duration_s` seconds with `users` users."""
    with tempfile.TemporaryDirectory(prefix="riskmap-load-") as tmp:
        work = out_dir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        plan_file = work / "plan.json"
        plan_file.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
        prefix = work / f"locust_u{users}"
        env = {**os.environ, "RISKMAP_LOAD_PLAN": str(plan_file),
               "RISKMAP_LOAD_AUTH": (headers or {}).get("Authorization", ""),
               "RISKMAP_LOAD_THINK": f"{think_s[0]},{think_s[1]}"}
        rate = spawn_rate or max(1.0, users / 5)
        cmd = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", base,
               "--users", str(users), "--spawn-rate", f"{rate:g}", "--run-time", f"{max(1, round(duration_s))}s",
               "--stop-timeout", "10", "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING"]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=duration_s + 120, check=False)
        res = _read_stats(prefix, users, duration_s, done.returncode)
        if not res.kinds:
            raise RuntimeError(f"locust 没有产生统计（退出码 {done.returncode}）：{done.stderr[-2000:]}")
        return res


def run_load(db_url: str, *, users: int = 50, duration_s: float = 60, workers: int = 1,
             baseline_s: float = 0, think_s: tuple[float, float] = (1.0, 3.0), log: Path | None = None,
             plan: dict[str, object] | None = None) -> tuple[LoadResult | None, LoadResult]:
    """Serve db_url, log in as a county viewer, and run the light baseline (BASELINE_USERS users, when
    baseline_s > 0) and then the load; returns (baseline, load)."""
    plan = plan or plan_requests(db_url)
    # every simulated user comes from this one address with one login, unlike a bureau's staff: the per-login
    # and per-address limits (RISKMAP_MAX_REQUESTS_PER_USER/ADDRESS) are raised so the admission limit is measured
    per_client = str(max(users, BASELINE_USERS) * 2)
    limits = {"RISKMAP_MAX_REQUESTS_PER_USER": per_client, "RISKMAP_MAX_REQUESTS_PER_ADDRESS": per_client}
    with running_server(db_url, workers=workers, log=log, env=limits) as base:
        headers = login_headers(base, db_url)
        base_res = run_locust(base, plan, users=BASELINE_USERS, duration_s=baseline_s, headers=headers,
                              think_s=think_s) if baseline_s > 0 else None
        res = run_locust(base, plan, users=users, duration_s=duration_s, headers=headers, think_s=think_s)
    res.authenticated = bool(headers)
    return base_res, res


def report(res: LoadResult, baseline: LoadResult | None = None) -> str:
    """Chinese table of the figures per endpoint kind, with loaded ÷ unloaded ratios when there is a baseline."""
    head = f"{'类型 kind':<16}{'请求数':>8}{'失败':>6}{'p50 ms':>9}{'p95 ms':>9}{'请求/s':>9}"
    if baseline:
        head += f"{'p50 比值':>10}{'p95 比值':>10}"
    lines = [head]
    for kind, label in KINDS.items():
        k = res.kinds.get(kind)
        if k is None:
            continue
        line = f"{label:<16}{k.requests:>8}{k.failures:>6}{k.p50_ms:>9.0f}{k.p95_ms:>9.0f}{k.rps:>9.1f}"
        b = baseline.kinds.get(kind) if baseline else None
        if b and b.p50_ms > 0 and b.p95_ms > 0:
            line += f"{k.p50_ms / b.p50_ms:>10.2f}{k.p95_ms / b.p95_ms:>10.2f}"
        lines.append(line)
    return "\n".join(lines)


def _database_url(args: argparse.Namespace) -> str:
    """The loaded database: the demo county (loaded into riskmap_load_demo once), or a scale county."""
    if args.demo:
        from bench.generate import ensure_database, target_url
        from geo.demo.load import load_demo
        from geo.risk import compute

        url = target_url(args.database or "riskmap_load_demo")
        eng = ensure_database(url)
        try:
            with eng.connect() as conn:
                empty = conn.execute(text("SELECT count(*) FROM enterprise")).scalar_one() == 0
            if empty:
                print("载入示范县（河曲县）并计算风险 …", flush=True)
                load_demo(eng)
                with eng.begin() as conn:
                    compute(conn)
        finally:
            eng.dispose()
        return url
    from bench.maps import scale_db

    return scale_db(1.0, args.database)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="负载测试：地图页面、矢量瓦片、GeoJSON（locust，仅本机回环地址）")
    ap.add_argument("--database", help="已载入的数据库名（默认 riskmap_x1，空库时生成 ×1 县；配合 --demo 默认 "
                                       "riskmap_load_demo）")
    ap.add_argument("--demo", action="store_true", help="用示范县（河曲县）数据")
    ap.add_argument("--users", type=int, default=50, help="并发用户数")
    ap.add_argument("--duration", type=float, default=60, help="负载持续秒数")
    ap.add_argument("--workers", type=int, default=1, help="服务进程数（uvicorn workers）")
    ap.add_argument("--baseline", type=float, default=15, help=f"先以 {BASELINE_USERS} 个用户跑的秒数（轻载基线，0 = 不跑）")
    ap.add_argument("--think", type=float, nargs=2, default=(1.0, 3.0), metavar=("MIN", "MAX"),
                    help="用户两次操作之间的思考时间（秒）")
    ap.add_argument("--log", type=Path, help="服务日志文件")
    servers.add_arguments(ap)
    args = ap.parse_args(argv)
    table = servers.Report(f"负载 {args.users} 用户 × {args.duration:g} s：请求数、失败数")
    failed = False
    for server in servers.each(args):
        url = _database_url(args)
        plan = plan_requests(url)
        n_tiles = sum(len(v) for t in plan["townships"] for v in t["zooms"])  # type: ignore[attr-defined]
        print(f"数据库 {url.rsplit('/', 1)[-1].split('?')[0]}：{len(plan['townships'])} 个乡镇，"  # type: ignore[arg-type]
              f"全县首屏 {len(plan['county']) - 1} 个瓦片，街区视图共 {n_tiles} 个瓦片", flush=True)
        baseline, res = run_load(url, users=args.users, duration_s=args.duration, workers=args.workers,
                                 baseline_s=args.baseline, think_s=tuple(args.think), log=args.log, plan=plan)
        auth = "以县级只读用户（county_viewer）登录" if res.authenticated else "服务尚无登录，未带令牌"
        print(f"{args.users} 个用户 × {args.duration:g} s，服务进程 {args.workers} 个，思考时间 {args.think[0]:g}–"
              f"{args.think[1]:g} s，{auth}；比值 = 负载下 ÷ 轻载基线（{BASELINE_USERS} 用户 {args.baseline:g} s）")
        print(report(res, baseline))
        print(f"合计 {res.requests} 个请求，失败 {res.failures} 个")
        for line in res.failure_lines[:20]:
            print(f"  失败：{line}")
        if baseline and baseline.failures:
            print(f"基线阶段失败 {baseline.failures} 个")
        failed = failed or bool(res.failures or (baseline and baseline.failures))
        table.add(server, "请求 / 失败", f"{res.requests:,} / {res.failures}")
        for kind, kind_label in KINDS.items():
            k = res.kinds.get(kind)
            if k is not None:
                table.add(server, f"{kind_label} p50 / p95（毫秒）", f"{k.p50_ms:.0f} / {k.p95_ms:.0f}")
    table.print()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
