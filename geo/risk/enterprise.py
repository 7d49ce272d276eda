"""Enterprise risk: GB 18218-2018 major hazard sources, the hazchem diagnostic score, supervision class, dynamics.

Every threshold comes from the rules file (geo/risk/rules.toml); distances are metres in the county's
Gauss–Krüger zone. Spatial parts are one SQL statement each over all enterprises in scope.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, text

from geo.codes import INDUSTRY_CATEGORIES  # light: the CLI need not load the ORM models
from geo.risk.findings import Assessment, Finding, combine_findings, degree_margin, dict_rows, fmt_number
from geo.risk.rules import LEVEL_RANK, Rules, highest

KIND = "enterprise"


# --- GB 18218-2018 ---------------------------------------------------------------------------------------

CONDITION_FIELDS = {"concentration_pct": "含量", "combustible_pct": "可燃物含量"}
CONDITION_OPS = {"above": ">", "at_least": "≥", "at_most": "≤", "below": "<"}


@dataclass
class LineResult:
    """How one inventory line was identified: counted with (Q, β), not counted (no Table 2 class), or unidentified."""

    line: dict[str, Any]
    status: str                     # "counted" | "not_counted" | "unidentified"
    q_t: float = 0.0
    beta: float = 0.0
    source: str = ""
    note: str = ""

    @property
    def label(self) -> str:
        """The line as a person typed it: name, concentration and quantity."""
        line = self.line
        extra = [f"{CONDITION_FIELDS[k]} {fmt_number(line[k], 2)}%" for k in CONDITION_FIELDS if line.get(k) is not None]
        name = str(line.get("substance") or "")
        if line.get("cas"):
            extra.insert(0, f"CAS {line['cas']}")
        return f"{name}（{'，'.join(extra)}）{fmt_number(float(line['max_quantity_t']), 3)} t" if extra else \
            f"{name} {fmt_number(float(line['max_quantity_t']), 3)} t"


@dataclass
class UnitResult:
    """One 生产/储存单元: S = Σq/Q, βS = Σβq/Q, R = α·βS and the grade when S ≥ 1 (GB 18218-2018 §4.2–4.3)."""

    unit: str
    s: float = 0.0
    beta_s: float = 0.0
    r: float = 0.0
    grade: int | None = None
    lines: list[LineResult] = field(default_factory=list)

    @property
    def unknown(self) -> list[str]:
        return [x.label for x in self.lines if x.status == "unidentified"]


_NAME_TABLE = str.maketrans({"（": "(", "）": ")", "，": ",", "％": "%", "＞": ">", "＜": "<", "≤": "<=", "≥": ">=",
                             "［": "[", "］": "]", "　": ""})


@lru_cache(maxsize=8192)
def normalise_name(name: str | None) -> str:
    """Substance name compared without spaces and with full-width brackets/commas/percent as ASCII."""
    return "".join((name or "").translate(_NAME_TABLE).split())


def condition_state(condition: dict[str, Any] | None, line: dict[str, Any]) -> str:
    """'ok' when the line meets a Table 1 concentration condition (or there is none), 'fail', or 'unknown' (empty)."""
    if not condition:
        return "ok"
    value = line.get(condition["field"])
    if value is None:
        return "unknown"
    v = float(value)
    checks = {"above": v > condition.get("above", 0), "at_least": v >= condition.get("at_least", 0),
              "at_most": v <= condition.get("at_most", 0), "below": v < condition.get("below", 0)}
    return "ok" if all(checks[op] for op in CONDITION_OPS if op in condition) else "fail"


def condition_text(condition: dict[str, Any]) -> str:
    """'含量 > 90%' for a condition of the rules file."""
    return "、".join(f"{CONDITION_FIELDS[condition['field']]} {sign} {fmt_number(condition[op], 2)}%"
                    for op, sign in CONDITION_OPS.items() if op in condition)


def _names(entry: dict[str, Any]) -> frozenset[str]:
    return _name_set(entry["name"], tuple(entry.get("aliases", ())))


@lru_cache(maxsize=4096)
def _name_set(name: str, aliases: tuple[str, ...]) -> frozenset[str]:
    """Normalised names of a table entry (its name and aliases), computed once per distinct entry."""
    return frozenset(normalise_name(n) for n in (name, *aliases))


def find_entry(entries: list[dict[str, Any]], line: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """The entry a line names (by name, the name carrying the condition when the field is empty), else by CAS;
    with a problem text when the CAS alone cannot tell which entry (shared CAS, condition field empty)."""
    name = normalise_name(line.get("substance"))
    for entry in entries:
        if name in _names(entry) and condition_state(entry.get("condition"), line) != "fail":
            return entry, ""
    cas = (line.get("cas") or "").strip()
    if not cas:
        return None, ""
    hits = [e for e in entries if cas in e.get("cas", [])]
    usable = [e for e in hits if e.get("cas_alone", True)]
    ok = [e for e in usable if condition_state(e.get("condition"), line) == "ok"]
    if len(ok) == 1:
        return ok[0], ""
    if len(ok) > 1 or (hits and not usable):
        return None, f"CAS {cas} 对应表1多项，须按表1名称（含条件）填写"
    unknown = [e for e in usable if condition_state(e.get("condition"), line) == "unknown"]
    if unknown:
        which = "、".join(f"第{e.get('no', '?')}项（{condition_text(e['condition'])}）" for e in unknown)
        fields = "、".join(sorted({CONDITION_FIELDS[e["condition"]["field"]] for e in unknown}))
        return None, f"CAS {cas} 对应表1{which}，请填写{fields}"
    return None, ""


def identify_line(rules: Rules, line: dict[str, Any]) -> LineResult:
    """Table 1 by name/CAS and concentration; else a listed other substance; else the line's Table 2 class;
    else unidentified (GB 18218-2018 §4.2, 表1 before 表2)."""
    gb = rules["gb18218"]
    entry, problem = find_entry(gb["substances"], line)
    if entry is not None:
        return LineResult(line, "counted", float(entry["q_t"]), float(entry["beta"]),
                          f"表1 第{entry.get('no', '?')}项 {entry['name']}（Q={fmt_number(entry['q_t'], 2)} t，"
                          f"β={fmt_number(entry['beta'], 2)}：{entry.get('beta_basis', '')}）")
    other, _ = find_entry(gb.get("other_substances", []), line)
    declared = (line.get("hazard_class") or "").strip()
    symbol = str(other["hazard_class"]) if other is not None else declared
    basis = other["basis"] if other is not None else f"填报的表2类别 {declared}"
    if symbol == "无":
        return LineResult(line, "not_counted", source=basis if other is not None else "填报为不属于表2所列类别")
    if symbol in gb["classes"]:
        c = gb["classes"][symbol]
        return LineResult(line, "counted", float(c["q_t"]), float(c["beta"]),
                          f"{basis}（表2 Q={fmt_number(c['q_t'], 2)} t，表4 β={fmt_number(c['beta'], 2)}）")
    why = problem or ("不在表1，也未填写表2危险性类别" if not declared else f"表2类别“{declared}”无效")
    return LineResult(line, "unidentified", note=why)


def lookup_substance(rules: Rules, *, substance: str, cas: str | None, hazard_class: str | None,
                     concentration_pct: float | None = None, combustible_pct: float | None = None
                     ) -> tuple[float, float] | None:
    """(Q in t, β) for an inventory line, or None when it is not counted or cannot be identified."""
    res = identify_line(rules, {"substance": substance, "cas": cas, "hazard_class": hazard_class, "max_quantity_t": 0,
                                "concentration_pct": concentration_pct, "combustible_pct": combustible_pct})
    return (res.q_t, res.beta) if res.status == "counted" else None


def alpha_for(persons: float, rules: Rules) -> float:
    """α from the persons within 500 m outside the plant boundary (GB 18218-2018 Table 5)."""
    for band in rules["gb18218"]["alpha"]:
        if persons >= band["min_persons"]:
            return float(band["alpha"])
    return float(rules["gb18218"]["alpha"][-1]["alpha"])


def grade_for(r: float, rules: Rules) -> int:
    """Major hazard source grade 1–4 from R (GB 18218-2018 Table 6)."""
    for band in rules["gb18218"]["grades"]:
        if r >= band["min_r"]:
            return int(band["grade"])
    return int(rules["gb18218"]["grades"][-1]["grade"])


def identify_major_hazards(lines: list[dict[str, Any]], *, persons: float, rules: Rules) -> list[UnitResult]:
    """Per unit: S = Σq/Q ≥ 1 identifies a major hazard source; R = α·Σβq/Q grades it (GB 18218-2018 §4.2–4.3)."""
    alpha = alpha_for(persons, rules)
    units: dict[str, UnitResult] = {}
    for line in lines:
        unit = line.get("unit_name") or "全厂"
        res = units.setdefault(unit, UnitResult(unit=unit))
        found = identify_line(rules, line)
        res.lines.append(found)
        if found.status != "counted":
            continue
        ratio = float(line["max_quantity_t"]) / found.q_t
        res.s += ratio
        res.beta_s += found.beta * ratio
    for res in units.values():
        res.r = alpha * res.beta_s
        res.grade = grade_for(res.r, rules) if res.s >= 1.0 - 1e-9 else None
    return list(units.values())


# --- accidents ---------------------------------------------------------------------------------------------

def accident_grade(*, deaths: int, serious_injuries: int, loss_10k_yuan: float, rules: Rules) -> str:
    """Accident grade code by 生产安全事故报告和调查处理条例 Art 3: the highest grade any threshold reaches."""
    grades = rules["accident_grades"]
    result = "general"
    for code in grades["order"][1:]:
        t = grades[code]
        if deaths >= t["deaths"] or serious_injuries >= t["serious_injuries"] or loss_10k_yuan >= t["loss_10k_yuan"]:
            result = code
    return result


def grade_rank(code: str, rules: Rules) -> int:
    return list(rules["accident_grades"]["order"]).index(code)


# --- SQL over all enterprises in scope ------------------------------------------------------------------

ENTERPRISE_FACT_COLUMNS = (
    "site_radius_m", "registered_major_hazard_grade", "key_process_count", "key_processes", "key_chemical_count",
    "explosive_count", "toxic_inhalation_count", "external_distance_ok", "reaction_risk_unassessed",
    "designed_by_class_a", "obsolete_equipment_count", "automation_missing", "gas_detection_missing_count",
    "uncertified_managers", "registered_safety_engineer", "chemistry_degree_leaders", "own_fire_team",
    "untrialled_new_process", "undesigned_unit", "special_ops_uncertified")

ENTERPRISES_SQL = f"""
SELECT e.id, e.name, e.category, e.major_hazard_source, e.key_process, e.key_chemical,
       e.standardisation_grade, e.in_chemical_park, e.site_boundary IS NOT NULL AS has_site_boundary,
       {", ".join("e." + c for c in ENTERPRISE_FACT_COLUMNS)},
       COALESCE((SELECT t.id FROM township t WHERE ST_Intersects(t.geom, e.geom) ORDER BY t.id LIMIT 1),
                e.township_id) AS township_id
