"""Mine risk: 禁采区/限采区, 越界开采 (area outside the licence, 公顷, and how deep it reaches), pipelines within 200 m
of the workings, open-pit blasting.

Areas and distances in the county's Gauss–Krüger zone (m, m²/10 000 = ha); thresholds from the rules file.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from geo.risk.findings import Assessment, Finding, combine_findings, degree_margin, dict_rows, fmt_number
from geo.risk.rules import Rules

KIND = "mine"

MINES_SQL = """
SELECT m.id, m.name, m.licence_no, m.mine_type, m.method, m.operating, m.enterprise_id,
       COALESCE((SELECT t.id FROM township t WHERE ST_Intersects(t.geom, ST_PointOnSurface(m.licence_boundary))
                 ORDER BY t.id LIMIT 1), m.township_id) AS township_id
FROM mine m JOIN risk_scope_mine s USING (id)
"""

ZONES_SQL = """
SELECT m.id, z.kind, COALESCE(z.name, z.code, '') AS zone,
       ST_Area(ST_Intersection(ST_Transform(COALESCE(m.workings, m.licence_boundary), :srid),
                               ST_Transform(z.geom, :srid))) / 10000.0 AS area_ha
FROM mine m
JOIN risk_scope_mine s USING (id)
JOIN mine_zone z
  ON z.kind IN ('no_mining_zone', 'restricted_zone')
 AND z.geom && COALESCE(m.workings, m.licence_boundary)
 AND ST_Intersects(z.geom, COALESCE(m.workings, m.licence_boundary))
WHERE m.operating
"""

OVER_BOUNDARY_SQL = """
SELECT o.id, ST_Area(o.outside) / 10000.0 AS area_ha,
       (SELECT coalesce(max(ST_Distance(d.geom, o.licence)), 0)
        FROM ST_DumpPoints(ST_Segmentize(o.outside, :step_m)) d) AS depth_m
FROM (
    SELECT m.id, ST_Transform(m.licence_boundary, :srid) AS licence,
           ST_Difference(ST_Transform(m.workings, :srid), ST_Transform(m.licence_boundary, :srid)) AS outside
    FROM mine m JOIN risk_scope_mine s USING (id)
    WHERE m.workings IS NOT NULL AND NOT ST_CoveredBy(m.workings, m.licence_boundary)
    OFFSET 0
) o
"""
"""The workings outside the licence: area (ha) and depth, the farthest its outline (densified every :step_m metres)
reaches from the licence boundary (m)."""

PIPELINES_SQL = """
SELECT m.id, p.code, min(ST_Distance(ST_Transform(m.workings, :srid), ST_Transform(g.geom, :srid))) AS distance_m
FROM mine m
JOIN risk_scope_mine s USING (id)
JOIN pipeline_segment g ON g.geom && ST_Expand(ST_Envelope(m.workings), :dx, :dy)
JOIN pipeline p ON p.id = g.pipeline_id
WHERE m.operating AND m.workings IS NOT NULL
GROUP BY m.id, p.code
HAVING min(ST_Distance(ST_Transform(m.workings, :srid), ST_Transform(g.geom, :srid))) <= :distance_m
ORDER BY m.id, distance_m, p.code
"""
"""Pipelines within the distance of a mine's workings (石油天然气管道保护法 第三十五条第（三）项 is about mining, so
it is measured from where the mine extracts; a licence boundary alone is a right, not mining)."""

BLASTING_SQL = """
WITH pit AS MATERIALIZED (
    SELECT m.id, COALESCE(m.workings, m.licence_boundary) AS g4490,
           ST_Transform(COALESCE(m.workings, m.licence_boundary), :srid) AS g
    FROM mine m JOIN risk_scope_mine s USING (id)
    WHERE m.operating AND m.method = 'open_pit'
)
SELECT pit.id, count(*) AS n, min(ST_Distance(pit.g, ST_Transform(b.geom, :srid))) AS distance_m
FROM pit
JOIN building b
  ON b.use_class = ANY(CAST(:uses AS text[]))
 AND b.geom && ST_Expand(pit.g4490, :dx, :dy)
 AND ST_DWithin(pit.g, ST_Transform(b.geom, :srid), :distance_m)
