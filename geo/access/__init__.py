"""Who may do what: users and roles, tokens, the database scope of a request, and the audit log."""

from geo.access.principal import Principal, bind
from geo.access.users import add_user, authenticate

__all__ = ["Principal", "add_user", "authenticate", "bind"]
