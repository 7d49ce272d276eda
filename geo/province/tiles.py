"""A province's detail tiles, each county's read from its own database on its shard (issue #16, reads at scale).

The roll-up database says which counties a tile touches (`province_township_level`, read under the user's
row-level security: a region viewer sees only its region's counties); each of those counties' tile is made in
the county's database (province.toml) by geo/tiles.py's SQL, under the region viewer's scope set in that
database, and the tiles are joined into one. Each county's MVT layer is named `<layer>_<county code>` (a tile may
not hold two layers of one name), so the map styles them all alike.

Authorisation is checked three times: the route admits region viewers only; the roll-up's RLS gives only the
counties of the viewer's region; the county's database grants its townships only when its own `county` row lies
in that region (province.toml naming a county wrongly shows nothing, not another county's detail).
"""

from __future__ import annotations

import logging
from functools import lru_cache

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError

from geo.province.config import County, Province
from geo.tiles import _check, tile

log = logging.getLogger(__name__)

DETAIL_LAYERS = ("building", "enterprise", "pipeline_segment")
"""What the province map draws of a county once zoomed in: buildings, enterprises and pipelines, coloured by level."""

DETAIL_MIN_ZOOM = 12
"""Past the county level (a county fills the screen around z9–10): the map asks for detail tiles from here."""

COUNTIES_IN_TILE = """
SELECT DISTINCT county_code FROM province_township_level
WHERE geom && ST_Transform(ST_TileEnvelope(:z, :x, :y), 4490) ORDER BY county_code
"""

# In the county's database, before switching role: the viewer's townships are all of them when the database's
# own county lies in its region (GB/T 2260 prefixes, as geo/access/users.py _REGION_HOLDS), else none.
SCOPE_SQL = """
SELECT set_config('riskmap.user', :user, true), set_config('riskmap.role', 'region_viewer', true),
       set_config('riskmap.teams', '', true), set_config('riskmap.region', :region, true),
       set_config('riskmap.townships', coalesce((
           SELECT string_agg(t.id::text, ',' ORDER BY t.id) FROM township t
           WHERE EXISTS (SELECT 1 FROM county c WHERE c.code = :county
                         AND CASE WHEN :region LIKE '__0000' THEN left(c.code, 2) = left(:region, 2)
                                  ELSE left(c.code, 4) = left(:region, 4) END)), ''), true)
"""


def region_holds(region: str | None, county_code: str) -> bool:
    """Whether a 省 (XX0000) or 地级市 (XXXX00) code holds the county (its code begins with the 省's 2, the 市's 4)."""
    if not region or len(region) != 6 or not region.isdigit():
        return False
    return county_code[:2] == region[:2] if region.endswith("0000") else county_code[:4] == region[:4]


@lru_cache(maxsize=256)
def shard_engine(url: str) -> Engine:
    """A small pool per county database: a province has many, each read now and then."""
    from geo.db import CONNECT_TIMEOUT_S, _beijing_time

    eng = create_engine(url, pool_pre_ping=True, pool_size=2, max_overflow=4, future=True,
                        connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
    event.listen(eng, "do_connect", _beijing_time)
    return eng


def county_tile(county: County, layer: str, z: int, x: int, y: int, *, region: str, user: str) -> bytes:
    """One county's tile of `layer`, read in its database as a region viewer of `region`."""
    if layer not in DETAIL_LAYERS or not region_holds(region, county.code):
        return b""
    with shard_engine(county.database).connect() as conn, conn.begin():
        conn.execute(text(SCOPE_SQL), {"user": user, "region": region, "county": county.code})
        conn.execute(text("SELECT set_config('role', 'riskmap_region_viewer', true)"))
        return tile(conn, layer, z, x, y, name=f"{layer}_{county.code}")


def province_tile(conn: Connection, province: Province, layer: str, z: int, x: int, y: int, *, region: str,
                  user: str) -> tuple[bytes, list[str]]:
    """The tile of every county of the viewer's region it touches (`conn`: the roll-up database, bound as the
    viewer); returns the tile and the counties whose database did not answer (their part is missing)."""
    from geo.errors import NotFound

    _check(z, x, y)
    if layer not in DETAIL_LAYERS:
        raise NotFound(f"省级明细瓦片只有：{'、'.join(DETAIL_LAYERS)}")
    if z < DETAIL_MIN_ZOOM:
        return b"", []
    codes = conn.execute(text(COUNTIES_IN_TILE), {"z": z, "x": x, "y": y}).scalars().all()
    known = {c.code: c for c in province.counties}
    parts: list[bytes] = []
    missing: list[str] = []
    for code in codes:
        if code not in known:
            continue  # rolled up once, no longer in province.toml: nowhere to read it from
        try:
            parts.append(county_tile(known[code], layer, z, x, y, region=region, user=user))
        except DBAPIError as exc:  # one shard down: the other counties still draw
            log.warning("县区 %s 的数据库无法读取（%s）", code, type(exc.orig).__name__)
            missing.append(code)
    return b"".join(parts), missing  # MVT is a protobuf message of repeated layers: tiles concatenate


__all__ = ["DETAIL_LAYERS", "DETAIL_MIN_ZOOM", "county_tile", "province_tile", "region_holds"]
