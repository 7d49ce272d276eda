"""Who may do what: users and roles, tokens, the database scope of a request, and the audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING

from geo.lazy import lazy_exports

if TYPE_CHECKING:
    from geo.access.principal import Principal, bind
    from geo.access.users import add_user, authenticate

__all__ = ["Principal", "add_user", "authenticate", "bind"]
__getattr__ = lazy_exports(__name__, {"Principal": "geo.access.principal", "bind": "geo.access.principal",
                                      "add_user": "geo.access.users", "authenticate": "geo.access.users"})
