"""The person behind a request and how their scope is put on a database transaction."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, text

from geo.access.roles import ROLE_LABELS, ROLES
from geo.errors import RiskmapError


class NotAuthenticated(RiskmapError):
    """No valid login: missing, expired, forged or revoked token, or a disabled account."""

    code = "not_authenticated"


class Forbidden(RiskmapError):
    """Logged in, but the role may not do this."""

    code = "forbidden"


@dataclass(frozen=True)
class Principal:
    """A logged-in user as the data layer sees them; township_ids empty means the whole county."""

    user_id: int
    username: str
    role: str
    township_codes: tuple[str, ...] = ()
    township_ids: tuple[int, ...] = ()
    teams: tuple[str, ...] = field(default=())
    display_name: str | None = None
    region_code: str | None = None
    """A region viewer's 地级市 or 省 code (GB/T 2260); its township_ids are this county's when the region holds it."""

    @property
    def county_wide(self) -> bool:
        return self.role in ("admin", "county_editor", "county_viewer") or (
            self.role == "inspector" and not self.township_codes)

    @property
    def label(self) -> str:
        scope = "全县" if self.county_wide else (
            region_label(self.region_code) if self.role == "region_viewer" else "、".join(self.township_codes))
        return f"{self.display_name or self.username}（{ROLE_LABELS[self.role]}，{scope}）"

    def require(self, *roles: str) -> None:
        """Refuse early (403) what the database would refuse anyway, with a clearer message."""
        if self.role not in roles:
            allowed = "、".join(ROLE_LABELS[r] for r in roles)
            raise Forbidden(f"当前账号（{ROLE_LABELS[self.role]}）无权执行此操作，需要：{allowed}")


def region_label(code: str | None) -> str:
    """省 140000 → '省 140000', 地级市 140900 → '市 140900'."""
    if not code:
        return "无"
    return f"{'省' if code.endswith('0000') else '地级市'} {code}"


BOUND_SETTINGS = ("riskmap.user", "riskmap.role", "riskmap.townships", "riskmap.teams", "riskmap.region")
"""The transaction settings bind() gives a principal (with its role): what row-level security and the audit read."""


def bind(conn: Connection, principal: Principal) -> None:
    """Run the rest of this transaction as the principal: its role, its townships, its name in the audit log.

    Everything is transaction-local (SET LOCAL / set_config(..., true)), so a pooled connection carries
    nothing over to the next request.
    """
    townships = "*" if principal.county_wide else ",".join(str(i) for i in principal.township_ids)
    # set_config('role', …, true) is SET LOCAL ROLE (same membership check), so the whole scope is one round trip
    conn.execute(
        text("SELECT set_config('riskmap.user', :u, true), set_config('riskmap.role', :r, true), "
             "set_config('riskmap.townships', :t, true), set_config('riskmap.teams', :teams, true), "
             "set_config('riskmap.region', :region, true), set_config('role', :db_role, true)"),
        {"u": principal.username, "r": principal.role, "t": townships, "teams": "|".join(principal.teams),
         "region": principal.region_code if principal.role == "region_viewer" and principal.region_code else "",
         "db_role": ROLES[principal.role]},
    )
