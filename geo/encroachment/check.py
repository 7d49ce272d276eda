"""Automatic encroachment check: features inside the protection zones of the pipeline protection law.

Distances are metres in the county's Gauss–Krüger zone (geo.county.metric_srid); geometry is stored in
EPSG:4490. The search is driven from pipeline_piece (centrelines cut into pieces of ≤8 vertices ≤100 m
apart, kept by a trigger): each piece's small box finds the nearby features through their GiST index,
whereas the box of a whole long line would cover most of the county. The responsible township is the
feature's stored township, else the township containing (or nearest to) the candidate's point: the centre
of a building's box, the point of a road or mine nearest the pipeline, or the crossing point (EPSG:4490;
it places the candidate, it measures nothing). The point is computed only where it is needed: when the
caller asks for it (the stored candidates keep it) or to find a feature's township.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict
from functools import partial
from typing import Any, NamedTuple, overload

from sqlalchemy import Connection, text

from geo.config import get_settings
from geo.county import metric_srid
from geo.db import HEAVY_WORK_MEM, tune_for_heavy_work
from geo.encroachment.zones import FEATURE_TYPES, Zone, ZoneRules, load_zones
from geo.errors import InvalidInput, NotFound

DEGREES_PER_METRE = 1.0 / 110_000.0
"""Upper bound of degrees of latitude per metre (a meridian degree is ≥ 110,574 m); longitude adds 1/cos φ."""

_FEATURE_GEOMETRY = {
    "building": ("building", "f.geom", "f.township_id", "box"),
    "road": ("road", "f.geom", "NULL::integer", "closest"),
    "mine": ("mine", "f.workings", "f.township_id", "closest"),
}
"""Table, geometry, stored township and where the candidate's point goes, per feature type (a fixed list). A mine
is measured from its workings (where it extracts): the licence boundary is the right to mine, not mining."""

_POINT_SQL = {
    "box": ("(ST_XMin({geom}) + ST_XMax({geom})) / 2", "(ST_YMin({geom}) + ST_YMax({geom})) / 2"),
    "closest": ("ST_X(ST_ClosestPoint({geom}, {other}))", "ST_Y(ST_ClosestPoint({geom}, {other}))"),
}
"""lon, lat of a candidate: the centre of a small feature's box (cheap), or a large one's point nearest the pipe."""


class Candidate(NamedTuple):
    """A feature inside a protection zone of a pipeline; distance_m in metres, lon/lat in EPSG:4490 (None unless asked)."""

    pipeline_id: int
    pipeline_code: str
    operator: str | None
    feature_type: str
    feature_id: int
    zone: str
    distance_m: float
    township_id: int | None
    township_code: str | None
    township_name: str | None
    lon: float | None = None
    lat: float | None = None
    candidate_id: int | None = None
    status: str | None = None
    pipeline_name: str | None = None
    feature_label: str | None = None
    """The feature as a person names it: code and name (a building with neither: its use and floors)."""

    def as_dict(self) -> dict[str, Any]:
        return self._asdict()


class Candidates(Sequence[Candidate]):
    """The check's candidates: the driver's plain row tuples plus the names, made into Candidate on access.

    Why: tens of thousands of long-lived NamedTuples (or driver rows wrapped in objects) stay tracked by Python's
    garbage collector and make it sweep the whole heap; plain tuples of numbers and strings are untracked, and
    a Candidate read and dropped never reaches the older generations.
    """

    __slots__ = ("_names", "_points", "_rows")

    def __init__(self, rows: list[tuple[Any, ...]], names: Names, *, points: bool) -> None:
        self._rows, self._names, self._points = rows, names, points

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> Candidate: ...

    @overload
    def __getitem__(self, index: slice) -> list[Candidate]: ...

    def __getitem__(self, index: int | slice) -> Candidate | list[Candidate]:
        if isinstance(index, slice):
            return list(self._made(self._rows[index]))
        return next(self._made([self._rows[index]]))

    def __iter__(self) -> Iterator[Candidate]:
        return self._made(self._rows)

    def _made(self, rows: list[tuple[Any, ...]]) -> Iterator[Candidate]:
        pipelines, townships = self._names
        unknown = (None, None, None)
        if self._points:
            return (_make(Candidate, (*pipelines[pid], ftype, fid, zone, distance, *townships.get(tid, unknown),
                                      lon, lat, None, None, None, None))
                    for pid, ftype, fid, zone, distance, tid, lon, lat in rows)
        return (_make(Candidate, (*pipelines[pid], ftype, fid, zone, distance, *townships.get(tid, unknown),
                                  None, None, None, None, None, None))
                for pid, ftype, fid, zone, distance, tid in rows)

    def __repr__(self) -> str:
        return f"Candidates({len(self._rows)})"


_make = tuple.__new__
"""Builds a NamedTuple from a full tuple without the generated __new__'s per-field argument handling."""


