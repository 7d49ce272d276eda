"""Cross-border halo: the neighbours' buildings and roads near this county's boundary, read from their databases.

A pipeline, class-location strip or 500 m α ring near the county border must see the features on the other side,
which live in the neighbour's database (another shard, perhaps another server). Before a county's computation the
features of every other county within `halo_distance_m` of this county's outline are copied into halo_building /
halo_road (migration 0018_province) in the county's own transaction, and for that transaction only temporary views
named `building` and `road` (pg_temp comes first in the search path) show the county's rows plus the halo. The
risk and encroachment code reads them unchanged; what it writes (results, candidates) stays the county's own.
A halo feature's id is −(neighbour's place in province.toml × 10¹² + its id): never a local id, stable across runs.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Sequence

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.pool import NullPool

from geo.province.config import County, Province

HALO_TABLES = ("building", "road")
"""Tables read across the border: what the checks count near a line or ring, never objects assessed themselves
(an enterprise, mine or pipeline is assessed by its own county)."""

ID_RANGE = 10 ** 12


def halo_distance_m(rules: object | None = None, zones: object | None = None) -> float:
    """The largest distance any county computation looks beyond a feature of its own, metres.

    max(GB 18218-2018 表5 500 m ring + the default site radius, GB 50251-2015 §4.2 200 m strip, the widest
    encroachment zone). An enterprise whose own site radius is larger sees only this far across the border.
    """
    from geo.encroachment.zones import load_zones
    from geo.risk.rules import load_rules

    r = rules or load_rules()
    z = zones or load_zones()
    ring = float(r["gb18218"]["population_radius_m"]) + float(r["enterprise"]["site"]["default_radius_m"])
    strip = float(r["pipeline"]["class_location"]["strip_m"])
    widest = max((zone.max_distance_m for zone in z.all()), default=0.0)  # type: ignore[attr-defined]
    return max(ring, strip, widest)


def _columns(conn: Connection, table: str) -> list[tuple[str, str]]:
    """(column, SQL type) of a public table, in order."""
    return [tuple(r) for r in conn.execute(text(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
        "WHERE a.attrelid = to_regclass(:t) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"),
        {"t": f"public.{table}"}).all()]


def _copy_value(v: object) -> str:
    """A value in COPY's text format (geometries arrive as hex EWKB text, which PostGIS reads back)."""
    if v is None:
        return "\\N"
    if isinstance(v, bool):
        return "t" if v else "f"
    if isinstance(v, (dict, list)):
        v = json.dumps(v, ensure_ascii=False)
    elif isinstance(v, (dt.datetime, dt.date)):
        v = v.isoformat()
    return str(v).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def outline_ewkb(conn: Connection, code: str) -> str:
    """The county outline (EPSG:4490) as hex EWKB."""
    found = conn.execute(text("SELECT encode(ST_AsEWKB(geom), 'hex') FROM public.county WHERE code = :c"),
                         {"c": code}).scalar()
    if found is None:
        from geo.errors import NotFound
        raise NotFound(f"县区 {code} 的数据库中没有县界")
    return str(found)


# Rows of a neighbour within :d metres of the outline (geography distance: exact across GK zones).
_NEAR_SQL = """
SELECT {cols} FROM public.{table} f
WHERE f.geom && ST_Expand(ST_GeomFromEWKB(decode(:outline, 'hex')), :deg)
  AND ST_DWithin(f.geom::geography, ST_GeomFromEWKB(decode(:outline, 'hex'))::geography, :d)
ORDER BY f.id
"""


def refresh_halo(conn: Connection, county: County, province: Province, *, distance_m: float | None = None,
                 neighbours: Sequence[County] | None = None) -> dict[str, int]:
    """Replace this county's halo with the features of the other counties near its outline; rows per table.

    `conn` is the county's transaction; the neighbours are read in their own short read-only transactions.
    """
    d = distance_m if distance_m is not None else halo_distance_m()
    outline = outline_ewkb(conn, county.code)
    deg = d / 80_000.0 + 0.001  # a degree of longitude is ≥ 80 km below 44°N; the bbox only prefilters
    counts = {t: 0 for t in HALO_TABLES}
    conn.execute(text("TRUNCATE " + ", ".join(f"halo_{t}" for t in HALO_TABLES)))
    others = [c for c in (neighbours if neighbours is not None else province.counties) if c.code != county.code]
    for table in HALO_TABLES:
        local = [c for c, _ in _columns(conn, table)]
        for other in others:
            eng = create_engine(other.database, poolclass=NullPool)
            try:
                with eng.connect() as src:
                    theirs = {c for c, _ in _columns(src, table)}
                    cols = [c for c in local if c in theirs]
                    rows = src.execute(text(_NEAR_SQL.format(table=table, cols=", ".join(f"f.{c}" for c in cols))),
                                       {"outline": outline, "deg": deg, "d": d}).mappings().all()
            finally:
                eng.dispose()
            if not rows:
                continue
            insert_cols = [c for c in cols if c not in ("id", "township_id")]
            # one COPY per neighbour and table (row-by-row INSERTs cost ~1 ms a row on a loaded server)
            buf = io.StringIO()
            for r in rows:
                values = [str(-(other.ordinal * ID_RANGE + r["id"])), str(r["id"]), other.code]
                values += [_copy_value(r[c]) for c in insert_cols]
                buf.write("\t".join(values) + "\n")
            buf.seek(0)
            names = ", ".join(["id", "source_id", "county_code", *insert_cols])
            with conn.connection.dbapi_connection.cursor() as cur:  # type: ignore[union-attr]
                cur.copy_expert(f"COPY halo_{table} ({names}) FROM STDIN", buf)
            counts[table] += len(rows)
    conn.execute(text("ANALYZE " + ", ".join(f"halo_{t}" for t in HALO_TABLES)))
    return counts


def show_halo(conn: Connection) -> None:
    """For this transaction: temporary views `building` and `road` = the county's rows plus its halo.

    Dropped at commit or rollback (ON COMMIT has no effect on views, so use_halo's caller drops them; the task
    also closes its connection).
    """
    for table in HALO_TABLES:
        cols = _columns(conn, table)
        halo = {c for c, _ in _columns(conn, f"halo_{table}")}
        picked = ", ".join(c if c in halo else f"CAST(NULL AS {t}) AS {c}" for c, t in cols)
        names = ", ".join(c for c, _ in cols)
        conn.execute(text(f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT {names} FROM public.{table} "
                          f"UNION ALL SELECT {picked} FROM public.halo_{table}"))


def hide_halo(conn: Connection) -> None:
    """Drop the temporary views of show_halo (the tables themselves are seen again)."""
    for table in HALO_TABLES:
        conn.execute(text(f"DROP VIEW IF EXISTS pg_temp.{table}"))