FROM enterprise e JOIN risk_scope_enterprise s USING (id)
"""

INVENTORY_SQL = """
SELECT c.enterprise_id, c.unit_name, c.substance, c.cas, c.max_quantity_t, c.hazard_class, c.concentration_pct,
       c.combustible_pct
FROM chemical_inventory c JOIN risk_scope_enterprise s ON s.id = c.enterprise_id
ORDER BY c.enterprise_id, c.id
"""

# The plant boundary (厂区边界): the stored site polygon (`poly`, metres), else the point `p` with a radius `r` (the
# enterprise's own, or the rules' default, 本地规定). `pad` (m) widens the EPSG:4490 prefilter box for the radius.
SITE_CTE = """
site AS (
    SELECT e.id, e.geom, ST_Transform(e.geom, :srid) AS p,
           CASE WHEN e.site_boundary IS NOT NULL THEN ST_Transform(e.site_boundary, :srid) END AS poly,
           COALESCE(e.site_radius_m, :default_radius_m) AS r,
           COALESCE(e.site_boundary, e.geom) AS g4490,
           CASE WHEN e.site_boundary IS NULL THEN COALESCE(e.site_radius_m, :default_radius_m) ELSE 0 END AS pad
    FROM enterprise e JOIN risk_scope_enterprise s USING (id)
    WHERE {where}
)"""

# Persons outside the plant within 500 m of its boundary (GB 18218-2018 表5), for enterprises holding an inventory.
# Without a site polygon the boundary is the point's radius r: buildings within r + 500 m of the point, less those whose
# bounding-box centre lies within r of it (plain arithmetic in degrees scaled to metres — no second geometry operation
# per building, so the query costs what the point-only count did, over the wider ring). With a polygon: within 500 m
# of it and its bounding-box centre not covered by it.
POPULATION_SQL = """
SELECT e.id,
       COALESCE(sum(h.floors * COALESCE(CAST(CAST(:ppf AS jsonb) ->> h.use_class AS double precision), 0)), 0)