def _zone_case(zones: Sequence[Zone], n: int) -> str:
    """CASE choosing the tightest of `zones` (sorted by distance) for near.distance_m; limits are bound parameters.

    A zone for some pipeline media only (e.g. GB 50253's distance for oil lines) also asks the pipeline's medium.
    """
    def when(i: int, zone: Zone) -> str:
        medium = (f" AND near.pipeline_id IN (SELECT id FROM pipeline WHERE medium = ANY(CAST(:media_{n}_{i} AS text[])))"
                  if zone.media else "")
        return f"WHEN near.distance_m <= :limit_{n}_{i}{medium} THEN :code_{n}_{i}"

    return f"CAST(CASE {' '.join(when(i, z) for i, z in enumerate(zones))} END AS text)"


def _zone_filter(zones: Sequence[Zone], n: int) -> str:
    """The WHERE of a block: within its widest zone, and, when some zone is for some media only, inside one."""
    radius = f"near.distance_m <= :radius_{n}"
    return f"{radius} AND {_zone_case(zones, n)} IS NOT NULL" if any(z.media for z in zones) else radius


def _point_sql(feature_type: str, other: str, *, points: bool) -> tuple[str, str]:
    """lon, lat of a candidate; unless `points`, only where the feature has no stored township (to find one)."""
    _, geom, township, point = _FEATURE_GEOMETRY[feature_type]
    lon, lat = (p.format(geom=geom, other=other) for p in _POINT_SQL[point])
    if points or township == "NULL::integer":
        return lon, lat
    return (f"CASE WHEN {township} IS NULL THEN {lon} END", f"CASE WHEN {township} IS NULL THEN {lat} END")


def _near_line_sql(feature_type: str, zones: Sequence[Zone], n: int, *, points: bool) -> str:
    """Features of one type within the widest of `zones` of a centreline piece, nearest piece only.

    Every pair of boxes that meet gets one ST_Distance (one transform), the nearest piece per feature is kept, and
    only then is the radius applied: the nearest piece is inside it exactly when some piece is. Cheaper than
    ST_DWithin followed by ST_Distance, and unlike a per-row subquery it leaves PostgreSQL free to use
    parallel workers. Among equally near pieces the first one's id wins, so a road's point (and township)
    does not depend on the plan.
    """
    table, geom, township, _ = _FEATURE_GEOMETRY[feature_type]
    lon, lat = _point_sql(feature_type, "p.geom", points=points)
    # the feature's GiST index (a column of its own) finds the features near each piece
    near = f"{geom} && ST_Expand(p.geom, :radius_{n} * :deg / cos(radians(ST_YMax(p.geom))), :radius_{n} * :deg)"
    return f"""
        SELECT pipeline_id, '{feature_type}'::text AS feature_type, feature_id,
               {_zone_case(zones, n)} AS zone, distance_m, township_id, lon, lat
        FROM (
            SELECT DISTINCT ON (p.pipeline_id, f.id)
                   p.pipeline_id, f.id AS feature_id, ST_Distance(ST_Transform({geom}, :srid), p.geom_m) AS distance_m,
                   {township} AS township_id, {lon} AS lon, {lat} AS lat
            FROM pipeline_piece p
            JOIN {table} f ON {near}
            WHERE CAST(:pipeline_id AS integer) IS NULL OR p.pipeline_id = :pipeline_id
            ORDER BY p.pipeline_id, f.id, distance_m, p.id
        ) near
        WHERE {_zone_filter(zones, n)}
    """


