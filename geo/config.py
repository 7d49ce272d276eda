"""One typed settings object, read from the environment (and `.env`) through get_settings()."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """riskmap settings; every field can be set as RISKMAP_<NAME> (DATABASE_URL without prefix)."""

    model_config = SettingsConfigDict(env_prefix="RISKMAP_", env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "RISKMAP_DATABASE_URL")
    )
    """A PostgreSQL/PostGIS server to use; unset means the embedded cluster under `home`."""

    home: Path = PROJECT_ROOT / ".riskmap"
    """Project folder for the embedded cluster, logs and exports."""

    pg_port: int = 55432
    """Loopback port of the embedded cluster (it also listens on a unix socket in `home`/pg/run)."""

    pg_bindir: Path | None = None
    """PostgreSQL server binaries; found under /usr/lib/postgresql/<major>/bin when unset."""

    db_name: str = "riskmap"
    """Database created in the embedded cluster."""

    county_code: str = "140930"
    """6-digit GB/T 2260 code of the bureau's county (default: the demo county 河曲县)."""

    province_file: Path | None = None
    """A city's or province's counties and the databases (shards) holding them (province.toml, geo/province/)."""

    rules_file: Path | None = None
    """A bureau's risk rules file overriding the shipped defaults (geo/risk/rules.toml)."""

    host: str = "127.0.0.1"
    port: int = 8000

    basemap: Literal["none", "osm", "tianditu", "amap", "mbtiles"] = "none"
    """Map background: none (the offline 参考底图 drawn from the county's own roads, rivers and place names — works on
    an intranet with no internet), OpenStreetMap, 天地图, 高德 or a local MBTiles; with any but 高德 the 参考底图
    stays a choice in the layer control."""
    tianditu_key: str | None = None
    """天地图 tk key (required by 天地图 since 2019-01-01)."""
    mbtiles_path: Path | None = None
    """A local MBTiles raster basemap served by the app at /basemap/{z}/{x}/{y}."""

    token_ttl_minutes: int = 480
    """Lifetime of a login token (default: one working day)."""
    max_body_bytes: int = 20 * 1024 * 1024
    """Largest request body the service accepts (413 above it)."""
    attachment_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    """Largest attachment (photo, scan, PDF) a user may upload, in bytes (本地规定: no national text fixes it; 10 MB
    holds a full-resolution phone photo). Stored in PostgreSQL (geo/attachments.py); larger uploads get 413."""
    max_vertices: int = 50_000
    """Most vertices of one geometry written through the feature API, the register or an import (refused above it)."""
    echo_max_vertices: int = 2_000
    """A written feature is sent back with its geometry up to this many vertices, above it as null plus bbox."""
    audit_max_page: int = 500
    """Most audit entries per /audit page."""
    audit_max_response_bytes: int = 4 * 1024 * 1024
    """Largest /audit answer: entries beyond it are left to the next page (Link: rel=next)."""

    body_timeout_s: float = Field(default=15.0, gt=0)
    """Longest time a request body may take to arrive in full (408 after it); no admission slot is held meanwhile."""
    body_idle_timeout_s: float = Field(default=10.0, gt=0)
    """Longest silence between two pieces of a request body (408 after it)."""

    login_max_failures_per_account: int = Field(default=5, ge=1)
    """Failed logins of one account within the window after which it is refused (429) until the window passes."""
    login_max_failures_per_address: int = Field(default=20, ge=1)
    """Failed logins from one client address within the window after which it is refused (429)."""
    login_failure_window_s: int = Field(default=15 * 60, ge=1)
    """The throttling window (seconds); a successful login clears the account's count."""

    max_requests_per_user: int = Field(default=12, ge=1)
    """Requests of one login (session or API token) in the service at once; more get 429."""
    max_requests_per_address: int = Field(default=24, ge=1)
    """Requests from one client address in the service at once; more get 429."""

    trusted_proxies: list[str] = ["127.0.0.1", "::1"]
    """Reverse proxies (addresses or networks) whose X-Forwarded-For / X-Forwarded-Proto are believed."""

    import_max_unpacked_bytes: int = 256 * 1024 * 1024
    """Largest total an imported archive (zipped shapefile, KMZ, xlsx) may unpack to; checked from its headers
    and again while unpacking."""
    import_max_members: int = 1000
    """Most files an imported archive may hold."""
    import_max_ratio: int = 200
    """Largest compression ratio of one archive member over 1 MB unpacked (a zip bomb reaches 1000:1)."""

    @property
    def pg_dir(self) -> Path:
        return self.home / "pg"


@lru_cache
def get_settings() -> Settings:
    """The settings in force; cached, so tests clear it with get_settings.cache_clear()."""
    return Settings()