FROM enterprise e
JOIN risk_scope_enterprise s USING (id)
CROSS JOIN LATERAL (SELECT COALESCE(e.site_radius_m, :default_radius_m) AS r) k
LEFT JOIN LATERAL (
    SELECT b.floors, b.use_class
    FROM (SELECT b.floors, b.use_class, CAST(b.geom AS box3d) AS bb  -- the box once, not once per ST_XMin & co.
          FROM building b
          WHERE e.site_boundary IS NULL
            AND b.geom && ST_Expand(e.geom, (k.r + :radius_m) * :dx_per_m, (k.r + :radius_m) * :dy_per_m)
            AND ST_DWithin(ST_Transform(b.geom, :srid), ST_Transform(e.geom, :srid), k.r + :radius_m)
          OFFSET 0) b
    WHERE (((ST_XMin(b.bb) + ST_XMax(b.bb)) / 2 - ST_X(e.geom)) * :m_per_dx) ^ 2
        + (((ST_YMin(b.bb) + ST_YMax(b.bb)) / 2 - ST_Y(e.geom)) * :m_per_dy) ^ 2 > k.r ^ 2
    UNION ALL
    SELECT b.floors, b.use_class
    FROM building b
    WHERE e.site_boundary IS NOT NULL
      AND b.geom && ST_Expand(e.site_boundary, :radius_m * :dx_per_m, :radius_m * :dy_per_m)
      AND ST_DWithin(ST_Transform(b.geom, :srid), ST_Transform(e.site_boundary, :srid), :radius_m)
      AND NOT ST_Covers(e.site_boundary, ST_SetSRID(ST_MakePoint((ST_XMin(b.geom) + ST_XMax(b.geom)) / 2,
                                                                 (ST_YMin(b.geom) + ST_YMax(b.geom)) / 2), 4490))
) h ON true
WHERE EXISTS (SELECT 1 FROM chemical_inventory c WHERE c.enterprise_id = e.id)
GROUP BY e.id
"""


def site_params(conn: Connection, rules: Rules, *, srid: int) -> dict[str, Any]:
    """SQL parameters of the plant boundary: SRID, default radius (本地规定), degrees per metre for prefilter boxes
    (with their 5 % margin) and metres per degree at the county's mean latitude (for the inside-the-radius test)."""
    dx, dy = degree_margin(conn, 1000.0)
    lat = conn.execute(text("SELECT (ST_YMin(geom) + ST_YMax(geom)) / 2 FROM county ORDER BY code LIMIT 1")).scalar()
    lat = float(lat) if lat is not None else 35.0
    return {"srid": srid, "default_radius_m": float(rules["enterprise"]["site"]["default_radius_m"]),
            "dx_per_m": dx / 1000.0, "dy_per_m": dy / 1000.0,
            "m_per_dx": 111_320.0 * math.cos(math.radians(lat)), "m_per_dy": 110_574.0}


def count_population(conn: Connection, rules: Rules, *, srid: int) -> dict[int, float]:
    """Persons in buildings outside the plant boundary and within 500 m of it (GB 18218-2018 表5), for enterprises
    holding an inventory: Σ floors × persons/floor."""
    radius_m = float(rules["gb18218"]["population_radius_m"])
    rows = conn.execute(text(POPULATION_SQL), {"ppf": json.dumps(rules["population"]["persons_per_floor"]),
                                               "radius_m": radius_m, **site_params(conn, rules, srid=srid)})
    return {int(i): float(p) for i, p in rows}


# Each pair's distance once (ST_Distance(a, b) <= r is ST_DWithin(a, b, r); OFFSET 0 keeps d from being recomputed).
TARGETS_SQL = """
SELECT id, use_class, min(d) AS distance_m
FROM (SELECT e.id, b.use_class, ST_Distance(ST_Transform(b.geom, :srid), ST_Transform(e.geom, :srid)) AS d
      FROM enterprise e
      JOIN risk_scope_enterprise s USING (id)
      JOIN building b
        ON b.use_class = ANY(CAST(:uses AS text[]))
       AND b.geom && ST_Expand(e.geom, :dx, :dy)
      WHERE e.category = ANY(CAST(:cats AS text[]))
      OFFSET 0) x
WHERE d <= :max_m
GROUP BY id, use_class
"""


def find_protected_targets(conn: Connection, rules: Rules, *, srid: int) -> dict[int, dict[str, float]]:
    """Nearest protected target (m) per use class inside the bureau's distance (本地规定), for hazchem enterprises."""
    rule = rules["enterprise"]["local_protected_target"]
    limits = {k: float(v) for k, v in rule["external_safety_distance_m"].items()}
    if not limits:
        return {}
    max_m = max(limits.values())
    dx, dy = degree_margin(conn, max_m)
    rows = conn.execute(text(TARGETS_SQL), {"srid": srid, "uses": list(limits), "dx": dx, "dy": dy, "max_m": max_m,
                                            "cats": list(rule["categories"])}).all()
    out: dict[int, dict[str, float]] = defaultdict(dict)
    for eid, use, distance_m in rows:
        if distance_m < limits[use]:
            out[int(eid)][use] = float(distance_m)
    return out


