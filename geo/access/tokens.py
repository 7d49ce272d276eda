"""Signed, expiring login tokens (JWT, HS256) backed by revocable sessions, and long-lived API tokens.

The signing key lives in the database (app_secret, made by migration 0006), so every worker and every
restart agrees on it. Each login token names its session (`jti`, a row of app_session): it is honoured only
while that row is unrevoked, so logout, a password change or disabling the account ends it at once.
API tokens are random strings shown once; only their SHA-256 is stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

import jwt
from sqlalchemy import Connection, Engine, text

from geo.access import logins
from geo.access.principal import NotAuthenticated, Principal
from geo.access.users import User, authenticate, get_user, principal_for
from geo.config import get_settings
from geo.errors import NotFound

API_PREFIX = "rmk_"
ISSUER = "riskmap"
_keys: dict[str, str] = {}


def _signing_key(conn: Connection) -> str:
    url = str(conn.engine.url)
    if url not in _keys:
        key = conn.execute(text("SELECT value FROM app_secret WHERE name = 'token_signing_key'")).scalar()
        if key is None:  # emptied by hand: make a new one (tokens signed with the old one stop working)
            key = conn.execute(text(
                "INSERT INTO app_secret (name, value) VALUES ('token_signing_key', :v) ON CONFLICT (name) "
                "DO UPDATE SET value = app_secret.value RETURNING value"), {"v": secrets.token_urlsafe(48)}).scalar_one()
        _keys[url] = key
    return _keys[url]


def signing_key_loaded(conn: Connection) -> bool:
    """True once this process holds the signing key of `conn`'s database (checking a login token then reads no
    secret and writes nothing)."""
    return str(conn.engine.url) in _keys


def issue(conn: Connection, user: User, *, ttl: dt.timedelta | None = None,
          address: str | None = None) -> tuple[str, dt.datetime]:
    """A login token for `user` and when it expires (default lifetime: settings.token_ttl_minutes); its session
    row is made in the same transaction, and the user's long-expired sessions are cleared."""
    now = dt.datetime.now(dt.UTC)
    expires = now + (ttl if ttl is not None else dt.timedelta(minutes=get_settings().token_ttl_minutes))
    jti = secrets.token_hex(16)
    conn.execute(text("DELETE FROM app_session WHERE user_id = :u AND expires_at < now() - interval '1 day'"),
                 {"u": user.id})
    conn.execute(text("INSERT INTO app_session (jti, user_id, issued_at, expires_at, address) "
                      "VALUES (:j, :u, :i, :e, :a)"),
                 {"j": jti, "u": user.id, "i": now, "e": expires, "a": logins.clean(address)})
    claims = {"sub": str(user.id), "name": user.username, "jti": jti, "iss": ISSUER, "iat": now, "exp": expires}
    return jwt.encode(claims, _signing_key(conn), algorithm="HS256"), expires


def sign_in(engine: Engine, username: str, password: str, *, address: str | None = None,
            via: str = "token") -> tuple[str, dt.datetime]:
    """Check the throttle and the password, journal the attempt and issue a login token (both login routes sign
    in here). The journal is committed even when the attempt fails; then the failure is raised."""
    refused: Exception | None = None
    with engine.begin() as conn:
        logins.lock_account(conn, username)
        wait = logins.wait_seconds(conn, username, address)
        if wait:
            logins.record(conn, "throttled", username, address, via=via)
            refused = logins.refusal(wait)
        else:
            try:
                user = authenticate(conn, username, password)
            except NotAuthenticated as exc:
                logins.record(conn, "failure", username, address, via=via)
                refused = exc
            else:
                logins.record(conn, "success", username, address, via=via, user_id=user.id)
                issued = issue(conn, user, address=address)
    if refused is not None:
        raise refused
    return issued


def _claims(conn: Connection, token: str) -> dict[str, Any]:
    try:
        claims = jwt.decode(token, _signing_key(conn), algorithms=["HS256"], issuer=ISSUER,
                            options={"require": ["exp", "sub", "iat", "jti"]})
    except jwt.ExpiredSignatureError:
        raise NotAuthenticated("登录已过期，请重新登录") from None
    except jwt.InvalidTokenError:
        raise NotAuthenticated("令牌无效，请重新登录") from None
    try:
        claims["sub"] = int(claims["sub"])
    except (TypeError, ValueError):
        raise NotAuthenticated("令牌无效，请重新登录") from None
    return claims