def _near_facility_sql(feature_type: str, zones: Sequence[Zone], n: int, *, points: bool) -> str:
    """Features of one type within the widest of `zones` of an ancillary facility, nearest facility only (as
    _near_line_sql)."""
    table, geom, township, _ = _FEATURE_GEOMETRY[feature_type]
    lon, lat = _point_sql(feature_type, "fac.geom", points=points)
    return f"""
        SELECT pipeline_id, '{feature_type}'::text AS feature_type, feature_id,
               {_zone_case(zones, n)} AS zone, distance_m, township_id, lon, lat
        FROM (
            SELECT DISTINCT ON (fac.pipeline_id, f.id)
                   fac.pipeline_id, f.id AS feature_id, ST_Distance(ST_Transform({geom}, :srid), fm.facility_m)
                       AS distance_m,
                   {township} AS township_id, {lon} AS lon, {lat} AS lat
            FROM pipeline_facility fac
            CROSS JOIN LATERAL (SELECT ST_Transform(fac.geom, :srid) AS facility_m) fm
            JOIN {table} f ON {geom} && ST_Expand(
                fac.geom, :radius_{n} * :deg / cos(radians(ST_Y(fac.geom))), :radius_{n} * :deg)
            WHERE CAST(:pipeline_id AS integer) IS NULL OR fac.pipeline_id = :pipeline_id
            ORDER BY fac.pipeline_id, f.id, distance_m, fac.id
        ) near
        WHERE {_zone_filter(zones, n)}
    """


_RIVER_CROSSINGS_SQL = """
    SELECT p.id AS pipeline_id, w.id AS source_id, x.geom, ST_Transform(x.geom, :srid) AS geom_m
    FROM pipeline p
    JOIN waterway w ON w.geom && p.geom AND ST_Intersects(w.geom, p.geom)
    CROSS JOIN LATERAL (SELECT ST_Intersection(p.geom, w.geom) AS geom) x
    WHERE CAST(:pipeline_id AS integer) IS NULL OR p.id = :pipeline_id
"""
"""Where each pipeline crosses a river (石油天然气管道保护法 第三十二条 measures 500 m each side of it)."""

_TUNNELS_SQL = """
    SELECT t.pipeline_id, t.id AS source_id, t.geom, ST_Transform(t.geom, :srid) AS geom_m
    FROM pipeline_tunnel t
    WHERE CAST(:pipeline_id AS integer) IS NULL OR t.pipeline_id = :pipeline_id
"""
"""Each pipeline's dedicated tunnels (石油天然气管道保护法 第三十三条 measures 1,000 m each side of the centreline)."""


def _near_source_sql(source_sql: str, feature_type: str, zones: Sequence[Zone], n: int, *, points: bool) -> str:
    """Features of one type within the widest of `zones` of a river crossing or tunnel (`source_sql`: pipeline_id,
    source_id, geom in EPSG:4490, geom_m in metres), nearest one per pipeline only. Few such places: the
    features' GiST index finds those near each."""
    table, geom, township, _ = _FEATURE_GEOMETRY[feature_type]
    lon, lat = _point_sql(feature_type, "x.geom", points=points)
    return f"""
        SELECT pipeline_id, '{feature_type}'::text AS feature_type, feature_id,
               {_zone_case(zones, n)} AS zone, distance_m, township_id, lon, lat
        FROM (
            SELECT DISTINCT ON (x.pipeline_id, f.id)
                   x.pipeline_id, f.id AS feature_id, ST_Distance(ST_Transform({geom}, :srid), x.geom_m) AS distance_m,
                   {township} AS township_id, {lon} AS lon, {lat} AS lat
            FROM ({source_sql} OFFSET 0) x
            JOIN {table} f ON {geom} && ST_Expand(
                x.geom, :radius_{n} * :deg / cos(radians(ST_YMax(x.geom))), :radius_{n} * :deg)
            ORDER BY x.pipeline_id, f.id, distance_m, x.source_id
        ) near
        WHERE {_zone_filter(zones, n)}
    """


