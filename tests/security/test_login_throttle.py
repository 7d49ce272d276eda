"""Finding 4: failed logins are throttled per account and per address (429, Retry-After, 还需等待 N 秒), the state
lives in PostgreSQL, and every login, failure, logout, password change and token issue is in the audit log.

Before: 200 wrong admin passwords in 49 s, no throttling, nothing audited.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.conftest import TEST_PASSWORD


@pytest.fixture
def app(county):
    from api.app import create_app

    return create_app()


def _client(app, address: str) -> TestClient:
    return TestClient(app, client=(address, 40000))


def _post(c: TestClient, username: str, password: str):
    return c.post("/auth/token", data={"username": username, "password": password})


def _assert_throttled(r) -> int:
    assert r.status_code == 429, r.text
    wait = int(r.headers["Retry-After"])
    assert r.json()["code"] == "too_many_attempts"
    assert f"还需等待 {wait} 秒" in r.json()["message"]
    return wait


def test_five_failures_lock_the_account_even_for_the_right_password(app, make_user, engine):
    from geo.config import get_settings

    s = get_settings()
    make_user("admin", username="锁定甲")
    c = _client(app, "10.1.0.1")
    for _ in range(s.login_max_failures_per_account):
        r = _post(c, "锁定甲", "wrong-password")
        assert r.status_code == 401 and r.json()["message"] == "用户名或密码错误"
    wait = _assert_throttled(_post(c, "锁定甲", TEST_PASSWORD))
    assert 0 < wait <= s.login_failure_window_s
    # per account: another address is refused too, and so is the login form
    _assert_throttled(_post(_client(app, "10.1.0.2"), "锁定甲", TEST_PASSWORD))
    other = _client(app, "10.1.0.3")
    other.get("/login")
    form = other.post("/login", data={"username": "锁定甲", "password": TEST_PASSWORD,
                                      "csrf_token": other.cookies.get("riskmap_csrf", "")},
                      headers={"Origin": "http://testserver"}, follow_redirects=False)
    assert form.status_code == 429 and "还需等待" in form.text and int(form.headers["Retry-After"]) > 0
    # the window passes: the right password works again
    with engine.begin() as conn:
        conn.execute(text("UPDATE login_event SET at = at - make_interval(secs => :w)"),
                     {"w": s.login_failure_window_s + 1})
    assert _post(c, "锁定甲", TEST_PASSWORD).status_code == 200


def test_a_success_resets_the_account_count(app, make_user):
    from geo.config import get_settings

    n = get_settings().login_max_failures_per_account
    make_user("county_viewer", username="重置乙")
    c = _client(app, "10.2.0.1")
    for _ in range(n - 1):
        assert _post(c, "重置乙", "wrong-password").status_code == 401
    assert _post(c, "重置乙", TEST_PASSWORD).status_code == 200
    for _ in range(n - 1):
        assert _post(c, "重置乙", "wrong-password").status_code == 401
    assert _post(c, "重置乙", TEST_PASSWORD).status_code == 200


def test_many_failures_from_one_address_lock_that_address(app, make_user, engine):
    from geo.config import get_settings

    s = get_settings()
    make_user("county_viewer", username="地址丙")
    c = _client(app, "10.3.0.1")
    for i in range(s.login_max_failures_per_address):
        assert _post(c, f"猜测{i}", "wrong-password").status_code == 401  # never 5 on one account
    _assert_throttled(_post(c, "地址丙", TEST_PASSWORD))
    assert _post(_client(app, "10.3.0.2"), "地址丙", TEST_PASSWORD).status_code == 200
    # the state is in PostgreSQL (shared by workers, kept over restarts): without its rows, no lock
    with engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM login_event WHERE address = '10.3.0.1' "
                                 "AND outcome = 'failure'")).scalar_one() == s.login_max_failures_per_address
        conn.execute(text("DELETE FROM login_event WHERE address = '10.3.0.1'"))
    assert _post(c, "地址丙", TEST_PASSWORD).status_code == 200


def test_logins_and_credential_changes_are_audited_without_passwords(app, make_user, engine, capsys):
    from geo.cli import main

    admin = TestClient(app, headers=make_user("admin", username="审计管理员"), client=("10.4.0.9", 1))
    make_user("county_viewer", username="审计丁")
    c = _client(app, "10.4.0.1")
    secret = "wrong-secret-tries-9"
    assert _post(c, "审计丁", secret).status_code == 401
    token = _post(c, "审计丁", TEST_PASSWORD).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    made = c.post("/auth/api-tokens", json={"name": "对接"}, headers=bearer).json()
    assert c.delete(f"/auth/api-tokens/{made['id']}", headers=bearer).status_code == 204
    assert c.post("/logout", headers=bearer, follow_redirects=False).status_code == 303
    assert admin.patch("/users/审计丁", json={"password": "brand-new-pass-1"}).status_code == 200

    log = admin.get("/audit", params={"actor": "审计丁", "limit": 50}).json()
    events = [(e["table"], e["action"], (e["after"] or {}).get("outcome")) for e in log]
    assert ("login_event", "insert", "failure") in events
    assert ("login_event", "insert", "success") in events
    assert ("login_event", "insert", "logout") in events
    assert ("api_token", "insert", None) in events and any(
        t == "api_token" and a == "update" for t, a, _ in events)
    logins = [e for e in log if e["table"] == "login_event"]
    assert all(e["after"]["address"] == "10.4.0.1" and e["after"]["username"] == "审计丁" for e in logins)
    changed = admin.get("/audit", params={"table": "app_user", "limit": 50}).json()
    assert any("password_changed_at" in e["changed"] for e in changed), "password change not in the audit log"
    with engine.connect() as conn:
        everything = conn.execute(text("SELECT string_agg(coalesce(before::text, '') || after::text, ' ') "
                                       "FROM audit_log")).scalar_one()
    assert secret not in everything and TEST_PASSWORD not in everything and "brand-new-pass-1" not in everything

    assert main(["audit", "--table", "login_event", "-v"]) == 0
    out = capsys.readouterr().out
    assert "审计丁" in out and re.search(r"outcome: .*failure", out) and "10.4.0.1" in out
