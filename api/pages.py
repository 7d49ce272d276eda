"""The one way a workbench page is answered: template + the signed-in user, CSP nonce and CSRF token.

Every HTML page of the workbench goes through `page()`, so the navigation bar, the user's name and townships,
the nonce on inline scripts and the CSRF field of forms are filled in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy import Connection, text

from api.csrf import csrf_token
from api.security import nonce_of
from geo.access.principal import Principal
from geo.access.roles import ROLE_LABELS
from layers.web import render


@dataclass(frozen=True)
class PageUser:
    """What the navigation bar shows of the signed-in user."""

    username: str
    name: str
    role: str
    role_label: str
    townships: tuple[str, ...]  # township names; empty = the whole county
    is_admin: bool
    can_edit: bool

    @property
    def scope_label(self) -> str:
        return "、".join(self.townships) if self.townships else "全县"

    def __str__(self) -> str:
        return f"{self.name}（{self.role_label}，{self.scope_label}）"


def page_user(conn: Connection | None, principal: Principal) -> PageUser:
    """The principal with its townships' names (codes if no connection is at hand)."""
    names: tuple[str, ...] = ()
    if not principal.county_wide and principal.township_codes:
        names = principal.township_codes
        if conn is not None:
            rows = conn.execute(text("SELECT name FROM township WHERE code = ANY(:c) ORDER BY code"),
                                {"c": list(principal.township_codes)}).scalars().all()
            names = tuple(rows) or names
    return PageUser(username=principal.username, name=principal.display_name or principal.username,
                    role=principal.role, role_label=ROLE_LABELS[principal.role], townships=names,
                    is_admin=principal.role == "admin",
                    can_edit=principal.role in ("admin", "county_editor", "township_editor"))


def page(request: Request, principal: Principal, template: str, *, conn: Connection | None = None,
         status: int = 200, nav: str = "", crumbs: list[tuple[str, str | None]] | None = None,
         **ctx: Any) -> HTMLResponse:
    """Render `template` (extending base.html) for the signed-in user.

    `nav` names the active item of the navigation bar ('home', 'map', 'ledgers', 'plans', 'stats', 'data',
    'admin'); `crumbs` are (label, href or None) pairs after 全县.
    """
    body = render(template, nonce=nonce_of(request), csrf_token=csrf_token(request),
                  user=page_user(conn, principal), nav=nav, crumbs=crumbs or [], **ctx)
    return HTMLResponse(body, status_code=status)