_CROSSING_SQL = """
    SELECT a.id AS pipeline_id, 'pipeline'::text AS feature_type, b.id::bigint AS feature_id,
           CAST(:crossing_zone AS text) AS zone, 0.0::float8 AS distance_m, NULL::integer AS township_id,
           ST_X(x.point) AS lon, ST_Y(x.point) AS lat
    FROM pipeline a
    JOIN pipeline b ON b.geom && a.geom AND b.id <> a.id
    CROSS JOIN LATERAL (SELECT ST_PointOnSurface(ST_Intersection(a.geom, b.geom)) AS point) x
    WHERE ST_Intersects(a.geom, b.geom)
      AND (CAST(:pipeline_id AS integer) IS NULL OR a.id = :pipeline_id)
"""
"""Pipeline–pipeline crossings, from whole lines: there are few pipelines and one point per pair suffices."""

_RESULT_SQL = """
    SELECT u.pipeline_id, u.feature_type, u.feature_id, u.zone, u.distance_m, t.township_id{points}
    FROM ({blocks}) u
    CROSS JOIN LATERAL (
        SELECT COALESCE(u.township_id, (SELECT n.id FROM township n
                                        ORDER BY n.geom <-> ST_SetSRID(ST_MakePoint(u.lon, u.lat), 4490) LIMIT 1))
                   AS township_id
        OFFSET 0) t  -- OFFSET 0: each candidate's township computed once
    WHERE CAST(:township_id AS integer) IS NULL OR t.township_id = :township_id
    {order}
"""
"""Candidates with their responsible township (and point when asked); pipeline and township names are added
in Python from two small look-ups."""

_ORDER_SQL = 'ORDER BY u.pipeline_id, u.feature_type COLLATE "C", u.feature_id'
"""The order find_encroachments returns. Each block leaves DISTINCT ON sorted by pipeline and feature id, so a
check of one feature type needs no further sort; "C" compares the type names bytewise, not by locale."""


_STALE_PIECES_SQL = """
    EXISTS (SELECT 1 FROM pipeline_piece WHERE ST_SRID(geom_m) <> {srid})
    OR EXISTS (SELECT 1 FROM pipeline p WHERE p.geom IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM pipeline_piece q WHERE q.pipeline_id = p.id))
"""
"""True when pieces are missing or in another metric zone than `srid` (an SQL expression)."""

_PRELUDE_SQL = f"""
    WITH zone AS (SELECT metric_srid AS srid FROM county WHERE code = :county)
    SELECT (SELECT srid FROM zone), {_STALE_PIECES_SQL.format(srid="(SELECT srid FROM zone)")},
           (SELECT json_agg(json_build_array(id, code, operator)) FROM pipeline),
           (SELECT json_agg(json_build_array(id, code, name)) FROM township)
"""
"""Everything the check needs before its main statement, in one round trip: the county's metric zone, whether
the pieces must be re-cut, and the pipelines' and townships' names."""


def ensure_pipeline_pieces(conn: Connection, *, srid: int) -> None:
    """Re-cut every pipeline when pieces are missing or in another metric zone than the county's."""
    stale = conn.execute(text("SELECT " + _STALE_PIECES_SQL.format(srid=":srid")), {"srid": srid}).scalar_one()
    if stale:
        _cut_pieces(conn, srid=srid)