SITE_PIPELINES_SQL = "WITH " + SITE_CTE.format(where="e.category = ANY(CAST(:cats AS text[]))") + """
SELECT site.id, p.code, min(ST_Distance(ST_Transform(g.geom, :srid), ST_Transform(site.geom, :srid))) AS distance_m
FROM site
JOIN pipeline_segment g
  ON g.geom && ST_Expand(site.g4490, site.pad * :dx_per_m, site.pad * :dy_per_m)
 AND CASE WHEN site.poly IS NULL THEN ST_DWithin(ST_Transform(g.geom, :srid), site.p, site.r)
          ELSE ST_Intersects(ST_Transform(g.geom, :srid), site.poly) END
JOIN pipeline p ON p.id = g.pipeline_id
GROUP BY site.id, p.code
ORDER BY site.id, distance_m, p.code
"""


def find_site_pipelines(conn: Connection, rules: Rules, *, srid: int) -> dict[int, list[tuple[str, float]]]:
    """Pipelines (by their stored segments) crossing the plant boundary of each hazchem enterprise: (code, m)."""
    rows = conn.execute(text(SITE_PIPELINES_SQL), {
        "cats": list(rules["enterprise"]["local_pipeline_on_site"]["categories"]), **site_params(conn, rules, srid=srid)})
    out: dict[int, list[tuple[str, float]]] = defaultdict(list)
    for eid, code, distance_m in rows:
        out[int(eid)].append((str(code), float(distance_m)))
    return out


HAZARDS_SQL = """
SELECT h.enterprise_id,
       count(*) FILTER (WHERE h.level = 'major' AND h.status = ANY(CAST(:major_open AS text[]))),
       count(*) FILTER (WHERE h.level = 'general' AND h.status = ANY(CAST(:general_open AS text[]))
                        AND h.deadline < :today)
FROM hazard h JOIN risk_scope_enterprise s ON s.id = h.enterprise_id
GROUP BY h.enterprise_id
"""


def count_hazards(conn: Connection, rules: Rules, *, today: dt.date) -> dict[int, tuple[int, int]]:
    """(open major hazards, overdue general hazards) per enterprise, as of `today`."""
    ent = rules["enterprise"]
    rows = conn.execute(text(HAZARDS_SQL), {"major_open": list(ent["open_major_hazard"]["open_statuses"]),
                                            "general_open": list(ent["overdue_general_hazard"]["open_statuses"]),
                                            "today": today}).all()
    return {int(i): (int(m), int(g)) for i, m, g in rows}


ACCIDENTS_SQL = """
SELECT a.enterprise_id, a.occurred_on, a.deaths, a.serious_injuries, a.direct_loss_10k_yuan
FROM accident a JOIN risk_scope_enterprise s ON s.id = a.enterprise_id
WHERE a.occurred_on >= :since AND a.occurred_on <= :today
ORDER BY a.enterprise_id, a.occurred_on, a.id
"""


def list_accidents(conn: Connection, rules: Rules, *, today: dt.date) -> dict[int, list[dict[str, Any]]]:
    """Accidents per enterprise within the longest look-back window of the rules, with their grade."""
    ent = rules["enterprise"]
    diag = rules["diagnostic"]
    years = max([int(ent["serious_accident"]["lookback_years"]), int(ent["recent_accident"]["lookback_years"]),
                 int(diag["direct_red"]["accidents"]["years"]),
                 *(int(line.get("years", 0)) for item in diag["items"].values() for line in item["lines"].values())])
    since = shift_years(today, -years)
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    found = conn.execute(text(ACCIDENTS_SQL), {"since": since, "today": today}).all()
    for eid, on, deaths, injuries, loss in found:
        grade = accident_grade(deaths=int(deaths), serious_injuries=int(injuries), loss_10k_yuan=float(loss),
                               rules=rules)
        out[int(eid)].append({"occurred_on": on, "deaths": int(deaths), "serious_injuries": int(injuries),
                              "loss_10k_yuan": float(loss), "grade": grade})
    return out


