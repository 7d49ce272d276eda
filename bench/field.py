"""Field app benchmark (issue #15): the app shell and the first sync of a township's tasks and layers on a phone over
3G, then the app used without signal.

    python -m bench.field [--runs 3] [--township 140930100000]

On the demo county (the current database: `riskmap demo load` and `riskmap risk compute` first) it adds, for the
run only, a plan of today with 第1组 visiting up to eight enterprises of the township and an inspector of that team,
serves the county with `riskmap serve` on loopback, and puts a throttling proxy in front of it with the figures of
Chromium's "3G" network preset (DevTools' former "Fast 3G": 562.5 ms round trip, 180,000 B/s down, 84,375 B/s up).
The throttle sits in the proxy rather than in CDP's Network.emulateNetworkConditions because CDP throttles one
target at a time, and a good part of the first sync is fetched by the service worker, a target of its own.

Each run opens a fresh phone profile (390 × 844, touch, position granted), signs in, and times /field from
navigation to `data-offline-ready` (shell, tasks, layers and the township's reference tiles at zoom 10–13 kept on
the phone), counting every byte through the proxy; then it cuts the connection, reloads, and checks that today's
stops, the map with its reference tiles and a new record in the queue all work offline. Compared with opening the
township's map page (/maps/township/CODE: the workbench's own view of the same township) over the same link.
Only 127.0.0.1 is reached; loops are bounded by --runs.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import secrets
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Engine, create_engine, text

from api.devserver import CHROMIUM, CHROMIUM_ARGS, free_port, running_server

RTT_S = 0.5625
DOWN_BPS = 180_000
UP_BPS = 84_375
"""Chromium DevTools' "3G" preset (front_end/core/sdk/NetworkManager.ts: 1.6 Mbit/s × 0.9 down, 750 kbit/s × 0.9
up, 150 ms × 3.75 latency)."""

XIKOU = "140930100000"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "locale": "zh-CN",
         "permissions": ["geolocation"]}


@dataclass
class Link:
    """One direction of the emulated link: bytes serialised at `rate` B/s, then delivered `delay` s later."""

    rate: float
    delay: float
    free_at: float = 0.0
    bytes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def deliver_at(self, n: int) -> float:
        now = time.monotonic()
        with self.lock:
            self.free_at = max(now, self.free_at) + n / self.rate
            self.bytes += n
            return self.free_at + self.delay


class Throttle:
    """A TCP proxy on loopback in front of `target_port` with the 3G figures; counts bytes each way."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.down = Link(DOWN_BPS, RTT_S / 2)
        self.up = Link(UP_BPS, RTT_S / 2)
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()

    def reset(self) -> None:
        self.down.bytes = self.up.bytes = 0

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, link: Link) -> None:
        try:
            while chunk := await reader.read(16384):
                wait = link.deliver_at(len(chunk)) - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        await asyncio.gather(self._pump(reader, up_writer, self.up), self._pump(up_reader, writer, self.down))

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", self.port))
        self.ready.set()
        self.loop.run_forever()
        server.close()

    @contextmanager
    def running(self) -> Iterator[str]:
        t = threading.Thread(target=self._run, daemon=True)
        t.start()
        self.ready.wait(10)
        try:
            yield f"http://127.0.0.1:{self.port}"
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)


def set_up(engine: Engine, township: str, username: str, password: str) -> int:
    """Today's plan for 第1组 in `township` and its inspector; returns the plan id."""
    from geo.access.users import add_user

    today = dt.date.today()
    with engine.begin() as conn:
        firms = conn.execute(text(
            "SELECT e.id FROM enterprise e JOIN township t ON t.id = e.township_id WHERE t.code = :c ORDER BY e.id "
            "LIMIT 8"), {"c": township}).scalars().all()
        plan = conn.execute(text(
            "INSERT INTO inspection_plan (start_on, end_on, teams, status, solve_s, summary, township_code) "
            "VALUES (:s, :e, 1, '找到可行解', 0, CAST(:sum AS jsonb), :t) RETURNING id"),
            {"s": today, "e": today + dt.timedelta(days=6), "t": township,
             "sum": json.dumps({"due": len(firms), "visited": len(firms), "dropped": 0})}).scalar_one()
        route = conn.execute(text(
            "INSERT INTO plan_route (plan_id, team, day_on, depot_name, depot_geom, travel_s, service_s, return_s, "
            "distance_m) VALUES (:p, '第1组', :d, '应急管理局', ST_SetSRID(ST_MakePoint(111.15, 39.38), 4490), 3600, "
            "3600, 7200, 30000) RETURNING id"), {"p": plan, "d": today}).scalar_one()
        for seq, eid in enumerate(firms, start=1):
            conn.execute(text(
                "INSERT INTO plan_stop (plan_id, route_id, seq, enterprise_id, colour, priority, reasons, arrival_s, "
                "service_s, snapped) VALUES (:p, :r, :q, :e, 'red', 10, '[\"压测\"]', :a, 1800, true)"),
                {"p": plan, "r": route, "q": seq, "e": eid, "a": 1800 * seq})
        add_user(conn, username, password, "inspector", townships=[township], teams=["第1组"])
    return int(plan)


