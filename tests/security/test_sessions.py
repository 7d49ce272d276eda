"""Finding 7: a login ends at logout, at a password change (CLI or HTTP) and when the account is disabled.

Before: the JWT was checked only for its signature and expiry, so it kept working for its 8 hours after
`riskmap user passwd`, after PATCH /users/{name} and after /logout; API tokens survived a password change.
"""

from __future__ import annotations

import io

import pytest
from fastapi.testclient import TestClient

from tests.conftest import TEST_PASSWORD

NEW_PASSWORD = "another-horse-77"


@pytest.fixture
def app(county):
    from api.app import create_app

    return create_app()


def _login(c: TestClient, username: str, password: str = TEST_PASSWORD) -> str:
    r = c.post("/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    return r.json()["access_token"]


def _me(c: TestClient, token: str) -> int:
    return c.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code


def _refused_in_chinese(c: TestClient, token: str) -> None:
    r = c.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401, r.text
    message = r.json()["message"]
    assert not message.isascii() and ("登录" in message or "令牌" in message), message


def test_cli_password_change_ends_sessions_and_api_tokens(app, make_user, monkeypatch, capsys):
    from geo.cli import main
    from geo.db import get_engine

    make_user("county_viewer", username="会话甲")
    c = TestClient(app)
    session = _login(c, "会话甲")
    api = c.post("/auth/api-tokens", json={"name": "对接"}, headers={"Authorization": f"Bearer {session}"})
    api_token = api.json()["token"]
    assert _me(c, session) == 200 and _me(c, api_token) == 200

    monkeypatch.setenv("PGOPTIONS", "")
    get_engine().dispose()
    monkeypatch.setattr("sys.stdin", io.StringIO(NEW_PASSWORD + "\n"))
    assert main(["user", "passwd", "会话甲", "--password-stdin"]) == 0
    assert "密码已更新" in capsys.readouterr().out
    get_engine().dispose()

    _refused_in_chinese(c, session)
    _refused_in_chinese(c, api_token)
    assert c.post("/auth/token", data={"username": "会话甲", "password": TEST_PASSWORD}).status_code == 401
    assert _me(c, _login(c, "会话甲", NEW_PASSWORD)) == 200


def test_http_password_change_and_disabling_end_sessions(app, make_user):
    admin = TestClient(app, headers=make_user("admin"))
    make_user("county_editor", username="会话乙")
    c = TestClient(app)
    first = _login(c, "会话乙")
    r = admin.patch("/users/会话乙", json={"password": NEW_PASSWORD})
    assert r.status_code == 200, r.text
    _refused_in_chinese(c, first)
    second = _login(c, "会话乙", NEW_PASSWORD)
    assert _me(c, second) == 200

    assert admin.patch("/users/会话乙", json={"disabled": True}).status_code == 200
    assert admin.patch("/users/会话乙", json={"disabled": False}).status_code == 200
    _refused_in_chinese(c, second)  # re-enabling does not bring the old session back
    assert _me(c, _login(c, "会话乙", NEW_PASSWORD)) == 200


def test_short_http_password_is_422(app, make_user):
    admin = TestClient(app, headers=make_user("admin"))
    make_user("county_editor", username="会话丙")
    r = admin.patch("/users/会话丙", json={"password": "short"})
    assert r.status_code == 422 and "password" in r.json()["message"]


def test_logout_ends_that_session_only(app, make_user):
    make_user("county_viewer", username="会话丁")
    c = TestClient(app)
    one, two = _login(c, "会话丁"), _login(c, "会话丁")
    r = c.post("/logout", headers={"Authorization": f"Bearer {one}"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    _refused_in_chinese(c, one)
    assert _me(c, two) == 200


def test_sessions_are_checked_in_the_database(app, make_user, engine):
    """The JWT names a session row; a token whose row is gone or revoked is refused, whatever its signature."""
    from sqlalchemy import text

    make_user("county_viewer", username="会话戊")
    c = TestClient(app)
    token = _login(c, "会话戊")
    with engine.begin() as conn:
        n = conn.execute(text("UPDATE app_session SET revoked_at = now() WHERE user_id = "
                              "(SELECT id FROM app_user WHERE username = '会话戊')")).rowcount
    assert n >= 1
    _refused_in_chinese(c, token)


@pytest.mark.parametrize("role", ["riskmap_county_editor", "riskmap_county_viewer", "riskmap_township_editor",
                                  "riskmap_inspector"])
def test_sessions_and_the_login_journal_stay_closed_to_data_roles(app, make_user, engine, role):
    """Only the service's login and admins see sessions and login events, even after a later migration re-applies
    the default grants to every public table (geo.access.roles.ensure_roles)."""
    from sqlalchemy import text
    from sqlalchemy.exc import ProgrammingError

    from geo.access.roles import ensure_roles

    make_user("county_viewer", username="会话己")
    TestClient(app).post("/auth/token", data={"username": "会话己", "password": "wrong-password-0"})
    with engine.connect() as conn, conn.begin():
        ensure_roles(conn)
        conn.execute(text(f"SET LOCAL ROLE {role}"))
        try:
            seen = conn.execute(text("SELECT (SELECT count(*) FROM app_session) + (SELECT count(*) FROM login_event)"))
            assert seen.scalar_one() == 0
        except ProgrammingError as exc:
            assert "permission denied" in str(exc)
        conn.rollback()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM app_session")).scalar_one() >= 1
        assert conn.execute(text("SELECT count(*) FROM login_event")).scalar_one() >= 1


def test_tiles_resolve_the_login_on_every_request(app, make_user, engine):
    """Tiles resolve the login on their own read connection (no router-level login dependency): no token, an
    ended session, a revoked API token are refused at the very next tile; a live one gets the tile."""
    from sqlalchemy import text

    make_user("county_viewer", username="会话己")
    c = TestClient(app)
    path = "/tiles/enterprise/3/6/3.pbf"
    assert c.get(path).status_code == 401
    assert c.get(path, headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    token = _login(c, "会话己")
    bearer = {"Authorization": f"Bearer {token}"}
    assert c.get(path, headers=bearer).status_code in (200, 204)
    assert c.get("/tiles/building.json", headers=bearer).status_code == 200
    c.post("/logout", headers=bearer, follow_redirects=False)
    r = c.get(path, headers=bearer)
    assert r.status_code == 401 and not r.json()["message"].isascii()
    assert c.get("/tiles/building.json", headers=bearer).status_code == 401

    api = c.post("/auth/api-tokens", json={"name": "瓦片"}, headers={"Authorization": f"Bearer {_login(c, '会话己')}"})
    assert api.status_code == 201, api.text
    key = {"Authorization": f"Bearer {api.json()['token']}"}
    assert c.get(path, headers=key).status_code in (200, 204)
    with engine.connect() as conn:  # the API token's use is recorded although the tile's transaction rolls back
        used = conn.execute(text("SELECT last_used_at FROM api_token WHERE id = :i"), {"i": api.json()["id"]}).scalar()
    assert used is not None
    with engine.begin() as conn:
        conn.execute(text("UPDATE api_token SET revoked_at = now() WHERE id = :i"), {"i": api.json()["id"]})
    assert c.get(path, headers=key).status_code == 401


def test_every_tile_route_takes_the_login_through_its_connection():
    """The tiles router is included without a login dependency: each of its routes must take the read connection
    (api.deps.ConnDep or read_connection), which resolves the login, or it would answer anyone."""
    from fastapi.routing import APIRoute

    from api.deps import _connection
    from api.routers import tiles

    def calls(dependant) -> set:
        return {dependant.call} | {c for d in dependant.dependencies for c in calls(d)}

    routes = [r for r in tiles.router.routes if isinstance(r, APIRoute)]
    assert len(routes) >= 3
    # the vector tile opens api.deps.read_connection itself (one thread hop); test_tiles_resolve_… covers it
    assert [r.path for r in routes if _connection not in calls(r.dependant)
            and r.endpoint is not tiles.vector_tile] == []