def _cut_pieces(conn: Connection, *, srid: int) -> None:
    conn.execute(text("SELECT riskmap_cut_pipeline(id, :srid) FROM pipeline"), {"srid": srid})


def _pipeline_id(conn: Connection, code: str | None) -> int | None:
    if code is None:
        return None
    found = conn.execute(text("SELECT id FROM pipeline WHERE code = :c"), {"c": code}).scalar()
    if found is None:
        raise NotFound(f"没有编号为 {code} 的管道")
    return int(found)


def _township_id(conn: Connection, code: str | None) -> int | None:
    if code is None:
        return None
    found = conn.execute(text("SELECT id FROM township WHERE code = :c"), {"c": code}).scalar()
    if found is None:
        raise NotFound(f"没有代码为 {code} 的乡镇")
    return int(found)


Names = tuple[dict[int, tuple[int, str, str | None]], dict[int, tuple[int, str, str]]]
"""Pipeline id → (id, code, operator) and township id → (id, code, name), the leading fields of a Candidate."""


def _prelude(conn: Connection, *, tune: bool = False) -> tuple[int, Names]:
    """The county's metric SRID (pieces re-cut first if stale) and the names, in one round trip (see _PRELUDE_SQL);
    with `tune` the same round trip sets what geo.db.tune_for_heavy_work sets for the transaction.

    Why one: each round trip waits for the server to be scheduled, which on a loaded machine costs as much as
    the fetch of thousands of rows.
    """
    sql = _PRELUDE_SQL.rstrip() + (f", set_config('work_mem', '{HEAVY_WORK_MEM}', true), "
                                   "set_config('jit', 'off', true)" if tune else "")
    srid, stale, pipelines, townships, *_ = conn.execute(text(sql), {"county": get_settings().county_code}).one()
    if srid is None:
        metric_srid(conn)  # raises NotFound with the message the rest of riskmap gives
    if stale:
        _cut_pieces(conn, srid=srid)
    return int(srid), ({r[0]: (r[0], r[1], r[2]) for r in pipelines or ()},
                       {r[0]: (r[0], r[1], r[2]) for r in townships or ()})


def _selected(rules: ZoneRules, zones: Sequence[str] | None, feature_types: Sequence[str] | None) -> ZoneRules:
    """The rules restricted to the chosen zone codes and feature types."""
    known = {z.code for z in rules.all()}
    unknown = sorted(set(zones or ()) - known) + sorted(set(feature_types or ()) - set(FEATURE_TYPES))
    if unknown:
        raise InvalidInput(f"未知的保护区或地物类型：{'、'.join(unknown)}")

    def keep(z: Zone) -> Zone | None:
        if zones is not None and z.code not in zones:
            return None
        types = tuple(t for t in z.feature_types if feature_types is None or t in feature_types)
        return Zone(**{**asdict(z), "feature_types": types}) if types or z.around == "crossing" else None

    line = tuple(k for z in rules.line if (k := keep(z)))
    facility = tuple(k for z in rules.facility if (k := keep(z)))
    river = tuple(k for z in rules.river if (k := keep(z)))
    tunnel = tuple(k for z in rules.tunnel if (k := keep(z)))
    crossing = rules.crossing
    if crossing is not None and ((zones is not None and crossing.code not in zones)
                                 or (feature_types is not None and "pipeline" not in feature_types)):
        crossing = None
    return ZoneRules(line=line, facility=facility, crossing=crossing, river=river, tunnel=tunnel)