def shift_years(day: dt.date, years: int) -> dt.date:
    """The same calendar day `years` later (Feb 29 → Feb 28)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


# --- rules on one enterprise (pure Python over the rows fetched above) ------------------------------------

@dataclass
class EnterpriseFacts:
    """What the rules read about one enterprise."""

    row: dict[str, Any]
    units: list[UnitResult]
    persons: float
    open_major: int
    overdue_general: int
    accidents: list[dict[str, Any]]
    targets: dict[str, float]
    site_pipelines: list[tuple[str, float]]
    mine_findings: list[Finding]


def best_unit(units: list[UnitResult]) -> UnitResult | None:
    """The unit with the most severe grade (lowest number, then highest R)."""
    graded = [u for u in units if u.grade is not None]
    return min(graded, key=lambda u: (u.grade, -u.r)) if graded else None


def supervision_findings(facts: EnterpriseFacts, rules: Rules, *, today: dt.date) -> list[Finding]:
    """Supervision class (red for open major hazards / serious accidents, key sectors yellow) and dynamic factors."""
    ent = rules["enterprise"]
    eid = int(facts.row["id"])
    out: list[Finding] = []
    key = ent["key_sector"]
    if facts.row["category"] in key["categories"]:
        out.append(Finding(KIND, eid, "enterprise.key_sector", key["level"], float(key["points"]),
                           key["text"].format(category=INDUSTRY_CATEGORIES.get(facts.row["category"], "")),
                           key["clause"]))
    rule = ent["open_major_hazard"]
    if facts.open_major:
        out.append(Finding(KIND, eid, "enterprise.open_major_hazard", rule["level"],
                           float(rule["points"]) * facts.open_major, rule["text"].format(n=facts.open_major),
                           rule["clause"], {"n": facts.open_major}))
    rule = ent["overdue_general_hazard"]
    if facts.overdue_general:
        level = "orange" if facts.overdue_general >= int(rule["orange_from"]) else rule["level"]
        level = highest([level, rule["level"]])
        out.append(Finding(KIND, eid, "enterprise.overdue_general_hazard", level,
                           float(rule["points"]) * facts.overdue_general,
                           rule["text"].format(n=facts.overdue_general), rule["clause"], {"n": facts.overdue_general}))
    out.extend(accident_findings(facts, rules, today=today))
    out.extend(major_hazard_findings(facts, rules))
    for f in facts.mine_findings:
        rule = ent["mine"]
        out.append(Finding(KIND, eid, "enterprise.mine", f.level, float(rule["points"]),
                           rule["text"].format(name=f.value.get("mine_name", ""), reason=f.text), rule["clause"],
                           {"mine_id": f.object_id, "mine_rule": f.code}))
    return out


def accident_findings(facts: EnterpriseFacts, rules: Rules, *, today: dt.date) -> list[Finding]:
    """较大及以上 accidents → red; other accidents in the last years → yellow (orange with deaths)."""
    ent = rules["enterprise"]
    eid = int(facts.row["id"])
    labels = rules["accident_grades"]["labels"]
    serious = ent["serious_accident"]
    serious_since = shift_years(today, -int(serious["lookback_years"]))
    min_rank = grade_rank(serious["min_grade"], rules)
    out: list[Finding] = []
    minor: list[dict[str, Any]] = []
    recent = ent["recent_accident"]
    recent_since = shift_years(today, -int(recent["lookback_years"]))
    for acc in facts.accidents:
        if grade_rank(acc["grade"], rules) >= min_rank and acc["occurred_on"] >= serious_since:
            out.append(Finding(KIND, eid, "enterprise.serious_accident", serious["level"], float(serious["points"]),
                               serious["text"].format(date=acc["occurred_on"].isoformat(), grade=labels[acc["grade"]],
                                                      deaths=acc["deaths"], injuries=acc["serious_injuries"],
                                                      loss=fmt_number(acc["loss_10k_yuan"])),
                               serious["clause"], {"grade": acc["grade"], "occurred_on": acc["occurred_on"].isoformat()}))
        elif acc["occurred_on"] >= recent_since:
            minor.append(acc)
    if minor:
        deaths = sum(a["deaths"] for a in minor)
        level = recent["level_with_deaths"] if deaths else recent["level"]
        out.append(Finding(KIND, eid, "enterprise.recent_accident", level, float(recent["points"]) * len(minor),
                           recent["text"].format(years=recent["lookback_years"], n=len(minor), deaths=deaths),
                           recent["clause"], {"n": len(minor), "deaths": deaths}))
    return out


@dataclass
class EffectiveGrade:
    """The major hazard grade the rules use: GB 18218 identification, or the registered (备案) grade when the
    inventory is missing or identifies a lower grade; `text` says which and names any difference."""

    grade: int | None
    by_registration: bool
    computed: int | None
    registered: int | None
    unit: UnitResult | None


def effective_grade(facts: EnterpriseFacts) -> EffectiveGrade:
    """Most severe of the identified grade (best unit) and the registered grade (备案)."""
    unit = best_unit(facts.units)
    computed = unit.grade if unit is not None else None
    registered = facts.row.get("registered_major_hazard_grade")
    registered = int(registered) if registered is not None else None
    if registered is not None and (computed is None or registered < computed):
        return EffectiveGrade(registered, True, computed, registered, unit)
    return EffectiveGrade(computed, False, computed, registered, unit)


def major_hazard_findings(facts: EnterpriseFacts, rules: Rules) -> list[Finding]:
    """GB 18218 grade of the most severe unit or the registered grade; a declared source the inventory does not
    bear out; lines not counted or not identified (never dropped silently)."""
    ent = rules["enterprise"]
    eid = int(facts.row["id"])
    out: list[Finding] = []
    eff = effective_grade(facts)
    labels = rules["gb18218"]["grade_labels"]
    rule = ent["major_hazard_source"]
    reg = ent["registered_major_hazard_grade"]
    if eff.grade is not None:
        g = str(eff.grade)
        value: dict[str, Any] = {"grade": eff.grade, "by_registration": eff.by_registration,
                                 "computed_grade": eff.computed, "registered_grade": eff.registered}
        if eff.by_registration:
            has_lines = any(u.lines for u in facts.units)
            computed = labels[str(eff.computed)] if eff.computed else "未构成重大危险源"
            text_ = (reg["text_lower"] if has_lines else reg["text_no_inventory"]).format(
                grade_label=labels[g], computed=computed)
            clause = reg["clause"]
        else:
            unit = eff.unit
            assert unit is not None
            text_ = rule["text"].format(grade_label=labels[g], unit=unit.unit, r=fmt_number(unit.r, 2),
                                        alpha=fmt_number(alpha_for(facts.persons, rules), 2))
            clause = rule["clause"]
            value.update({"r": round(unit.r, 2), "s": round(unit.s, 3), "unit": unit.unit,
                          "alpha": alpha_for(facts.persons, rules), "persons_500m": round(facts.persons, 1)})
        out.append(Finding(KIND, eid, "enterprise.major_hazard_source", rule["levels"][g], float(rule["points"][g]),
                           text_, clause, value))
        if not eff.by_registration and eff.registered is not None and eff.computed is not None \
                and eff.computed < eff.registered:
            out.append(Finding(KIND, eid, "enterprise.registered_major_hazard_grade", None, 0.0,
                               reg["text_higher"].format(grade_label=labels[str(eff.registered)],
                                                         computed=labels[str(eff.computed)]), reg["clause"]))
    elif facts.row["major_hazard_source"]:
        rule = ent["declared_major_hazard_source"]
        s = max((u.s for u in facts.units), default=0.0)
        out.append(Finding(KIND, eid, "enterprise.declared_major_hazard_source", rule["level"], float(rule["points"]),
                           rule["text"].format(s=fmt_number(s, 2)), rule["clause"]))
    lines = [x for u in facts.units for x in u.lines]
    unknown = [x for x in lines if x.status == "unidentified"]
    if unknown:
        rule = ent["unidentified_substance"]
        out.append(Finding(KIND, eid, "enterprise.unidentified_substance", None, float(rule["points"]),
                           rule["text"].format(n=len(unknown), lines="；".join(f"{x.label}（{x.note}）" for x in unknown)),
                           rule["clause"], {"lines": [x.label for x in unknown]}))
    skipped = [x for x in lines if x.status == "not_counted"]
    if skipped:
        rule = ent["not_counted_substance"]
        out.append(Finding(KIND, eid, "enterprise.not_counted_substance", None, 0.0,
                           rule["text"].format(lines="；".join(f"{x.label}（{x.source}）" for x in skipped)),
                           rule["clause"]))
    return out


def site_finding(facts: EnterpriseFacts, rules: Rules) -> Finding:
    """Which plant boundary α was counted from: the stored 厂区边界, or the point buffered by a radius (本地规定)."""
    rule = rules["enterprise"]["site"]
    alpha = fmt_number(alpha_for(facts.persons, rules), 2)
    persons = fmt_number(facts.persons, 1)
    if facts.row.get("has_site_boundary"):
        text_ = rule["text_polygon"].format(persons=persons, alpha=alpha)
    else:
        own = facts.row.get("site_radius_m")
        radius = float(own) if own is not None else float(rule["default_radius_m"])
        text_ = rule["text_radius"].format(radius_m=fmt_number(radius, 1), persons=persons, alpha=alpha,
                                           basis=rule["basis_enterprise"] if own is not None else rule["basis_rules"])
    return Finding(KIND, int(facts.row["id"]), "enterprise.site", None, 0.0, text_, rule["clause"],
                   {"site_boundary": bool(facts.row.get("has_site_boundary"))})


def local_findings(facts: EnterpriseFacts, rules: Rules) -> list[Finding]:
    """Bureau practice outside the 应急〔2018〕19号 score (本地规定): protected targets within the bureau's distance,
    pipelines crossing the plant boundary."""
    ent = rules["enterprise"]
    eid = int(facts.row["id"])
    out: list[Finding] = []
    rule = ent["local_protected_target"]
    for use, distance_m in sorted(facts.targets.items()):
        out.append(Finding(KIND, eid, "enterprise.local_protected_target", rule.get("level"), float(rule["points"]),
                           rule["text"].format(target=rule["target_labels"].get(use, use),
                                               distance_m=fmt_number(distance_m, 0),
                                               limit_m=fmt_number(rule["external_safety_distance_m"][use], 0)),
                           rule["clause"], {"use": use, "distance_m": round(distance_m, 1)}))
    rule = ent["local_pipeline_on_site"]
    for code, distance_m in facts.site_pipelines:
        out.append(Finding(KIND, eid, "enterprise.local_pipeline_on_site", rule.get("level"), float(rule["points"]),
                           rule["text"].format(code=code, distance_m=fmt_number(distance_m, 0)), rule["clause"],
                           {"pipeline": code}))
    return out


# --- 应急〔2018〕19号 diagnostic score ---------------------------------------------------------------------

_SPLIT = re.compile(r"[、,，;；\s]+")


def _known(value: Any) -> int | None:
    return None if value is None else int(value)


def _flag(value: Any) -> int | None:
    """1 when a stored fact is true, 0 when false, None when not filled in."""
    return None if value is None else int(bool(value))


def diagnostic_counts(facts: EnterpriseFacts, rules: Rules, *, today: dt.date) -> dict[str, tuple[int | None, str]]:
    """How often each line of the guideline's table applies ('item.line' → (count or None = 未填报, detail)).

    Lines missing here are not stored by riskmap and are listed as 未评分.
    """
    row = facts.row
    out: dict[str, tuple[int | None, str]] = {}
    eff = effective_grade(facts)
    for g in (1, 2, 3, 4):
        out[f"major_hazard.grade_{g}"] = (int(eff.grade == g), "按备案等级" if eff.by_registration else "")
    out["substances.explosive"] = (_known(row["explosive_count"]), "")
    out["substances.toxic_inhalation"] = (_known(row["toxic_inhalation_count"]), "")
    if row["key_chemical_count"] is not None:
        out["substances.key_chemical"] = (int(row["key_chemical_count"]), "")
    else:
        out["substances.key_chemical"] = (int(bool(row["key_chemical"])),
                                          "已标注涉及、未填种数，按 1 种计" if row["key_chemical"] else "")
    names = [n for n in _SPLIT.split(row["key_processes"] or "") if n]
    if row["key_process_count"] is not None:
        out["processes.key_process"] = (int(row["key_process_count"]), "、".join(names))
    elif names:
        out["processes.key_process"] = (len(names), "、".join(names))
    else:
        out["processes.key_process"] = (int(bool(row["key_process"])),
                                        "已标注涉及、未填种数，按 1 种计" if row["key_process"] else "")
    out["surroundings.outside_park"] = (int(not row["in_chemical_park"]), "")
    ok = row["external_distance_ok"]
    out["surroundings.external_distance"] = (None if ok is None else int(not ok), "")
    out["design.reaction_assessment"] = (_flag(row["reaction_risk_unassessed"]), "")
    out["design.class_a_institute"] = (_flag(row["designed_by_class_a"]), "")
    out["equipment.obsolete"] = (_known(row["obsolete_equipment_count"]), "")
    out["automation.key_process_control"] = (_flag(row["automation_missing"]), "")
    out["automation.gas_detection"] = (_known(row["gas_detection_missing_count"]), "")
    out["personnel.uncertified_manager"] = (_known(row["uncertified_managers"]), "")
    engineer = row["registered_safety_engineer"]
    out["personnel.no_safety_engineer"] = (None if engineer is None else int(not engineer), "")
    out["personnel.chemistry_degree"] = (_known(row["chemistry_degree_leaders"]), "")
    out["emergency.fire_team"] = (_flag(row["own_fire_team"]), "")
    std = row["standardisation_grade"]
    for g in (1, 2, 3):
        out[f"performance.standardisation_{g}"] = (int(std == g), "")
    perf = rules["diagnostic"]["items"]["performance"]["lines"]
    larger_rank = grade_rank("larger", rules)

    def within(key: str) -> list[dict[str, Any]]:
        since = shift_years(today, -int(perf[key]["years"]))
        return [a for a in facts.accidents if a["occurred_on"] >= since]

    out["performance.larger_accident"] = (
        sum(1 for a in within("larger_accident") if grade_rank(a["grade"], rules) >= larger_rank), "")
    out["performance.fatal_accident"] = (
        sum(1 for a in within("fatal_accident") if a["grade"] == "general" and 1 <= a["deaths"] <= 2), "")
    out["performance.no_casualty_accident"] = (
        sum(1 for a in within("no_casualty_accident") if a["deaths"] == 0 and a["serious_injuries"] == 0), "")
    out["performance.no_accident"] = (int(not within("no_accident")), "")
    return out


def item_name(item: dict[str, Any]) -> str:
    """'固有危险性·重大危险源'; an item named like its category ('周边环境') once."""
    return item["label"] if item["label"] == item["category"] else f"{item['category']}·{item['label']}"


def score_diagnostic(counts: dict[str, tuple[int | None, str]], rules: Rules) -> dict[str, Any]:
    """Score = full − Σ min(item deductions, item cap) + Σ bonuses (应急〔2018〕19号: 每个项目分值扣完为止)."""
    diag = rules["diagnostic"]
    items: list[dict[str, Any]] = []
    not_scored: list[str] = []
    total_off = total_bonus = 0.0
    for code, item in diag["items"].items():
        deducted = bonus = 0.0
        applied_lines: list[dict[str, Any]] = []
        for line_code, line in item["lines"].items():
            count, detail = counts.get(f"{code}.{line_code}", (None, diag["not_stored"]))
            if count is None:
                why = detail or (diag["not_filled"] if line.get("fact") else diag["not_stored"])
                not_scored.append(f"{item_name(item)}：{line['text']}（{why}）")
                continue
            if count <= 0:
                continue
            points = float(line["points"]) * (count if line.get("per") == "each" else 1)
            if "max" in line:
                points = max(points, -float(line["max"])) if points < 0 else min(points, float(line["max"]))
            applied_lines.append({"line": line_code, "text": line["text"], "count": count, "points": round(points, 2),
                                  "detail": detail})
            if points < 0:
                deducted -= points
            else:
                bonus += points
        cap = float(item["cap"])
        off = min(deducted, cap)
        if applied_lines:
            items.append({"item": code, "label": item["label"], "category": item["category"], "cap": cap,
                          "deducted": round(deducted, 2), "applied": round(off, 2), "bonus": round(bonus, 2),
                          "capped": deducted > cap, "lines": applied_lines, "clause": item["clause"]})
        total_off += off
        total_bonus += bonus
    raw = float(diag["full_score"]) - total_off + total_bonus
    score = round(min(max(raw, 0.0), float(diag.get("max_score", raw))), 2)
    band = next(b["level"] for b in diag["bands"] if score >= b["min_score"])
    return {"score": score, "band": band, "items": items, "not_scored": not_scored,
            "deductions": [{"item": i["item"], "item_label": i["label"], "points": i["applied"]}
                           for i in items if i["applied"] > 0],
            "bonuses": [{"item": i["item"], "item_label": i["label"], "points": i["bonus"]}
                        for i in items if i["bonus"] > 0]}


def item_text(item: dict[str, Any]) -> str:
    """One item's reason: its lines with points, and the cap when it bites."""
    parts = []
    for line in item["lines"]:
        times = f"（{line['count']} 项）" if line["count"] > 1 else ""
        detail = f"（{line['detail']}）" if line["detail"] else ""
        parts.append(f"{line['text']}{detail}{times} {line['points']:+g} 分")
    text_ = f"{item_name(item)}：" + "；".join(parts)
    if item["capped"]:
        text_ += f"；本项满分 {item['cap']:g} 分，扣完为止，实扣 {item['applied']:g} 分"
    return text_