GROUP BY pit.id
"""
"""Dwellings near open-pit workings. The pits in scope come first, each transformed once (a join order left to the
planner rescanned every pit's buildings once per mine in scope)."""


def mine_site_findings(conn: Connection, rules: Rules, *, srid: int) -> dict[int, list[Finding]]:
    """The spatial mine findings read from mines, zones and buildings alone (zones, 越界, blasting), for the mines in
    risk_scope_mine: no segment of the run's own, so a twin connection can read them (geo.risk.engine)."""
    r = rules["mine"]
    out: dict[int, list[Finding]] = defaultdict(list)
    min_ha = float(r["over_boundary"]["min_area_ha"])
    for mid, kind, zone, area_ha in conn.execute(text(ZONES_SQL), {"srid": srid}).all():
        if area_ha < min_ha:
            continue
        rule = r[kind]
        out[int(mid)].append(Finding(KIND, int(mid), f"mine.{kind}", rule["level"], float(rule["points"]),
                                     rule["text"].format(zone=f"“{zone}”" if zone else "", area_ha=fmt_number(area_ha, 2)),
                                     rule["clause"], {"area_ha": round(float(area_ha), 4)}))
    rule = r["over_boundary"]
    min_depth = float(rule["min_depth_m"])
    for mid, area_ha, depth_m in conn.execute(text(OVER_BOUNDARY_SQL),
                                              {"srid": srid, "step_m": float(rule["depth_step_m"])}).all():
        # both: a thin sliver along the boundary (digitising, datum shift) is neither wide nor deep
        if area_ha >= min_ha and depth_m >= min_depth:
            out[int(mid)].append(Finding(KIND, int(mid), "mine.over_boundary", rule["level"], float(rule["points"]),
                                         rule["text"].format(area_ha=fmt_number(area_ha, 2),
                                                             depth_m=fmt_number(depth_m, 1)), rule["clause"],
                                         {"area_ha": round(float(area_ha), 4), "depth_m": round(float(depth_m), 1)}))
    rule = r["blasting_dwellings"]
    distance_m = float(rule["distance_m"])
    dx, dy = degree_margin(conn, distance_m)
    for mid, n, d in conn.execute(text(BLASTING_SQL), {"srid": srid, "dx": dx, "dy": dy, "distance_m": distance_m,
                                                       "uses": list(rule["dwelling_uses"])}).all():
        out[int(mid)].append(Finding(KIND, int(mid), "mine.blasting_dwellings", rule["level"], float(rule["points"]),
                                     rule["text"].format(distance_m=fmt_number(d, 0), n=int(n),
                                                         limit_m=fmt_number(distance_m, 0)),
                                     rule["clause"], {"n": int(n), "distance_m": round(float(d), 1)}))
    return out


def mine_pipeline_findings(conn: Connection, rules: Rules, *, srid: int) -> dict[int, list[Finding]]:
    """Pipelines within the distance of the workings of the mines in risk_scope_mine, by the run's segments."""
    rule = rules["mine"]["pipeline_nearby"]
    out: dict[int, list[Finding]] = defaultdict(list)
    distance_m = float(rule["distance_m"])
    dx, dy = degree_margin(conn, distance_m)
    seen: set[int] = set()
    for mid, code, d in conn.execute(text(PIPELINES_SQL),
                                     {"srid": srid, "dx": dx, "dy": dy, "distance_m": distance_m}).all():
        if int(mid) in seen:
            continue
        seen.add(int(mid))
        out[int(mid)].append(Finding(KIND, int(mid), "mine.pipeline_nearby", rule["level"], float(rule["points"]),
                                     rule["text"].format(code=code, distance_m=fmt_number(d, 0)), rule["clause"],
                                     {"pipeline": code, "distance_m": round(float(d), 1)}))
    return out


@dataclass
class MineSites:
    """What mine_sites reads: the mines in scope and their site findings."""

    rows: list[dict[str, Any]]
    findings: dict[int, list[Finding]]


def mine_sites(conn: Connection, rules: Rules, *, srid: int) -> MineSites:
    """The mines in risk_scope_mine and their mine_site_findings (no segment of the run's own read)."""
    return MineSites(rows=dict_rows(conn.execute(text(MINES_SQL))),
                     findings=mine_site_findings(conn, rules, srid=srid))


def assess_mines(conn: Connection, rules: Rules, *, srid: int) -> tuple[list[Assessment], dict[int, list[Finding]]]:
    """Assess mines in scope; also return, per owning enterprise, the mine findings that raise its level."""
    return evaluate_mines(mine_sites(conn, rules, srid=srid), mine_pipeline_findings(conn, rules, srid=srid), rules)


def finding_order(f: Finding) -> int:
    """A mine's findings in the order of its rules: zones and 越界, then pipelines, then blasting. Its owner's reasons
    all have one code (enterprise.mine), so this order is the order they are listed in."""
    return {"mine.pipeline_nearby": 1, "mine.blasting_dwellings": 2}.get(f.code, 0)


def evaluate_mines(sites: MineSites, pipelines: dict[int, list[Finding]], rules: Rules
                   ) -> tuple[list[Assessment], dict[int, list[Finding]]]:
    """The mine rules over what was read (Python only): assessments, and per owning enterprise the mine findings
    that raise its level."""
    r = rules["mine"]
    out: list[Assessment] = []
    for_enterprises: dict[int, list[Finding]] = defaultdict(list)
    for row in sites.rows:
        mid = int(row["id"])
        findings: list[Finding] = []
        if row["operating"]:
            findings.append(Finding(KIND, mid, "mine.base", r["base_level_operating"], float(r["base_points"]),
                                    r["base_text"], r["base_clause"]))
        violations = sorted([*sites.findings.get(mid, []), *pipelines.get(mid, [])], key=finding_order)
        findings.extend(violations)
        details: dict[str, Any] = {"name": row["name"], "licence_no": row["licence_no"],
                                   "not_scored": list(r["not_scored"]["items"])}
        out.append(combine_findings(KIND, mid, findings, township_id=row["township_id"], details=details))
        if row["enterprise_id"] is not None:
            for f in violations:
                f.value.setdefault("mine_name", row["name"])
                for_enterprises[int(row["enterprise_id"])].append(f)
    return out, for_enterprises
