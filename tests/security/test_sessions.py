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