def diagnostic_findings(facts: EnterpriseFacts, rules: Rules, *, today: dt.date) -> tuple[list[Finding], dict[str, Any]]:
    """应急〔2018〕19号 score with its band, one reason per scored item, lines not scored, and direct-red conditions."""
    diag = rules["diagnostic"]
    eid = int(facts.row["id"])
    result = score_diagnostic(diagnostic_counts(facts, rules, today=today), rules)
    findings = [Finding(KIND, eid, "diagnostic.score", result["band"], float(diag["full_score"]) - result["score"],
                        diag["text"].format(score=fmt_number(result["score"], 2), band=rules.label(result["band"])),
                        f"{diag['clause']}；{diag['band_clause']}", {"score": result["score"]})]
    for item in result["items"]:
        findings.append(Finding(KIND, eid, f"diagnostic.{item['item']}", None, 0.0, item_text(item), item["clause"],
                                {"applied": item["applied"], "bonus": item["bonus"], "capped": item["capped"]}))
    red = diag["direct_red"]
    conditions, unknown = direct_red_conditions(facts, rules, today=today)
    for code in conditions:
        findings.append(Finding(KIND, eid, "diagnostic.direct_red", "red", 0.0,
                                red["text"].format(condition=red[code]["text"]), red["clause"], {"condition": code}))
    result["not_scored"] += [f"直接判定为红色的情形：{red[code]['text']}（{diag['not_filled']}）" for code in unknown]
    result["direct_red"] = conditions
    return findings, result


