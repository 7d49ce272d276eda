"""Pipeline segments: dynamic segmentation, potential impact radius, class location, HCA grade, encroachments.

GB 32167-2015 §6.1 (HCA, eq. 1 impact radius), GB 50251-2015 §4.2 (class location), 石油天然气管道保护法
Arts 30/35 (5 m band, 200 m permit zone). Metric work in the county's Gauss–Krüger zone; rules from rules.toml.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from geo.codes import ENCROACHMENT_KINDS, ROAD_CLASSES
from geo.risk.findings import Assessment, Finding, combine_findings, degree_margin, dict_rows, fmt_number
from geo.risk.rules import LEVEL_RANK, Rules

KIND = "pipeline_segment"
SEGMENT_SQL = (Path(__file__).resolve().parent / "segment.sql").read_text(encoding="utf-8")


def impact_radius_m(*, diameter_mm: float, pressure_mpa: float, coefficient: float = 0.099) -> float:
    """Potential impact radius r = 0.099·√(d²·p) in m, d outside diameter mm, p MAOP MPa (GB 32167-2015 eq. 1)."""
    return coefficient * math.sqrt(diameter_mm ** 2 * pressure_mpa)


def segment_pipelines(conn: Connection, rules: Rules, *, srid: int) -> None:
    """(Re)build pipeline_segment for the pipelines in scope; unchanged segments keep their ids and rows."""
    conn.execute(text("DROP TABLE IF EXISTS risk_new_segment"))
    conn.execute(text(SEGMENT_SQL), {"srid": srid, "seg_m": float(rules["pipeline"]["segment_length_m"])})


# Every segment of the pipelines holding an assessed segment; `near`: within the class-location window of an
# assessed one along the same line, so only dwellings near those need locating (and each is still located on
# the nearest segment of the whole line, as in a full run).
SEG_METRIC_SQL = """
CREATE TEMP TABLE risk_seg_m ON COMMIT DROP AS
WITH assessed AS MATERIALIZED (
    SELECT s.id, s.pipeline_id, s.from_m, s.to_m FROM pipeline_segment s JOIN risk_scope_segment USING (id)
), span AS (
    SELECT pipeline_id, min(from_m) AS lo, max(to_m) AS hi FROM assessed GROUP BY pipeline_id
)
SELECT s.id, s.pipeline_id, s.seq, s.from_m, s.to_m, s.township_id, s.geom, ST_Transform(s.geom, :srid) AS g,
       (s.id IN (SELECT id FROM assessed)) AS assessed,
       (s.pipeline_id IN (SELECT id FROM risk_scope_pipeline)
        OR EXISTS (SELECT 1 FROM assessed a WHERE a.pipeline_id = s.pipeline_id
                   AND s.to_m >= a.from_m - :window_m AND s.from_m <= a.to_m + :window_m)) AS near