def resolve(conn: Connection, token: str) -> Principal:
    """The principal a bearer token stands for; expired, forged, revoked or unknown tokens are refused."""
    if token.startswith(API_PREFIX):
        return _resolve_api_token(conn, token)
    claims = _claims(conn, token)
    return principal_for(conn, claims["sub"], session=str(claims["jti"]))


def end_session(conn: Connection, token: str, *, address: str | None = None) -> bool:
    """Log out: revoke the session of a login token (journalled as a logout); False if it was not live."""
    try:
        claims = _claims(conn, token)
    except NotAuthenticated:
        return False
    row = conn.execute(text(
        "UPDATE app_session s SET revoked_at = now() FROM app_user u WHERE s.jti = :j AND u.id = s.user_id "
        "AND s.user_id = :u AND s.revoked_at IS NULL RETURNING u.id, u.username"),
        {"j": str(claims["jti"]), "u": claims["sub"]}).first()
    if row is None:
        return False
    logins.record(conn, "logout", row.username, address, via="logout", user_id=row.id)
    return True


def user_key(token: str) -> str:
    """A key for per-user limits without the database: the user of a login token whose signature checks with the
    signing key already loaded, else a digest of the token (so a made-up token never counts against a real user)."""
    if not token.startswith(API_PREFIX) and _keys:
        for key in _keys.values():
            try:
                claims = jwt.decode(token, key, algorithms=["HS256"], issuer=ISSUER,
                                    options={"require": ["sub", "exp"]})
            except jwt.InvalidTokenError:
                continue
            return f"user:{claims['sub']}"
    return f"token:{_digest(token)[:32]}"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _resolve_api_token(conn: Connection, token: str) -> Principal:
    row = conn.execute(text(
        "UPDATE api_token SET last_used_at = now() WHERE token_hash = :h AND revoked_at IS NULL "
        "AND (expires_at IS NULL OR expires_at > now()) RETURNING user_id"), {"h": _digest(token)}).first()
    if row is None:
        raise NotAuthenticated("API 令牌无效、已吊销或已过期")
    return principal_for(conn, row.user_id)


def create_api_token(conn: Connection, username: str, name: str, *, days: int | None = None) -> dict[str, Any]:
    """A new API token for an integration; the token itself is returned only this once."""
    user = get_user(conn, username)
    token = API_PREFIX + secrets.token_urlsafe(32)
    row = conn.execute(text(
        "INSERT INTO api_token (user_id, name, token_hash, expires_at) VALUES (:u, :n, :h, "
        "CASE WHEN CAST(:d AS integer) IS NULL THEN NULL ELSE now() + make_interval(days => CAST(:d AS integer)) END) "
        "RETURNING id, created_at, expires_at"), {"u": user.id, "n": name, "h": _digest(token), "d": days}).one()
    return {"id": row.id, "name": name, "username": username, "token": token,
            "created_at": row.created_at, "expires_at": row.expires_at}


def list_api_tokens(conn: Connection, username: str | None = None) -> list[dict[str, Any]]:
    rows = conn.execute(text(
        "SELECT t.id, t.name, u.username, t.created_at, t.expires_at, t.revoked_at, t.last_used_at "
        "FROM api_token t JOIN app_user u ON u.id = t.user_id "
        "WHERE CAST(:u AS text) IS NULL OR u.username = :u ORDER BY t.id"), {"u": username})
    return [dict(r._mapping) for r in rows]


def revoke_api_token(conn: Connection, token_id: int, *, username: str | None = None) -> None:
    """Revoke a token (only the owner's own when `username` is given)."""
    row = conn.execute(text(
        "UPDATE api_token t SET revoked_at = now() FROM app_user u WHERE t.id = :i AND u.id = t.user_id "
        "AND (CAST(:u AS text) IS NULL OR u.username = :u) AND t.revoked_at IS NULL RETURNING t.id"),
        {"i": token_id, "u": username}).first()
    if row is None:
        raise NotFound(f"API 令牌不存在或已吊销：{token_id}")