def direct_red_conditions(facts: EnterpriseFacts, rules: Rules, *, today: dt.date) -> tuple[list[str], list[str]]:
    """The guideline's four direct-red conditions that hold, and those whose facts are not filled in."""
    red = rules["diagnostic"]["direct_red"]
    row = facts.row
    holds: list[str] = []
    unknown: list[str] = []
    for code, column in (("untrialled_process", "untrialled_new_process"), ("undesigned_unit", "undesigned_unit"),
                         ("special_operators", "special_ops_uncertified")):
        if row[column] is None:
            unknown.append(code)
        elif row[column]:
            holds.append(code)
    acc = red["accidents"]
    since = shift_years(today, -int(acc["years"]))
    recent = [a for a in facts.accidents if a["occurred_on"] >= since]
    major = grade_rank("major", rules)
    larger = sum(1 for a in recent if grade_rank(a["grade"], rules) == grade_rank("larger", rules))
    fatal_since = shift_years(today, -int(acc["fatal_general_years"]))
    fatal_general = sum(1 for a in facts.accidents
                        if a["occurred_on"] >= fatal_since and a["grade"] == "general" and a["deaths"] > 0)
    if any(grade_rank(a["grade"], rules) >= major for a in recent) or larger >= int(acc["larger_count"]) \
            or fatal_general >= int(acc["fatal_general_count"]):
        holds.append("accidents")
    return holds, unknown


