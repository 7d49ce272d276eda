"""User accounts: argon2-hashed passwords, roles and township scope; add, grant, disable, authenticate."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, text

from geo.access.principal import NotAuthenticated, Principal
from geo.access.roles import ROLE_LABELS
from geo.errors import InvalidInput, NotFound

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("riskmap-timing-guard")
MIN_PASSWORD = 8


@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str | None
    role: str
    township_codes: tuple[str, ...]
    teams: tuple[str, ...]
    disabled: bool
    region_code: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "username": self.username, "display_name": self.display_name, "role": self.role,
                "role_label": ROLE_LABELS[self.role], "township_codes": list(self.township_codes),
                "teams": list(self.teams), "disabled": self.disabled,
                "region_code": self.region_code}


_COLUMNS = "id, username, display_name, role, township_codes, teams, disabled, region_code"


def _user(row: Any) -> User:
    return User(row.id, row.username, row.display_name, row.role, tuple(row.township_codes or ()),
                tuple(row.teams or ()), row.disabled, row.region_code)


def _check_role(role: str) -> None:
    if role not in ROLE_LABELS:
        raise InvalidInput(f"未知角色：{role}（可选：{'、'.join(f'{k} {v}' for k, v in ROLE_LABELS.items())}）")


def _check_townships(conn: Connection, codes: list[str]) -> None:
    known = {r[0] for r in conn.execute(text("SELECT code FROM township WHERE code = ANY(:c)"), {"c": codes})}
    missing = [c for c in codes if c not in known]
    if missing:
        raise InvalidInput(f"乡镇代码不存在：{'、'.join(missing)}")


_REGION = re.compile(r"\d{2}(?:0000|\d{2}00)")


def _check_region(role: str, region: str | None) -> None:
    """A region viewer needs a 地级市 (XXXX00) or 省 (XX0000) code (GB/T 2260); other roles none."""
    if role == "region_viewer":
        if not region or not _REGION.fullmatch(region) or region.startswith("00"):
            raise InvalidInput(f"市/省级查看必须指定地级市或省的 6 位代码（--region，如 140900 或 140000），而不是 {region or '空'}")
    elif region:
        raise InvalidInput(f"只有市/省级查看（region_viewer）可以指定 --region，{ROLE_LABELS[role]}的范围是本县或所辖乡镇")


def region_code(value: str | None, role: str) -> str | None:
    """A region code typed into the admin page, checked with Chinese messages naming the field (no CLI flags):
    required and a 地级市 (XXXX00) or 省 (XX0000) code for a region viewer, refused for any other role."""
    value = (value or "").strip()
    label = "地级市/省代码"
    if role != "region_viewer":
        if value:
            raise InvalidInput(f"{label}：只有“{ROLE_LABELS['region_viewer']}”填写；{ROLE_LABELS.get(role, role)}"
                               "的范围是本县或所辖乡镇，请清空此项")
        return None
    if not value:
        raise InvalidInput(f"{label}：“{ROLE_LABELS['region_viewer']}”必须填写所辖地级市或省的 6 位行政区划代码"
                           "（如忻州市 140900、山西省 140000）")
    if not (len(value) == 6 and value.isascii() and value.isdigit()):
        raise InvalidInput(f"{label}：应为 6 位数字的行政区划代码（GB/T 2260），收到“{value[:20]}”")
    if value.startswith("00") or not value.endswith("00"):
        raise InvalidInput(f"{label}：{value} 不是地级市或省的代码——地级市代码后两位为 00（如 140900），"
                           "省代码后四位为 0000（如 140000）；县区代码请改用本县的账号")
    return value


def township_choices(conn: Connection) -> list[tuple[str, str]]:
    """(code, name) of every township a user may be given, by code (the user forms' choices)."""
    return [(r.code, r.name) for r in conn.execute(text("SELECT code, name FROM township ORDER BY code"))]


def add_user(conn: Connection, username: str, password: str, role: str, *, townships: list[str] | None = None,
             teams: list[str] | None = None, display_name: str | None = None, region: str | None = None) -> User:
    """Create an account; a township editor needs at least one township code, a region viewer its region."""
    _check_role(role)
    _check_region(role, region)
    if not username or len(username) > 50:
        raise InvalidInput("用户名不能为空且不超过 50 个字符")
    codes = list(townships or [])
    if role == "township_editor" and not codes:
        raise InvalidInput("乡镇编辑必须指定所辖乡镇（--township 代码）")
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"密码至少 {MIN_PASSWORD} 位")
    _check_townships(conn, codes)
    if conn.execute(text("SELECT 1 FROM app_user WHERE username = :u"), {"u": username}).first():
        raise InvalidInput(f"用户名已存在：{username}")
    row = conn.execute(text(
        f"INSERT INTO app_user (username, display_name, password_hash, role, township_codes, teams, region_code) "
        f"VALUES (:u, :d, :h, :r, :t, :teams, :region) RETURNING {_COLUMNS}"),
        {"u": username, "d": display_name, "h": _hasher.hash(password), "r": role, "t": codes,
         "teams": list(teams or []), "region": region}).one()
    return _user(row)


def get_user(conn: Connection, username: str) -> User:
    row = conn.execute(text(f"SELECT {_COLUMNS} FROM app_user WHERE username = :u"), {"u": username}).first()
    if row is None:
        raise NotFound(f"用户不存在：{username}")
    return _user(row)