def tear_down(engine: Engine, plan_id: int, username: str) -> None:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM inspection_plan WHERE id = :p"), {"p": plan_id})
        conn.execute(text("DELETE FROM field_submission WHERE login = :u"), {"u": username})
        conn.execute(text("UPDATE app_user SET disabled = true WHERE username = :u"), {"u": username})


def sign_in(page, base: str, username: str, password: str, next_: str) -> None:
    page.goto(f"{base}/login?next={next_}", wait_until="load")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{next_}", timeout=120_000)


def one_run(browser, proxy: Throttle, base: str, username: str, password: str, township: str) -> dict[str, float]:
    out: dict[str, float] = {}
    context = browser.new_context(**PHONE, geolocation={"longitude": 111.2, "latitude": 39.3, "accuracy": 10})
    page = context.new_page()
    sign_in(page, base, username, password, "/")  # the login itself is not part of the figures
    proxy.reset()
    t0 = time.monotonic()
    page.goto(f"{base}/field", wait_until="load")
    page.wait_for_selector("body[data-synced=yes]", timeout=300_000)
    out["tasks_s"] = time.monotonic() - t0
    page.wait_for_selector("body[data-offline-ready]", timeout=600_000)
    out["sync_s"] = time.monotonic() - t0
    out["down_b"], out["up_b"] = proxy.down.bytes, proxy.up.bytes
    out["tiles"] = float(page.get_attribute("body", "data-offline-ready") or 0)
    # without signal: reload, today's stops, the map with reference tiles, a record into the queue
    context.set_offline(True)
    page.reload(wait_until="load")
    page.wait_for_selector("body[data-synced=yes]", timeout=60_000)
    stops = page.locator("#fd-today > li.fd-card").count()
    page.click(".fd-tabs button[data-tab=map]")
    page.wait_for_selector("#fd-map canvas.leaflet-tile", timeout=60_000)
    page.click(".fd-tabs button[data-tab=record]")
    page.select_option("#fd-kind", "encroachment")
    page.fill("#fd-enc-text", "离线压测记录")
    page.click("#fd-save")
    page.wait_for_selector("#fd-queue li[data-state=pending]", timeout=30_000)
    out["offline_ok"] = float(stops > 0 and "离线" in page.inner_text("#fd-sync"))
    context.close()
    # the workbench's township map over the same link, for comparison
    context = browser.new_context(**PHONE)
    page = context.new_page()
    sign_in(page, base, username, password, "/")
    proxy.reset()
    t0 = time.monotonic()
    page.goto(f"{base}/maps/township/{township}", wait_until="load")
    page.wait_for_load_state("networkidle", timeout=600_000)
    out["map_s"] = time.monotonic() - t0
    out["map_b"] = proxy.down.bytes
    context.close()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.field", description="现场端首次同步（3G）与离线可用")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--township", default=XIKOU)
    args = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    from geo.db import database_url

    url = database_url()
    engine = create_engine(url)
    username, password = f"bench_field_{secrets.token_hex(3)}", secrets.token_urlsafe(16)
    plan_id = set_up(engine, args.township, username, password)
    runs: list[dict[str, float]] = []
    try:
        with running_server(url) as server:
            proxy = Throttle(int(server.rsplit(":", 1)[1]))
            with proxy.running() as base, sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
                for i in range(max(1, args.runs)):
                    runs.append(one_run(browser, proxy, base, username, password, args.township))
                    print(f"第 {i + 1} 次：{json.dumps({k: round(v, 2) for k, v in runs[-1].items()})}", flush=True)
                browser.close()
    finally:
        tear_down(engine, plan_id, username)
        engine.dispose()

    def med(key: str) -> float:
        return statistics.median(r[key] for r in runs)

    load = os.getloadavg()
    print(f"\n现场端首次同步，乡镇 {args.township}，3G（往返 {RTT_S * 1000:.1f} ms，下行 {DOWN_BPS} B/s，上行 {UP_BPS} B/s），"
          f"{len(runs)} 次中位数；负载 {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"  任务可见（页面外壳 + 今日站点）      {med('tasks_s'):7.1f} s")
    print(f"  可离线使用（+ 图层 + 参考底图瓦片 {med('tiles'):.0f} 个） {med('sync_s'):7.1f} s   "
          f"下行 {med('down_b') / 1e6:.2f} MB，上行 {med('up_b') / 1e3:.0f} kB")
    print(f"  下限：同样字节只受带宽限制（一次往返 + 字节/下行速率） {RTT_S + med('down_b') / DOWN_BPS:7.1f} s")
    print(f"  对照：工作台乡镇地图页 /maps/township  {med('map_s'):7.1f} s   下行 {med('map_b') / 1e6:.2f} MB")
    print(f"  比值 首次同步/乡镇地图页：时间 {med('sync_s') / med('map_s'):.2f}，字节 {med('down_b') / med('map_b'):.2f}")
    print(f"  离线：重新打开、今日站点、地图瓦片、新记录入队 {'全部可用' if all(r['offline_ok'] for r in runs) else '未通过'}")
    return 0 if all(r["offline_ok"] for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