FROM pipeline_segment s JOIN span p ON p.pipeline_id = s.pipeline_id;
CREATE INDEX ON risk_seg_m USING gist (g);
CREATE INDEX ON risk_seg_m USING gist (geom);
CREATE INDEX ON risk_seg_m (pipeline_id, from_m);
ANALYZE risk_seg_m (id, pipeline_id, assessed, near);
"""

# Dwellings within the strip, each located along its pipeline by the chainage m of its footprint centroid (metres
# from the pipeline start), with `reach` ≈ half its footprint's side (area from degrees² at its latitude) so
# that boundaries are measured from the building's outer edge. Households: the recorded 户数, else 1 for a low-rise
# house, else floors × units per floor.
# risk_dw_pair: (segment, building) whose EPSG:4490 boxes meet within the strip's margin, for the segments near an
# assessed one. A centroid within strip_m of a segment lies in such a box, so these pairs already hold every near
# segment a candidate can be located on: they are tested directly (hash joins), and only the other segments of the
# same lines (a run over some objects) are searched through the index.
DWELLING_SQL = """
CREATE TEMP TABLE risk_dw_pair ON COMMIT DROP AS
SELECT s.id AS sid, b.id AS bid FROM risk_seg_m s
JOIN building b ON b.geom && ST_Expand(s.geom, :dx, :dy) AND b.use_class = ANY(CAST(:uses AS text[]))
WHERE s.near;
ANALYZE risk_dw_pair;
CREATE TEMP TABLE risk_dw_cand ON COMMIT DROP AS
-- (the statistics of risk_dw_pair let the planner fetch a few hundred buildings by key, or hash the county's —
-- OFFSET 0 keeps the subquery, so each footprint's centroid is computed once, not twice)
SELECT id, floors, households, ST_Transform(ct, :srid) AS c,
       sqrt(ST_Area(geom) * 111320.0 * cos(radians(ST_Y(ct))) * 110574.0) / 2 AS reach
FROM (SELECT b.id, b.floors, b.households, b.geom, ST_Centroid(b.geom) AS ct
      FROM building b WHERE b.id IN (SELECT bid FROM risk_dw_pair) OFFSET 0) b;
ANALYZE risk_dw_cand (id);  -- joined by id only (the statistics of the points took 0.09 s)
CREATE TEMP TABLE risk_dw_near ON COMMIT DROP AS
WITH hit AS (
    -- each pair's distance computed once: ST_Distance(c, g) <= strip_m is ST_DWithin(c, g, strip_m) (both take
    -- the same minimum over the line's pieces; ST_DWithin merely stops at the first piece within reach)
    SELECT bid, sid, pipeline_id, seq, d FROM (
        SELECT c.id AS bid, s.id AS sid, s.pipeline_id, s.seq, ST_Distance(c.c, s.g) AS d
        FROM risk_dw_pair p
        JOIN risk_dw_cand c ON c.id = p.bid
        JOIN risk_seg_m s ON s.id = p.sid
        OFFSET 0  -- join the pairs by key; the distance is a filter here, not a reason for an index search
    ) x
    WHERE d <= :strip_m
    UNION ALL
    SELECT c.id, s.id, s.pipeline_id, s.seq, ST_Distance(c.c, s.g)
    FROM risk_dw_cand c
    JOIN risk_seg_m s ON ST_DWithin(c.c, s.g, :strip_m) AND NOT s.near
    WHERE (SELECT bool_or(NOT near) FROM risk_seg_m)
)
-- the nearest segment of each line, chosen on narrow rows; the building is located along it below
SELECT DISTINCT ON (bid, pipeline_id) bid, sid
FROM hit
ORDER BY bid, pipeline_id, d, seq;
ANALYZE risk_dw_near;
CREATE TEMP TABLE risk_dwelling ON COMMIT DROP AS
SELECT s.pipeline_id, c.id AS building_id, c.c,
       s.from_m + ST_LineLocatePoint(s.g, c.c) * (s.to_m - s.from_m) AS m,
       c.reach,
       CAST(COALESCE(c.households, CASE WHEN c.floors <= :low THEN 1 ELSE c.floors * :upf END)
            AS double precision) AS households,
       (c.floors >= :tall) AS tall
FROM risk_dw_near n
JOIN risk_dw_cand c ON c.id = n.bid
JOIN risk_seg_m s ON s.id = n.sid
ORDER BY c.id, s.pipeline_id;
SELECT max(reach) FROM risk_dwelling;
"""

# Each dwelling opens a window of the next 2 km along its line (RANGE frame on the chainage m). Households, buildings
# and tall ones are sums and counts, which PostgreSQL slides row by row (households as numeric: float sums cannot be
# slid, and the values are whole numbers, so the exact sum is the float one). The window's last edge, the max of
# m + reach over the frame, is not slid by PostgreSQL (max has no inverse), so it is read from two short frames: a
# dwelling's edge exceeds m by at most max(reach) (`rpad` = that + 1 m, against rounding), hence when the frame's
# last dwelling lies more than rpad past the first, the max is that of [last m − rpad, last m] (`bwd`, taken at the
# frame's last row); otherwise the whole frame lies within rpad + 1 m of its first dwelling (`near_fwd`).
WINDOW_SQL = """
CREATE TEMP TABLE risk_window ON COMMIT DROP AS
WITH e AS (
    SELECT pipeline_id, m, reach, households, tall,
           max(m + reach) OVER (PARTITION BY pipeline_id ORDER BY m
                                RANGE BETWEEN CAST(:rpad AS double precision) PRECEDING AND CURRENT ROW) AS bwd,
           max(m + reach) OVER (PARTITION BY pipeline_id ORDER BY m
                                RANGE BETWEEN CURRENT ROW AND CAST(:rfwd AS double precision) FOLLOWING) AS near_fwd
    FROM risk_dwelling
), w AS (
    SELECT pipeline_id, m, m - reach AS first_edge, near_fwd,
           last_value(m) OVER fwd AS m_last, last_value(bwd) OVER fwd AS bwd_last,
           CAST(sum(CAST(households AS numeric)) OVER fwd AS double precision) AS households,
           count(*) OVER fwd AS buildings, count(*) FILTER (WHERE tall) OVER fwd AS tall
    FROM e
    WINDOW fwd AS (PARTITION BY pipeline_id ORDER BY m
                   RANGE BETWEEN CURRENT ROW AND CAST(:window_m AS double precision) FOLLOWING)
), c AS (
    SELECT pipeline_id, first_edge - :boundary_m AS a,
           CASE WHEN m_last - CAST(:rpad AS double precision) >= m THEN bwd_last ELSE near_fwd END
               + :boundary_m AS b,
           households,
           CASE WHEN buildings >= :c4_buildings AND tall >= CAST(:c4_share AS double precision) * buildings THEN 4
                WHEN households >= :c3_min THEN 3
                WHEN households > :c12_max THEN 2
                WHEN households > 0 THEN 1
                ELSE 0 END AS cls
    FROM w
)
SELECT * FROM c WHERE cls > 0;
CREATE INDEX ON risk_window (pipeline_id, a);
ANALYZE risk_window;
"""

# Every window starting at a dwelling (any 2 km window's dwellings are among those of the window starting at its
# first one) gives its class to the stretch from its first building − 200 m to its last + 200 m (a..b); a segment
# takes the highest class of the stretches it overlaps and that stretch's ends.
CLASS_SQL = """
SELECT s.id, x.cls, x.households, x.a, x.b
FROM risk_seg_m s
CROSS JOIN LATERAL (
    SELECT w.cls, w.households, w.a, w.b FROM risk_window w
    WHERE w.pipeline_id = s.pipeline_id AND w.a < s.to_m AND w.a > s.from_m - :span_m AND w.b > s.from_m
    ORDER BY w.cls DESC, w.households DESC, w.a
    LIMIT 1
) x
WHERE s.assessed
"""

# Oil Table 1 row c: settlements (dwellings within 200 m clustered by DBSCAN, eps from the rules) of ≥ 50
# households; each holds from its first building − 200 m to its last + 200 m.
SETTLEMENT_SQL = """
WITH d AS (
    SELECT d.*, ST_ClusterDBSCAN(d.c, eps := :eps, minpoints := 1) OVER (PARTITION BY d.pipeline_id) AS cid
    FROM risk_dwelling d JOIN pipeline p ON p.id = d.pipeline_id
    WHERE p.medium = ANY(CAST(:media AS text[]))
), st AS (
    SELECT pipeline_id, sum(households) AS households, min(m - reach) - :boundary_m AS a,
           max(m + reach) + :boundary_m AS b
    FROM d GROUP BY pipeline_id, cid HAVING sum(households) >= :min_households
)
SELECT s.id, max(st.households), min(st.a), max(st.b)
FROM st JOIN risk_seg_m s ON s.pipeline_id = st.pipeline_id AND st.a < s.to_m AND st.b > s.from_m
WHERE s.assessed
GROUP BY s.id
"""

SEGMENTS_SQL = """
SELECT s.id, s.pipeline_id, s.seq, s.from_m, s.to_m, s.township_id, p.code, p.name, p.medium,
       p.outside_diameter_mm, p.design_pressure_mpa, p.maop_mpa,
       COALESCE(p.maop_mpa, p.design_pressure_mpa) AS pressure_mpa,
       CASE WHEN p.maop_mpa IS NOT NULL THEN 'maop' ELSE 'design' END AS pressure_kind
FROM risk_seg_m s JOIN pipeline p ON p.id = s.pipeline_id
WHERE s.assessed
"""

# Special sites (GB 32167-2015 表2 c–e: schools, hospitals, markets …) within max_m of each assessed segment. Over a
# county: every site's footprint transformed once, then the segments near it found through the metric index (the
# join the other way round transformed each footprint three times: for the index, the test and the distance; 0.30 →
# 0.17 s on ×1).
SITES_SQL = """
WITH site AS MATERIALIZED (
    SELECT b.use_class, ST_Transform(b.geom, :srid) AS g FROM building b WHERE b.use_class = ANY(CAST(:uses AS text[]))
)
SELECT id, use_class, min(d)
FROM (SELECT s.id, site.use_class, ST_Distance(site.g, s.g) AS d
      FROM site JOIN risk_seg_m s ON s.g && ST_Expand(site.g, :max_m)
      WHERE s.assessed
      OFFSET 0) x  -- each pair's distance once; ST_Distance(a, b) <= r is ST_DWithin(a, b, r)
WHERE d <= :max_m
GROUP BY id, use_class
"""

# The same for a run over a few segments (`--changed`): each assessed segment looks up its sites through the
# EPSG:4490 index, where SITES_SQL transforms every site of the county.
SITES_NEAR_SQL = """
SELECT s.id, b.use_class, min(ST_Distance(ST_Transform(b.geom, :srid), s.g))
FROM risk_seg_m s
JOIN building b ON b.use_class = ANY(CAST(:uses AS text[])) AND b.geom && ST_Expand(s.geom, :dx, :dy)
 AND ST_DWithin(ST_Transform(b.geom, :srid), s.g, :max_m)
WHERE s.assessed
GROUP BY s.id, b.use_class
"""

FLAMMABLE_SQL = """
WITH site AS (
    SELECT e.geom, NULL::integer AS pipeline_id FROM enterprise e WHERE e.category = ANY(CAST(:cats AS text[]))
    UNION ALL
    SELECT b.geom, NULL FROM building b WHERE b.use_class = ANY(CAST(:uses AS text[]))
    UNION ALL
    SELECT f.geom, f.pipeline_id FROM pipeline_facility f WHERE f.kind = ANY(CAST(:kinds AS text[]))
)
SELECT s.id, min(ST_Distance(ST_Transform(site.geom, :srid), s.g))
FROM site
JOIN risk_seg_m s ON s.geom && ST_Expand(site.geom, :dx, :dy)
 AND (site.pipeline_id IS NULL OR site.pipeline_id <> s.pipeline_id)
 AND ST_DWithin(ST_Transform(site.geom, :srid), s.g, :max_m)
WHERE s.assessed
GROUP BY s.id
"""

# The same sites for a run over a few segments (`--changed`): each assessed segment looks up its own sites through
# the spatial indexes, where FLAMMABLE_SQL scans every building for the few fuel stations and depots (≈ 30 ms on ×1,
# the cost of a whole `--changed` run's budget; over a county's 10,000 segments that one scan is the cheaper plan).
FLAMMABLE_NEAR_SQL = """
SELECT s.id, min(ST_Distance(ST_Transform(site.geom, :srid), s.g))
FROM risk_seg_m s
CROSS JOIN LATERAL (
    SELECT e.geom FROM enterprise e
    WHERE e.category = ANY(CAST(:cats AS text[])) AND e.geom && ST_Expand(s.geom, :dx, :dy)
    UNION ALL
    SELECT b.geom FROM building b
    WHERE b.use_class = ANY(CAST(:uses AS text[])) AND b.geom && ST_Expand(s.geom, :dx, :dy)
    UNION ALL
    SELECT f.geom FROM pipeline_facility f
    WHERE f.kind = ANY(CAST(:kinds AS text[])) AND f.geom && ST_Expand(s.geom, :dx, :dy)
      AND (f.pipeline_id IS NULL OR f.pipeline_id <> s.pipeline_id)
) site
WHERE s.assessed AND ST_DWithin(ST_Transform(site.geom, :srid), s.g, :max_m)
GROUP BY s.id
"""

ROADS_NEAR_SQL = """
SELECT s.id, min(ST_Distance(ST_Transform(r.geom, :srid), s.g))
FROM risk_seg_m s
JOIN road r ON r.road_class = ANY(CAST(:classes AS text[])) AND r.geom && ST_Expand(s.geom, :dx, :dy)
 AND ST_DWithin(ST_Transform(r.geom, :srid), s.g, :max_m)
WHERE s.assessed
GROUP BY s.id
"""

# Register items: an item naming its pipeline counts on that pipeline's nearest segment (wherever it lies); an item
# naming none counts on the nearest segment within the 5 m band.
ENCROACHMENTS_SQL = """
WITH en AS (
    SELECT en.id, en.code, en.kind, en.pipeline_id, en.geom, ST_Transform(en.geom, :srid) AS g
    FROM encroachment en WHERE en.status = ANY(CAST(:statuses AS text[]))
      -- an item naming a line counts only on that line's nearest segment, so lines with no assessed segment drop
      -- out here (a --changed run assesses a few lines' segments: ~300 items × 400 segments scanned otherwise)
      AND (en.pipeline_id IS NULL OR en.pipeline_id IN (SELECT pipeline_id FROM risk_seg_m WHERE assessed))
)
SELECT x.id, en.kind, en.code, x.distance_m
FROM en CROSS JOIN LATERAL (
    SELECT s.id, ST_Distance(s.g, en.g) AS distance_m, s.assessed FROM risk_seg_m s
    WHERE s.pipeline_id = en.pipeline_id
    ORDER BY s.g <-> en.g, s.seq LIMIT 1
) x
WHERE en.pipeline_id IS NOT NULL AND x.assessed
UNION ALL
SELECT x.id, en.kind, en.code, x.distance_m
FROM en CROSS JOIN LATERAL (
    SELECT s.id, ST_Distance(s.g, en.g) AS distance_m, s.assessed FROM risk_seg_m s
    WHERE s.geom && ST_Expand(en.geom, :dx, :dy) AND ST_DWithin(s.g, en.g, :band_m)
    ORDER BY ST_Distance(s.g, en.g), s.pipeline_id, s.seq LIMIT 1
) x
WHERE en.pipeline_id IS NULL AND x.assessed
ORDER BY 1, 3
"""

MINES_NEAR_SQL = """
SELECT s.id, m.name, m.method, m.id
FROM mine m
JOIN risk_seg_m s ON s.geom && ST_Expand(ST_Envelope(m.workings), :dx, :dy)
WHERE s.assessed AND m.operating AND m.workings IS NOT NULL
  AND ST_Distance(ST_Transform(m.workings, :srid), s.g) <= :distance_m
ORDER BY s.id, m.name, m.id
"""
"""Mines working within the 第三十五条第（三）项 band: measured to the workings (where mining happens), never to the
licence polygon alone — a licence boundary near a line is no mining near it."""

CROSSINGS_SQL = """
SELECT s.id, 'road' AS what, COALESCE(r.name, '') AS name, r.road_class AS detail
FROM risk_seg_m s
JOIN road r ON r.road_class = ANY(CAST(:classes AS text[])) AND r.geom && s.geom AND ST_Intersects(r.geom, s.geom)
WHERE s.assessed
UNION ALL
SELECT s.id, 'pipeline', p.code, ''
FROM risk_seg_m s
JOIN pipeline p ON p.id <> s.pipeline_id AND p.geom && s.geom AND ST_Intersects(p.geom, s.geom)
WHERE s.assessed
"""


@dataclass
class SegmentFacts:
    """What the rules read about one segment."""

    row: dict[str, Any]
    cls: int = 0
    households: float = 0.0
    class_stretch: tuple[float, float] | None = None
    settlement_households: float = 0.0
    settlement_stretch: tuple[float, float] | None = None
    sites: dict[str, float] = field(default_factory=dict)
    flammable_m: float | None = None
    major_road_m: float | None = None
    encroachments: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    mines: list[tuple[str, str, int]] = field(default_factory=list)
    crossings: list[tuple[str, str, str]] = field(default_factory=list)


def pipeline_pressure(row: dict[str, Any]) -> tuple[float | None, str]:
    """p for GB 32167-2015 式(1): the MAOP when known, else the design pressure; and which one ('maop'/'design')."""
    return row.get("pressure_mpa"), str(row.get("pressure_kind") or "design")


def _class_location(conn: Connection, facts: dict[int, SegmentFacts], rules: Rules, *, srid: int) -> None:
    """Class location per segment (GB 50251-2015 §4.2) and, on oil lines, the settlements of Table 1 row c."""
    cl = rules["pipeline"]["class_location"]
    hca = rules["pipeline"]["hca"]
    dx, dy = degree_margin(conn, float(cl["strip_m"]))
    boundary = float(cl["boundary_m"])
    max_reach = conn.execute(text(DWELLING_SQL), {
        "low": int(cl["low_rise_max_floors"]), "upf": float(cl["units_per_floor"]), "tall": int(cl["class4_tall_floors"]),
        "uses": list(cl["dwelling_uses"]), "dx": dx, "dy": dy, "srid": srid, "strip_m": float(cl["strip_m"])}).scalar()
    window_m = float(cl["window_m"])
    rpad = float(max_reach or 0.0) + 1.0
    conn.execute(text(WINDOW_SQL), {"window_m": window_m, "rpad": rpad, "rfwd": min(rpad + 1.0, window_m),
                                    "c4_buildings": int(cl["class4_min_buildings"]),
                                    "c4_share": float(cl["class4_min_share"]), "c3_min": float(cl["class_3_min"]),
                                    "c12_max": float(cl["class_1_2_max"]), "boundary_m": boundary})
    span = conn.execute(text("SELECT max(b - a) FROM risk_window")).scalar()
    if span is not None:
        for sid, cls, hh, a, b in conn.execute(text(CLASS_SQL), {"span_m": float(span)}).all():
            f = facts[int(sid)]
            f.cls, f.households, f.class_stretch = int(cls), float(hh), (float(a), float(b))
    oil_media = [m for m, t in hca["table_for_medium"].items() if t == "oil"]
    for sid, hh, a, b in conn.execute(text(SETTLEMENT_SQL), {
            "eps": float(hca["settlement_eps_m"]), "media": oil_media, "boundary_m": boundary,
            "min_households": float(hca["oil_c"]["min_households"])}).all():
        f = facts[int(sid)]
        f.settlement_households, f.settlement_stretch = float(hh), (float(a), float(b))


def gather_segment_facts(conn: Connection, rules: Rules, *, srid: int, small: bool = False
                         ) -> dict[int, SegmentFacts]:
    """Run every spatial query once over all assessed segments and collect the facts per segment.

    `small`: a run over a few segments (`--changed`), where some look-ups go segment by segment through the indexes.
    """
    pr = rules["pipeline"]
    hca = pr["hca"]
    facts = {int(r["id"]): SegmentFacts(row=r) for r in dict_rows(conn.execute(text(SEGMENTS_SQL)))}
    if not facts:
        return facts
    _class_location(conn, facts, rules, srid=srid)
    coef = float(pr["impact_radius"]["coefficient"])
    radii = [impact_radius_m(diameter_mm=f.row["outside_diameter_mm"], pressure_mpa=f.row["pressure_mpa"],
                             coefficient=coef) for f in facts.values()
             if f.row["outside_diameter_mm"] and f.row["pressure_mpa"]]
    max_m = max(radii + [float(hca["gas_e"]["distance_m"])])
    dx, dy = degree_margin(conn, max_m)
    for sid, use, d in conn.execute(text(SITES_NEAR_SQL if small else SITES_SQL), {
            "srid": srid, "uses": list(hca["special_site_uses"]), "dx": dx, "dy": dy, "max_m": max_m}).all():
        facts[int(sid)].sites[str(use)] = float(d)
    max_m = max(float(hca["gas_f"]["distance_m"]), float(hca["oil_d"]["distance_m"]))
    dx, dy = degree_margin(conn, max_m)
    for sid, d in conn.execute(text(FLAMMABLE_NEAR_SQL if small else FLAMMABLE_SQL), {"srid": srid, "cats": list(hca["flammable_site_categories"]),
                                                     "uses": list(hca["flammable_site_uses"]),
                                                     "kinds": list(hca["flammable_site_facility_kinds"]),
                                                     "dx": dx, "dy": dy, "max_m": max_m}).all():
        facts[int(sid)].flammable_m = float(d)
    max_m = float(hca["oil_d"]["distance_m"])
    dx, dy = degree_margin(conn, max_m)
    for sid, d in conn.execute(text(ROADS_NEAR_SQL), {"srid": srid, "classes": list(hca["major_road_classes"]),
                                                      "dx": dx, "dy": dy, "max_m": max_m}).all():
        facts[int(sid)].major_road_m = float(d)
    enc = pr["encroachment"]
    dx, dy = degree_margin(conn, float(enc["band_m"]))
    for sid, kind, code, d in conn.execute(text(ENCROACHMENTS_SQL), {
            "srid": srid, "statuses": list(enc["open_statuses"]), "dx": dx, "dy": dy, "band_m": float(enc["band_m"])}):
        if int(sid) in facts:
            facts[int(sid)].encroachments.setdefault(str(kind), []).append((str(code), float(d)))
    mn = pr["mine_nearby"]
    dx, dy = degree_margin(conn, float(mn["distance_m"]))
    for sid, name, method, mid in conn.execute(text(MINES_NEAR_SQL), {"srid": srid, "dx": dx, "dy": dy,
                                                                      "distance_m": float(mn["distance_m"])}):
        facts[int(sid)].mines.append((str(name), str(method), int(mid)))
    crossing_classes = list(pr["crossing"]["road_classes"])
    for sid, what, name, detail in conn.execute(text(CROSSINGS_SQL), {"classes": crossing_classes}).all():
        facts[int(sid)].crossings.append((str(what), str(name), str(detail)))
    return facts


def hca_grade(f: SegmentFacts, rules: Rules) -> tuple[int, str] | None:
    """Highest GB 32167 HCA grade (1–3) the segment meets and the item's Chinese text; None when not an HCA."""
    hca = rules["pipeline"]["hca"]
    site_labels = hca["special_site_labels"]
    hits: list[tuple[int, str]] = []
    medium = f.row["medium"]
    d_mm, (p_mpa, _) = f.row["outside_diameter_mm"], pipeline_pressure(f.row)

    def site_within(limit_m: float) -> str | None:
        near = [u for u, dist in f.sites.items() if dist <= limit_m]
        return "、".join(site_labels.get(u, u) for u in sorted(near)) if near else None

    if hca["table_for_medium"].get(medium, "oil") == "gas":
        if f.cls >= 4:
            hits.append((int(hca["gas_a"]["grade"]), hca["gas_a"]["text"]))
        elif f.cls == 3:
            hits.append((int(hca["gas_b"]["grade"]), hca["gas_b"]["text"]))
        radius = None
        if d_mm and p_mpa:
            radius = impact_radius_m(diameter_mm=d_mm, pressure_mpa=p_mpa,
                                     coefficient=float(rules["pipeline"]["impact_radius"]["coefficient"]))
        c, d = hca["gas_c"], hca["gas_d"]
        if radius is not None and d_mm > c["min_diameter_mm"] and p_mpa > c["min_pressure_mpa"]:
            if site := site_within(radius):
                hits.append((int(c["grade"]), c["text"].format(site=site)))
        elif radius is not None and d_mm < d["max_diameter_mm"] and p_mpa < d["max_pressure_mpa"]:
            if site := site_within(radius):
                hits.append((int(d["grade"]), d["text"].format(site=site)))
        elif site := site_within(float(hca["gas_e"]["distance_m"])):
            hits.append((int(hca["gas_e"]["grade"]), hca["gas_e"]["text"].format(site=site)))
        if f.cls < 3 and f.flammable_m is not None and f.flammable_m <= float(hca["gas_f"]["distance_m"]):
            hits.append((int(hca["gas_f"]["grade"]), hca["gas_f"]["text"]))
    else:
        if f.cls >= 4:
            hits.append((int(hca["oil_a"]["grade"]), hca["oil_a"]["text"]))
        if f.households >= hca["oil_b"]["min_households"]:
            hits.append((int(hca["oil_b"]["grade"]), hca["oil_b"]["text"].format(households=fmt_number(f.households, 0))))
        elif f.settlement_households >= hca["oil_c"]["min_households"]:
            hits.append((int(hca["oil_c"]["grade"]),
                         hca["oil_c"]["text"].format(households=fmt_number(f.settlement_households, 0))))
        limit = float(hca["oil_d"]["distance_m"])
        if (f.major_road_m is not None and f.major_road_m <= limit) or \
                (f.flammable_m is not None and f.flammable_m <= limit):
            hits.append((int(hca["oil_d"]["grade"]), hca["oil_d"]["text"]))
    return max(hits, key=lambda h: h[0]) if hits else None


def chainage(m: float) -> str:
    """Pipeline chainage as written on pipeline markers: 5 478 m → K5+478."""
    whole = int(round(m))
    return f"K{whole // 1000}+{whole % 1000:03d}"


def segment_findings(f: SegmentFacts, rules: Rules) -> tuple[list[Finding], dict[str, Any]]:
    """All findings for one segment and its details (radius, class location, HCA)."""
    pr = rules["pipeline"]
    sid = int(f.row["id"])
    out: list[Finding] = []
    details: dict[str, Any] = {"pipeline": f.row["code"], "pipeline_id": f.row["pipeline_id"], "seq": f.row["seq"],
                               "from_m": round(f.row["from_m"], 1), "to_m": round(f.row["to_m"], 1),
                               "class_location": f.cls, "households_2km": round(f.households, 1),
                               "not_scored": list(pr["hca"]["not_scored"])}
    d_mm, (p_mpa, p_kind) = f.row["outside_diameter_mm"], pipeline_pressure(f.row)
    if f.row["medium"] == "gas" and d_mm and p_mpa:
        ir = pr["impact_radius"]
        r_m = impact_radius_m(diameter_mm=d_mm, pressure_mpa=p_mpa, coefficient=float(ir["coefficient"]))
        details["impact_radius_m"] = round(r_m, 2)
        details["pressure_used"] = p_kind
        out.append(Finding(KIND, sid, "pipeline.impact_radius", None, 0.0,
                           ir["text"].format(r_m=fmt_number(r_m, 2), d_mm=fmt_number(d_mm, 0),
                                             p_mpa=fmt_number(p_mpa, 2), pressure_label=ir["pressure_labels"][p_kind],
                                             pressure_note=ir["pressure_notes"][p_kind]),
                           ir["clause"], {"r_m": round(r_m, 2), "pressure": p_kind}))
    cl = pr["class_location"]
    if f.households > 0 and f.class_stretch is not None:
        a, b = max(f.class_stretch[0], 0.0), f.class_stretch[1]
        details["class_stretch_m"] = [round(a, 1), round(b, 1)]
        out.append(Finding(KIND, sid, "pipeline.class_location", None, 0.0,
                           cl["text"].format(label=cl["labels"][str(f.cls)], households=fmt_number(f.households, 0),
                                             from_k=chainage(a), to_k=chainage(b)),
                           cl["clause"], {"class": f.cls, "households": f.households,
                                          "stretch_m": [round(a, 1), round(b, 1)]}))
    hca = pr["hca"]
    grade = hca_grade(f, rules)
    if grade is not None:
        g = str(grade[0])
        details["hca_grade"] = grade[0]
        out.append(Finding(KIND, sid, "pipeline.hca", hca["levels"][g], float(hca["points"][g]),
                           hca["text"].format(grade_label=hca["grade_labels"][g], item=grade[1]), hca["clause"],
                           {"grade": grade[0], "cause": f"pipeline.hca:{g}"}))
    enc = pr["encroachment"]
    for kind, items in sorted(f.encroachments.items()):
        codes = [c for c, _ in items]
        out.append(Finding(KIND, sid, f"pipeline.{kind}", enc["levels"][kind], float(enc["points"]) * len(items),
                           enc["text"].format(kind_label=ENCROACHMENT_KINDS[kind], n=len(items), codes="、".join(codes),
                                              distance_m="、".join(fmt_number(d, 1) for _, d in items)),
                           enc["clause"], {"n": len(items), "codes": codes,
                                           "cause": f"pipeline.{kind}:" + ",".join(sorted(codes))}))
    if f.mines:
        mn = pr["mine_nearby"]
        level = mn["open_pit_level"] if any(m == "open_pit" for _, m, _ in f.mines) else mn["level"]
        ids = ",".join(str(i) for i in sorted({i for *_, i in f.mines}))
        out.append(Finding(KIND, sid, "pipeline.mine_nearby", level, float(mn["points"]) * len(f.mines),
                           mn["text"].format(n=len(f.mines), names="、".join(n for n, _, _ in f.mines)), mn["clause"],
                           {"cause": f"pipeline.mine_nearby:{ids}"}))
    cr = pr["crossing"]
    for what, name, detail in f.crossings:
        label = cr["text_road"].format(road=name or ROAD_CLASSES.get(detail, detail)) if what == "road" \
            else cr["text_pipeline"].format(code=name)
        out.append(Finding(KIND, sid, f"pipeline.crossing_{what}", cr["level"], float(cr["points"]), label, cr["clause"],
                           {"cause": f"pipeline.crossing_{what}:{name or detail}"}))
    return out, details


def segment_causes(findings: list[Finding]) -> list[dict[str, str]]:
    """The causes that colour a segment (one per levelled finding), keyed so that the roll-up can join a run of
    adjacent segments with the same cause into one object; 'base' for a segment no rule colours."""
    causes: dict[str, dict[str, str]] = {}
    for f in findings:
        if f.level is None:
            continue
        key = str(f.value.get("cause", f.code))
        if key not in causes or LEVEL_RANK[f.level] > LEVEL_RANK[causes[key]["level"]]:
            causes[key] = {"key": key, "level": f.level, "label": f.text}
    return sorted(causes.values(), key=lambda c: c["key"]) or [{"key": "base", "level": "blue", "label": ""}]


def assess_segments(conn: Connection, rules: Rules, *, srid: int) -> list[Assessment]:
    """Assess the segments in risk_scope_segment (segmentation must have run)."""
    return evaluate_segments(gather_segments(conn, rules, srid=srid), rules)


def gather_segments(conn: Connection, rules: Rules, *, srid: int, small: bool = False) -> dict[int, SegmentFacts]:
    """The facts of the segments in risk_scope_segment: every spatial query, no rule applied yet (`small`: see
    gather_segment_facts)."""
    conn.execute(text("DROP TABLE IF EXISTS risk_seg_m, risk_dw_pair, risk_dw_cand, risk_dw_near, risk_dwelling, risk_window"))
    conn.execute(text(SEG_METRIC_SQL), {"srid": srid,
                                        "window_m": float(rules["pipeline"]["class_location"]["window_m"])})
    return gather_segment_facts(conn, rules, srid=srid, small=small)


def evaluate_segments(facts: dict[int, SegmentFacts], rules: Rules) -> list[Assessment]:
    """The segment rules over gathered facts, in Python only (geo.risk.engine runs it beside a database write)."""
    out: list[Assessment] = []
    base = rules["pipeline"]["base_level"]
    for sid, f in facts.items():
        findings, details = segment_findings(f, rules)
        details["causes"] = segment_causes(findings)
        out.append(combine_findings(KIND, sid, findings, township_id=f.row["township_id"], details=details,
                                    base_level=base))
    return out
