"""Finding 10 (part): a chunked body over the limit is 413 like a declared one (it was 400: FastAPI turned the
limit's exception into "There was an error parsing the body"); a body that trickles in is 408 in Chinese."""

from __future__ import annotations

import asyncio
import json

import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def small_limit(monkeypatch):
    from geo.config import get_settings

    monkeypatch.setenv("RISKMAP_MAX_BODY_BYTES", "4096")
    get_settings.cache_clear()
    yield 4096
    get_settings.cache_clear()


def test_chunked_body_over_the_limit_is_413(county, make_user, small_limit):
    from api.app import create_app

    c = TestClient(create_app(), headers=make_user("county_editor"))

    def chunks():  # no Content-Length: httpx sends it chunked
        yield b'{"type": "Feature", "properties": {"name": "'
        for _ in range(10):
            yield b"x" * 1024
        yield b'"}}'

    r = c.post("/layers/enterprise/features", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413, r.text
    assert r.json()["code"] == "too_large" and "请求体过大" in r.json()["message"]
    login = c.post("/auth/token", content=chunks(), headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert login.status_code == 413


def test_chunked_body_under_the_limit_still_works(county, make_user, small_limit):
    from api.app import create_app

    c = TestClient(create_app(), headers=make_user("county_editor"))
    r = c.post("/risk/compute", content=iter([b""]))
    assert r.status_code == 200, r.text


def _drive(app, messages: list[dict], *, gap_s: float) -> tuple[int, dict]:
    """Send `messages` to the ASGI app `gap_s` apart; return the status and JSON body it answered."""
    sent: list[dict] = []

    async def run() -> None:
        queue = list(messages)

        async def receive() -> dict:
            if not queue:
                await asyncio.sleep(3600)
            await asyncio.sleep(gap_s)
            return queue.pop(0)

        async def send(message: dict) -> None:
            sent.append(message)

        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                 "scheme": "http", "path": "/auth/token", "raw_path": b"/auth/token", "query_string": b"",
                 "headers": [(b"host", b"t"), (b"content-length", b"100")], "client": ("10.0.0.1", 1),
                 "server": ("t", 80)}
        await asyncio.wait_for(app(scope, receive, send), 10)

    asyncio.run(run())
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(body)


def test_a_body_that_trickles_in_is_408_in_chinese_before_the_app_runs():
    from api.limits import BodyLimit

    reached = []

    async def app(scope, receive, send) -> None:
        reached.append(scope["path"])

    slow = BodyLimit(app, max_bytes=1000, total_s=0.5, idle_s=5)
    chunk = {"type": "http.request", "body": b"a", "more_body": True}
    status, body = _drive(slow, [chunk] * 50, gap_s=0.1)  # always a byte, never the whole body in time
    assert status == 408 and body["code"] == "request_timeout" and "请求体" in body["message"]
    idle = BodyLimit(app, max_bytes=1000, total_s=5, idle_s=0.3)
    status, body = _drive(idle, [chunk], gap_s=0.0)  # one byte, then silence
    assert status == 408 and body["code"] == "request_timeout"
    assert reached == []