def _candidate_sql(rules: ZoneRules, *, points: bool, ordered: bool = False) -> tuple[str, dict[str, Any]]:
    """One statement computing every candidate of `rules` (with lon/lat if `points`, in _ORDER_SQL's order if
    `ordered`), and its bound parameters."""
    blocks: list[str] = []
    params: dict[str, Any] = {}
    groups = ((rules.line, _near_line_sql), (rules.facility, _near_facility_sql),
              (rules.river, partial(_near_source_sql, _RIVER_CROSSINGS_SQL)),
              (rules.tunnel, partial(_near_source_sql, _TUNNELS_SQL)))
    for group, make in groups:
        for feature_type in _FEATURE_GEOMETRY:
            zones = [z for z in group if feature_type in z.feature_types]
            if not zones:
                continue
            n = len(blocks)
            blocks.append(make(feature_type, zones, n, points=points))
            for i, zone in enumerate(zones):
                params[f"code_{n}_{i}"] = zone.code
                params[f"limit_{n}_{i}"] = zone.max_distance_m
                if zone.media:
                    params[f"media_{n}_{i}"] = list(zone.media)
            params[f"radius_{n}"] = max(z.max_distance_m for z in zones)
    if rules.crossing is not None:
        blocks.append(_CROSSING_SQL)
        params["crossing_zone"] = rules.crossing.code
    if not blocks:
        raise InvalidInput("所选保护区与地物类型没有可检查的组合")
    sql = _RESULT_SQL.format(blocks=" UNION ALL ".join(f"({b})" for b in blocks),
                             points=", u.lon, u.lat" if points else "", order=_ORDER_SQL if ordered else "")
    return sql, params


