"""Finding 3: slow clients cannot starve the service.

Before: 20 POST /auth/token trickling their bodies held all 20 admission slots (the slot was taken before the
body was read), so /health and a valid login waited 30 s and got 503. Now bodies are read, with a deadline,
before a request takes a slot; slots are per cost class; and one user or address can only hold so many.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tests.conftest import TEST_PASSWORD

SLOW = 40
TRICKLE_S = 2.0


def _open_slow(port: int, i: int) -> socket.socket:
    """A login whose body arrives a byte at a time: half declare a Content-Length, half are chunked."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    head = ("POST /auth/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            + ("Content-Length: 4000\r\n" if i % 2 else "Transfer-Encoding: chunked\r\n") + "\r\n")
    s.sendall(head.encode())
    return s


def _trickle(socks: list[socket.socket], stop: threading.Event, chunked: list[bool]) -> None:
    for _ in range(30):  # bounded: at most 30 rounds
        for s, is_chunked in zip(socks, chunked, strict=True):
            try:
                s.sendall(b"1\r\nu\r\n" if is_chunked else b"u")
            except OSError:
                pass
        if stop.wait(TRICKLE_S):
            return


def test_forty_slow_bodies_do_not_block_health_or_a_login(db, db_url, make_user, out_dir):
    from api.devserver import running_server

    make_user("county_viewer", username="慢客户端")
    with running_server(db_url, log=out_dir / "slow-clients-server.log") as base:
        port = int(base.rsplit(":", 1)[1])
        socks = [_open_slow(port, i) for i in range(SLOW)]
        stop = threading.Event()
        feeder = threading.Thread(target=_trickle, args=(socks, stop, [i % 2 == 0 for i in range(SLOW)]),
                                  daemon=True)
        feeder.start()
        try:
            time.sleep(3)  # every slow request is inside the server, trickling
            t0 = time.monotonic()
            health = httpx.get(f"{base}/health", timeout=10)
            t_health = time.monotonic() - t0
            t0 = time.monotonic()
            login = httpx.post(f"{base}/auth/token", data={"username": "慢客户端", "password": TEST_PASSWORD},
                               timeout=10)
            t_login = time.monotonic() - t0
            print(f"\n{SLOW} slow bodies held open: GET /health {t_health:.3f} s, POST /auth/token {t_login:.3f} s")
            assert health.status_code == 200, health.text
            assert login.status_code == 200, login.text

            # the slow ones themselves are told 408 once their deadline passes (and never get a slot)
            socks[1].settimeout(40)
            answer = socks[1].recv(200).decode(errors="replace")
            assert answer.startswith("HTTP/1.1 408"), answer
        finally:
            stop.set()
            feeder.join(10)
            for s in socks:
                s.close()


def _held_app(release: asyncio.Event, inside: list[str]) -> Starlette:
    async def held(request: Request) -> PlainTextResponse:
        inside.append(request.url.path)
        await release.wait()
        return PlainTextResponse("ok")

    return Starlette(routes=[Route(p, held, methods=["GET", "POST"])
                             for p in ("/plans", "/health", "/layers", "/auth/token")])


def test_heavy_work_does_not_hold_the_slots_of_logins():
    """Plan solves fill the heavy class; health and logins still get in at once."""
    from api.admission import Admission

    async def scenario() -> tuple[list[int], int]:
        release, inside = asyncio.Event(), []
        app = Admission(_held_app(release, inside), max_in_flight=4, wait_s=0.3, cheap=2, heavy=2)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            solves = [asyncio.create_task(client.post("/plans", headers={"Authorization": f"Bearer u{i}"}))
                      for i in range(2)]
            while len(inside) < 2:
                await asyncio.sleep(0.01)
            third = await client.post("/plans", headers={"Authorization": "Bearer u9"})  # heavy class is full
            health = asyncio.create_task(client.get("/health"))
            while len(inside) < 3:
                await asyncio.sleep(0.01)
            release.set()
            done = await asyncio.gather(*solves, health)
        return [r.status_code for r in done], third.status_code

    done, third = asyncio.run(scenario())
    assert done == [200, 200, 200] and third == 503


@pytest.mark.parametrize("limit", ["user", "address"])
def test_one_user_or_address_cannot_take_every_slot(limit):
    from api.admission import Admission

    async def scenario() -> list[httpx.Response]:
        release, inside = asyncio.Event(), []
        app = Admission(_held_app(release, inside), max_in_flight=10, wait_s=5, per_user=2, per_address=3)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            same_user = {"Authorization": "Bearer the-same"}
            n = 2 if limit == "user" else 3
            held = [asyncio.create_task(client.get("/layers", headers=same_user if limit == "user"
                                                   else {"Authorization": f"Bearer t{i}"})) for i in range(n)]
            while len(inside) < n:
                await asyncio.sleep(0.01)
            refused = await client.get("/layers", headers=same_user if limit == "user" else {})
            release.set()
            return [*await asyncio.gather(*held), refused]

    *held, refused = asyncio.run(scenario())
    assert all(r.status_code == 200 for r in held)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["code"] == "too_many_requests" and "请稍后" in refused.json()["message"]
