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
from geo.risk.findings import Assessment, Finding, combine_findings, degree_margin, fmt_number
from geo.risk.rules import Rules

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
ANALYZE risk_seg_m;
"""

# Dwellings (each at its footprint centroid) within the strip, located along their pipeline by the measure m
# from the pipeline start (metres).
DWELLING_SQL = """
CREATE TEMP TABLE risk_dwelling ON COMMIT DROP AS
WITH near AS (
    SELECT DISTINCT b.id FROM risk_seg_m s
    JOIN building b ON b.geom && ST_Expand(s.geom, :dx, :dy) AND b.use_class = ANY(CAST(:uses AS text[]))
    WHERE s.near
), cand AS MATERIALIZED (
    -- by key (an array, so the primary key index serves a few hundred ids as well as the county's)
    SELECT b.id, b.floors, ST_Transform(ST_Centroid(b.geom), :srid) AS c FROM building b
    WHERE b.id = ANY(ARRAY(SELECT id FROM near))
)
SELECT DISTINCT ON (c.id, s.pipeline_id)
       s.pipeline_id, c.id AS building_id,
       s.from_m + ST_LineLocatePoint(s.g, c.c) * (s.to_m - s.from_m) AS m,
       CASE WHEN c.floors <= :low THEN 1.0 ELSE c.floors * CAST(:hpf AS double precision) END AS households,
       (c.floors >= :tall) AS tall
FROM cand c
JOIN risk_seg_m s ON ST_DWithin(c.c, s.g, :strip_m)
ORDER BY c.id, s.pipeline_id, ST_Distance(c.c, s.g), s.seq;
CREATE TEMP TABLE risk_window ON COMMIT DROP AS
WITH w AS (
    SELECT pipeline_id, m, 'f' AS dir,
           sum(households) OVER fwd AS households, count(*) OVER fwd AS buildings,
           count(*) FILTER (WHERE tall) OVER fwd AS tall
    FROM risk_dwelling
    WINDOW fwd AS (PARTITION BY pipeline_id ORDER BY m
                   RANGE BETWEEN CURRENT ROW AND CAST(:window_m AS double precision) FOLLOWING)
    UNION ALL
    SELECT pipeline_id, m, 'b',
           sum(households) OVER back, count(*) OVER back, count(*) FILTER (WHERE tall) OVER back
    FROM risk_dwelling
    WINDOW back AS (PARTITION BY pipeline_id ORDER BY m
                    RANGE BETWEEN CAST(:window_m AS double precision) PRECEDING AND CURRENT ROW)
)
SELECT pipeline_id, m, dir, households,
       CASE WHEN buildings >= :c4_buildings AND tall >= CAST(:c4_share AS double precision) * buildings THEN 4
            WHEN households >= :c3_min THEN 3
            WHEN households > :c12_max THEN 2
            WHEN households > 0 THEN 1
            ELSE 0 END AS cls
FROM w;
CREATE INDEX ON risk_window (pipeline_id, dir, m);
ANALYZE risk_window;
"""

# Per assessed segment, every 2 km window holding its midpoint: windows starting at a dwelling in
# [mid − W, mid] or ending at one in [mid, mid + W] (the best window can always be slid onto a dwelling).
CLASS_SQL = """
SELECT s.id, max(x.cls), max(x.households)
FROM risk_seg_m s
CROSS JOIN LATERAL (
    SELECT w.cls, w.households FROM risk_window w
    WHERE w.pipeline_id = s.pipeline_id AND w.dir = 'f'
      AND w.m BETWEEN (s.from_m + s.to_m) / 2 - :window_m AND (s.from_m + s.to_m) / 2
    UNION ALL
    SELECT w.cls, w.households FROM risk_window w
    WHERE w.pipeline_id = s.pipeline_id AND w.dir = 'b'
      AND w.m BETWEEN (s.from_m + s.to_m) / 2 AND (s.from_m + s.to_m) / 2 + :window_m
) x
WHERE s.assessed
GROUP BY s.id
"""

SEGMENTS_SQL = """
SELECT s.id, s.pipeline_id, s.seq, s.from_m, s.to_m, s.township_id, p.code, p.name, p.medium,
       p.outside_diameter_mm, p.design_pressure_mpa
FROM risk_seg_m s JOIN pipeline p ON p.id = s.pipeline_id
WHERE s.assessed
"""

SITES_SQL = """
SELECT s.id, b.use_class, min(ST_Distance(ST_Transform(b.geom, :srid), s.g))
FROM risk_seg_m s
JOIN building b ON b.use_class = ANY(CAST(:uses AS text[])) AND b.geom && ST_Expand(s.geom, :dx, :dy)
 AND ST_DWithin(ST_Transform(b.geom, :srid), s.g, :max_m)
WHERE s.assessed
GROUP BY s.id, b.use_class
"""

FLAMMABLE_SQL = """
SELECT s.id, min(d.distance_m) FROM risk_seg_m s
CROSS JOIN LATERAL (
    SELECT ST_Distance(ST_Transform(e.geom, :srid), s.g) AS distance_m FROM enterprise e
    WHERE e.category = ANY(CAST(:cats AS text[])) AND e.geom && ST_Expand(s.geom, :dx, :dy)
    UNION ALL
    SELECT ST_Distance(ST_Transform(f.geom, :srid), s.g) FROM pipeline_facility f
    WHERE f.kind = ANY(CAST(:kinds AS text[])) AND f.pipeline_id <> s.pipeline_id AND f.geom && ST_Expand(s.geom, :dx, :dy)
) d
WHERE s.assessed AND d.distance_m <= :max_m
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

ENCROACHMENTS_SQL = """
SELECT s.id, en.kind, count(*)
FROM risk_seg_m s
JOIN encroachment en ON en.status = ANY(CAST(:statuses AS text[])) AND en.geom && ST_Expand(s.geom, :dx, :dy)
 AND ST_DWithin(ST_Transform(en.geom, :srid), s.g, :band_m)
WHERE s.assessed
GROUP BY s.id, en.kind
"""

MINES_NEAR_SQL = """
SELECT s.id, m.name, m.method
FROM mine m
JOIN risk_seg_m s
  ON s.geom && ST_Expand(ST_Envelope(COALESCE(ST_Collect(m.licence_boundary, m.workings), m.licence_boundary)),
                         :dx, :dy)
WHERE s.assessed AND m.operating
  AND LEAST(ST_Distance(ST_Transform(m.licence_boundary, :srid), s.g),
            ST_Distance(ST_Transform(m.workings, :srid), s.g)) <= :distance_m
ORDER BY s.id, m.name, m.id
"""

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
    sites: dict[str, float] = field(default_factory=dict)
    flammable_m: float | None = None
    major_road_m: float | None = None
    encroachments: dict[str, int] = field(default_factory=dict)
    mines: list[tuple[str, str]] = field(default_factory=list)
    crossings: list[tuple[str, str, str]] = field(default_factory=list)


def gather_segment_facts(conn: Connection, rules: Rules, *, srid: int) -> dict[int, SegmentFacts]:
    """Run every spatial query once over all assessed segments and collect the facts per segment."""
    pr = rules["pipeline"]
    cl = pr["class_location"]
    hca = pr["hca"]
    facts = {int(r.id): SegmentFacts(row=dict(r._mapping)) for r in conn.execute(text(SEGMENTS_SQL))}
    if not facts:
        return facts
    dx, dy = degree_margin(conn, float(cl["strip_m"]))
    conn.execute(text(DWELLING_SQL), {"low": int(cl["low_rise_max_floors"]), "hpf": float(cl["households_per_floor"]),
                                      "tall": int(cl["class4_tall_floors"]), "uses": list(cl["dwelling_uses"]),
                                      "dx": dx, "dy": dy, "srid": srid, "strip_m": float(cl["strip_m"]),
                                      "window_m": float(cl["window_m"]), "c4_buildings": int(cl["class4_min_buildings"]),
                                      "c4_share": float(cl["class4_min_share"]), "c3_min": float(cl["class_3_min"]),
                                      "c12_max": float(cl["class_1_2_max"])})
    for sid, cls, hh in conn.execute(text(CLASS_SQL), {"window_m": float(cl["window_m"])}):
        facts[int(sid)].cls = int(cls)
        facts[int(sid)].households = float(hh)
    coef = float(pr["impact_radius"]["coefficient"])
    radii = [impact_radius_m(diameter_mm=f.row["outside_diameter_mm"], pressure_mpa=f.row["design_pressure_mpa"],
                             coefficient=coef) for f in facts.values()
             if f.row["outside_diameter_mm"] and f.row["design_pressure_mpa"]]
    max_m = max(radii + [float(hca["gas_e"]["distance_m"])])
    dx, dy = degree_margin(conn, max_m)
    for sid, use, d in conn.execute(text(SITES_SQL), {"srid": srid, "uses": list(hca["special_site_uses"]),
                                                      "dx": dx, "dy": dy, "max_m": max_m}):
        facts[int(sid)].sites[str(use)] = float(d)
    max_m = float(hca["gas_f"]["distance_m"])
    dx, dy = degree_margin(conn, max_m)
    for sid, d in conn.execute(text(FLAMMABLE_SQL), {"srid": srid, "cats": list(hca["flammable_site_categories"]),
                                                     "kinds": list(hca["flammable_site_facility_kinds"]),
                                                     "dx": dx, "dy": dy, "max_m": max_m}):
        facts[int(sid)].flammable_m = float(d)
    max_m = float(hca["oil_d"]["distance_m"])
    dx, dy = degree_margin(conn, max_m)
    for sid, d in conn.execute(text(ROADS_NEAR_SQL), {"srid": srid, "classes": list(hca["major_road_classes"]),
                                                      "dx": dx, "dy": dy, "max_m": max_m}):
        facts[int(sid)].major_road_m = float(d)
    enc = pr["encroachment"]
    dx, dy = degree_margin(conn, float(enc["band_m"]))
    for sid, kind, n in conn.execute(text(ENCROACHMENTS_SQL), {"srid": srid, "statuses": list(enc["open_statuses"]),
                                                               "dx": dx, "dy": dy, "band_m": float(enc["band_m"])}):
        facts[int(sid)].encroachments[str(kind)] = int(n)
    mn = pr["mine_nearby"]
    dx, dy = degree_margin(conn, float(mn["distance_m"]))
    for sid, name, method in conn.execute(text(MINES_NEAR_SQL), {"srid": srid, "dx": dx, "dy": dy,
                                                                 "distance_m": float(mn["distance_m"])}):
        facts[int(sid)].mines.append((str(name), str(method)))
    for sid, what, name, detail in conn.execute(text(CROSSINGS_SQL), {"classes": list(pr["crossing"]["road_classes"])}):
        facts[int(sid)].crossings.append((str(what), str(name), str(detail)))
    return facts


def hca_grade(f: SegmentFacts, rules: Rules) -> tuple[int, str] | None:
    """Highest GB 32167 HCA grade (1–3) the segment meets and the item's Chinese text; None when not an HCA."""
    hca = rules["pipeline"]["hca"]
    site_labels = hca["special_site_labels"]
    hits: list[tuple[int, str]] = []
    medium = f.row["medium"]
    d_mm, p_mpa = f.row["outside_diameter_mm"], f.row["design_pressure_mpa"]

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
        elif f.households >= hca["oil_c"]["min_households"]:
            hits.append((int(hca["oil_c"]["grade"]), hca["oil_c"]["text"].format(households=fmt_number(f.households, 0))))
        limit = float(hca["oil_d"]["distance_m"])
        if (f.major_road_m is not None and f.major_road_m <= limit) or \
                (f.flammable_m is not None and f.flammable_m <= limit):
            hits.append((int(hca["oil_d"]["grade"]), hca["oil_d"]["text"]))
    return max(hits, key=lambda h: h[0]) if hits else None


def segment_findings(f: SegmentFacts, rules: Rules) -> tuple[list[Finding], dict[str, Any]]:
    """All findings for one segment and its details (radius, class location, HCA)."""
    pr = rules["pipeline"]
    sid = int(f.row["id"])
    out: list[Finding] = []
    details: dict[str, Any] = {"pipeline": f.row["code"], "seq": f.row["seq"], "from_m": round(f.row["from_m"], 1),
                               "to_m": round(f.row["to_m"], 1), "class_location": f.cls,
                               "households_2km": round(f.households, 1), "not_scored": list(pr["hca"]["not_scored"])}
    d_mm, p_mpa = f.row["outside_diameter_mm"], f.row["design_pressure_mpa"]
    if f.row["medium"] == "gas" and d_mm and p_mpa:
        ir = pr["impact_radius"]
        r_m = impact_radius_m(diameter_mm=d_mm, pressure_mpa=p_mpa, coefficient=float(ir["coefficient"]))
        details["impact_radius_m"] = round(r_m, 1)
        out.append(Finding(KIND, sid, "pipeline.impact_radius", None, 0.0,
                           ir["text"].format(r_m=fmt_number(r_m), d_mm=fmt_number(d_mm, 0), p_mpa=fmt_number(p_mpa, 2)),
                           ir["clause"], {"r_m": round(r_m, 1)}))
    cl = pr["class_location"]
    if f.households > 0:
        out.append(Finding(KIND, sid, "pipeline.class_location", None, 0.0,
                           cl["text"].format(label=cl["labels"][str(f.cls)], households=fmt_number(f.households, 0)),
                           cl["clause"], {"class": f.cls, "households": f.households}))
    hca = pr["hca"]
    grade = hca_grade(f, rules)
    if grade is not None:
        g = str(grade[0])
        details["hca_grade"] = grade[0]
        out.append(Finding(KIND, sid, "pipeline.hca", hca["levels"][g], float(hca["points"][g]),
                           hca["text"].format(grade_label=hca["grade_labels"][g], item=grade[1]), hca["clause"],
                           {"grade": grade[0]}))
    enc = pr["encroachment"]
    for kind, n in sorted(f.encroachments.items()):
        out.append(Finding(KIND, sid, f"pipeline.{kind}", enc["levels"][kind], float(enc["points"]) * n,
                           enc["text"].format(kind_label=ENCROACHMENT_KINDS[kind], n=n), enc["clause"], {"n": n}))
    if f.mines:
        mn = pr["mine_nearby"]
        level = mn["open_pit_level"] if any(m == "open_pit" for _, m in f.mines) else mn["level"]
        out.append(Finding(KIND, sid, "pipeline.mine_nearby", level, float(mn["points"]) * len(f.mines),
                           mn["text"].format(n=len(f.mines), names="、".join(n for n, _ in f.mines)), mn["clause"]))
    cr = pr["crossing"]
    for what, name, detail in f.crossings:
        label = cr["text_road"].format(road=name or ROAD_CLASSES.get(detail, detail)) if what == "road" \
            else cr["text_pipeline"].format(code=name)
        out.append(Finding(KIND, sid, f"pipeline.crossing_{what}", cr["level"], float(cr["points"]), label, cr["clause"]))
    return out, details


def assess_segments(conn: Connection, rules: Rules, *, srid: int) -> list[Assessment]:
    """Assess the segments in risk_scope_segment (segmentation must have run)."""
    conn.execute(text("DROP TABLE IF EXISTS risk_seg_m; DROP TABLE IF EXISTS risk_dwelling; "
                      "DROP TABLE IF EXISTS risk_window"))
    conn.execute(text(SEG_METRIC_SQL), {"srid": srid,
                                        "window_m": float(rules["pipeline"]["class_location"]["window_m"])})
    facts = gather_segment_facts(conn, rules, srid=srid)
    out: list[Assessment] = []
    base = rules["pipeline"]["base_level"]
    for sid, f in facts.items():
        findings, details = segment_findings(f, rules)
        out.append(combine_findings(KIND, sid, findings, township_id=f.row["township_id"], details=details,
                                    base_level=base))
    return out