def _driver_rows(conn: Connection, sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
    """All rows of `sql` as the driver's plain tuples (no Row object per row: see Candidates)."""
    compiled = text(sql).compile(dialect=conn.dialect)
    cursor = conn.connection.cursor()
    try:
        cursor.execute(str(compiled), compiled.construct_params(params))
        return list(cursor.fetchall())
    finally:
        cursor.close()


def find_encroachments(
    conn: Connection,
    *,
    pipeline_code: str | None = None,
    township_code: str | None = None,
    zones: Sequence[str] | None = None,
    feature_types: Sequence[str] | None = None,
    points: bool = False,
) -> Candidates:
    """Compute (without storing) every feature inside a protection zone; distances in metres (GK zone).

    Ordered by pipeline, feature type and feature id. lon/lat (EPSG:4490) are filled only with `points=True`.
    """
    srid, names = _prelude(conn, tune=True)
    sql, params = _candidate_sql(_selected(load_zones(), zones, feature_types), points=points, ordered=True)
    params.update(srid=srid, deg=DEGREES_PER_METRE, pipeline_id=_pipeline_id(conn, pipeline_code),
                  township_id=_township_id(conn, township_code))
    return Candidates(_driver_rows(conn, sql, params), names, points=points)


_REFRESH_SQL = """
    WITH found AS MATERIALIZED ({candidates}),
    upserted AS (
        INSERT INTO encroachment_candidate AS c
               (pipeline_id, feature_type, feature_id, zone, distance_m, township_id, geom)
        SELECT pipeline_id, feature_type, feature_id, zone, distance_m, township_id,
               ST_SetSRID(ST_MakePoint(lon, lat), 4490)
        FROM found
        ON CONFLICT (pipeline_id, feature_type, feature_id, zone) DO UPDATE
        SET distance_m = EXCLUDED.distance_m, township_id = EXCLUDED.township_id, geom = EXCLUDED.geom,
            status = 'open', closed_reason = NULL, closed_at = NULL, last_checked_at = now()
        WHERE c.status <> 'open' OR c.distance_m IS DISTINCT FROM EXCLUDED.distance_m
           OR c.township_id IS DISTINCT FROM EXCLUDED.township_id OR c.geom IS DISTINCT FROM EXCLUDED.geom
    )
    UPDATE encroachment_candidate c
    SET status = 'closed', closed_at = now(),
        closed_reason = CASE WHEN CASE c.feature_type
                                 WHEN 'building' THEN EXISTS (SELECT 1 FROM building x WHERE x.id = c.feature_id)
                                 WHEN 'road' THEN EXISTS (SELECT 1 FROM road x WHERE x.id = c.feature_id)
                                 WHEN 'mine' THEN EXISTS (SELECT 1 FROM mine x WHERE x.id = c.feature_id)
                                 ELSE EXISTS (SELECT 1 FROM pipeline x WHERE x.id = c.feature_id) END
                             THEN 'out_of_zone' ELSE 'feature_removed' END
    WHERE c.status = 'open'
      AND NOT EXISTS (SELECT 1 FROM found f WHERE f.pipeline_id = c.pipeline_id AND f.feature_type = c.feature_type
                                               AND f.feature_id = c.feature_id AND f.zone = c.zone)
"""
"""One statement: new candidates inserted open; found ones rewritten only when something changed (distance,
township, point, or reopened), so a re-check of an unchanged county writes nothing and leaves no dead rows (on a
server whose autovacuum runs once a minute, rewriting every open row on each check made each check slower than
the last); open ones not found any more closed with the reason. last_checked_at is the last check that changed
the row. The data-modifying CTE runs whether or not it is read; the closing UPDATE sees the rows as they were
before the statement, so a row reopened above (closed before) is not touched twice."""

_LIST_SQL = """
    SELECT c.pipeline_id, pl.code AS pipeline_code, pl.operator, c.feature_type, c.feature_id, c.zone,
           c.distance_m, t.id AS township_id, t.code AS township_code, t.name AS township_name,
           ST_X(c.geom) AS lon, ST_Y(c.geom) AS lat, c.id AS candidate_id, c.status, pl.name AS pipeline_name,
           CASE c.feature_type
             WHEN 'building' THEN (SELECT coalesce(nullif(concat_ws(' ', x.code, x.name), ''),
                                                   concat(x.floors, ' 层建筑（未编号）')) FROM building x WHERE x.id = c.feature_id)
             WHEN 'road' THEN (SELECT coalesce(nullif(concat_ws(' ', x.code, x.name), ''), '未命名道路')
                               FROM road x WHERE x.id = c.feature_id)
             WHEN 'mine' THEN (SELECT concat_ws(' ', x.licence_no, x.name) FROM mine x WHERE x.id = c.feature_id)
             ELSE (SELECT concat_ws(' ', x.code, x.name) FROM pipeline x WHERE x.id = c.feature_id) END AS feature_label
    FROM encroachment_candidate c
    JOIN pipeline pl ON pl.id = c.pipeline_id
    LEFT JOIN township t ON t.id = c.township_id
    WHERE c.status = 'open'
      AND (CAST(:pipeline_code AS text) IS NULL OR pl.code = :pipeline_code)
      AND (CAST(:township_code AS text) IS NULL OR t.code = :township_code)
    ORDER BY pl.code, c.distance_m, c.feature_type, c.feature_id
"""


def refresh_candidates(conn: Connection) -> None:
    """Re-run the whole check into encroachment_candidate: new ones open, vanished ones closed with a reason."""
    srid = metric_srid(conn)
    ensure_pipeline_pieces(conn, srid=srid)
    sql, params = _candidate_sql(load_zones(), points=True)
    params.update(srid=srid, deg=DEGREES_PER_METRE, pipeline_id=None, township_id=None)
    tune_for_heavy_work(conn)  # the anti-join above is hashed only when the kept ids fit in work_mem
    conn.execute(text(_REFRESH_SQL.format(candidates=sql)), params)


def list_candidates(
    conn: Connection, *, pipeline_code: str | None = None, township_code: str | None = None
) -> list[Candidate]:
    """Open candidates as stored by the last check, optionally for one pipeline or township."""
    _pipeline_id(conn, pipeline_code)
    _township_id(conn, township_code)
    rows = conn.execute(text(_LIST_SQL), {"pipeline_code": pipeline_code, "township_code": township_code})
    return [Candidate(*r) for r in rows]


def check_encroachments(
    conn: Connection, *, pipeline_code: str | None = None, township_code: str | None = None
) -> list[Candidate]:
    """Run the check (refreshing the stored candidates) and return the open ones in scope, with their ids."""
    refresh_candidates(conn)
    return list_candidates(conn, pipeline_code=pipeline_code, township_code=township_code)