@dataclass
class EnterpriseData:
    """What the database says about the enterprises in scope (read by gather_enterprises), for the rules in Python."""

    rows: list[dict[str, Any]]
    lines: dict[int, list[dict[str, Any]]]
    persons: dict[int, float]
    targets: dict[int, dict[str, float]]
    site_pipes: dict[int, list[tuple[str, float]]]
    hazards: dict[int, tuple[int, int]]
    accidents: dict[int, list[dict[str, Any]]]


Surroundings = tuple[dict[int, float], dict[int, dict[str, float]]]
"""Persons outside each plant within 500 m (count_population) and its nearest protected targets
(find_protected_targets)."""


def gather_surroundings(conn: Connection, rules: Rules, *, srid: int) -> Surroundings:
    """The reads over the county's buildings around the plants in risk_scope_enterprise. No write of a compute run
    feeds them, so geo.risk.engine runs them on a twin connection beside the segment work."""
    return count_population(conn, rules, srid=srid), find_protected_targets(conn, rules, srid=srid)


def gather_enterprises(conn: Connection, rules: Rules, *, srid: int, today: dt.date,
                       read_surroundings: bool = True) -> EnterpriseData:
    """Every query the enterprise rules need, for the enterprises in risk_scope_enterprise (no rule applied yet).

    `read_surroundings=False`: persons and targets are left empty for the caller to fill from gather_surroundings
    (geo.risk.engine reads them on a twin connection)."""
    rows = dict_rows(conn.execute(text(ENTERPRISES_SQL)))
    lines: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for line in dict_rows(conn.execute(text(INVENTORY_SQL))):
        lines[int(line["enterprise_id"])].append(line)
    persons, targets = gather_surroundings(conn, rules, srid=srid) if read_surroundings else ({}, {})
    return EnterpriseData(rows=rows, lines=lines, persons=persons, targets=targets,
                          site_pipes=find_site_pipelines(conn, rules, srid=srid),
                          hazards=count_hazards(conn, rules, today=today),
                          accidents=list_accidents(conn, rules, today=today))


def assess_enterprises(conn: Connection, rules: Rules, *, srid: int, today: dt.date,
                       mine_findings: dict[int, list[Finding]] | None = None) -> list[Assessment]:
    """Assess every enterprise in risk_scope_enterprise: level = highest of all rules, score orders within a colour."""
    return evaluate_enterprises(gather_enterprises(conn, rules, srid=srid, today=today), rules, today=today,
                                mine_findings=mine_findings)


def evaluate_enterprises(data: EnterpriseData, rules: Rules, *, today: dt.date,
                         mine_findings: dict[int, list[Finding]] | None = None) -> list[Assessment]:
    """The rules over gathered facts, in Python only (no database: geo.risk.engine runs it beside the segment
    queries)."""
    rows, lines, persons, targets, site_pipes = data.rows, data.lines, data.persons, data.targets, data.site_pipes
    hazards, accidents = data.hazards, data.accidents
    mine_findings = mine_findings or {}
    out: list[Assessment] = []
    diag_cats = set(rules["diagnostic"]["categories"])
    for row in rows:
        eid = int(row["id"])
        p = persons.get(eid, 0.0)
        facts = EnterpriseFacts(row=row, units=identify_major_hazards(lines.get(eid, []), persons=p, rules=rules),
                                persons=p, open_major=hazards.get(eid, (0, 0))[0],
                                overdue_general=hazards.get(eid, (0, 0))[1], accidents=accidents.get(eid, []),
                                targets=targets.get(eid, {}), site_pipelines=site_pipes.get(eid, []),
                                mine_findings=mine_findings.get(eid, []))
        findings = supervision_findings(facts, rules, today=today)
        findings.extend(local_findings(facts, rules))
        details: dict[str, Any] = {"name": row["name"], "category": row["category"]}
        if row["category"] in diag_cats:
            diag, details["diagnostic"] = diagnostic_findings(facts, rules, today=today)
            findings.extend(diag)
        eff = effective_grade(facts)
        if eff.grade is not None or eff.registered is not None:
            details["major_hazard"] = {"grade": eff.grade, "by_registration": eff.by_registration,
                                       "computed_grade": eff.computed, "registered_grade": eff.registered}
        if facts.units:
            findings.append(site_finding(facts, rules))
            details["units"] = [{"unit": u.unit, "s": round(u.s, 3), "beta_s": round(u.beta_s, 3),
                                 "r": round(u.r, 2), "grade": u.grade,
                                 "lines": [{"substance": x.line["substance"], "q_t": float(x.line["max_quantity_t"]),
                                            "status": x.status, "q_critical_t": x.q_t or None, "beta": x.beta or None,
                                            "source": x.source or x.note} for x in u.lines]}
                                for u in facts.units]
            details["persons_500m"] = round(p, 1)
            details["alpha"] = alpha_for(p, rules)
            details["site_boundary"] = bool(row["has_site_boundary"])
            unknown = [name for u in facts.units for name in u.unknown]
            details["data_incomplete"] = bool(unknown)
            if unknown:
                details["unidentified"] = unknown
        out.append(combine_findings(KIND, eid, findings, township_id=row["township_id"], details=details))
    return out


__all__ = ["assess_enterprises", "gather_enterprises", "evaluate_enterprises", "EnterpriseData", "identify_major_hazards", "identify_line", "alpha_for", "grade_for",
           "accident_grade", "score_diagnostic", "LEVEL_RANK"]