def list_users(conn: Connection) -> list[User]:
    return [_user(r) for r in conn.execute(text(f"SELECT {_COLUMNS} FROM app_user ORDER BY username"))]


def grant(conn: Connection, username: str, *, role: str | None = None, townships: list[str] | None = None,
          teams: list[str] | None = None, region: str | None = None) -> User:
    """Change a user's role, townships, teams or region (only what is given changes; a role other than region
    viewer drops the region)."""
    user = get_user(conn, username)
    new_role = role or user.role
    _check_role(new_role)
    new_region = (region or user.region_code) if new_role == "region_viewer" else None
    _check_region(new_role, new_region)
    codes = list(townships) if townships is not None else list(user.township_codes)
    _check_townships(conn, codes)
    if new_role == "township_editor" and not codes:
        raise InvalidInput("乡镇编辑必须指定所辖乡镇（--township 代码）")
    row = conn.execute(text(
        f"UPDATE app_user SET role = :r, township_codes = :t, teams = :teams, region_code = :region WHERE id = :id "
        f"RETURNING {_COLUMNS}"),
        {"r": new_role, "t": codes, "teams": list(teams) if teams is not None else list(user.teams),
         "region": new_region, "id": user.id}).one()
    return _user(row)


def set_disabled(conn: Connection, username: str, disabled: bool = True) -> User:
    """Disable (or re-enable) an account; disabling ends its sessions and revokes its API tokens for good."""
    user = get_user(conn, username)
    row = conn.execute(text(f"UPDATE app_user SET disabled = :d WHERE id = :id RETURNING {_COLUMNS}"),
                       {"d": disabled, "id": user.id}).one()
    if disabled:
        _revoke_credentials(conn, user.id)
    return _user(row)


def set_password(conn: Connection, username: str, password: str) -> None:
    """Set a new password; every session and API token of the user ends (whoever held them must sign in again)."""
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"密码至少 {MIN_PASSWORD} 位")
    user = get_user(conn, username)
    conn.execute(text("UPDATE app_user SET password_hash = :h, password_changed_at = now() WHERE id = :id"),
                 {"h": _hasher.hash(password), "id": user.id})
    _revoke_credentials(conn, user.id)


def _revoke_credentials(conn: Connection, user_id: int) -> None:
    """End every live session and revoke every API token of a user (the API token updates are audited)."""
    conn.execute(text("UPDATE app_session SET revoked_at = now() WHERE user_id = :u AND revoked_at IS NULL"),
                 {"u": user_id})
    conn.execute(text("UPDATE api_token SET revoked_at = now() WHERE user_id = :u AND revoked_at IS NULL"),
                 {"u": user_id})


def authenticate(conn: Connection, username: str, password: str) -> User:
    """The user for a correct username and password; one message for every failure (no user enumeration)."""
    # a name with NUL cannot be stored, so no such user exists (and PostgreSQL text cannot even be compared to it)
    row = None if "\x00" in username else conn.execute(
        text(f"SELECT {_COLUMNS}, password_hash FROM app_user WHERE username = :u"), {"u": username}).first()
    try:
        _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
        ok = row is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        raise NotAuthenticated("用户名或密码错误")
    if row.disabled:
        raise NotAuthenticated("账号已停用，请联系管理员")
    if _hasher.check_needs_rehash(row.password_hash):
        conn.execute(text("UPDATE app_user SET password_hash = :h WHERE id = :id"),
                     {"h": _hasher.hash(password), "id": row.id})
    return _user(row)


_REGION_HOLDS = ("SELECT 1 FROM county c WHERE CASE WHEN u.region_code LIKE '%0000' "
                 "THEN left(c.code, 2) = left(u.region_code, 2) ELSE left(c.code, 4) = left(u.region_code, 4) END")
"""Whether the region viewer's region holds this database's county (GB/T 2260: a county's code begins with its
省's 2 and its 地级市's 4 digits): then it reads the county's detail as a county viewer would, else none of it."""


def principal_for(conn: Connection, user_id: int, *, session: str | None = None) -> Principal:
    """The current principal of a user id (role and scope read afresh, so changes apply at once); with `session`,
    only while that session of the user is live (one primary-key lookup more in the same query)."""
    row = conn.execute(text(
        f"SELECT {_COLUMNS}, ARRAY(SELECT t.id FROM township t WHERE t.code = ANY(u.township_codes) "
        f"OR (u.role = 'region_viewer' AND EXISTS ({_REGION_HOLDS})) ORDER BY t.id) AS township_ids FROM app_user u WHERE u.id = :id AND (CAST(:s AS text) IS NULL OR EXISTS "
        f"(SELECT 1 FROM app_session s WHERE s.jti = :s AND s.user_id = u.id AND s.revoked_at IS NULL "
        f"AND s.expires_at > now()))"), {"id": user_id, "s": session}).first()
    if row is None and session is not None:
        raise NotAuthenticated("登录已失效（已退出、密码已更改或账号已停用），请重新登录")
    if row is None:
        raise NotAuthenticated("账号不存在，请重新登录")
    if row.disabled:
        raise NotAuthenticated("账号已停用，请联系管理员")
    return Principal(user_id=row.id, username=row.username, role=row.role,
                     township_codes=tuple(row.township_codes or ()), township_ids=tuple(row.township_ids or ()),
                     teams=tuple(row.teams or ()), display_name=row.display_name, region_code=row.region_code)
