"""Demo logins, one per role, so `./dev demo` opens on a working login page.

The password comes from RISKMAP_DEMO_PASSWORD or is generated once and kept (mode 600) in
`.riskmap/demo-accounts.txt`; running again resets the same accounts to that password.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from sqlalchemy import Engine, text

from geo.access.users import add_user, get_user, grant, set_disabled, set_password
from geo.config import get_settings
from geo.errors import NotFound

DEMO_ACCOUNTS = (
    ("admin", "admin", (), (), "系统管理员"),
    ("county", "county_viewer", (), (), "县局查看"),
    ("editor", "county_editor", (), (), "县局编辑"),
    ("xikou", "township_editor", ("140930100000",), (), "西口镇编辑"),
    ("inspector", "inspector", (), ("第1组",), "巡查第1组"),  # the team name plans give (geo/inspection/plan.py)
)
"""username, role, townships, teams, display name."""


def _password_file() -> Path:
    return get_settings().home / "demo-accounts.txt"


def demo_password() -> str:
    if os.environ.get("RISKMAP_DEMO_PASSWORD"):
        return os.environ["RISKMAP_DEMO_PASSWORD"]
    path = _password_file()
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("password="):
                return line.removeprefix("password=")
    password = secrets.token_urlsafe(9)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"password={password}\n", encoding="utf-8")
    path.chmod(0o600)
    return password


def ensure_demo_accounts(engine: Engine) -> tuple[str, list[tuple[str, str, str]]]:
    """Create or reset the demo accounts; returns the password and (username, role, scope) rows."""
    password = demo_password()
    made = []
    with engine.begin() as conn:
        known = {r[0] for r in conn.execute(text("SELECT code FROM township"))}
        for username, role, townships, teams, name in DEMO_ACCOUNTS:
            towns = [t for t in townships if t in known]
            if role == "township_editor" and not towns:
                continue
            try:
                get_user(conn, username)
                grant(conn, username, role=role, townships=towns, teams=list(teams))
                set_password(conn, username, password)
                set_disabled(conn, username, False)
            except NotFound:
                add_user(conn, username, password, role, townships=towns, teams=list(teams), display_name=name)
            made.append((username, name, "、".join(towns) or "全县"))
    return password, made
