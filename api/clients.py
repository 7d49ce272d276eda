"""Who the client is and whether it came over TLS, believing X-Forwarded-* only from trusted proxies.

uvicorn already rewrites the peer and scheme from proxies it trusts (FORWARDED_ALLOW_IPS, 127.0.0.1 by
default); settings.trusted_proxies names the proxies this service believes on top of that, e.g. a TLS
terminator on another host.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from starlette.types import Scope

from geo.config import get_settings


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _trusted(peer: str | None) -> bool:
    if not peer:
        return False
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in net for net in _networks(tuple(get_settings().trusted_proxies)))


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key == name:
            return value.decode("latin-1")
    return None


def _peer(scope: Scope) -> str | None:
    client = scope.get("client")
    return str(client[0]) if client else None


def client_address(scope: Scope) -> str:
    """The client's address: the peer, or the nearest address a trusted proxy put in X-Forwarded-For."""
    peer = _peer(scope)
    forwarded = _header(scope, b"x-forwarded-for")
    if forwarded and _trusted(peer):
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if hops:
            return hops[-1]
    return peer or "unknown"


def over_tls(scope: Scope) -> bool:
    """Did the request arrive over HTTPS (directly, or at a trusted proxy that says so)?"""
    if scope.get("scheme") in ("https", "wss"):
        return True
    proto = _header(scope, b"x-forwarded-proto")
    return bool(proto) and proto.split(",")[0].strip().lower() == "https" and _trusted(_peer(scope))
